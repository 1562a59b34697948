//! Guest tokens: issue/verify round trip and every way a token must be refused.

use jsonwebtoken::{Algorithm, EncodingKey};
use parley_auth::{AuthError, GuestClaims, GuestTokens, generate_guest_secret, is_guest_token};
use serde_json::json;

use crate::support::{self, NOW, idp, verifier};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

fn guests() -> GuestTokens {
    GuestTokens::new(SECRET).expect("secret is long enough")
}

// Protects the happy path: a guest token yields its session, bot and expiry.
#[test]
fn round_trip() {
    let token = guests().issue("session-1", "bot-1", NOW, 900);
    let claims = guests().verify(&token, NOW + 899).expect("valid guest token");
    assert_eq!(
        claims,
        GuestClaims {
            session_id: "session-1".into(),
            bot_id: "bot-1".into(),
            expires_at: NOW + 900
        }
    );
}

// Protects the binding to one session: claims edited after signing are refused.
#[test]
fn rejects_tampered_token() {
    let token = guests().issue("session-1", "bot-1", NOW, 900);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = support::decode_segment(parts[1]);
    claims["sid"] = json!("session-2");
    let tampered = format!("{}.{}.{}", parts[0], support::segment(&claims), parts[2]);
    assert!(matches!(guests().verify(&tampered, NOW), Err(AuthError::BadSignature)));
}

// Protects the expiry: a guest token is dead at `exp`, with no leeway.
#[test]
fn rejects_expired_token() {
    let token = guests().issue("session-1", "bot-1", NOW, 900);
    assert!(matches!(guests().verify(&token, NOW + 900), Err(AuthError::Expired)));
}

// Protects the key: a token signed with another platform secret is refused.
#[test]
fn rejects_token_signed_with_another_secret() {
    let other = GuestTokens::new(b"another-secret-that-is-32-bytes-long!").expect("secret");
    let token = other.issue("session-1", "bot-1", NOW, 900);
    assert!(matches!(guests().verify(&token, NOW), Err(AuthError::BadSignature)));
}

// Protects against confusing token kinds: a Cognito RS256 token is not a guest token.
#[test]
fn rejects_cognito_token() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    assert!(matches!(
        guests().verify(&tokens.id_token, NOW),
        Err(AuthError::UnsupportedAlgorithm)
    ));
}

// Protects the guest claims: an HS256 token with the right key but a user token_use is refused.
#[test]
fn rejects_wrong_token_use() {
    let header = json!({ "alg": "HS256", "kid": "parley-guest" });
    let claims = json!({ "iss": "parley-guest", "token_use": "id", "sid": "s", "bot": "b", "exp": NOW + 60 });
    let token = support::sign_with(&header, &claims, &EncodingKey::from_secret(SECRET), Algorithm::HS256);
    assert!(matches!(guests().verify(&token, NOW), Err(AuthError::WrongTokenUse)));
}

/// Signs guest claims with the platform secret, as only the platform could.
fn sign_guest(claims: &serde_json::Value) -> String {
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": "parley-guest" });
    support::sign_with(&header, claims, &EncodingKey::from_secret(SECRET), Algorithm::HS256)
}

// Protects the NumericDate rule on guest tokens (GHSA-h395-gr6q-cpjc): `exp`, `nbf` and
// `iat` of the wrong JSON type are refused. GIVEN correctly signed guest claims that
// verify, WHEN one time claim is a string, float, array, null, ... THEN `InvalidClaim`.
#[test]
fn rejects_time_claims_of_the_wrong_type() {
    let base = json!({
        "iss": "parley-guest", "token_use": "guest", "sid": "s", "bot": "b",
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 900,
    });
    assert!(
        guests().verify(&sign_guest(&base), NOW).is_ok(),
        "the unaltered claims must pass"
    );
    for (name, valid) in [("exp", NOW + 900), ("nbf", NOW - 60), ("iat", NOW - 60)] {
        for (kind, value) in support::confused_dates(valid) {
            let mut claims = base.clone();
            claims[name] = value;
            let result = guests().verify(&sign_guest(&claims), NOW);
            assert!(
                matches!(result, Err(AuthError::InvalidClaim(claim)) if claim == name),
                "{kind} {name}: {result:?}"
            );
        }
    }
}

// Protects `nbf` on guest tokens: the platform never sets it, but one that is present is
// honoured, with no leeway.
#[test]
fn rejects_guest_token_before_nbf() {
    let claims = json!({
        "iss": "parley-guest", "token_use": "guest", "sid": "s", "bot": "b",
        "nbf": NOW + 1, "exp": NOW + 900,
    });
    assert!(matches!(
        guests().verify(&sign_guest(&claims), NOW),
        Err(AuthError::NotYetValid)
    ));
}

// Protects against never-expiring guest tokens: `exp` is required.
#[test]
fn rejects_guest_token_without_exp() {
    let claims = json!({ "iss": "parley-guest", "token_use": "guest", "sid": "s", "bot": "b" });
    assert!(matches!(
        guests().verify(&sign_guest(&claims), NOW),
        Err(AuthError::MissingClaim("exp"))
    ));
}

// Protects the Cognito path: a guest token never passes as a user token.
#[tokio::test]
async fn cognito_verifier_rejects_guest_token() {
    let token = guests().issue("session-1", "bot-1", NOW, 900);
    let result = verifier().verify_at(&token, NOW).await;
    assert!(matches!(result, Err(AuthError::UnsupportedAlgorithm)), "{result:?}");
}

// Protects HMAC strength: secrets shorter than 32 bytes are refused at start-up.
#[test]
fn rejects_short_secret() {
    assert!(matches!(
        GuestTokens::new(b"too-short"),
        Err(AuthError::WeakGuestSecret { min: 32 })
    ));
}

// Protects routing: the header peek tells guest tokens from Cognito tokens and garbage.
#[test]
fn is_guest_token_peeks_the_header() {
    assert!(is_guest_token(&guests().issue("session-1", "bot-1", NOW, 900)));
    assert!(!is_guest_token(&idp().sign_in("ada@example.com", &[], NOW).id_token));
    assert!(!is_guest_token("not a token"));
}

// Protects local mode: generated secrets are 32 random bytes, usable, and not repeated.
#[test]
fn generated_secret_is_usable() {
    let secret = generate_guest_secret();
    assert_eq!(secret.len(), 43);
    assert!(GuestTokens::new(secret.as_bytes()).is_ok());
    assert_ne!(secret, generate_guest_secret());
}
