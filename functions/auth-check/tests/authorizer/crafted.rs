//! Forged and altered tokens, made from the claims of tokens the emulator really issued.
//! The ones that must reach the claim checks are re-signed with a test key that the
//! authorizer under test also trusts (beside the emulator's keys), and its user-status
//! check says yes to everyone (Cognito would refuse a re-signed access token it never
//! issued, hiding which check refused it). A control proves that unaltered re-signed
//! tokens pass, so each refusal is for the altered claim.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::support::{Pool, assert_denied, assert_user, bearer, claims, resign, segment, test_key};

fn now() -> u64 {
    parley_api::auth::unix_now()
}

#[tokio::test]
async fn altered_claims_and_forged_signatures_are_refused() {
    let pool = Pool::new().await;
    let user = pool.user(&[]).await;
    let authorizer = pool.authorizer_trusting_test_key();
    let kid = test_key().kid.as_str();
    let id = claims(&user.id_token);
    let access = claims(&user.access_token);
    let sub = id["sub"].as_str().expect("sub").to_owned();

    // Controls: the real tokens, and their claims re-signed unaltered, pass.
    assert_user(&bearer(&authorizer, &user.id_token).await, &sub);
    assert_user(&bearer(&authorizer, &resign(&id, kid)).await, &sub);
    assert_user(&bearer(&authorizer, &resign(&access, kid)).await, &sub);

    let altered = |base: &Value, change: &dyn Fn(&mut Value)| {
        let mut claims = base.clone();
        change(&mut claims);
        claims
    };
    let cases: Vec<(&str, String)> = vec![
        ("tampered payload", tampered(&user.id_token)),
        ("alg none", unsigned(&id)),
        ("HS256 signed with the public key", hs256_with_public_key(&id, kid)),
        ("unknown kid", resign(&id, "no-such-key")),
        (
            "expired",
            resign(&altered(&id, &|c| c["exp"] = json!(now() - 3600)), kid),
        ),
        (
            "nbf in the future",
            resign(&altered(&id, &|c| c["nbf"] = json!(now() + 3600)), kid),
        ),
        (
            "wrong issuer",
            resign(
                &altered(&id, &|c| {
                    c["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")
                }),
                kid,
            ),
        ),
        (
            "wrong aud",
            resign(&altered(&id, &|c| c["aud"] = json!("another-client")), kid),
        ),
        (
            "wrong client_id",
            resign(&altered(&access, &|c| c["client_id"] = json!("another-client")), kid),
        ),
        (
            "id token claiming token_use access",
            resign(&altered(&id, &|c| c["token_use"] = json!("access")), kid),
        ),
        (
            "access token claiming token_use id",
            resign(&altered(&access, &|c| c["token_use"] = json!("id")), kid),
        ),
        (
            "string exp",
            resign(&altered(&id, &|c| c["exp"] = json!((now() + 3600).to_string())), kid),
        ),
        // Time claims of the wrong JSON type (GHSA-h395-gr6q-cpjc), each next to a time
        // it would pass with: refused, never read as absent.
        (
            "float exp",
            resign(&altered(&id, &|c| c["exp"] = json!((now() + 3600) as f64)), kid),
        ),
        ("null exp", resign(&altered(&id, &|c| c["exp"] = Value::Null), kid)),
        (
            "array nbf",
            resign(&altered(&id, &|c| c["nbf"] = json!([now() - 60])), kid),
        ),
        (
            "string iat",
            resign(&altered(&access, &|c| c["iat"] = json!((now() - 60).to_string())), kid),
        ),
        (
            "no exp",
            resign(
                &altered(&id, &|c| drop(c.as_object_mut().map(|o| o.remove("exp")))),
                kid,
            ),
        ),
        ("not a JWT", "not-a-token".into()),
    ];
    for (why, token) in cases {
        assert_denied(&bearer(&authorizer, &token).await, why);
    }
}

/// The real token with `sub` changed and the emulator's signature kept.
fn tampered(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = claims(token);
    claims["sub"] = json!("00000000-0000-4000-8000-000000000000");
    parts[1] = segment(&claims);
    parts.join(".")
}

fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        segment(&json!({"kid": "dummy", "alg": "none"})),
        segment(claims)
    )
}

/// The classic key-confusion forgery: HMAC with the RSA public key as the secret.
fn hs256_with_public_key(claims: &Value, kid: &str) -> String {
    let input = format!("{}.{}", segment(&json!({"kid": kid, "alg": "HS256"})), segment(claims));
    let key = EncodingKey::from_secret(test_key().public_pem.as_bytes());
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).expect("sign");
    format!("{input}.{signature}")
}
