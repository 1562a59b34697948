//! A bare `lambda_runtime` function that answers every event with the event itself: the
//! floor `make bench` measures the functions' cold starts against (built in the same
//! run, with the same toolchain and profile). Not deployed.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
