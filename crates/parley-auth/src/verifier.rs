//! The Cognito ID/access token verifier, after awslabs/aws-jwt-verify.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::jwks::{JWKS_REFETCH_INTERVAL_SECONDS, KeyCache};
use crate::jwt::{self, RawJwt};
use crate::{AuthError, JwksSource};

/// Clock skew tolerated on `exp` and `nbf` is capped here whatever the configuration says.
pub const MAX_LEEWAY_SECONDS: u64 = 60;

/// Which kind of Cognito token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

/// The user a verified Cognito token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser {
    pub sub: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub token_use: TokenUse,
}

/// What a token must match.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Expected `iss`, e.g. `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
    pub issuer: String,
    /// The app client: `aud` of ID tokens and `client_id` of access tokens.
    pub client_id: String,
    /// Tolerated clock skew; values above [`MAX_LEEWAY_SECONDS`] are capped.
    pub leeway_seconds: u64,
}

/// Tokens whose signature a verifier remembers having checked, at most (then it starts
/// over): a signed-in user sends the same token with every request for up to an hour.
const REMEMBERED_SIGNATURES: usize = 4096;

/// Verifies Cognito-shaped RS256 tokens against a JWKS.
pub struct CognitoVerifier {
    config: VerifierConfig,
    keys: KeyCache,
    /// Whole tokens whose signature was found good. A token is its signature's input and
    /// the signature itself, so an equal string carries the same good signature: only the
    /// RSA check (the dearest part of a request) is skipped; the claims, and so the
    /// expiry, are checked every time.
    good_signatures: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for CognitoVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoVerifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CognitoVerifier {
    /// Keys are fetched lazily, on the first verification.
    pub fn new(mut config: VerifierConfig, jwks: Arc<dyn JwksSource>) -> Self {
        config.leeway_seconds = config.leeway_seconds.min(MAX_LEEWAY_SECONDS);
        CognitoVerifier {
            config,
            keys: KeyCache::new(jwks, JWKS_REFETCH_INTERVAL_SECONDS),
            good_signatures: Mutex::default(),
        }
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies `token` against the system clock.
    pub async fn verify(&self, token: &str) -> Result<VerifiedUser, AuthError> {
        self.verify_at(token, jwt::unix_now()).await
    }

    /// Verifies `token` as if the time were `now_unix` (seconds since the epoch). The same
    /// time drives the JWKS refetch rate limit.
    pub async fn verify_at(&self, token: &str, now_unix: u64) -> Result<VerifiedUser, AuthError> {
        let raw = RawJwt::parse(token)?;
        // Only RS256: this rejects `none`, and HS256 signed with the public key as the secret.
        if raw.alg()? != "RS256" {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        if !self.signature_known_good(token) {
            let kid = raw.kid()?;
            let key = self.keys.key_for(kid, now_unix).await?;
            let valid =
                jsonwebtoken::crypto::verify(raw.signature, raw.signing_input.as_bytes(), &key, Algorithm::RS256)
                    .unwrap_or(false);
            if !valid {
                return Err(AuthError::BadSignature);
            }
            self.remember_good_signature(token);
        }
        self.check_claims(&raw.claims, now_unix)
    }

    fn signature_known_good(&self, token: &str) -> bool {
        // The set holds whole strings only, so a poisoned lock still holds a valid one.
        let known = self.good_signatures.lock().unwrap_or_else(PoisonError::into_inner);
        known.contains(token)
    }

    fn remember_good_signature(&self, token: &str) {
        let mut known = self.good_signatures.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= REMEMBERED_SIGNATURES {
            known.clear();
        }
        known.insert(token.to_owned());
    }

    fn check_claims(&self, claims: &Map<String, Value>, now: u64) -> Result<VerifiedUser, AuthError> {
        let config = &self.config;
        if jwt::required_str(claims, "iss")? != config.issuer {
            return Err(AuthError::WrongIssuer);
        }
        let token_use = match jwt::required_str(claims, "token_use")? {
            "id" => TokenUse::Id,
            "access" => TokenUse::Access,
            _ => return Err(AuthError::WrongTokenUse),
        };
        match token_use {
            TokenUse::Id => check_audience(claims, &config.client_id)?,
            TokenUse::Access => {
                if jwt::required_str(claims, "client_id")? != config.client_id {
                    return Err(AuthError::WrongAudience);
                }
            }
        }
        jwt::check_times(claims, now, config.leeway_seconds)?;
        let sub = jwt::required_str(claims, "sub")?.to_owned();
        let username = match jwt::optional_str(claims, "cognito:username")? {
            Some(name) => Some(name),
            None => jwt::optional_str(claims, "username")?,
        };
        Ok(VerifiedUser {
            sub,
            email: jwt::optional_str(claims, "email")?,
            username,
            groups: groups(claims)?,
            token_use,
        })
    }
}

/// `aud` is a string in Cognito ID tokens; RFC 7519 also allows an array of strings.
fn check_audience(claims: &Map<String, Value>, client_id: &str) -> Result<(), AuthError> {
    let matches = match claims.get("aud") {
        None | Some(Value::Null) => return Err(AuthError::MissingClaim("aud")),
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(client_id)),
        Some(_) => return Err(AuthError::InvalidClaim("aud")),
    };
    if matches { Ok(()) } else { Err(AuthError::WrongAudience) }
}

/// `cognito:groups` is absent for users in no group, else an array of strings.
fn groups(claims: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
    const NAME: &str = "cognito:groups";
    match claims.get(NAME) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or(AuthError::InvalidClaim(NAME)))
            .collect(),
        Some(_) => Err(AuthError::InvalidClaim(NAME)),
    }
}
