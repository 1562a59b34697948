//! The real `session-stream` binary on Lambda's streaming runtime, against a loopback
//! Lambda Runtime API handing it REST API (v1) proxy events with `auth-check`'s context.
//! Each answer must be what API Gateway's response streaming reads: a JSON prelude with
//! single-valued string headers, eight NUL bytes, then the SSE frames.

use std::time::Duration;

use parley_runtime::testing::{Answered, LoopbackRuntime};
use serde_json::{Value, json};

/// `GET /session/{id}/messages/{seq}/stream` on stage `prod`, by a user.
const RESUME: &str = include_str!("fixtures/resume-stream.json");
/// What the placeholder route answers (the lead's streaming routes will replace it).
const EVENTS: &str =
    "id: 5\nevent: delta\ndata: {\"text\":\"Hello\"}\n\nevent: done\ndata: {\"status\":\"complete\"}\n\n";

/// The streamed answer split as API Gateway reads it: the prelude and the body.
fn split(answer: &Answered) -> (Value, String) {
    let mode = answer.headers.get("lambda-runtime-function-response-mode");
    assert_eq!(
        mode.and_then(|v| v.to_str().ok()),
        Some("streaming"),
        "{:?}",
        answer.headers
    );
    let content_type = answer.headers.get("content-type").and_then(|v| v.to_str().ok());
    assert_eq!(
        content_type,
        Some("application/vnd.awslambda.http-integration-response")
    );
    let at = answer
        .body
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("the 8-NUL delimiter after the prelude");
    let prelude: Value = serde_json::from_slice(&answer.body[..at]).expect("a JSON prelude");
    let headers = prelude["headers"].as_object().expect("prelude headers");
    assert!(
        headers.values().all(Value::is_string),
        "every header is single-valued and a string: {prelude}"
    );
    let body = String::from_utf8(answer.body[at + 8..].to_vec()).expect("a UTF-8 body");
    (prelude, body)
}

#[tokio::test]
async fn rest_events_are_answered_as_streams_with_a_prelude_api_gateway_takes() {
    // GIVEN the user's resume request, the same request refused by auth-check, and a CORS
    // preflight (which carries no authorizer context on a REST API).
    let refused = RESUME.replace(
        r#""kind": "user","#,
        r#""kind": "refused", "refusal": "invalid_token","#,
    );
    let mut preflight: Value = serde_json::from_str(RESUME).expect("JSON");
    preflight["httpMethod"] = "OPTIONS".into();
    preflight["requestContext"]["httpMethod"] = "OPTIONS".into();
    preflight["requestContext"]
        .as_object_mut()
        .expect("a request context")
        .remove("authorizer");
    preflight["headers"]["Access-Control-Request-Method"] = "GET".into();
    preflight["multiValueHeaders"]["Access-Control-Request-Method"] = json!(["GET"]);
    let events = vec![RESUME.to_owned(), refused, preflight.to_string()];

    let mut runtime = LoopbackRuntime::start("session-stream", events).await;
    let mut child = runtime
        .command(env!("CARGO_BIN_EXE_session-stream"), "session-stream")
        .env("CORS_ORIGINS", "https://app.example")
        .spawn()
        .expect("start the function binary");
    let mut answers = Vec::new();
    while answers.len() < 3 {
        tokio::select! {
            answer = runtime.answer() => answers.push(answer.expect("an answer")),
            status = child.wait() => panic!("the function exited: {status:?}"),
            () = tokio::time::sleep(Duration::from_secs(30)) => panic!("no answer within 30 s"),
        }
    }
    child.start_kill().expect("stop the function");
    let _ = child.wait().await;

    // THEN the user gets the SSE frames, streamed after a 200 prelude (the route matched
    // although lambda_http puts the stage `prod` in front of the path).
    let (prelude, body) = split(&answers[0]);
    assert_eq!(answers[0].request_id, "loopback-1");
    assert_eq!(prelude["statusCode"], 200, "{prelude}");
    assert_eq!(prelude["headers"]["content-type"], "text/event-stream", "{prelude}");
    assert_eq!(prelude["headers"]["access-control-allow-origin"], "https://app.example");
    assert_eq!(body, EVENTS);

    // The refusal is the local server's problem+json, streamed the same way.
    let (prelude, body) = split(&answers[1]);
    assert_eq!(prelude["statusCode"], 401, "{prelude}");
    assert_eq!(prelude["headers"]["content-type"], "application/problem+json");
    let problem: Value = serde_json::from_str(&body).expect("a problem");
    assert_eq!(problem["code"], "unauthorized", "{problem}");

    // The preflight's two `Vary` values reach the prelude as one string.
    let (prelude, _) = split(&answers[2]);
    assert_eq!(prelude["statusCode"], 204, "{prelude}");
    assert_eq!(
        prelude["headers"]["vary"],
        "origin, access-control-request-method, access-control-request-headers"
    );
}
