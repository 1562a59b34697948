//! The emulator's Cognito with a fresh pool, users signed in by USER_PASSWORD_AUTH, the
//! authorizer built as `auth-check` builds it, and authorizer events from the fixtures.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use parley_api::TokenAuthenticator;
use parley_auth::{
    AuthError, CognitoVerifier, DevIdentityProvider, GuestTokens, HttpJwks, JwkSet, JwksSource, NoStatusCheck,
    VerifierConfig,
};
use parley_aws::cognito::ensure_cognito;
use parley_runtime::lambda_runtime::{Context, LambdaEvent};
use parley_runtime::testing::{TEST_GUEST_KEY, emulator_endpoint, emulator_sdk, unique_name};
use parley_runtime::{AuthCheckConfig, Authorizer};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

const EVENT: &str = include_str!("../fixtures/authorizer-request.json");
const ANONYMOUS_EVENT: &str = include_str!("../fixtures/authorizer-request-anonymous.json");
const REST_EVENT: &str = include_str!("../fixtures/rest-authorizer-request.json");
const REST_ANONYMOUS_EVENT: &str = include_str!("../fixtures/rest-authorizer-request-anonymous.json");
const PASSWORD: &str = "Correct-Horse-9-Battery!";

/// A fresh user pool on the emulator with its app client and `admin` group.
pub struct Pool {
    pub sdk: aws_config::SdkConfig,
    pub cognito: Client,
    pub pool_id: String,
    pub client_id: String,
}

/// Tokens the emulator issued to one user.
pub struct SignedIn {
    pub username: String,
    pub id_token: String,
    pub access_token: String,
}

impl Pool {
    pub async fn new() -> Self {
        let sdk = emulator_sdk().await;
        let ids = ensure_cognito(&sdk, None, &unique_name("parley-auth"), "parley-web")
            .await
            .expect("pool and app client on the emulator");
        Self {
            cognito: Client::new(&sdk),
            sdk,
            pool_id: ids.user_pool_id,
            client_id: ids.client_id,
        }
    }

    pub fn issuer(&self) -> String {
        let region = self
            .sdk
            .region()
            .map(ToString::to_string)
            .unwrap_or_else(|| "us-east-1".into());
        format!("https://cognito-idp.{region}.amazonaws.com/{}", self.pool_id)
    }

    /// The configuration `auth-check` reads, pointed at the emulator's JWKS.
    pub fn config(&self, status_ttl_seconds: u64) -> AuthCheckConfig {
        let jwks = format!(
            "{}/{}/.well-known/jwks.json",
            emulator_endpoint().trim_end_matches('/'),
            self.pool_id
        );
        let vars = [
            ("COGNITO_USER_POOL_ID", self.pool_id.clone()),
            ("COGNITO_CLIENT_ID", self.client_id.clone()),
            ("COGNITO_ISSUER", self.issuer()),
            ("COGNITO_JWKS_URL", jwks),
            ("PARLEY_GUEST_KEY", TEST_GUEST_KEY.to_owned()),
            ("PARLEY_USER_STATUS_TTL_SECONDS", status_ttl_seconds.to_string()),
        ];
        AuthCheckConfig::from_lookup(move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .expect("auth-check configuration")
    }

    /// The authorizer exactly as `auth-check`'s main builds it.
    pub fn authorizer(&self, status_ttl_seconds: u64) -> Authorizer {
        parley_runtime::authorizer(&self.config(status_ttl_seconds), &self.sdk).expect("authorizer")
    }

    /// As [`Self::authorizer`], but also trusting the test key, so that tokens re-signed
    /// with altered claims reach the claim checks, and with a user-status check that
    /// passes everyone. The emulator's keys stay trusted.
    pub fn authorizer_trusting_test_key(&self) -> Authorizer {
        let config = self.config(0);
        let jwks = WithTestKey(HttpJwks::new(config.jwks_url.clone(), reqwest_client()));
        let verifier = CognitoVerifier::new(
            VerifierConfig {
                issuer: config.issuer.clone(),
                client_id: config.client_id.clone(),
                leeway_seconds: 60,
            },
            Arc::new(jwks),
        );
        Authorizer::new(TokenAuthenticator::new(
            verifier,
            Arc::new(NoStatusCheck),
            Arc::new(GuestTokens::new(TEST_GUEST_KEY.as_bytes()).expect("key")),
        ))
    }

    /// A confirmed user with a permanent password, in `groups`, signed in by
    /// USER_PASSWORD_AUTH.
    pub async fn user(&self, groups: &[&str]) -> SignedIn {
        let username = unique_name("user");
        self.cognito
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(&username)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(format!("{username}@example.com"))
                    .build()
                    .unwrap(),
            )
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(&username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
        for group in groups {
            self.cognito
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(&username)
                .group_name(*group)
                .send()
                .await
                .expect("AdminAddUserToGroup");
        }
        self.sign_in(&username).await
    }

    pub async fn sign_in(&self, username: &str) -> SignedIn {
        let out = self
            .cognito
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("InitiateAuth USER_PASSWORD_AUTH");
        let result = out.authentication_result().expect("tokens");
        SignedIn {
            username: username.to_owned(),
            id_token: result.id_token().expect("an ID token").to_owned(),
            access_token: result.access_token().expect("an access token").to_owned(),
        }
    }
}

fn reqwest_client() -> reqwest::Client {
    reqwest::Client::new()
}

/// The emulator's JWKS plus the test key.
struct WithTestKey(HttpJwks);

#[async_trait]
impl JwksSource for WithTestKey {
    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        let mut keys = self.0.fetch().await?;
        keys.keys.extend(test_key().jwks.keys.clone());
        Ok(keys)
    }
}

pub struct TestKey {
    pub kid: String,
    pub jwks: JwkSet,
    pub encoding: EncodingKey,
    pub public_pem: String,
}

/// RSA key generation is slow, so the binary shares one key.
pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("generate a test key");
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
        let idp = DevIdentityProvider::from_pem(&pem, "https://unused.example", "unused").expect("key");
        let public_pem =
            rsa::pkcs8::EncodePublicKey::to_public_key_pem(&key.to_public_key(), LineEnding::LF).expect("public PEM");
        TestKey {
            kid: idp.kid().to_owned(),
            jwks: idp.jwks(),
            encoding: EncodingKey::from_rsa_der(key.to_pkcs1_der().expect("DER").as_bytes()),
            public_pem,
        }
    })
}

pub fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The claims of a token, decoded without verification.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

/// `claims` signed RS256 with the test key, under `kid`.
pub fn resign(claims: &Value, kid: &str) -> String {
    let input = format!("{}.{}", segment(&json!({"kid": kid, "alg": "RS256"})), segment(claims));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &test_key().encoding, Algorithm::RS256).expect("sign");
    format!("{input}.{signature}")
}

/// An authorizer request event (payload 2.0) for `method path`; `token` goes into the
/// Authorization header as a bearer token, and no header is sent without one.
pub fn event(method: &str, path: &str, authorization: Option<&str>) -> LambdaEvent<Value> {
    let fixture = if authorization.is_some() {
        EVENT
    } else {
        ANONYMOUS_EVENT
    };
    let text = fixture
        .replace("{{routeKey}}", &format!("{method} {path}"))
        .replace("{{method}}", method)
        .replace("{{path}}", path)
        .replace("{{authorization}}", authorization.unwrap_or_default());
    let payload = serde_json::from_str(&text).expect("an authorizer request event");
    LambdaEvent::new(payload, Context::default())
}

/// A REST API (v1) REQUEST-authorizer event for `method path` of resource `resource`
/// (the route template), on stage `prod`, as [`event`] otherwise.
pub fn rest_event(method: &str, resource: &str, path: &str, authorization: Option<&str>) -> LambdaEvent<Value> {
    let fixture = if authorization.is_some() {
        REST_EVENT
    } else {
        REST_ANONYMOUS_EVENT
    };
    let text = fixture
        .replace("{{resource}}", resource)
        .replace("{{method}}", method)
        .replace("{{path}}", path)
        .replace("{{authorization}}", authorization.unwrap_or_default());
    assert!(!text.contains("{{"), "a placeholder is left: {text}");
    let payload = serde_json::from_str(&text).expect("a REST authorizer request event");
    LambdaEvent::new(payload, Context::default())
}

/// The handler's response as API Gateway reads it: `{isAuthorized, context}`.
pub async fn authorize(authorizer: &Authorizer, method: &str, path: &str, authorization: Option<&str>) -> Value {
    parley_runtime::authorize(authorizer, event(method, path, authorization))
        .await
        .expect("a decision")
}

/// The handler's response to a REST API event, as API Gateway reads it:
/// `{principalId, policyDocument, context}`.
pub async fn authorize_rest(
    authorizer: &Authorizer,
    method: &str,
    resource: &str,
    path: &str,
    authorization: Option<&str>,
) -> Value {
    parley_runtime::authorize(authorizer, rest_event(method, resource, path, authorization))
        .await
        .expect("a decision")
}

pub async fn bearer(authorizer: &Authorizer, token: &str) -> Value {
    authorize(authorizer, "GET", "/chat-configs", Some(&format!("Bearer {token}"))).await
}

/// Asserts that the token was refused as invalid, with `why` in the message: the
/// function will answer 401 (refusals travel in the context, see `parley_api::access`).
pub fn assert_denied(response: &Value, why: &str) {
    assert_refused(response, "invalid_token", why);
}

/// Asserts the refusal the function will answer.
pub fn assert_refused(response: &Value, refusal: &str, why: &str) {
    assert_eq!(
        response["context"],
        json!({"kind": "refused", "refusal": refusal}),
        "{why}: {response}"
    );
    // What the functions make of it: that refusal, never a principal.
    let context = response["context"].as_object().expect("a context");
    assert_eq!(
        parley_api::auth::principal_from_authorizer(context).map_err(|r| r.as_str()),
        Err(refusal),
        "{why}"
    );
}

pub fn assert_user(response: &Value, sub: &str) {
    assert_eq!(response["isAuthorized"], true, "{response}");
    assert_eq!(response["context"]["kind"], "user", "{response}");
    assert_eq!(response["context"]["sub"], sub, "{response}");
}
