//! CognitoVerifier against tokens from the development identity provider and forged ones.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use parley_auth::{AuthError, TokenUse};
use serde_json::json;

use crate::support::{self, CLIENT_ID, ISSUER, NOW, forge, id_claims, idp, rs256_header, verifier, verifier_with};

fn groups() -> Vec<String> {
    vec!["admins".to_owned(), "builders".to_owned()]
}

// Protects the happy path: an ID token from the dev provider yields the user, email and groups.
#[tokio::test]
async fn accepts_valid_id_token() {
    let tokens = idp().sign_in("Ada@Example.com", &groups(), NOW);
    let user = verifier()
        .verify_at(&tokens.id_token, NOW + 10)
        .await
        .expect("valid id token");
    assert_eq!(user.token_use, TokenUse::Id);
    assert_eq!(user.sub, parley_auth::dev_sub("ada@example.com"));
    assert_eq!(user.email.as_deref(), Some("Ada@Example.com"));
    assert_eq!(user.username.as_deref(), Some(user.sub.as_str()));
    assert_eq!(user.groups, groups());
    assert_eq!(tokens.expires_in, 3600);
}

// Protects the happy path for access tokens, which carry `client_id` instead of `aud`.
#[tokio::test]
async fn accepts_valid_access_token() {
    let tokens = idp().sign_in("ada@example.com", &groups(), NOW);
    let user = verifier()
        .verify_at(&tokens.access_token, NOW + 10)
        .await
        .expect("valid access token");
    assert_eq!(user.token_use, TokenUse::Access);
    assert_eq!(user.sub, parley_auth::dev_sub("ada@example.com"));
    assert_eq!(user.email, None);
    assert_eq!(user.groups, groups());
}

// Protects against replay of old tokens: without leeway, a token is dead once `exp` is reached.
#[tokio::test]
async fn rejects_expired_token() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let result = verifier().verify_at(&tokens.id_token, NOW + 3600).await;
    assert!(matches!(result, Err(AuthError::Expired)), "{result:?}");
}

// Protects the signature check: claims edited after signing must not be trusted.
#[tokio::test]
async fn rejects_tampered_payload() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let parts: Vec<&str> = tokens.id_token.split('.').collect();
    let mut claims = support::decode_segment(parts[1]);
    claims["cognito:groups"] = json!(["admins"]);
    let tampered = format!("{}.{}.{}", parts[0], support::segment(&claims), parts[2]);
    let result = verifier().verify_at(&tampered, NOW).await;
    assert!(matches!(result, Err(AuthError::BadSignature)), "{result:?}");
}

// Protects the remembered signatures: a token verified once is still refused once it has
// expired, and its tampered copy (another string, with the same signature) is refused even
// though the original was just accepted by the same verifier.
#[tokio::test]
async fn a_remembered_token_still_expires_and_its_tampered_copy_is_refused() {
    let verifier = verifier();
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    verifier.verify_at(&tokens.id_token, NOW).await.expect("valid id token");
    let again = verifier.verify_at(&tokens.id_token, NOW + 10).await;
    assert!(again.is_ok(), "the same token a moment later: {again:?}");
    let expired = verifier.verify_at(&tokens.id_token, NOW + 3600).await;
    assert!(matches!(expired, Err(AuthError::Expired)), "{expired:?}");
    let parts: Vec<&str> = tokens.id_token.split('.').collect();
    let mut claims = support::decode_segment(parts[1]);
    claims["cognito:groups"] = json!(["admins"]);
    let tampered = format!("{}.{}.{}", parts[0], support::segment(&claims), parts[2]);
    let result = verifier.verify_at(&tampered, NOW).await;
    assert!(matches!(result, Err(AuthError::BadSignature)), "{result:?}");
}

// Protects against tokens from another user pool signed with a key we happen to trust.
#[tokio::test]
async fn rejects_wrong_issuer() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let other = verifier_with(
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other",
        CLIENT_ID,
        0,
    );
    let result = other.verify_at(&tokens.id_token, NOW).await;
    assert!(matches!(result, Err(AuthError::WrongIssuer)), "{result:?}");
}

// Protects against ID tokens minted for another app client of the same pool.
#[tokio::test]
async fn rejects_id_token_for_other_audience() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let result = verifier_with(ISSUER, "other-client", 0)
        .verify_at(&tokens.id_token, NOW)
        .await;
    assert!(matches!(result, Err(AuthError::WrongAudience)), "{result:?}");
}

// Protects against access tokens minted for another app client of the same pool.
#[tokio::test]
async fn rejects_access_token_for_other_client_id() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let result = verifier_with(ISSUER, "other-client", 0)
        .verify_at(&tokens.access_token, NOW)
        .await;
    assert!(matches!(result, Err(AuthError::WrongAudience)), "{result:?}");
}

// Protects the token_use allow-list: only "id" and "access" are Cognito user tokens.
#[tokio::test]
async fn rejects_guest_token_use() {
    let mut claims = id_claims();
    claims["token_use"] = json!("guest");
    let result = verifier().verify_at(&forge(&rs256_header(), &claims), NOW).await;
    assert!(matches!(result, Err(AuthError::WrongTokenUse)), "{result:?}");
}

// Protects the per-kind audience check: an ID token relabelled "access" has no `client_id`.
#[tokio::test]
async fn rejects_id_token_relabelled_as_access() {
    let mut claims = id_claims();
    claims["token_use"] = json!("access");
    let result = verifier().verify_at(&forge(&rs256_header(), &claims), NOW).await;
    assert!(
        matches!(result, Err(AuthError::MissingClaim("client_id"))),
        "{result:?}"
    );
}

// Protects against the classic `alg: none` bypass.
#[tokio::test]
async fn rejects_alg_none() {
    let header = json!({ "kid": idp().kid(), "alg": "none" });
    let token = format!("{}.{}.", support::segment(&header), support::segment(&id_claims()));
    let result = verifier().verify_at(&token, NOW).await;
    assert!(matches!(result, Err(AuthError::UnsupportedAlgorithm)), "{result:?}");
}

// Protects against algorithm confusion: HS256 keyed with the (public) RSA key's PEM.
#[tokio::test]
async fn rejects_hs256_signed_with_public_key() {
    let header = json!({ "kid": idp().kid(), "alg": "HS256" });
    let key = EncodingKey::from_secret(support::test_key().public_pem.as_bytes());
    let token = support::sign_with(&header, &id_claims(), &key, Algorithm::HS256);
    let result = verifier().verify_at(&token, NOW).await;
    assert!(matches!(result, Err(AuthError::UnsupportedAlgorithm)), "{result:?}");
}

// Protects key selection: a token naming a key outside the JWKS is refused.
#[tokio::test]
async fn rejects_unknown_kid() {
    let header = json!({ "kid": "not-a-known-key", "alg": "RS256" });
    let result = verifier().verify_at(&forge(&header, &id_claims()), NOW).await;
    assert!(matches!(result, Err(AuthError::UnknownKey)), "{result:?}");
}

// Protects key selection: a token without `kid` is refused rather than tried against every key.
#[tokio::test]
async fn rejects_missing_kid() {
    let result = verifier()
        .verify_at(&forge(&json!({ "alg": "RS256" }), &id_claims()), NOW)
        .await;
    assert!(matches!(result, Err(AuthError::MissingClaim("kid"))), "{result:?}");
}

// Protects the NumericDate rule: a string `exp` is not silently parsed or ignored.
#[tokio::test]
async fn rejects_string_exp() {
    let mut claims = id_claims();
    claims["exp"] = json!((NOW + 3600).to_string());
    let result = verifier().verify_at(&forge(&rs256_header(), &claims), NOW).await;
    assert!(matches!(result, Err(AuthError::InvalidClaim("exp"))), "{result:?}");
}

// Protects the NumericDate rule for every time claim (GHSA-h395-gr6q-cpjc): `exp`, `nbf`
// and `iat` of the wrong JSON type (string, float, array, null, ...) are refused, never
// read as absent or coerced. GIVEN claims that verify, WHEN one time claim is replaced by
// a value of the wrong type (next to a time it would pass with), THEN `InvalidClaim`.
#[tokio::test]
async fn rejects_time_claims_of_the_wrong_type() {
    let verifier = verifier();
    let mut base = id_claims();
    base["nbf"] = json!(NOW - 60);
    let control = verifier.verify_at(&forge(&rs256_header(), &base), NOW).await;
    assert!(control.is_ok(), "the unaltered claims must pass: {control:?}");
    for (name, valid) in [("exp", NOW + 3600), ("nbf", NOW - 60), ("iat", NOW - 60)] {
        for (kind, value) in support::confused_dates(valid) {
            let mut claims = base.clone();
            claims[name] = value;
            let result = verifier.verify_at(&forge(&rs256_header(), &claims), NOW).await;
            assert!(
                matches!(result, Err(AuthError::InvalidClaim(claim)) if claim == name),
                "{kind} {name}: {result:?}"
            );
        }
    }
}

// Protects the access-token path the same way: it shares the claim checks, and must keep
// sharing them.
#[tokio::test]
async fn rejects_float_exp_in_access_token() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let mut claims = support::decode_segment(tokens.access_token.split('.').nth(1).expect("claims"));
    claims["exp"] = json!((NOW + 3600) as f64);
    let result = verifier().verify_at(&forge(&rs256_header(), &claims), NOW).await;
    assert!(matches!(result, Err(AuthError::InvalidClaim("exp"))), "{result:?}");
}

// Protects against never-expiring tokens: `exp` is required.
#[tokio::test]
async fn rejects_missing_exp() {
    let mut claims = id_claims();
    claims.as_object_mut().expect("object").remove("exp");
    let result = verifier().verify_at(&forge(&rs256_header(), &claims), NOW).await;
    assert!(matches!(result, Err(AuthError::MissingClaim("exp"))), "{result:?}");
}

// Protects `nbf`: a token is refused before its start time (beyond the leeway).
#[tokio::test]
async fn rejects_nbf_in_future() {
    let mut claims = id_claims();
    claims["nbf"] = json!(NOW + 120);
    let result = verifier_with(ISSUER, CLIENT_ID, 60)
        .verify_at(&forge(&rs256_header(), &claims), NOW)
        .await;
    assert!(matches!(result, Err(AuthError::NotYetValid)), "{result:?}");
}

// Protects `sub`: without a subject there is no user to act for.
#[tokio::test]
async fn rejects_missing_sub() {
    let mut claims = id_claims();
    claims.as_object_mut().expect("object").remove("sub");
    let result = verifier().verify_at(&forge(&rs256_header(), &claims), NOW).await;
    assert!(matches!(result, Err(AuthError::MissingClaim("sub"))), "{result:?}");
}

// Protects the parser: something that is not a three-part JWT is malformed, not a crash.
#[tokio::test]
async fn rejects_garbage() {
    for token in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!.!!.!!",
        &format!("{}.e30.", URL_SAFE_NO_PAD.encode("[1]")),
    ] {
        let result = verifier().verify_at(token, NOW).await;
        assert!(matches!(result, Err(AuthError::Malformed)), "{token:?}: {result:?}");
    }
}

// Protects clock-skew tolerance: 30 s past `exp` is accepted with a 60 s leeway.
#[tokio::test]
async fn leeway_accepts_recently_expired() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let result = verifier_with(ISSUER, CLIENT_ID, 60)
        .verify_at(&tokens.id_token, NOW + 3600 + 30)
        .await;
    assert!(result.is_ok(), "{result:?}");
}

// Protects the leeway's bound: 120 s past `exp` is rejected with a 60 s leeway.
#[tokio::test]
async fn leeway_rejects_long_expired() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let result = verifier_with(ISSUER, CLIENT_ID, 60)
        .verify_at(&tokens.id_token, NOW + 3600 + 120)
        .await;
    assert!(matches!(result, Err(AuthError::Expired)), "{result:?}");
}

// Protects the 60 s cap: a misconfigured hour of leeway must not keep expired tokens alive.
#[tokio::test]
async fn leeway_is_capped_at_sixty_seconds() {
    let verifier = verifier_with(ISSUER, CLIENT_ID, 3600);
    assert_eq!(verifier.config().leeway_seconds, 60);
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let result = verifier.verify_at(&tokens.id_token, NOW + 3600 + 120).await;
    assert!(matches!(result, Err(AuthError::Expired)), "{result:?}");
}

// Protects the system-clock entry point: a token issued just now verifies with `verify`.
#[tokio::test]
async fn verify_uses_system_clock() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let tokens = idp().sign_in("ada@example.com", &[], now);
    assert!(verifier().verify(&tokens.id_token).await.is_ok());
    let old = idp().sign_in("ada@example.com", &[], NOW);
    assert!(matches!(
        verifier().verify(&old.id_token).await,
        Err(AuthError::Expired)
    ));
}
