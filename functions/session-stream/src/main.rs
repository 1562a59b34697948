//! `session-stream`: the Lambda function of the streaming routes (`text/event-stream`),
//! behind the REST API with response streaming, since API Gateway HTTP APIs cannot
//! stream. It takes REST API (v1) proxy events; the principal comes only from
//! `auth-check`'s authorizer context (the REST API's REQUEST authorizer). Each response
//! is streamed: a JSON prelude (status, single-valued headers, cookies), eight NUL bytes,
//! then the body as the router writes it.

use parley_runtime::lambda_http;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    parley_runtime::init_tracing();
    let router = parley_runtime::http_function("session-stream").await?;
    lambda_http::run_with_streaming_response(parley_runtime::streaming::streaming_app(router)).await
}
