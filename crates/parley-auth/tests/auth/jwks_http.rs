//! The verifier fed by HttpJwks: caching and the rate-limited refetch on unknown `kid`s.

use std::sync::Arc;

use parley_auth::{AuthError, CognitoVerifier, HttpJwks, JWKS_REFETCH_INTERVAL_SECONDS, JwkSet, VerifierConfig};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CLIENT_ID, ISSUER, NOW, forge, id_claims, idp};

const JWKS_PATH: &str = "/eu-west-1_Test/.well-known/jwks.json";

fn http_verifier(server: &MockServer) -> CognitoVerifier {
    let config = VerifierConfig {
        issuer: ISSUER.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        leeway_seconds: 0,
    };
    let source = HttpJwks::new(format!("{}{JWKS_PATH}", server.uri()), reqwest::Client::new());
    CognitoVerifier::new(config, Arc::new(source))
}

fn jwks_response(keys: &JwkSet) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(keys)
}

// Protects the cache: keys are fetched lazily once, not on every request.
#[tokio::test]
async fn fetches_keys_once_and_caches_them() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(jwks_response(&idp().jwks()))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = http_verifier(&server);
    let tokens = idp().sign_in("ada@example.com", &[], NOW);

    verifier
        .verify_at(&tokens.id_token, NOW)
        .await
        .expect("first verification");
    verifier
        .verify_at(&tokens.access_token, NOW + 1)
        .await
        .expect("second verification");

    server.verify().await;
}

// Protects the identity provider from kid-spraying: unknown kids refetch at most once per interval.
#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(jwks_response(&idp().jwks()))
        .expect(2)
        .mount(&server)
        .await;
    let verifier = http_verifier(&server);
    let unknown = forge(&json!({ "kid": "rotated-key", "alg": "RS256" }), &id_claims());

    // GIVEN the first use, which loads the keys (fetch 1)
    let first = verifier.verify_at(&unknown, NOW).await;
    // WHEN unknown kids keep arriving within the interval, THEN no fetch happens
    let within = verifier
        .verify_at(&unknown, NOW + JWKS_REFETCH_INTERVAL_SECONDS - 1)
        .await;
    // WHEN the interval has passed, THEN one refetch happens (fetch 2), and then none again
    let after = verifier.verify_at(&unknown, NOW + JWKS_REFETCH_INTERVAL_SECONDS).await;
    let after_again = verifier
        .verify_at(&unknown, NOW + JWKS_REFETCH_INTERVAL_SECONDS + 1)
        .await;

    for result in [first, within, after, after_again] {
        assert!(matches!(result, Err(AuthError::UnknownKey)), "{result:?}");
    }
    server.verify().await;
}

// Protects key rotation: a new key published after the first fetch is picked up by the refetch.
#[tokio::test]
async fn refetch_picks_up_a_rotated_key() {
    let server = MockServer::start().await;
    let empty = JwkSet { keys: Vec::new() };
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(jwks_response(&empty))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(jwks_response(&idp().jwks()))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = http_verifier(&server);
    let tokens = idp().sign_in("ada@example.com", &[], NOW);

    let before = verifier.verify_at(&tokens.id_token, NOW).await;
    assert!(matches!(before, Err(AuthError::UnknownKey)), "{before:?}");
    let after = verifier
        .verify_at(&tokens.id_token, NOW + JWKS_REFETCH_INTERVAL_SECONDS)
        .await;
    assert!(after.is_ok(), "{after:?}");
    server.verify().await;
}

// Protects the 503 mapping: an unreachable or failing JWKS endpoint is "unavailable", not "bad token".
#[tokio::test]
async fn jwks_endpoint_failure_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = http_verifier(&server);
    let tokens = idp().sign_in("ada@example.com", &[], NOW);

    let result = verifier.verify_at(&tokens.id_token, NOW).await;
    assert!(
        matches!(
            result,
            Err(AuthError::JwksUnavailable(parley_auth::JwksError::Status(500)))
        ),
        "{result:?}"
    );
    // Within the interval the failure is remembered instead of hammering the endpoint.
    let again = verifier
        .verify_at(&tokens.id_token, NOW + 1)
        .await
        .expect_err("still unavailable");
    assert!(again.is_unavailable(), "{again:?}");
    server.verify().await;
}
