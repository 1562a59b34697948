//! Streamed replies through the router: the events and their order, a reply that
//! outlives its client, resuming from `Last-Event-ID`, stopping, and the same checks,
//! idempotency and refusals as the JSON send routes.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::{PEER, TestApp, json_request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// One server-sent event.
#[derive(Debug, Clone, Default)]
struct Sse {
    event: String,
    id: Option<String>,
    data: Value,
    comment: bool,
}

/// Parses complete frames off the front of `buf`.
fn parse_frames(buf: &mut String) -> Vec<Sse> {
    let mut events = Vec::new();
    while let Some(end) = buf.find("\n\n") {
        let frame: String = buf.drain(..end + 2).collect();
        let mut e = Sse::default();
        for line in frame.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                e.event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("id:") {
                e.id = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("data:") {
                e.data = serde_json::from_str(v.trim()).expect("JSON data");
            } else if line.starts_with(':') {
                e.comment = true;
            }
        }
        events.push(e);
    }
    events
}

/// A streaming response, read frame by frame.
struct Stream {
    status: StatusCode,
    content_type: String,
    body: Body,
    buf: String,
}

impl Stream {
    async fn open(app: &TestApp, mut req: Request<Body>) -> Self {
        req.extensions_mut().insert(ConnectInfo(PEER));
        let response = app.app.router.clone().oneshot(req).await.expect("infallible");
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Self {
            status: response.status(),
            content_type,
            body: response.into_body(),
            buf: String::new(),
        }
    }

    /// The next events (at least one), or none at the end of the body.
    async fn next(&mut self) -> Vec<Sse> {
        loop {
            let events = parse_frames(&mut self.buf);
            if !events.is_empty() {
                return events;
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(data) = frame.expect("a body frame").into_data() {
                        self.buf.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                None => return Vec::new(),
            }
        }
    }

    /// Every remaining event, comments left out.
    async fn rest(&mut self) -> Vec<Sse> {
        let mut all = Vec::new();
        loop {
            let events = self.next().await;
            if events.is_empty() {
                return all;
            }
            all.extend(events.into_iter().filter(|e| !e.comment));
        }
    }
}

fn send_req(token: &str, session: &str, text: &str, cmid: Option<&str>) -> Request<Body> {
    let mut body = json!({"sessionId": session, "message": text});
    if let Some(c) = cmid {
        body["clientMessageId"] = json!(c);
    }
    json_request("POST", "/session-message/stream", Some(token), Some(body))
}

fn deltas(events: &[Sse]) -> String {
    events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().expect("delta text"))
        .collect()
}

async fn history(app: &TestApp, token: &str, session: &str) -> Vec<Value> {
    let r = app.get(&format!("/session/{session}/messages"), Some(token)).await;
    r.expect(200, None);
    r.body["messages"].as_array().expect("messages").clone()
}

/// Polls the history until the reply `seq` has ended; panics after 10 s.
async fn ended_reply(app: &TestApp, token: &str, session: &str, seq: u64) -> Value {
    for _ in 0..200 {
        let found = history(app, token, session)
            .await
            .into_iter()
            .find(|m| m["seq"] == seq && m["status"] != "streaming");
        if let Some(reply) = found {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("reply {seq} did not end");
}

async fn guest_session(app: &TestApp) -> (String, String) {
    let owner = app.token("owner@example.com", &[]);
    let bot = app.create_bot(&owner, json!({"sharing": {"mode": "anyone"}})).await;
    let bot_id = bot["chatConfigId"].as_str().expect("bot id").to_owned();
    app.start_session(None, &bot_id).await
}

#[tokio::test]
async fn a_streamed_send_answers_user_then_deltas_then_done_and_stores_what_it_streamed() {
    let app = TestApp::new();
    let (session, guest) = guest_session(&app).await;

    let mut stream = Stream::open(&app, send_req(&guest, &session, "hello stream", None)).await;
    assert_eq!(stream.status, StatusCode::OK);
    assert!(
        stream.content_type.starts_with("text/event-stream"),
        "{}",
        stream.content_type
    );
    // A heartbeat comment comes first, before any work is visible.
    let first = stream.next().await;
    assert!(first[0].comment, "a comment opens the stream: {first:?}");
    let mut events: Vec<Sse> = first.into_iter().filter(|e| !e.comment).collect();
    events.extend(stream.rest().await);

    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names.first(), Some(&"user"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    assert!(names[1..names.len() - 1].iter().all(|n| *n == "delta"), "{names:?}");
    assert!(names.len() > 5, "the offline reply comes word by word: {names:?}");

    let user = &events[0].data;
    assert_eq!(user["content"], "hello stream");
    assert_eq!(user["role"], "user");
    let reply_seq = user["replySeq"].as_u64().expect("the user event names its reply");

    // Each delta's id is the reply's length so far, in characters.
    let mut length = 0;
    for e in events.iter().filter(|e| e.event == "delta") {
        length += e.data["text"].as_str().expect("text").chars().count();
        assert_eq!(e.id.as_deref(), Some(length.to_string().as_str()));
    }

    let done = &events.last().expect("done").data["reply"];
    assert_eq!(done["seq"], reply_seq);
    assert_eq!(done["status"], "complete");
    assert!(done["usage"]["outputTokens"].as_u64().unwrap_or(0) > 0, "{done}");
    assert_eq!(deltas(&events), done["content"].as_str().expect("content"));

    let stored = history(&app, &guest, &session).await;
    let stored_reply = stored.iter().find(|m| m["seq"] == reply_seq).expect("stored reply");
    assert_eq!(stored_reply["content"], done["content"]);
    assert_eq!(stored_reply["status"], "complete");
    let stored_user = stored
        .iter()
        .find(|m| m["seq"] == user["seq"])
        .expect("stored user message");
    assert_eq!(stored_user["status"], "complete");
    assert_eq!(stored_user["replySeq"], reply_seq);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn a_retry_with_the_same_client_message_id_replays_the_stored_exchange_without_a_model_call() {
    let app = TestApp::new();
    let (session, guest) = guest_session(&app).await;
    let first = Stream::open(&app, send_req(&guest, &session, "once", Some("c-1")))
        .await
        .rest()
        .await;
    let again = Stream::open(&app, send_req(&guest, &session, "once", Some("c-1")))
        .await
        .rest()
        .await;
    assert_eq!(app.calls(), 1, "the retry must not call the model again");
    assert_eq!(again[0].event, "user");
    assert_eq!(again[0].data["seq"], first[0].data["seq"]);
    assert_eq!(deltas(&again), deltas(&first));
    assert_eq!(again.last().expect("done").event, "done");
    assert_eq!(
        again.last().expect("done").data["reply"]["seq"],
        first.last().expect("done").data["reply"]["seq"]
    );
    // Only one exchange is stored.
    assert_eq!(history(&app, &guest, &session).await.len(), 2);
}

#[tokio::test]
async fn refusals_before_the_first_event_are_plain_problems() {
    let app = TestApp::new();
    let owner = app.token("owner@example.com", &[]);
    let bot = app
        .create_bot(
            &owner,
            json!({"sharing": {"mode": "anyone"}, "limits": {"guestMessagesPerSession": 1}}),
        )
        .await;
    let bot_id = bot["chatConfigId"].as_str().expect("bot id").to_owned();
    let (session, guest) = app.start_session(None, &bot_id).await;

    // Bad input: 400, as on the JSON route.
    let bad = app.send(send_req(&guest, &session, "   ", None)).await;
    bad.expect(400, Some("validation_failed"));

    // The guest's allowance of one message: the second send is refused before any event.
    Stream::open(&app, send_req(&guest, &session, "first", None))
        .await
        .rest()
        .await;
    let spent = app.send(send_req(&guest, &session, "second", None)).await;
    spent.expect(429, Some("quota_exceeded"));

    // A suspended bot: 403 for everyone but its owner and admins.
    let friend = app.token("friend@example.com", &[]);
    let (friend_session, _) = app.start_session(Some(&friend), &bot_id).await;
    let admin = app.token("admin@example.com", &["admin"]);
    app.post(&format!("/chat-config/{bot_id}/suspend"), Some(&admin), json!({}))
        .await
        .expect(200, None);
    let refused = app.send(send_req(&friend, &friend_session, "hi", None)).await;
    refused.expect(403, Some("bot_suspended"));
    assert_eq!(app.calls(), 1, "no refused send reached the model");
}

#[tokio::test]
async fn a_provider_failure_mid_stream_is_an_error_event_and_the_reply_keeps_its_text() {
    let app = TestApp::new();
    app.model.stream_fail_after.store(3, Ordering::SeqCst);
    let (session, guest) = guest_session(&app).await;
    let events = Stream::open(&app, send_req(&guest, &session, "break", Some("c-f")))
        .await
        .rest()
        .await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["user", "delta", "delta", "delta", "error"]);
    let problem = &events[4].data;
    assert_eq!(problem["code"], "provider_error");
    assert_eq!(problem["status"], 502);
    let reply_seq = events[0].data["replySeq"].as_u64().expect("reply seq");
    let reply = ended_reply(&app, &guest, &session, reply_seq).await;
    assert_eq!(reply["status"], "failed");
    assert_eq!(reply["content"].as_str(), Some(deltas(&events).as_str()));
    let user = history(&app, &guest, &session).await;
    assert_eq!(user[0]["status"], "failed");

    // A retry with the same id generates again, for the same stored message.
    app.model.stream_fail_after.store(0, Ordering::SeqCst);
    let retry = Stream::open(&app, send_req(&guest, &session, "break", Some("c-f")))
        .await
        .rest()
        .await;
    assert_eq!(retry[0].data["seq"], events[0].data["seq"]);
    assert_eq!(retry.last().expect("done").event, "done");
    assert_eq!(retry.last().expect("done").data["reply"]["status"], "complete");
}

#[tokio::test]
async fn a_reply_outlives_its_client_and_a_client_resumes_from_its_last_event_id() {
    let app = TestApp::new();
    app.model.stream_pause_ms.store(20, Ordering::SeqCst);
    let (session, guest) = guest_session(&app).await;

    // GIVEN a client that reads the user event and the first delta, then goes away
    let mut stream = Stream::open(&app, send_req(&guest, &session, "go on without me", None)).await;
    let mut seen = Vec::new();
    while !seen.iter().any(|e: &Sse| e.event == "delta") {
        let events = stream.next().await;
        assert!(!events.is_empty(), "the stream ended early");
        seen.extend(events.into_iter().filter(|e| !e.comment));
    }
    drop(stream);
    let reply_seq = seen[0].data["replySeq"].as_u64().expect("reply seq");
    let last_id = seen.iter().rev().find_map(|e| e.id.clone()).expect("a delta id");
    let had = deltas(&seen);

    // WHEN it comes back with Last-Event-ID while the reply is still being written
    let mut req = json_request(
        "GET",
        &format!("/session/{session}/messages/{reply_seq}/stream"),
        Some(&guest),
        None,
    );
    req.headers_mut()
        .insert("last-event-id", last_id.parse().expect("header"));
    let resumed = Stream::open(&app, req).await.rest().await;

    // THEN it gets exactly the text it missed, then done, and the store has all of it
    let done = resumed.last().expect("done");
    assert_eq!(done.event, "done");
    let full = done.data["reply"]["content"].as_str().expect("content").to_owned();
    assert_eq!(format!("{had}{}", deltas(&resumed)), full);
    assert_eq!(done.data["reply"]["status"], "complete");
    let stored = ended_reply(&app, &guest, &session, reply_seq).await;
    assert_eq!(stored["content"], full);
    assert_eq!(stored["status"], "complete");
    // Resuming by ?after= from the end gives nothing more but done.
    let after = full.chars().count();
    let tail = Stream::open(
        &app,
        json_request(
            "GET",
            &format!("/session/{session}/messages/{reply_seq}/stream?after={after}"),
            Some(&guest),
            None,
        ),
    )
    .await
    .rest()
    .await;
    assert_eq!(tail.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["done"]);
}

#[tokio::test]
async fn history_shows_a_streaming_reply_with_its_text_so_far() {
    let app = TestApp::new();
    app.model.stream_pause_ms.store(40, Ordering::SeqCst);
    let (session, guest) = guest_session(&app).await;
    let mut stream = Stream::open(&app, send_req(&guest, &session, "slowly", None)).await;
    let mut seen = Vec::new();
    while seen.iter().filter(|e: &&Sse| e.event == "delta").count() < 8 {
        seen.extend(stream.next().await.into_iter().filter(|e| !e.comment));
    }
    // Saved at most every 250 ms: wait for a save, then read the history.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let reply_seq = seen[0].data["replySeq"].as_u64().expect("reply seq");
    let messages = history(&app, &guest, &session).await;
    let reply = messages
        .iter()
        .find(|m| m["seq"] == reply_seq)
        .expect("the reply is listed");
    assert_eq!(reply["status"], "streaming");
    let partial = reply["content"].as_str().expect("content");
    assert!(!partial.is_empty(), "some text is saved while it streams");
    stream.rest().await;
    let done = ended_reply(&app, &guest, &session, reply_seq).await;
    assert!(done["content"].as_str().expect("content").starts_with(partial));
}

#[tokio::test]
async fn stopping_a_reply_keeps_its_text_and_drops_the_model_stream() {
    let app = TestApp::new();
    app.model.stream_pause_ms.store(50, Ordering::SeqCst);
    let (session, guest) = guest_session(&app).await;
    let mut stream = Stream::open(&app, send_req(&guest, &session, "stop me", None)).await;
    let mut seen = Vec::new();
    while seen.iter().filter(|e: &&Sse| e.event == "delta").count() < 3 {
        seen.extend(stream.next().await.into_iter().filter(|e| !e.comment));
    }
    let reply_seq = seen[0].data["replySeq"].as_u64().expect("reply seq");
    let stopped = app
        .post(
            &format!("/session/{session}/messages/{reply_seq}/stop"),
            Some(&guest),
            json!({}),
        )
        .await;
    stopped.expect(200, None);
    seen.extend(stream.rest().await);
    let done = seen.last().expect("done");
    assert_eq!(done.event, "done");
    assert_eq!(done.data["reply"]["status"], "stopped");
    let kept = done.data["reply"]["content"].as_str().expect("content").to_owned();
    assert_eq!(kept, deltas(&seen), "the stopped reply keeps every word it streamed");
    let full = app.model.requests.lock().map(|r| r.len()).unwrap_or(0);
    assert_eq!(full, 1);
    let stored = ended_reply(&app, &guest, &session, reply_seq).await;
    assert_eq!(stored["status"], "stopped");
    assert_eq!(stored["content"], kept.as_str());
    assert!(kept.split(' ').count() < 20, "it stopped early: {kept}");
    assert_eq!(
        app.model.streams_dropped.load(Ordering::SeqCst),
        1,
        "the model stream is dropped"
    );
    // Stopping again answers the reply as it is.
    let again = app
        .post(
            &format!("/session/{session}/messages/{reply_seq}/stop"),
            Some(&guest),
            json!({}),
        )
        .await;
    again.expect(200, None);
    assert_eq!(again.body["status"], "stopped");
}

#[tokio::test]
async fn only_the_conversation_s_people_may_follow_or_stop_a_reply() {
    let app = TestApp::new();
    let (session, guest) = guest_session(&app).await;
    let events = Stream::open(&app, send_req(&guest, &session, "mine", None))
        .await
        .rest()
        .await;
    let reply_seq = events[0].data["replySeq"].as_u64().expect("reply seq");
    let user_seq = events[0].data["seq"].as_u64().expect("user seq");
    let stranger = app.token("stranger@example.com", &[]);
    let follow = format!("/session/{session}/messages/{reply_seq}/stream");
    app.get(&follow, Some(&stranger)).await.expect(404, Some("not_found"));
    // Without a token, as the session's JSON routes answer.
    let anonymous_history = app.get(&format!("/session/{session}/messages"), None).await;
    let anonymous = app.get(&follow, None).await;
    assert_eq!(anonymous.status, anonymous_history.status);
    assert_eq!(anonymous.code(), anonymous_history.code());
    assert!(anonymous.status.is_client_error());
    let stop = format!("/session/{session}/messages/{reply_seq}/stop");
    app.post(&stop, Some(&stranger), json!({}))
        .await
        .expect(404, Some("not_found"));
    // A user message is not a reply to follow.
    app.get(&format!("/session/{session}/messages/{user_seq}/stream"), Some(&guest))
        .await
        .expect(404, Some("not_found"));
    app.get(&format!("/session/{session}/messages/abc/stream"), Some(&guest))
        .await
        .expect(400, Some("validation_failed"));
}

#[tokio::test]
async fn a_room_streams_to_its_members_and_a_silent_bot_answers_done_with_no_reply() {
    let app = TestApp::new();
    let alice = app.token("alice@example.com", &[]);
    let bot = app.create_bot(&alice, json!({"sharing": {"mode": "signed_in"}})).await;
    let bot_id = bot["chatConfigId"].as_str().expect("bot id").to_owned();
    let (room, _) = app.create_room(&alice, &bot_id, json!({"replyMode": "mention"})).await;
    let send = |text: &str| {
        json_request(
            "POST",
            &format!("/room/{room}/messages/stream"),
            Some(&alice),
            Some(json!({"message": text})),
        )
    };
    let silent = Stream::open(&app, send("just us")).await.rest().await;
    let names: Vec<&str> = silent.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["user", "done"]);
    assert_eq!(silent[1].data, json!({"reply": null}));
    assert_eq!(app.calls(), 0);

    let answered = Stream::open(&app, send("@bot hello")).await.rest().await;
    let done = answered.last().expect("done");
    assert_eq!(done.event, "done");
    assert_eq!(done.data["reply"]["status"], "complete");
    assert_eq!(
        deltas(&answered),
        done.data["reply"]["content"].as_str().expect("content")
    );
    let bob = app.token("bob@example.com", &[]);
    let seq = done.data["reply"]["seq"].as_u64().expect("seq");
    app.get(&format!("/room/{room}/messages/{seq}/stream"), Some(&bob))
        .await
        .expect(404, Some("not_found"));
}
