//! `PARLEY_MODE=aws`: the local server on the AWS adapters (a real account, or the local
//! emulator with `AWS_ENDPOINT_URL`), for debugging the cloud path in one process. The
//! same configuration as the Lambda functions; tokens are Cognito's, run through the very
//! pipeline `auth-check` runs (verification, then the user's status: a user disabled or
//! signed out in the console is refused within `PARLEY_USER_STATUS_TTL_SECONDS`).

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use parley_api::PrincipalSource;
use parley_runtime::{AuthCheckConfig, Environment, FunctionConfig};

/// The merged router over DynamoDB, S3 and Cognito, configured as the functions are.
pub async fn build_aws() -> anyhow::Result<Router> {
    let sdk = parley_runtime::parley_aws::sdk_config().await;
    let env = Environment::load(&sdk).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let functions = FunctionConfig::from_lookup(env.lookup()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut auth = AuthCheckConfig::from_lookup(env.lookup()).map_err(|e| anyhow::anyhow!("{e}"))?;
    // An emulator publishes the pool's keys under its own address, not the issuer's.
    if let (Ok(endpoint), Err(_)) = (std::env::var("AWS_ENDPOINT_URL"), std::env::var("COGNITO_JWKS_URL")) {
        auth.jwks_url = format!(
            "{}/{}/.well-known/jwks.json",
            endpoint.trim_end_matches('/'),
            auth.user_pool_id
        );
    }
    let pdf = crate::pdf_extractor(crate::pdf_limits_from_env()?, None)?;
    let state = parley_runtime::api_state(&functions, &sdk)
        .context("cannot assemble the app on AWS")?
        .with_pdf_extractor(pdf);
    let tokens = parley_runtime::token_authenticator(&auth, &sdk).context("cannot build the token pipeline")?;
    let source = PrincipalSource::Verifier(Arc::new(tokens));
    tracing::info!(
        table = functions.aws.table,
        bucket = functions.aws.bucket,
        jwks = auth.jwks_url,
        user_status_ttl_s = auth.user_status_ttl.as_secs(),
        "PARLEY_MODE=aws"
    );
    Ok(parley_api::finish_with(
        parley_api::all_functions(state),
        source,
        &functions.cors_origins,
    ))
}
