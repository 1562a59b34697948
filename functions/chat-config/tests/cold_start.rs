//! Cold start of the real `chat-config` binary: process start to the first answered event,
//! with the Lambda runtime API played by a tiny local server that hands out one
//! `GET /health` event. AWS_ENDPOINT_URL points at a closed port, so the test also shows
//! that start-up and `/health` make no AWS call. `PARLEY_COLD_START_BIN` measures another
//! build of the binary (e.g. the release one that `make package` zips).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

const EVENT: &str = include_str!("../../../crates/parley-runtime/fixtures/health.json");

#[derive(Clone)]
struct RuntimeApi {
    handed_out: Arc<Mutex<bool>>,
    responses: mpsc::UnboundedSender<(Instant, Value)>,
}

async fn next(State(api): State<RuntimeApi>) -> (HeaderMap, String) {
    if std::mem::replace(&mut *api.handed_out.lock().expect("lock"), true) {
        // One event only: the runtime waits here until the test ends the process.
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", "cold-start-1".parse().expect("header"));
    headers.insert("lambda-runtime-deadline-ms", "4102444800000".parse().expect("header"));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:chat-config"
            .parse()
            .expect("header"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-65f1a2b3-0123456789abcdef01234567".parse().expect("header"),
    );
    (headers, EVENT.to_owned())
}

async fn response(State(api): State<RuntimeApi>, Path(_id): Path<String>, body: String) -> StatusCode {
    let at = Instant::now();
    let _ = api
        .responses
        .send((at, serde_json::from_str(&body).unwrap_or(Value::String(body))));
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn the_binary_answers_its_first_event_quickly_without_calling_aws() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let api = RuntimeApi {
        handed_out: Arc::new(Mutex::new(false)),
        responses: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let bin = std::env::var("PARLEY_COLD_START_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_chat-config").to_owned());
    let started = Instant::now();
    let mut child = tokio::process::Command::new(&bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "chat-config")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/chat-config")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        // Port 9 (discard) is closed here: any AWS call at start-up would fail.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("PARLEY_TABLE", "parley")
        .env("PARLEY_BUCKET", "parley")
        .env("PARLEY_PUBLIC_URL", "https://parley.example.com")
        .env("PARLEY_GUEST_KEY", "cold-start-guest-key-0123456789abcdef")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("start the function binary");

    let answered = tokio::select! {
        r = rx.recv() => r.expect("a response"),
        status = child.wait() => panic!("the function exited before answering: {status:?}"),
        () = tokio::time::sleep(Duration::from_secs(20)) => panic!("no answer within 20 s"),
    };
    let cold_start = answered.0.duration_since(started);
    child.start_kill().expect("stop the function");
    let _ = child.wait().await;

    let (_, response) = answered;
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
