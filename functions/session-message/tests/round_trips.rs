//! AWS requests per send of a warm function, counted by operation at a local AWS emulator
//! of the test's own: a session send, a room send and a streamed send, each the second
//! send of its kind through the same function (so that what a warm function keeps is
//! kept). `make bench` runs this test with `PARLEY_BENCH_OUT` set and reports the counts.

use std::collections::BTreeMap;
use std::io::Write;

use axum::body::to_bytes;
use parley_runtime::testing::{CountingEmulator, api_event, config_on, create_bot, user_context};
use parley_runtime::{api_state, function_app};
use serde_json::{Value, json};
use tower::ServiceExt;

const OWNER: &str = "f5d4a1b2-2e9c-4e4d-9d7c-6a0b5f1e3c45";
const FRIEND: &str = "0b7c9e2a-5f1d-4c3b-9a8e-7d6c5b4a3f21";

/// At most this many AWS requests for a warm session send that gets a reply: issue 11's
/// target (was 14, then 9 once a reply outlived its request). The session (GetItem); the
/// user message, its client-id marker, its quota charges and the reply it opens, under
/// its writer's lease (TransactWriteItems); the history (Query); and the reply's end
/// with the user message completed and the tokens counted (TransactWriteItems). Bot
/// configs and persona texts come from the warm function's cache.
const SESSION_SEND_BUDGET: u64 = 4;
/// A room send reads the room and the sender's membership in one BatchGetItem instead of
/// the session's GetItem (was 15, then 10).
const ROOM_SEND_BUDGET: u64 = 4;

type Counts = BTreeMap<String, u64>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_send_makes_no_more_aws_requests_than_its_budget() {
    // GIVEN the functions over a fresh table and bucket of an emulator that counts requests
    let emulator = CountingEmulator::start().await;
    let sdk = emulator.sdk().await;
    let config = config_on(&sdk).await;
    let function =
        |name: &str| function_app(name, api_state(&config, &sdk).expect("API state"), &config).expect("router");
    let (create_chat, chat_session, chat_room, session_message, session_stream) = (
        function("create-chat"),
        function("chat-session"),
        function("chat-room"),
        function("session-message"),
        function("session-stream"),
    );
    let bot = create_bot(&create_chat, OWNER).await;
    let bot_id = bot["chatConfigId"].as_str().expect("bot id");
    let (status, session) = call(
        &chat_session,
        "POST",
        "/chat-session",
        json!({"shareCode": bot["shareCode"]}),
        user_context(FRIEND),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let session: Value = serde_json::from_str(&session).expect("JSON");
    let session_id = session["sessionId"].as_str().expect("session id");
    let (status, room) = call(
        &chat_room,
        "POST",
        "/chat-room",
        json!({"chatConfigId": bot_id, "title": "Crew", "replyMode": "always"}),
        user_context(OWNER),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    let room: Value = serde_json::from_str(&room).expect("JSON");
    let room_path = format!("/room/{}/messages", room["roomId"].as_str().expect("room id"));

    // WHEN each kind of send is made twice, and the second one counted
    let mut measured = Vec::new();
    for (kind, router, path, body, who) in [
        (
            "session send",
            &session_message,
            "/session-message".to_owned(),
            json!({"sessionId": session_id}),
            FRIEND,
        ),
        ("room send", &session_message, room_path.clone(), json!({}), OWNER),
        (
            "streamed session send",
            &session_stream,
            "/session-message/stream".to_owned(),
            json!({"sessionId": session_id}),
            FRIEND,
        ),
    ] {
        let mut counts = Counts::new();
        for n in 0..2 {
            let mut body = body.clone();
            body["message"] = json!(format!("message {n} of the {kind}"));
            body["clientMessageId"] = json!(format!("{kind}-{n}").replace(' ', "-"));
            emulator.take().await;
            let (status, answer) = call(router, "POST", &path, body, user_context(who)).await;
            assert_eq!(status, 200, "{kind}: {answer}");
            counts = emulator.take().await;
        }
        measured.push((kind, counts));
    }

    // THEN each stays within its budget (printed by operation, for the report)
    report(&measured);
    let total = |kind: &str| {
        measured
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c.values().sum::<u64>())
            .unwrap_or_default()
    };
    assert!(total("session send") <= SESSION_SEND_BUDGET, "{measured:?}");
    assert!(total("room send") <= ROOM_SEND_BUDGET, "{measured:?}");
    // A streamed send adds only its progressive reply writes (UpdateItem): every other
    // operation it makes as often as a JSON send.
    let without_saves = |kind: &str| {
        let (_, counts) = measured.iter().find(|(k, _)| *k == kind).expect("measured");
        counts
            .iter()
            .filter(|(op, _)| op.as_str() != "DynamoDB.UpdateItem")
            .map(|(op, n)| (op.clone(), *n))
            .collect::<Counts>()
    };
    assert_eq!(
        without_saves("streamed session send"),
        without_saves("session send"),
        "{measured:?}"
    );
}

/// Sends one event through `router`: the status and the body as text.
async fn call(router: &axum::Router, method: &str, path: &str, body: Value, who: Value) -> (u16, String) {
    let response = router
        .clone()
        .oneshot(api_event(method, path, &body, who))
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), 1 << 22).await.expect("the body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Prints the counts, and appends them to `PARLEY_BENCH_OUT` (JSON lines) when it is set.
fn report(measured: &[(&str, Counts)]) {
    for (kind, counts) in measured {
        eprintln!("{kind}: {} AWS requests {counts:?}", counts.values().sum::<u64>());
    }
    if let Ok(path) = std::env::var("PARLEY_BENCH_OUT") {
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open PARLEY_BENCH_OUT");
        for (kind, counts) in measured {
            let line = json!({"kind": "aws_requests", "send": kind, "counts": counts});
            writeln!(out, "{line}").expect("write PARLEY_BENCH_OUT");
        }
    }
}
