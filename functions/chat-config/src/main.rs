//! `chat-config`: the Lambda function for bot configs, share links, personas, GET /models, behind the API Gateway HTTP API.
//! The principal comes only from `auth-check`'s authorizer context.

use std::sync::Arc;

use parley_pdf::{ChildProcessExtractor, PdfLimits};
use parley_runtime::lambda_http;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    parley_pdf::serve_worker_if_asked(); // `chat-config --parley-pdf-worker`: see parley-pdf
    parley_runtime::init_tracing();
    let pdf = ChildProcessExtractor::for_current_exe(PdfLimits::from_lookup(|k| std::env::var(k).ok())?)?;
    let router = parley_runtime::http_function_with_pdf("chat-config", Arc::new(pdf)).await?;
    lambda_http::run(router).await
}
