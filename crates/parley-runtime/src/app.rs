//! The Parley app on AWS: the one place that assembles stores, model providers and the
//! API state for the Lambda functions (and for the local server in `PARLEY_MODE=aws`).

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use parley_api::{ApiState, CorsOrigins, PrincipalSource};
use parley_auth::GuestTokens;
use parley_aws::{AwsSettings, AwsStore};
use parley_core::Parley;
use parley_core::models::ModelCatalog;
use parley_core::ports::LlmProvider;
use parley_core::usecases::{Ports, Settings};
use parley_llm::ProvidersConfig;

use crate::FunctionConfig;
use crate::context::{authorizer_context, routed_by_event_path};

/// The core app over the AWS store, with `providers` (the offline model always). Builds
/// clients only: no network.
pub fn parley_on_aws(
    sdk: &aws_config::SdkConfig,
    aws: AwsSettings,
    models: &str,
    providers: &ProvidersConfig,
    settings: Settings,
) -> anyhow::Result<Parley> {
    let catalog =
        ModelCatalog::parse(models, |p| providers.configured(p)).map_err(|e| anyhow::anyhow!("PARLEY_MODELS: {e}"))?;
    let llm: Arc<dyn LlmProvider> = Arc::new(providers.router(catalog.clone())?);
    Ok(parley_with(Arc::new(AwsStore::new(sdk, aws)), llm, catalog, settings))
}

/// The core app over `store` and `llm` (tests pass a counting model here).
pub fn parley_with(
    store: Arc<AwsStore>,
    llm: Arc<dyn LlmProvider>,
    catalog: ModelCatalog,
    settings: Settings,
) -> Parley {
    Parley::new(Ports::over_store(store, llm), catalog, settings)
}

/// The API state of an HTTP function.
pub fn api_state(config: &FunctionConfig, sdk: &aws_config::SdkConfig) -> anyhow::Result<ApiState> {
    let settings = Settings {
        public_url: config.public_url.clone(),
        creators_group: config.creators_group.clone(),
        rate_limits: config.rate_limits,
        ..Settings::default()
    };
    let parley = parley_on_aws(sdk, config.aws.clone(), &config.models, &config.providers, settings)?;
    let guests = GuestTokens::new(config.guest_key.as_bytes()).context("PARLEY_GUEST_KEY")?;
    Ok(ApiState::new(parley, Arc::new(guests)))
}

/// The router a function runs: its routes, `GET /health`, CORS for `cors`, and the
/// principal taken from the API Gateway authorizer context (never from a header:
/// `auth-check` has verified it), routed by the path without the API's stage.
pub fn function_app(name: &str, state: ApiState, cors: &CorsOrigins) -> anyhow::Result<Router> {
    let routes = parley_api::function_router(name, state).with_context(|| format!("no function is named {name:?}"))?;
    Ok(routed_by_event_path(
        parley_api::finish_with(routes, PrincipalSource::AuthorizerContext, cors)
            .layer(axum::middleware::from_fn(authorizer_context)),
    ))
}
