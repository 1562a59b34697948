//! Shared fixtures: one RSA key per test binary, a provider and verifiers built on it, and
//! helpers to forge tokens the provider would never issue.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use parley_auth::{CognitoVerifier, DevIdentityProvider, StaticJwks, VerifierConfig};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";
pub const CLIENT_ID: &str = "test-app-client";
/// A fixed "now" so expiry tests do not depend on the wall clock.
pub const NOW: u64 = 1_700_000_000;

pub struct TestKey {
    pub private_pem: String,
    pub public_pem: String,
    pub encoding: EncodingKey,
}

/// RSA key generation is slow, so every test shares this one key.
pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate test key");
        let der = key.to_pkcs1_der().expect("PKCS#1 DER");
        TestKey {
            private_pem: key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 PEM").to_string(),
            public_pem: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("public PEM"),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        }
    })
}

pub fn idp() -> DevIdentityProvider {
    DevIdentityProvider::from_pem(&test_key().private_pem, ISSUER, CLIENT_ID).expect("provider from test key")
}

pub fn verifier_with(issuer: &str, client_id: &str, leeway_seconds: u64) -> CognitoVerifier {
    let config = VerifierConfig {
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        leeway_seconds,
    };
    CognitoVerifier::new(config, Arc::new(StaticJwks::new(idp().jwks())))
}

/// A verifier matching the test provider, without leeway.
pub fn verifier() -> CognitoVerifier {
    verifier_with(ISSUER, CLIENT_ID, 0)
}

pub fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

pub fn decode_segment(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

/// The header the test provider puts on its tokens.
pub fn rs256_header() -> Value {
    json!({ "kid": idp().kid(), "alg": "RS256" })
}

/// Valid ID-token claims at [`NOW`], to be altered by each test.
pub fn id_claims() -> Value {
    json!({
        "sub": "00000000-0000-4000-8000-000000000001",
        "email": "ada@example.com",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": NOW,
        "exp": NOW + 3600,
    })
}

/// Signs arbitrary header and claims with the test key using `alg`'s algorithm.
pub fn sign_with(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = format!("{}.{}", segment(header), segment(claims));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("sign");
    format!("{input}.{signature}")
}

/// A correctly RS256-signed token with arbitrary header and claims.
pub fn forge(header: &Value, claims: &Value) -> String {
    sign_with(header, claims, &test_key().encoding, Algorithm::RS256)
}

/// Values of a NumericDate claim (`exp`, `nbf`, `iat`) that are not a non-negative JSON
/// integer, each next to `valid` (a time the claim would pass with), so that a verifier
/// that read them as absent or coerced them would accept the token.
pub fn confused_dates(valid: u64) -> Vec<(&'static str, Value)> {
    vec![
        ("string", json!(valid.to_string())),
        ("fractional float", json!(valid as f64 + 0.5)),
        // A whole-valued float is refused too: no issuer we accept writes floats.
        ("whole float", json!(valid as f64)),
        (
            "exponent float",
            serde_json::from_str(&format!("{valid}e0")).expect("a JSON number"),
        ),
        ("array", json!([valid])),
        ("null", Value::Null),
        ("negative", json!(-1)),
        ("boolean", json!(true)),
        ("object", json!({ "seconds": valid })),
    ]
}
