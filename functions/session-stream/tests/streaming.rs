//! The real `session-stream` binary on Lambda's streaming runtime, against a loopback
//! Lambda Runtime API handing it REST API (v1) proxy events with `auth-check`'s context.
//! Each answer must be what API Gateway's response streaming reads: a JSON prelude with
//! single-valued string headers, eight NUL bytes, then the SSE frames.

use std::time::Duration;

use parley_runtime::FunctionConfig;
use parley_runtime::testing::{
    Answered, LoopbackRuntime, call, create_bot, emulator_endpoint, emulator_functions_and_config, event,
};
use serde_json::{Value, json};

/// `GET /session/{id}/messages/{seq}/stream` on stage `prod`, by a user.
const RESUME: &str = include_str!("fixtures/resume-stream.json");
const START_ANONYMOUS: &str = include_str!("../../chat-session/tests/fixtures/start-session-anonymous.json");
const SEND_AS_GUEST: &str = include_str!("../../session-message/tests/fixtures/send-as-guest.json");

/// A guest's session on the emulator with one exchange stored; the resume event for its
/// reply, with the guest's context as `auth-check` gives it; and the reply's text.
async fn guest_resume() -> (Value, String, FunctionConfig) {
    let ([create_chat, chat_session, session_message], config) =
        emulator_functions_and_config(["create-chat", "chat-session", "session-message"]).await;
    let bot = create_bot(&create_chat, "f5d4a1b2-2e9c-4e4d-9d7c-6a0b5f1e3c45").await;
    let (bot_id, code) = (
        bot["chatConfigId"].as_str().expect("id"),
        bot["shareCode"].as_str().expect("code"),
    );
    let (status, started) = call(&chat_session, event(START_ANONYMOUS, &[("shareCode", code)])).await;
    assert_eq!(status, 201, "{started}");
    let session_id = started["sessionId"].as_str().expect("session").to_owned();
    let send = event(SEND_AS_GUEST, &[("sessionId", &session_id), ("botId", bot_id)]);
    let (status, sent) = call(&session_message, send).await;
    assert_eq!(status, 200, "{sent}");
    let seq = sent["reply"]["seq"].as_u64().expect("reply seq").to_string();
    let mut resume: Value = serde_json::from_str(RESUME).expect("JSON");
    let path = format!("/session/{session_id}/messages/{seq}/stream");
    resume["path"] = json!(path);
    resume["requestContext"]["path"] = json!(format!("/prod{path}"));
    resume["pathParameters"] = json!({"id": session_id, "seq": seq});
    resume["requestContext"]["authorizer"] = json!({
        "principalId": format!("guest:{session_id}"),
        "kind": "guest",
        "sessionId": session_id,
        "botId": bot_id,
    });
    (resume, sent["message"].as_str().expect("reply text").to_owned(), config)
}

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
    // GIVEN a guest's request to resume its stored reply after the 12th character, the
    // same request refused by auth-check, and a CORS preflight (which carries no
    // authorizer context on a REST API).
    let (resume, reply, config) = guest_resume().await;
    let mut refused = resume.clone();
    refused["requestContext"]["authorizer"] =
        json!({"principalId": "refused", "kind": "refused", "refusal": "invalid_token"});
    let mut preflight = resume.clone();
    preflight["httpMethod"] = "OPTIONS".into();
    preflight["requestContext"]["httpMethod"] = "OPTIONS".into();
    preflight["requestContext"]
        .as_object_mut()
        .expect("a request context")
        .remove("authorizer");
    preflight["headers"]["Access-Control-Request-Method"] = "GET".into();
    preflight["multiValueHeaders"]["Access-Control-Request-Method"] = json!(["GET"]);
    let events = vec![resume.to_string(), refused.to_string(), preflight.to_string()];

    let mut runtime = LoopbackRuntime::start("session-stream", events).await;
    let mut child = runtime
        .command(env!("CARGO_BIN_EXE_session-stream"), "session-stream")
        .env("CORS_ORIGINS", "https://app.example")
        .env("AWS_ENDPOINT_URL", emulator_endpoint())
        .env("PARLEY_TABLE", &config.aws.table)
        .env("PARLEY_BUCKET", &config.aws.bucket)
        .spawn()
        .expect("start the function binary");
    let mut answers = Vec::new();
    while answers.len() < 3 {
        let answer = runtime.answer_from(&mut child, Duration::from_secs(30)).await;
        answers.push(answer.expect("an answer"));
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
    let rest: String = reply.chars().skip(12).collect();
    let expected_id = reply.chars().count();
    let data = serde_json::to_string(&json!({"text": rest})).expect("JSON");
    assert!(body.starts_with(":"), "a heartbeat comment first: {body:?}");
    assert!(
        body.contains(&format!("event: delta\ndata: {data}\nid: {expected_id}\n\n")),
        "the text after Last-Event-ID 12, as one delta: {body:?}"
    );
    assert!(
        body.trim_end().ends_with('}') && body.contains("event: done\ndata: {\"reply\":"),
        "{body:?}"
    );

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
