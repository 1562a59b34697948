//! No send is stranded: a reply outlives the request that asked for it (JSON and
//! streamed, session and room), and a reply whose writer is gone does not stay
//! `pending` or `streaming`: once its lease has run out it reads as failed, and a retry
//! answers it again, once, charged once.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ConnectInfo;
use common::{AdjustableClock, PEER, TestApp, json_request};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends `body` to `path` and gives up on the answer (or the rest of its stream) after
/// `after`, as a client whose connection dropped.
async fn send_and_drop(app: &TestApp, path: &str, token: &str, body: Value, after: Duration) {
    let mut req = json_request("POST", path, Some(token), Some(body));
    req.extensions_mut().insert(ConnectInfo(PEER));
    let router = app.app.router.clone();
    let call = tokio::spawn(async move { router.oneshot(req).await });
    tokio::time::sleep(after).await;
    call.abort();
    // A stream's head may have come already: its body goes unread.
    drop(call.await);
}

async fn messages(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let r = app.get(path, Some(token)).await;
    r.expect(200, None);
    r.body["messages"].as_array().expect("messages").clone()
}

/// Polls `path` until its last message is a reply that ended; panics after 10 s.
async fn answered(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    for _ in 0..200 {
        let all = messages(app, token, path).await;
        let done = all
            .last()
            .is_some_and(|m| m["role"] == "assistant" && m["status"] != "streaming");
        if done {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reply ended in {path}");
}

#[tokio::test]
async fn a_json_send_whose_client_left_is_answered_and_its_retry_returns_the_stored_exchange() {
    let app = TestApp::new();
    app.model.complete_pause_ms.store(400, Ordering::SeqCst);
    let owner = app.token("owner@example.com", &[]);
    let bot = app.create_bot(&owner, json!({"sharing": {"mode": "anyone"}})).await;
    let bot_id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let (session, guest) = app.start_session(None, &bot_id).await;
    let body = json!({"sessionId": session, "message": "are you there?", "clientMessageId": "drop-1"});

    // GIVEN a client that leaves 100 ms into an answer that takes 400 ms
    send_and_drop(
        &app,
        "/session-message",
        &guest,
        body.clone(),
        Duration::from_millis(100),
    )
    .await;

    // THEN the reply is still written and stored, and the user message completed
    let history = answered(&app, &guest, &format!("/session/{session}/messages")).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["status"], "complete");
    assert_eq!(history[1]["status"], "complete");
    assert!(
        history[1]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("are you there?")
    );

    // AND the retry returns that exchange without a second model call
    let retry = app.post("/session-message", Some(&guest), body).await;
    retry.expect(200, None);
    assert_eq!(retry.body["reply"]["seq"], history[1]["seq"]);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn a_room_send_whose_client_left_is_answered_for_every_member() {
    let app = TestApp::new();
    app.model.complete_pause_ms.store(400, Ordering::SeqCst);
    let alice = app.token("alice@example.com", &[]);
    let bot = app.create_bot(&alice, json!({})).await;
    let bot_id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let (room, _) = app.create_room(&alice, &bot_id, json!({})).await;
    let body = json!({"message": "hello room", "clientMessageId": "drop-room"});
    send_and_drop(
        &app,
        &format!("/room/{room}/messages"),
        &alice,
        body.clone(),
        Duration::from_millis(100),
    )
    .await;
    let history = answered(&app, &alice, &format!("/room/{room}/messages")).await;
    assert_eq!(history[0]["status"], "complete");
    assert_eq!(history[1]["status"], "complete");
    let retry = app.post(&format!("/room/{room}/messages"), Some(&alice), body).await;
    retry.expect(200, None);
    assert_eq!(retry.body["reply"]["seq"], history[1]["seq"]);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn a_reply_whose_writer_is_gone_reads_as_failed_after_its_lease_and_a_retry_answers_once() {
    // GIVEN a clock the test moves, and a model that never says a word
    let clock = Arc::new(AdjustableClock(std::sync::Mutex::new(chrono::Utc::now())));
    let app = TestApp::with_config_and_clock(|_| {}, Some(clock.clone()));
    app.model.stream_pause_ms.store(3_600_000, Ordering::SeqCst);
    let owner = app.token("owner@example.com", &[]);
    let bot = app
        .create_bot(
            &owner,
            json!({"sharing": {"mode": "anyone"}, "limits": {"guestMessagesPerSession": 2}}),
        )
        .await;
    let bot_id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let (session, guest) = app.start_session(None, &bot_id).await;
    let history_path = format!("/session/{session}/messages");
    let body = json!({"sessionId": session, "message": "anyone?", "clientMessageId": "lost-1"});
    send_and_drop(
        &app,
        "/session-message/stream",
        &guest,
        body.clone(),
        Duration::from_millis(100),
    )
    .await;

    // WHILE the writer's lease lasts, the reply is being written and a retry must wait
    let during = messages(&app, &guest, &history_path).await;
    assert_eq!(during[1]["status"], "streaming", "{during:?}");
    let busy = app.post("/session-message", Some(&guest), body.clone()).await;
    busy.expect(409, Some("conflict"));

    // WHEN the lease runs out with no renewal (as if the process had died)
    clock.advance(chrono::Duration::seconds(45));
    // (a reply failed before its first word is not listed: the message shows the failure)
    let after = messages(&app, &guest, &history_path).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0]["status"], "failed", "{after:?}");

    // THEN a retry answers it again with one new model call, and charges nothing more:
    // the guest's allowance of two still has room for one more message.
    app.model.stream_pause_ms.store(0, Ordering::SeqCst);
    let retried = app.post("/session-message", Some(&guest), body).await;
    retried.expect(200, None);
    assert_eq!(retried.body["userMessage"]["seq"], after[0]["seq"]);
    assert_eq!(retried.body["reply"]["status"], "complete");
    assert_eq!(app.calls(), 2, "one call for the lost reply, one for the retry");
    let next = app
        .post(
            "/session-message",
            Some(&guest),
            json!({"sessionId": session, "message": "and again"}),
        )
        .await;
    next.expect(200, None);
    let over = app
        .post(
            "/session-message",
            Some(&guest),
            json!({"sessionId": session, "message": "one too many"}),
        )
        .await;
    over.expect(429, Some("quota_exceeded"));
}

#[tokio::test]
async fn a_failed_exchange_gives_its_charge_back_and_its_retry_is_charged_once() {
    let app = TestApp::new();
    let owner = app.token("owner@example.com", &[]);
    let bot = app
        .create_bot(
            &owner,
            json!({"sharing": {"mode": "anyone"}, "limits": {"guestMessagesPerSession": 1}}),
        )
        .await;
    let bot_id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let (session, guest) = app.start_session(None, &bot_id).await;
    let body = json!({"sessionId": session, "message": "try", "clientMessageId": "f-1"});

    // GIVEN a send whose model call fails: the guest's one message is given back
    app.model.fail.store(true, Ordering::SeqCst);
    app.post("/session-message", Some(&guest), body.clone())
        .await
        .expect(502, Some("provider_error"));
    let failed = messages(&app, &guest, &format!("/session/{session}/messages")).await;
    assert_eq!(failed[0]["status"], "failed");

    // WHEN it is retried and answered, it is charged then, once
    app.model.fail.store(false, Ordering::SeqCst);
    let retried = app.post("/session-message", Some(&guest), body.clone()).await;
    retried.expect(200, None);
    assert_eq!(retried.body["userMessage"]["seq"], failed[0]["seq"]);
    // THEN the allowance of one is spent by that exchange alone
    app.post(
        "/session-message",
        Some(&guest),
        json!({"sessionId": session, "message": "another"}),
    )
    .await
    .expect(429, Some("quota_exceeded"));
    // and asking for the answered one again charges nothing and calls no model
    app.post("/session-message", Some(&guest), body).await.expect(200, None);
    assert_eq!(app.calls(), 2);
}
