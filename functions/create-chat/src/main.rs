//! `create-chat`: the Lambda function for POST /create-chat, behind the API Gateway HTTP API.
//! The principal comes only from `auth-check`'s authorizer context.

use parley_runtime::{FunctionConfig, lambda_http};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    parley_runtime::init_tracing();
    let config = parley_runtime::or_exit(FunctionConfig::from_env());
    let router = parley_runtime::http_function("create-chat", &config).await?;
    lambda_http::run(router).await
}
