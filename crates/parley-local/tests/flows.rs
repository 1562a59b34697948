//! End-to-end flows: share-link rotation, suspension, optimistic concurrency, a failed
//! model call and its retry, a retry once the quota is spent, history paging, and the
//! AI Maker wire names.

mod common;

use std::sync::atomic::Ordering;

use common::TestApp;
use serde_json::json;

fn share_code(bot: &serde_json::Value) -> String {
    bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("a share url")
        .to_owned()
}

#[tokio::test]
async fn rotating_the_share_link_retires_the_old_code() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bob = t.token("bob@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let id = bot["chatConfigId"].as_str().expect("id");
    let old = share_code(&bot);
    assert!(old.len() >= 22, "at least 128 bits of code");
    t.get(&format!("/share/{old}"), Some(&bob)).await.expect(200, None);
    let rotated = t
        .post(&format!("/chat-config/{id}/share-link"), Some(&alice), json!({}))
        .await;
    rotated.expect(200, None);
    let new = rotated.str("shareCode");
    assert_ne!(new, old);
    assert!(rotated.str("shareableUrl").ends_with(&format!("/s/{new}")));
    t.get(&format!("/share/{old}"), Some(&bob))
        .await
        .expect(404, Some("not_found"));
    t.post("/chat-session", Some(&bob), json!({"shareCode": old}))
        .await
        .expect(404, Some("not_found"));
    t.get(&format!("/share/{new}"), Some(&bob)).await.expect(200, None);
    t.post("/chat-session", None, json!({"shareCode": new}))
        .await
        .expect(201, None);
}

#[tokio::test]
async fn a_suspended_bot_serves_only_its_owner_while_admins_still_read_it() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bob = t.token("bob@example.com", &[]);
    let admin = t.token("carol@example.com", &["admin"]);
    let bot = t.create_bot(&alice, json!({})).await;
    let id = bot["chatConfigId"].as_str().expect("id");
    let (guest_session, guest) = t.start_session(None, id).await;
    let (bob_session, _) = t.start_session(Some(&bob), id).await;
    let (alice_session, _) = t.start_session(Some(&alice), id).await;
    t.post(&format!("/chat-config/{id}/suspend"), Some(&admin), json!({}))
        .await
        .expect(200, None);

    t.say(&guest, &guest_session, "hi")
        .await
        .expect(403, Some("bot_suspended"));
    t.say(&bob, &bob_session, "hi").await.expect(403, Some("bot_suspended"));
    t.get(&format!("/share/{}", share_code(&bot)), None)
        .await
        .expect(403, Some("bot_suspended"));
    t.post("/chat-session", Some(&bob), json!({"shareCode": share_code(&bot)}))
        .await
        .expect(403, Some("bot_suspended"));
    // Admins moderate; they do not chat on a suspended bot either.
    t.post("/chat-session", Some(&admin), json!({"shareCode": share_code(&bot)}))
        .await
        .expect(403, Some("bot_suspended"));
    t.say(&alice, &alice_session, "still mine").await.expect(200, None);
    t.get(&format!("/chat-config/{id}"), Some(&alice))
        .await
        .expect(200, None);
    t.get(&format!("/chat-config/{id}"), Some(&admin))
        .await
        .expect(200, None);

    t.post(&format!("/chat-config/{id}/unsuspend"), Some(&admin), json!({}))
        .await
        .expect(200, None);
    t.say(&bob, &bob_session, "back?").await.expect(200, None);
}

#[tokio::test]
async fn a_stale_write_is_a_failed_precondition() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let path = format!("/chat-config/{}", bot["chatConfigId"].as_str().expect("id"));
    let read = t.get(&path, Some(&alice)).await;
    let etag = read.headers["etag"].to_str().expect("etag").to_owned();
    let put = |title: &'static str, tag: String| {
        let req = axum::http::Request::builder()
            .method("PUT")
            .uri(&path)
            .header("authorization", format!("Bearer {alice}"))
            .header("content-type", "application/json")
            .header("if-match", tag)
            .body(axum::body::Body::from(json!({"title": title}).to_string()))
            .expect("request");
        t.send(req)
    };
    let first = put("First", etag.clone()).await;
    first.expect(200, None);
    assert_eq!(first.headers["etag"], "\"v2\"");
    put("Second", etag).await.expect(412, Some("precondition_failed"));
    // The version in the body works like If-Match.
    t.call(
        "PUT",
        &path,
        Some(&alice),
        Some(json!({"title": "Third", "version": 1})),
    )
    .await
    .expect(412, Some("precondition_failed"));
    assert_eq!(
        t.get(&path, Some(&alice)).await.body["title"],
        "First",
        "the stale writes changed nothing"
    );
}

#[tokio::test]
async fn a_failed_model_call_keeps_the_message_for_a_retry() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let (session, _) = t
        .start_session(Some(&alice), bot["chatConfigId"].as_str().expect("id"))
        .await;
    let body = json!({"sessionId": session, "message": "please answer", "clientMessageId": "retry-me"});
    t.model.fail.store(true, Ordering::SeqCst);
    let failed = t.post("/session-message", Some(&alice), body.clone()).await;
    failed.expect(502, Some("provider_error"));
    let history = t.get(&format!("/session/{session}/messages"), Some(&alice)).await;
    assert_eq!(history.body["messages"][0]["status"], "failed", "{}", history.body);
    assert_eq!(history.body["messages"][0]["content"], "please answer");

    t.model.fail.store(false, Ordering::SeqCst);
    let retried = t.post("/session-message", Some(&alice), body).await;
    retried.expect(200, None);
    assert_eq!(
        retried.body["userMessage"]["seq"], 1,
        "the stored message is answered, not a copy"
    );
    assert_eq!(retried.body["userMessage"]["status"], "complete");
    let history = t.get(&format!("/session/{session}/messages"), Some(&alice)).await;
    assert_eq!(history.body["messages"].as_array().map(Vec::len), Some(2));
}

/// A send looks for an earlier one with its client message id only when the store
/// refuses it; a refusal for a spent quota must still answer a retry with what is stored.
#[tokio::test]
async fn a_retry_after_the_quota_is_spent_returns_the_stored_exchange() {
    let t = TestApp::new();
    let owner = t.token("owner@example.com", &[]);
    let bot = t
        .create_bot(&owner, json!({"limits": {"guestMessagesPerSession": 1}}))
        .await;
    let (session, guest) = t.start_session(None, bot["chatConfigId"].as_str().expect("id")).await;
    let body = |cmid: &str| json!({"sessionId": session, "message": "only one", "clientMessageId": cmid});
    let first = t.post("/session-message", Some(&guest), body("only-1")).await;
    first.expect(200, None);

    let retried = t.post("/session-message", Some(&guest), body("only-1")).await;
    retried.expect(200, None);
    assert_eq!(
        retried.body["userMessage"], first.body["userMessage"],
        "{}",
        retried.body
    );
    assert_eq!(retried.body["reply"], first.body["reply"]);
    assert_eq!(t.calls(), 1, "a retry never calls the model again");

    let another = t.post("/session-message", Some(&guest), body("only-2")).await;
    another.expect(429, Some("quota_exceeded"));
}

#[tokio::test]
async fn history_pages_backwards_and_room_polling_reads_forwards() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let (session, _) = t
        .start_session(Some(&alice), bot["chatConfigId"].as_str().expect("id"))
        .await;
    for i in 0..3 {
        t.say(&alice, &session, &format!("m{i}")).await.expect(200, None);
    }
    let newest = t
        .get(&format!("/session/{session}/messages?limit=4"), Some(&alice))
        .await;
    let seqs: Vec<u64> = newest.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["seq"].as_u64())
        .collect();
    assert_eq!(seqs, vec![3, 4, 5, 6]);
    assert_eq!(newest.body["next"], 3);
    let older = t
        .get(&format!("/session/{session}/messages?limit=4&before=3"), Some(&alice))
        .await;
    let seqs: Vec<u64> = older.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["seq"].as_u64())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
    assert!(older.body["next"].is_null());

    let (room, _) = t
        .create_room(&alice, bot["chatConfigId"].as_str().expect("id"), json!({}))
        .await;
    t.post(
        &format!("/room/{room}/messages"),
        Some(&alice),
        json!({"message": "hello room"}),
    )
    .await
    .expect(200, None);
    let polled = t.get(&format!("/room/{room}/messages?after=1"), Some(&alice)).await;
    let msgs = polled.body["messages"].as_array().expect("messages");
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["role"], "assistant");
    assert!(
        t.get(&format!("/room/{room}/messages?after=2"), Some(&alice))
            .await
            .body["messages"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[tokio::test]
async fn the_ai_maker_wire_flow_works_with_a_token() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let created = t
        .post(
            "/create-chat",
            Some(&alice),
            json!({"title": "AI Maker bot", "system_prompt": "Be brief.", "model": "parley-offline", "temperature": 0.2}),
        )
        .await;
    created.expect(201, None);
    let id = created.str("chatConfigId");
    assert!(created.str("shareableUrl").starts_with("http://127.0.0.1:8787/s/"));
    assert_eq!(created.body["systemPrompt"], "Be brief.");

    let session = t
        .post("/chat-session", Some(&alice), json!({"chat_config_id": id}))
        .await;
    session.expect(201, None);
    let session_id = session.str("sessionId");

    let sent = t
        .post(
            "/session-message",
            Some(&alice),
            json!({"session_id": session_id, "message": "Hello"}),
        )
        .await;
    sent.expect(200, None);
    assert!(
        sent.str("message").contains("offline model"),
        "message is the reply text: {}",
        sent.body
    );
    assert_eq!(sent.str("sessionId"), session_id);
    assert!(sent.body["usage"]["outputTokens"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(sent.body["userMessage"]["content"], "Hello");

    let renamed = t
        .call(
            "PUT",
            &format!("/session/{session_id}"),
            Some(&alice),
            Some(json!({"title": "Renamed"})),
        )
        .await;
    renamed.expect(200, None);
    assert_eq!(renamed.str("sessionId"), session_id);
    assert_eq!(renamed.body["title"], "Renamed");
}

#[tokio::test]
async fn the_model_sees_guard_rules_the_prompt_and_the_window() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t
        .create_bot(
            &alice,
            json!({"systemPrompt": "Talk like a pirate.", "memory": {"maxMessages": 3}}),
        )
        .await;
    let (session, _) = t
        .start_session(Some(&alice), bot["chatConfigId"].as_str().expect("id"))
        .await;
    for i in 0..3 {
        t.say(&alice, &session, &format!("turn {i}")).await.expect(200, None);
    }
    let seen = t
        .model
        .requests
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("a request");
    assert!(seen.system_prompt.starts_with(parley_core::prompt::GUARD_RULES));
    assert!(seen.system_prompt.contains("Talk like a pirate."));
    assert_eq!(seen.messages.len(), 3, "the memory window holds three messages");
    assert_eq!(seen.messages.last().map(|m| m.content.as_str()), Some("turn 2"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problem_json() {
    let t = TestApp::new();
    t.get("/no-such-route", None).await.expect(404, Some("not_found"));
    t.call("PATCH", "/create-chat", None, None)
        .await
        .expect(405, Some("method_not_allowed"));
}

#[tokio::test]
async fn data_and_sign_ins_survive_a_restart() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let (session, guest) = t.start_session(None, bot["chatConfigId"].as_str().expect("id")).await;
    t.say(&guest, &session, "remember me").await.expect(200, None);
    // GIVEN a second app on the same data directory (the first one's files are reused)
    let again = parley_local::build(&parley_local::LocalConfig::for_data_dir(t.dir.path()), None).expect("restart");
    let restarted = TestApp {
        app: again,
        model: t.model.clone(),
        dir: tempfile::tempdir().expect("tempdir"),
    };
    // THEN old tokens still verify and the conversation is still there
    restarted
        .get(
            &format!("/chat-config/{}", bot["chatConfigId"].as_str().expect("id")),
            Some(&alice),
        )
        .await
        .expect(200, None);
    let history = restarted
        .get(&format!("/session/{session}/messages"), Some(&guest))
        .await;
    history.expect(200, None);
    assert_eq!(history.body["messages"][0]["content"], "remember me");
}

#[tokio::test]
async fn owners_see_todays_messages_and_tokens() {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let id = bot["chatConfigId"].as_str().expect("id");
    // The owner's own message: its tokens count, but not against the bot's daily
    // messages, which are the share of everyone else.
    let (session, _) = t.start_session(Some(&alice), id).await;
    let sent = t.say(&alice, &session, "count me").await;
    let usage = &sent.body["usage"];
    let tokens = usage["inputTokens"].as_u64().unwrap_or(0) + usage["outputTokens"].as_u64().unwrap_or(0);
    assert!(tokens > 0);
    let view = t.get(&format!("/chat-config/{id}"), Some(&alice)).await;
    assert_eq!(view.body["messagesToday"], 0);
    assert_eq!(view.body["tokensToday"].as_u64(), Some(tokens), "{}", view.body);
    // A guest's message counts in both.
    let (guest_session, guest) = t.start_session(None, id).await;
    t.say(&guest, &guest_session, "count me too").await.expect(200, None);
    let view = t.get(&format!("/chat-config/{id}"), Some(&alice)).await;
    assert_eq!(view.body["messagesToday"], 1);
    assert!(view.body["tokensToday"].as_u64() > Some(tokens), "{}", view.body);
}
