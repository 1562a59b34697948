//! Cold start of the real `chat-config` binary: process start to the first answered event,
//! with the Lambda runtime API played by a tiny local server that hands out one
//! `GET /health` event. AWS_ENDPOINT_URL points at a closed port, so the test also shows
//! that start-up and `/health` make no AWS call. `PARLEY_COLD_START_BIN` measures another
//! build of the binary (e.g. the release one that `make package` zips).

use std::time::{Duration, Instant};

use parley_runtime::testing::LoopbackRuntime;
use serde_json::Value;

const EVENT: &str = include_str!("../../../crates/parley-runtime/fixtures/health.json");

#[tokio::test]
async fn the_binary_answers_its_first_event_quickly_without_calling_aws() {
    let mut runtime = LoopbackRuntime::start("chat-config", vec![EVENT.to_owned()]).await;
    let bin = std::env::var("PARLEY_COLD_START_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_chat-config").to_owned());
    let started = Instant::now();
    let mut child = runtime
        .command(&bin, "chat-config")
        .spawn()
        .expect("start the function binary");

    let answered = runtime
        .answer_from(&mut child, Duration::from_secs(20))
        .await
        .expect("a response");
    let cold_start = answered.at.duration_since(started);
    child.start_kill().expect("stop the function");
    let _ = child.wait().await;

    let response: Value = serde_json::from_slice(&answered.body).expect("a JSON answer");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().expect("a body")).expect("JSON body");
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    eprintln!(
        "cold start of {bin}: {} ms (process start to first answered event)",
        cold_start.as_millis()
    );
    assert!(cold_start < Duration::from_secs(10), "cold start took {cold_start:?}");
}

#[tokio::test]
async fn a_missing_variable_stops_the_function_at_start_up_naming_it() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-config"))
        .env_clear()
        .env("PARLEY_TABLE", "parley")
        .output()
        .await
        .expect("run the function binary");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("configuration error: PARLEY_BUCKET is not set"),
        "{stderr}"
    );
}
