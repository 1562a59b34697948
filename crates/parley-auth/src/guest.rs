//! Guest tokens: short-lived HS256 tokens the platform signs itself, each bound to one
//! chat session of one shared bot.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::RngCore;
use serde_json::json;

use crate::AuthError;
use crate::jwt::{self, RawJwt};

/// `kid` header value and `iss` claim of every guest token.
pub const GUEST_KEY_ID: &str = "parley-guest";
/// Shorter HMAC secrets are refused: HS256 wants at least the hash size.
pub const MIN_GUEST_SECRET_LEN: usize = 32;

/// What a verified guest token grants: access to one session of one bot until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestClaims {
    pub session_id: String,
    pub bot_id: String,
    pub expires_at: u64,
}

/// Issues and verifies guest tokens with the platform's HMAC secret (`PARLEY_GUEST_KEY`).
pub struct GuestTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for GuestTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestTokens").finish_non_exhaustive()
    }
}

impl GuestTokens {
    /// Fails with [`AuthError::WeakGuestSecret`] for secrets shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, AuthError> {
        if secret.len() < MIN_GUEST_SECRET_LEN {
            return Err(AuthError::WeakGuestSecret {
                min: MIN_GUEST_SECRET_LEN,
            });
        }
        Ok(GuestTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// Signs a token for `session_id` of `bot_id`, valid for `ttl_seconds` from `now_unix`.
    pub fn issue(&self, session_id: &str, bot_id: &str, now_unix: u64, ttl_seconds: u64) -> String {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": GUEST_KEY_ID });
        let claims = json!({
            "iss": GUEST_KEY_ID,
            "token_use": "guest",
            "sid": session_id,
            "bot": bot_id,
            "iat": now_unix,
            "exp": now_unix.saturating_add(ttl_seconds),
        });
        let signing_input = format!("{}.{}", jwt::encode_segment(&header), jwt::encode_segment(&claims));
        // HMAC signing with a secret key has no failure path; the `Result` covers other key kinds.
        let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, Algorithm::HS256)
            .expect("HMAC signing cannot fail");
        format!("{signing_input}.{signature}")
    }

    /// Checks the signature (HS256 only), `iss`, `token_use`, an integer, unexpired `exp`, and
    /// `nbf`/`iat` when present (integers; `nbf` reached), with no clock-skew leeway.
    pub fn verify(&self, token: &str, now_unix: u64) -> Result<GuestClaims, AuthError> {
        let raw = RawJwt::parse(token)?;
        if raw.alg()? != "HS256" {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        if raw.kid()? != GUEST_KEY_ID {
            return Err(AuthError::UnknownKey);
        }
        let valid = jsonwebtoken::crypto::verify(
            raw.signature,
            raw.signing_input.as_bytes(),
            &self.decoding,
            Algorithm::HS256,
        )
        .unwrap_or(false);
        if !valid {
            return Err(AuthError::BadSignature);
        }
        let claims = &raw.claims;
        if jwt::required_str(claims, "iss")? != GUEST_KEY_ID {
            return Err(AuthError::WrongIssuer);
        }
        if jwt::required_str(claims, "token_use")? != "guest" {
            return Err(AuthError::WrongTokenUse);
        }
        let expires_at = jwt::check_times(claims, now_unix, 0)?;
        Ok(GuestClaims {
            session_id: jwt::required_str(claims, "sid")?.to_owned(),
            bot_id: jwt::required_str(claims, "bot")?.to_owned(),
            expires_at,
        })
    }
}

/// Cheap routing hint: does the header say this is a guest token? Verifies nothing.
pub fn is_guest_token(token: &str) -> bool {
    jwt::peek_header(token).is_some_and(|header| header.get("kid").and_then(|kid| kid.as_str()) == Some(GUEST_KEY_ID))
}

/// A fresh guest secret for local mode: 32 random bytes, base64url without padding.
pub fn generate_guest_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
