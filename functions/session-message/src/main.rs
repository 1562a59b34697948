//! `session-message`: the Lambda function for sending a message to a session or a room, behind the API Gateway HTTP API.
//! The principal comes only from `auth-check`'s authorizer context.

use parley_runtime::lambda_http;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    parley_runtime::init_tracing();
    let router = parley_runtime::http_function("session-message").await?;
    lambda_http::run(router).await
}
