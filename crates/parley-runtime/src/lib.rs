//! What Parley's Lambda functions share, so that each `functions/*/src/main.rs` stays a
//! few lines: configuration from the environment ([`config`]), the app assembled over
//! the AWS adapters ([`app`]), the layer that hands API Gateway's authorizer context to
//! the principal layer ([`context`]), the `auth-check` authorizer of both APIs
//! ([`authorizer`]), and the response prelude of the streaming function ([`streaming`]).
//!
//! Start-up builds clients only, so a cold start costs process start and client
//! construction; credentials and connections come on first use. The one network call at
//! start is reading the secrets of `PARLEY_SECRETS` when it is set ([`secrets`]).

pub mod app;
pub mod authorizer;
pub mod config;
pub mod context;
pub mod secrets;
pub mod streaming;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use lambda_runtime::LambdaEvent;
use parley_api::TokenAuthenticator;
use parley_auth::{CachedUserStatus, CognitoVerifier, GuestTokens, HttpJwks, VerifierConfig};
use parley_aws::cognito::CognitoUserStatus;

pub use app::{api_state, function_app};
pub use authorizer::{Authorizer, AuthorizerEvent, Decision};
pub use config::{AuthCheckConfig, ConfigError, FunctionConfig};
pub use secrets::Environment;
pub use {lambda_http, lambda_runtime, parley_aws};

/// JSON logs, one object per line, as CloudWatch reads them; `RUST_LOG` filters.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .init();
}

/// The configuration, or the process ends with one line naming what is wrong.
pub fn or_exit<T>(config: Result<T, ConfigError>) -> T {
    config.unwrap_or_else(|e| {
        tracing::error!(variable = e.name, "configuration error: {e}");
        eprintln!("configuration error: {e}");
        std::process::exit(2)
    })
}

/// The SDK's configuration and the environment with the secrets of `PARLEY_SECRETS` in
/// it: what every function reads before its configuration. The process ends, naming the
/// variable, when a secret cannot be read.
pub async fn start() -> (aws_config::SdkConfig, Environment) {
    let sdk = parley_aws::sdk_config().await;
    let env = or_exit(Environment::load(&sdk).await);
    (sdk, env)
}

/// The router of HTTP function `name`, configured from the environment and its secrets,
/// with its clients built once.
pub async fn http_function(name: &str) -> Result<axum::Router, lambda_http::Error> {
    let (sdk, env) = start().await;
    let config = or_exit(FunctionConfig::from_lookup(env.lookup()));
    let state = api_state(&config, &sdk)?;
    Ok(function_app(name, state, &config.cors_origins)?)
}

/// [`http_function`], reading profile PDFs with `pdf`: only `chat-config` serves persona
/// uploads, so only it links (and passes) an extractor.
pub async fn http_function_with_pdf(
    name: &str,
    pdf: Arc<dyn parley_core::ports::PdfTextExtractor>,
) -> Result<axum::Router, lambda_http::Error> {
    let (sdk, env) = start().await;
    let config = or_exit(FunctionConfig::from_lookup(env.lookup()));
    let state = api_state(&config, &sdk)?.with_pdf_extractor(pdf);
    Ok(function_app(name, state, &config.cors_origins)?)
}

/// The verifier of the pool's ID and access tokens; the JWKS is fetched on first use.
pub fn cognito_verifier(config: &AuthCheckConfig) -> Result<CognitoVerifier, reqwest::Error> {
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .build()?;
    Ok(CognitoVerifier::new(
        VerifierConfig {
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            leeway_seconds: 60,
        },
        Arc::new(HttpJwks::new(config.jwks_url.clone(), http)),
    ))
}

/// The principal pipeline of the cloud, with its clients built once (the JWKS is fetched
/// on the first token): the pool's verifier, each user's status asked of Cognito and
/// cached for `user_status_ttl`, and guest tokens. `auth-check` runs it, and so does the
/// local server in `PARLEY_MODE=aws`.
pub fn token_authenticator(
    config: &AuthCheckConfig,
    sdk: &aws_config::SdkConfig,
) -> anyhow::Result<TokenAuthenticator> {
    let verifier = cognito_verifier(config)?;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let status = CachedUserStatus::new(
        Arc::new(CognitoUserStatus::new(cognito, config.user_pool_id.clone())),
        config.user_status_ttl,
    );
    let guests = GuestTokens::new(config.guest_key.as_bytes())?;
    Ok(TokenAuthenticator::new(verifier, Arc::new(status), Arc::new(guests)))
}

/// The authorizer over [`token_authenticator`].
pub fn authorizer(config: &AuthCheckConfig, sdk: &aws_config::SdkConfig) -> Result<Authorizer, lambda_runtime::Error> {
    Ok(Authorizer::new(token_authenticator(config, sdk)?))
}

/// The Lambda handler of `auth-check`: an authorizer event of either API (see
/// [`AuthorizerEvent`]) and its answer. An event of neither shape is an error, which API
/// Gateway answers with a 500 and serves nothing.
pub async fn authorize(
    authorizer: &Authorizer,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let event = AuthorizerEvent::from_value(event.payload)?;
    let decision = authorizer.decide(&event).await;
    Ok(authorizer::respond(&event, &decision))
}
