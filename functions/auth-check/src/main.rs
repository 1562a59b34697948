//! `auth-check`: the Lambda authorizer of the HTTP API (payload format 2.0, simple
//! responses) and of the REST API in front of `session-stream` (REQUEST authorizer, an
//! IAM policy for the method), told apart by the event's shape.
//! It verifies the bearer token and hands `{kind, sub, email, groups, sessionId, botId}`
//! to the functions; see `parley_runtime::authorizer` for every decision it makes.

use parley_runtime::{AuthCheckConfig, lambda_runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    parley_runtime::init_tracing();
    let (sdk, env) = parley_runtime::start().await;
    let config = parley_runtime::or_exit(AuthCheckConfig::from_lookup(env.lookup()));
    let authorizer = parley_runtime::authorizer(&config, &sdk)?;
    let authorizer = &authorizer;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        parley_runtime::authorize(authorizer, event)
    }))
    .await
}
