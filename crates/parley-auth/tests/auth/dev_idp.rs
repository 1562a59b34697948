//! The development identity provider: key persistence, stable subjects, JWKS shape.

use std::sync::Arc;

use parley_auth::{
    AuthError, CognitoVerifier, DEV_SIGNING_KEY_FILE, DevIdentityProvider, StaticJwks, VerifierConfig, dev_sub,
};
use serde_json::json;

use crate::support::{self, CLIENT_ID, ISSUER, NOW, idp, verifier};

// Protects restarts in local mode: the key is created once and reused, so kid and sub stay the same.
#[tokio::test]
async fn load_or_create_reuses_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");

    let first = DevIdentityProvider::load_or_create(&data_dir, ISSUER, CLIENT_ID).expect("create key");
    let second = DevIdentityProvider::load_or_create(&data_dir, ISSUER, CLIENT_ID).expect("load key");

    assert_eq!(first.kid(), second.kid());
    assert_eq!(first.jwks(), second.jwks());
    // A token from the reloaded provider verifies against the keys published by the first.
    let config = VerifierConfig {
        issuer: ISSUER.into(),
        client_id: CLIENT_ID.into(),
        leeway_seconds: 0,
    };
    let check = CognitoVerifier::new(config, Arc::new(StaticJwks::new(first.jwks())));
    let from_second = second.sign_in("Ada@example.com", &[], NOW).id_token;
    let user = check.verify_at(&from_second, NOW).await.expect("same key");
    let from_first = first.sign_in("ada@example.com", &[], NOW).id_token;
    assert_eq!(check.verify_at(&from_first, NOW).await.expect("valid").sub, user.sub);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data_dir.join(DEV_SIGNING_KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

// Protects user identity: the sub depends on the email only, case-insensitively, and differs between users.
#[test]
fn sub_is_stable_per_email() {
    assert_eq!(dev_sub("Ada@Example.com"), dev_sub("ada@example.com"));
    assert_ne!(dev_sub("ada@example.com"), dev_sub("grace@example.com"));
    let sub = dev_sub("ada@example.com");
    assert_eq!(sub.len(), 36);
    assert_eq!(sub.matches('-').count(), 4);
}

// Protects interoperability: the JWKS looks like Cognito's (RSA, RS256, sig, kid).
#[test]
fn jwks_is_a_cognito_shaped_rsa_key() {
    let provider = idp();
    let jwks = serde_json::to_value(provider.jwks()).expect("JSON");
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], json!("RSA"));
    assert_eq!(key["alg"], json!("RS256"));
    assert_eq!(key["use"], json!("sig"));
    assert_eq!(key["kid"], json!(provider.kid()));
    assert_eq!(key["e"], json!("AQAB"));
    assert_eq!(provider.kid().len(), 16);
    assert_eq!(provider.issuer(), ISSUER);
    assert_eq!(provider.client_id(), CLIENT_ID);
}

// Protects the Cognito token shape: `cognito:groups` is omitted for users in no group, and the
// sign-in body uses camelCase.
#[tokio::test]
async fn sign_in_without_groups_omits_the_claim() {
    let tokens = idp().sign_in("ada@example.com", &[], NOW);
    let claims = support::decode_segment(tokens.id_token.split('.').nth(1).expect("claims"));
    assert!(claims.get("cognito:groups").is_none());
    let user = verifier().verify_at(&tokens.id_token, NOW).await.expect("valid");
    assert!(user.groups.is_empty());
    let body = serde_json::to_value(&tokens).expect("JSON");
    assert!(body["idToken"].is_string() && body["accessToken"].is_string());
    assert_eq!(body["expiresIn"], json!(3600));
}

// Protects start-up: a corrupt key file is a KeyStore error, not a panic.
#[test]
fn from_pem_rejects_garbage() {
    let result = DevIdentityProvider::from_pem("not a key", ISSUER, CLIENT_ID);
    assert!(matches!(result, Err(AuthError::KeyStore(_))), "{result:?}");
}
