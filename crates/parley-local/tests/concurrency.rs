//! Concurrent sends lose nothing, retries are idempotent, and quotas are never
//! overspent, through the merged router on the SQLite store.

mod common;

use std::sync::Arc;

use common::{Reply, TestApp};
use serde_json::{Value, json};

const SENDS: usize = 100;

/// Sends `SENDS` messages at once to `path` and returns every reply.
async fn burst(t: &Arc<TestApp>, path: &str, token: &str, body: impl Fn(usize) -> Value) -> Vec<Reply> {
    let tasks: Vec<_> = (0..SENDS)
        .map(|i| {
            let (t, path, token, body) = (t.clone(), path.to_owned(), token.to_owned(), body(i));
            tokio::spawn(async move { t.post(&path, Some(&token), body).await })
        })
        .collect();
    let mut replies = Vec::with_capacity(SENDS);
    for task in tasks {
        replies.push(task.await.expect("no send panics"));
    }
    replies
}

/// Reads a whole conversation, oldest first, following the `next` cursor backwards.
async fn whole_history(t: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let mut pages: Vec<Vec<Value>> = Vec::new();
    let mut cursor: Option<u64> = None;
    loop {
        let url = match cursor {
            Some(c) => format!("{path}?limit=100&before={c}"),
            None => format!("{path}?limit=100"),
        };
        let r = t.get(&url, Some(token)).await;
        r.expect(200, None);
        pages.push(r.body["messages"].as_array().cloned().unwrap_or_default());
        match r.body["next"].as_u64() {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    pages.into_iter().rev().flatten().collect()
}

/// Every user text appears exactly once and seqs run 1, 2, 3… with no gap or repeat.
fn assert_complete(messages: &[Value], expected_users: usize) {
    let seqs: Vec<u64> = messages.iter().map(|m| m["seq"].as_u64().expect("seq")).collect();
    let want: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, want, "sequence numbers are 1..=n, strictly increasing");
    let mut users: Vec<&str> = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(users.len(), expected_users, "every user message stored once");
    users.sort_unstable();
    users.dedup();
    assert_eq!(users.len(), expected_users, "no user message stored twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_sends_into_one_session_lose_nothing() {
    let t = Arc::new(TestApp::new());
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let (session, _) = t
        .start_session(Some(&alice), bot["chatConfigId"].as_str().expect("id"))
        .await;
    let replies = burst(
        &t,
        "/session-message",
        &alice,
        |i| json!({"sessionId": session, "message": format!("message {i}")}),
    )
    .await;
    for r in &replies {
        r.expect(200, None);
    }
    let history = whole_history(&t, &format!("/session/{session}/messages"), &alice).await;
    assert_eq!(history.len(), 2 * SENDS);
    assert_complete(&history, SENDS);
    assert_eq!(t.calls(), SENDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_sends_into_one_room_lose_nothing() {
    let t = Arc::new(TestApp::new());
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let (room, _) = t
        .create_room(&alice, bot["chatConfigId"].as_str().expect("id"), json!({}))
        .await;
    let path = format!("/room/{room}/messages");
    let replies = burst(&t, &path, &alice, |i| json!({"message": format!("room message {i}")})).await;
    for r in &replies {
        r.expect(200, None);
    }
    let history = whole_history(&t, &path, &alice).await;
    assert_eq!(history.len(), 2 * SENDS);
    assert_complete(&history, SENDS);
}

#[tokio::test]
async fn ten_retries_with_one_client_message_id_make_one_model_call() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let (session, _) = t
        .start_session(Some(&alice), bot["chatConfigId"].as_str().expect("id"))
        .await;
    let body = json!({"sessionId": session, "message": "only once", "clientMessageId": "c-1"});
    let first = t.post("/session-message", Some(&alice), body.clone()).await;
    first.expect(200, None);
    for _ in 0..9 {
        let again = t.post("/session-message", Some(&alice), body.clone()).await;
        again.expect(200, None);
        assert_eq!(
            again.body["reply"], first.body["reply"],
            "a retry returns the stored reply"
        );
        assert_eq!(again.body["userMessage"]["seq"], first.body["userMessage"]["seq"]);
    }
    assert_eq!(t.calls(), 1, "one model call");
    let history = whole_history(&t, &format!("/session/{session}/messages"), &alice).await;
    assert_eq!(history.len(), 2, "one stored exchange");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_sends_against_a_quota_of_ten_accept_exactly_ten() {
    let t = Arc::new(TestApp::new());
    let alice = t.token("alice@example.com", &[]);
    // Bob, not the owner: the owner's own messages do not count against the bot's day.
    let bob = t.token("bob@example.com", &[]);
    let bot = t.create_bot(&alice, json!({"limits": {"dailyMessages": 10}})).await;
    let (session, _) = t
        .start_session(Some(&bob), bot["chatConfigId"].as_str().expect("id"))
        .await;
    let replies = burst(
        &t,
        "/session-message",
        &bob,
        |i| json!({"sessionId": session, "message": format!("m{i}")}),
    )
    .await;
    let accepted = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies
        .iter()
        .filter(|r| r.status == 429 && r.code() == "quota_exceeded")
        .count();
    assert_eq!((accepted, refused), (10, 90));
    assert_eq!(t.calls(), 10);
    let history = whole_history(&t, &format!("/session/{session}/messages"), &bob).await;
    assert_eq!(history.len(), 20, "refused sends store nothing");
}

/// Issue 7 item 4: 50 simultaneous sends with one `clientMessageId` made one model call
/// but charged the bot up to 17 units, because each charged before it learned that
/// another had stored the message. The charge is now in the transaction that stores it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_sends_with_one_client_message_id_charge_one_unit() {
    // GIVEN a guest on a shared bot (guests are charged to the bot's day and to their
    // session's allowance).
    let t = Arc::new(TestApp::new());
    let alice = t.token("alice@example.com", &[]);
    let bot = t
        .create_bot(&alice, json!({"limits": {"guestMessagesPerSession": 100}}))
        .await;
    let id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let (session, guest) = t.start_session(None, &id).await;
    // WHEN 50 sends with one client message id race.
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (t, guest, session) = (t.clone(), guest.clone(), session.clone());
            tokio::spawn(async move {
                let body = json!({"sessionId": session, "message": "only once", "clientMessageId": "burst-1"});
                t.post("/session-message", Some(&guest), body).await
            })
        })
        .collect();
    for task in tasks {
        let r = task.await.expect("no send panics");
        // The winner answers; the others return the stored exchange or say it is still
        // being answered.
        assert!(
            r.status == 200 || (r.status == 409 && r.code() == "conflict"),
            "unexpected answer {} {}",
            r.status,
            r.body
        );
    }
    // THEN one model call, one stored exchange, and exactly one unit charged.
    assert_eq!(t.calls(), 1, "one model call");
    let history = whole_history(&t, &format!("/session/{session}/messages"), &guest).await;
    assert_eq!(history.len(), 2, "one stored exchange");
    let view = t.get(&format!("/chat-config/{id}"), Some(&alice)).await;
    assert_eq!(
        view.body["messagesToday"], 1,
        "one unit of the bot's day: {}",
        view.body
    );
    // The guest session's allowance was charged once too: 99 more sends fit.
    for i in 0..99 {
        t.say(&guest, &session, &format!("more {i}")).await.expect(200, None);
    }
    t.say(&guest, &session, "over")
        .await
        .expect(429, Some("quota_exceeded"));
}

#[tokio::test]
async fn a_guest_session_stops_at_its_allowance() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t
        .create_bot(&alice, json!({"limits": {"guestMessagesPerSession": 3}}))
        .await;
    let (session, guest) = t.start_session(None, bot["chatConfigId"].as_str().expect("id")).await;
    for i in 0..3 {
        t.say(&guest, &session, &format!("hello {i}")).await.expect(200, None);
    }
    t.say(&guest, &session, "one too many")
        .await
        .expect(429, Some("quota_exceeded"));
    // A new guest session has its own allowance.
    let (other, other_guest) = t.start_session(None, bot["chatConfigId"].as_str().expect("id")).await;
    t.say(&other_guest, &other, "hello").await.expect(200, None);
}
