//! Bad input on every body and path parameter, through the merged router: each gets a
//! problem+json 4xx with the right `code` (and the `field` where one is at fault), and
//! nothing is written — no bot, session, room, member or message, no version bump, no
//! quota charged and no model called.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use common::{Reply, TestApp};
use serde_json::{Value, json};

/// A well-formed id (26 alphanumerics) that names nothing.
const MISSING_ID: &str = "01JDQ0000000000000000000ZZ";

/// alice's bot, session and room; bob holds the room's invite code but has not joined.
struct World {
    t: TestApp,
    alice: String,
    bob: String,
    bot: String,
    session: String,
    room: String,
    invite: String,
}

async fn world() -> World {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bob = t.token("bob@example.com", &[]);
    let bot = t.create_bot(&alice, json!({"allowSessionOverrides": true})).await;
    let bot = bot["chatConfigId"].as_str().expect("a bot id").to_owned();
    let (session, _) = t.start_session(Some(&alice), &bot).await;
    t.say(&alice, &session, "a first message").await.expect(200, None);
    let (room, invite) = t.create_room(&alice, &bot, json!({})).await;
    t.post(
        &format!("/room/{room}/messages"),
        Some(&alice),
        json!({"message": "hello room"}),
    )
    .await
    .expect(200, None);
    World {
        t,
        alice,
        bob,
        bot,
        session,
        room,
        invite,
    }
}

/// Everything a refused request could have changed, as the API shows it.
async fn snapshot(w: &World) -> Value {
    let (t, alice, bob) = (&w.t, Some(w.alice.as_str()), Some(w.bob.as_str()));
    let mut state = serde_json::Map::new();
    let reads = [
        ("bots", "/chat-configs?limit=100".to_owned(), alice),
        ("bot", format!("/chat-config/{}", w.bot), alice),
        ("sessions", "/chat-sessions?limit=100".to_owned(), alice),
        ("session", format!("/session/{}", w.session), alice),
        ("history", format!("/session/{}/messages?limit=100", w.session), alice),
        ("rooms", "/chat-rooms?limit=100".to_owned(), alice),
        ("bobRooms", "/chat-rooms?limit=100".to_owned(), bob),
        ("room", format!("/room/{}", w.room), alice),
        ("roomHistory", format!("/room/{}/messages?limit=100", w.room), alice),
    ];
    for (name, path, token) in reads {
        let r = t.get(&path, token).await;
        assert_eq!(r.status, 200, "snapshot read {name} ({path}): {}", r.body);
        let mut body = r.body;
        if name == "bot" {
            // The ETag is the version; keep it in the picture too.
            body["etag"] = json!(r.headers.get(header::ETAG).and_then(|v| v.to_str().ok()));
        }
        state.insert(name.to_owned(), body);
    }
    state.insert("modelCalls".to_owned(), json!(t.calls()));
    Value::Object(state)
}

/// One request of a table, and the answer it must get.
struct Case {
    name: String,
    method: &'static str,
    path: String,
    token: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    /// For a 400 about one field: the problem's `field` (when it has one) is this, and
    /// its `detail` mentions it.
    field: Option<&'static str>,
}

impl Case {
    fn json(
        name: impl Into<String>,
        method: &'static str,
        path: impl Into<String>,
        token: Option<&str>,
        body: &Value,
    ) -> Self {
        Self::raw(
            name,
            method,
            path,
            token,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
    }

    fn raw(
        name: impl Into<String>,
        method: &'static str,
        path: impl Into<String>,
        token: Option<&str>,
        content_type: Option<&'static str>,
        body: Vec<u8>,
    ) -> Self {
        Self {
            name: name.into(),
            method,
            path: path.into(),
            token: token.map(str::to_owned),
            content_type,
            body,
            status: 400,
            code: "validation_failed",
            field: None,
        }
    }

    fn expect(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }

    fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

async fn send_raw(t: &TestApp, case: &Case) -> Reply {
    let method = Method::from_bytes(case.method.as_bytes()).expect("a method");
    let mut req = Request::builder().method(method).uri(&case.path);
    if let Some(token) = &case.token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(ct) = case.content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    t.send(req.body(Body::from(case.body.clone())).expect("a request"))
        .await
}

/// Asserts a complete problem+json answer, naming the case in every message.
#[track_caller]
fn assert_problem(case: &str, r: &Reply, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{case}: status; body {}", r.body);
    assert!(
        r.is_problem(),
        "{case}: not application/problem+json: {:?} {}",
        r.headers,
        r.body
    );
    assert_eq!(r.code(), code, "{case}: code; body {}", r.body);
    assert_eq!(
        r.body["status"],
        json!(status),
        "{case}: `status` member; body {}",
        r.body
    );
    for member in ["type", "title", "detail", "code"] {
        assert!(
            r.body[member].as_str().is_some_and(|s| !s.trim().is_empty()),
            "{case}: no `{member}`; body {}",
            r.body
        );
    }
    let detail = r.body["detail"].as_str().unwrap_or("");
    if status != 404 {
        let title = r.body["title"].as_str().unwrap_or("");
        assert!(
            !detail.eq_ignore_ascii_case(title),
            "{case}: the detail says no more than the title; body {}",
            r.body
        );
    }
    if let Some(field) = field {
        if let Some(named) = r.body.get("field") {
            assert_eq!(named, field, "{case}: `field`; body {}", r.body);
        }
        assert!(
            detail.contains(field),
            "{case}: the detail should mention {field}; body {}",
            r.body
        );
    }
}

/// Runs each case, checking its answer and that the API looks exactly as before.
async fn run(w: &World, cases: Vec<Case>) {
    assert!(!cases.is_empty());
    let before = snapshot(w).await;
    for case in cases {
        let r = send_raw(&w.t, &case).await;
        assert_problem(&case.name, &r, case.status, case.code, case.field);
        let after = snapshot(w).await;
        assert_eq!(before, after, "{}: something was written despite the error", case.name);
    }
}

/// Every route that takes a body, with a valid body and who sends it.
fn body_routes(w: &World) -> Vec<(&'static str, &'static str, String, Option<String>, Value)> {
    let alice = Some(w.alice.clone());
    vec![
        (
            "create-chat",
            "POST",
            "/create-chat".to_owned(),
            alice.clone(),
            json!({"title": "New bot"}),
        ),
        (
            "chat-config",
            "PUT",
            format!("/chat-config/{}", w.bot),
            alice.clone(),
            json!({"title": "Renamed"}),
        ),
        (
            "chat-session",
            "POST",
            "/chat-session".to_owned(),
            alice.clone(),
            json!({"chatConfigId": w.bot}),
        ),
        (
            "session",
            "PUT",
            format!("/session/{}", w.session),
            alice.clone(),
            json!({"title": "Renamed"}),
        ),
        (
            "session-message",
            "POST",
            "/session-message".to_owned(),
            alice.clone(),
            json!({"sessionId": w.session, "message": "hi"}),
        ),
        (
            "chat-room",
            "POST",
            "/chat-room".to_owned(),
            alice.clone(),
            json!({"chatConfigId": w.bot}),
        ),
        (
            "room-join",
            "POST",
            format!("/room/{}/join", w.room),
            Some(w.bob.clone()),
            json!({"inviteCode": w.invite}),
        ),
        (
            "room-message",
            "POST",
            format!("/room/{}/messages", w.room),
            alice,
            json!({"message": "hi"}),
        ),
        (
            "dev-sign-in",
            "POST",
            "/dev/sign-in".to_owned(),
            None,
            json!({"email": "new@example.com"}),
        ),
    ]
}

/// Guards the snapshot itself: each valid body changes what it sees, so an unchanged
/// snapshot after a refused request does mean nothing was written.
#[tokio::test]
async fn the_snapshot_sees_a_write_on_every_body_route() {
    let w = world().await;
    for (name, method, path, token, body) in body_routes(&w) {
        let before = snapshot(&w).await;
        let r = w.t.call(method, &path, token.as_deref(), Some(body)).await;
        assert!(
            r.status.is_success(),
            "{name}: the valid body is accepted; {} {}",
            r.status,
            r.body
        );
        if name == "dev-sign-in" {
            continue; // signing in stores nothing
        }
        assert_ne!(before, snapshot(&w).await, "{name}: the snapshot misses this write");
    }
}

/// A body that is not JSON at all is `invalid_json`, on every body route.
#[tokio::test]
async fn malformed_json_is_invalid_json_on_every_body_route() {
    let w = world().await;
    let mut cases = Vec::new();
    for (name, method, path, token, valid) in body_routes(&w) {
        for (what, body) in [
            ("truncated", r#"{"title":"#.to_owned()),
            ("trailing garbage", format!("{valid} and more")),
            ("single quotes", "{'title': 'x'}".to_owned()),
            ("empty", String::new()),
        ] {
            let case = Case::raw(
                format!("{name}: {what} JSON"),
                method,
                path.clone(),
                token.as_deref(),
                Some("application/json"),
                body.into_bytes(),
            );
            cases.push(case.expect(400, "invalid_json"));
        }
    }
    run(&w, cases).await;
}

/// A valid JSON body sent as text/plain, form data or with no content type is a 415.
#[tokio::test]
async fn a_wrong_or_missing_content_type_is_415_on_every_body_route() {
    let w = world().await;
    let mut cases = Vec::new();
    for (name, method, path, token, valid) in body_routes(&w) {
        for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
            let label = ct.unwrap_or("no content type");
            let case = Case::raw(
                format!("{name}: {label}"),
                method,
                path.clone(),
                token.as_deref(),
                ct,
                valid.to_string().into_bytes(),
            );
            cases.push(case.expect(415, "unsupported_media_type"));
        }
    }
    run(&w, cases).await;
}

/// A body over 256 KiB is a 413 before anything looks into it.
#[tokio::test]
async fn an_oversize_body_is_413_on_every_body_route() {
    let w = world().await;
    let big = "x".repeat(300 * 1024);
    let mut cases = Vec::new();
    for (name, method, path, token, mut valid) in body_routes(&w) {
        // Valid JSON, just too long: the limit, not the syntax, must refuse it.
        valid["padding"] = json!(big);
        let case = Case::json(format!("{name}: 300 KiB body"), method, path, token.as_deref(), &valid);
        cases.push(case.expect(413, "payload_too_large"));
    }
    run(&w, cases).await;
}

/// A field of the wrong JSON type, or a body that is not an object, is
/// `validation_failed`, and the detail names the field.
#[tokio::test]
async fn wrong_types_are_validation_failed_naming_the_field() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let (bot, session, room) = (&w.bot, &w.session, &w.room);
    let chat_config = format!("/chat-config/{bot}");
    let session_path = format!("/session/{session}");
    let join = format!("/room/{room}/join");
    let room_messages = format!("/room/{room}/messages");
    let mut cases = vec![
        Case::json(
            "create-chat: title 42",
            "POST",
            "/create-chat",
            alice,
            &json!({"title": 42}),
        )
        .field("title"),
        Case::json(
            "create-chat: temperature \"hot\"",
            "POST",
            "/create-chat",
            alice,
            &json!({"title": "x", "temperature": "hot"}),
        )
        .field("temperature"),
        Case::json(
            "create-chat: maxOutputTokens 1.5",
            "POST",
            "/create-chat",
            alice,
            &json!({"title": "x", "maxOutputTokens": 1.5}),
        )
        .field("maxOutputTokens"),
        Case::json(
            "create-chat: memory \"lots\"",
            "POST",
            "/create-chat",
            alice,
            &json!({"title": "x", "memory": "lots"}),
        )
        .field("memory"),
        Case::json(
            "create-chat: sharing.mode \"everyone\"",
            "POST",
            "/create-chat",
            alice,
            &json!({"title": "x", "sharing": {"mode": "everyone"}}),
        )
        .field("mode"),
        Case::json(
            "create-chat: allowSessionOverrides \"yes\"",
            "POST",
            "/create-chat",
            alice,
            &json!({"title": "x", "allowSessionOverrides": "yes"}),
        )
        .field("allowSessionOverrides"),
        Case::json(
            "chat-config: title 42",
            "PUT",
            &chat_config,
            alice,
            &json!({"title": 42}),
        )
        .field("title"),
        Case::json(
            "chat-config: temperature \"hot\"",
            "PUT",
            &chat_config,
            alice,
            &json!({"temperature": "hot"}),
        )
        .field("temperature"),
        Case::json(
            "chat-config: version \"one\"",
            "PUT",
            &chat_config,
            alice,
            &json!({"title": "x", "version": "one"}),
        )
        .field("version"),
        Case::json(
            "chat-config: version -1",
            "PUT",
            &chat_config,
            alice,
            &json!({"title": "x", "version": -1}),
        )
        .field("version"),
        Case::raw(
            "create-chat: title given twice",
            "POST",
            "/create-chat",
            alice,
            Some("application/json"),
            br#"{"title": "a", "title": "b"}"#.to_vec(),
        )
        .field("title"),
        Case::json(
            "chat-session: chatConfigId 42",
            "POST",
            "/chat-session",
            alice,
            &json!({"chatConfigId": 42}),
        )
        .field("chatConfigId"),
        Case::json(
            "chat-session: title 42",
            "POST",
            "/chat-session",
            alice,
            &json!({"chatConfigId": bot, "title": 42}),
        )
        .field("title"),
        Case::json("session: title 42", "PUT", &session_path, alice, &json!({"title": 42})).field("title"),
        Case::json(
            "session: temperature \"hot\"",
            "PUT",
            &session_path,
            alice,
            &json!({"temperature": "hot"}),
        )
        .field("temperature"),
        Case::json(
            "session-message: message 42",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": session, "message": 42}),
        )
        .field("message"),
        Case::json(
            "session-message: sessionId 42",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": 42, "message": "hi"}),
        )
        .field("sessionId"),
        Case::json(
            "session-message: clientMessageId 7",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": session, "message": "hi", "clientMessageId": 7}),
        )
        .field("clientMessageId"),
        Case::json(
            "chat-room: chatConfigId 42",
            "POST",
            "/chat-room",
            alice,
            &json!({"chatConfigId": 42}),
        )
        .field("chatConfigId"),
        Case::json(
            "chat-room: replyMode \"sometimes\"",
            "POST",
            "/chat-room",
            alice,
            &json!({"chatConfigId": bot, "replyMode": "sometimes"}),
        )
        .field("replyMode"),
        Case::json(
            "room-join: inviteCode 42",
            "POST",
            &join,
            Some(&w.bob),
            &json!({"inviteCode": 42}),
        )
        .field("inviteCode"),
        Case::json(
            "room-message: message 42",
            "POST",
            &room_messages,
            alice,
            &json!({"message": 42}),
        )
        .field("message"),
        Case::json(
            "dev-sign-in: email 42",
            "POST",
            "/dev/sign-in",
            None,
            &json!({"email": 42}),
        )
        .field("email"),
        Case::json(
            "dev-sign-in: groups \"admin\"",
            "POST",
            "/dev/sign-in",
            None,
            &json!({"email": "a@example.com", "groups": "admin"}),
        )
        .field("groups"),
    ];
    for (name, method, path, token, _) in body_routes(&w) {
        for (what, body) in [
            ("a string", json!("just a string")),
            ("a number", json!(12)),
            ("null", Value::Null),
        ] {
            cases.push(Case::json(
                format!("{name}: the body is {what}"),
                method,
                path.clone(),
                token.as_deref(),
                &body,
            ));
        }
    }
    run(&w, cases).await;
}

/// A body without a required field is `validation_failed`, naming the field.
#[tokio::test]
async fn missing_required_fields_are_validation_failed() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let join = format!("/room/{}/join", w.room);
    let room_messages = format!("/room/{}/messages", w.room);
    let cases = vec![
        Case::json(
            "create-chat: no title",
            "POST",
            "/create-chat",
            alice,
            &json!({"systemPrompt": "Hi"}),
        )
        .field("title"),
        Case::json("create-chat: empty object", "POST", "/create-chat", alice, &json!({})).field("title"),
        Case::json(
            "chat-session: neither chatConfigId nor shareCode",
            "POST",
            "/chat-session",
            alice,
            &json!({}),
        )
        .field("chatConfigId"),
        Case::json(
            "session-message: no message",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": w.session}),
        )
        .field("message"),
        Case::json(
            "session-message: no sessionId",
            "POST",
            "/session-message",
            alice,
            &json!({"message": "hi"}),
        )
        .field("sessionId"),
        Case::json(
            "chat-room: neither chatConfigId nor shareCode",
            "POST",
            "/chat-room",
            alice,
            &json!({"title": "x"}),
        )
        .field("chatConfigId"),
        Case::json("room-join: no inviteCode", "POST", &join, Some(&w.bob), &json!({})).field("inviteCode"),
        Case::json(
            "room-message: no message",
            "POST",
            &room_messages,
            alice,
            &json!({"clientMessageId": "abc"}),
        )
        .field("message"),
        Case::json(
            "dev-sign-in: no email",
            "POST",
            "/dev/sign-in",
            None,
            &json!({"groups": []}),
        )
        .field("email"),
    ];
    run(&w, cases).await;
}

/// The bot fields' documented limits, each refused with its `field`, on create and on update.
fn bot_field_limits() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("title of 121 chars", json!({"title": "t".repeat(121)}), "title"),
        ("blank title", json!({"title": "   "}), "title"),
        ("title with a newline", json!({"title": "two\nlines"}), "title"),
        (
            "description of 1,001 chars",
            json!({"description": "d".repeat(1_001)}),
            "description",
        ),
        (
            "greeting of 1,001 chars",
            json!({"greeting": "g".repeat(1_001)}),
            "greeting",
        ),
        (
            "systemPrompt of 20,001 chars",
            json!({"systemPrompt": "p".repeat(20_001)}),
            "systemPrompt",
        ),
        ("temperature 3", json!({"temperature": 3}), "temperature"),
        ("temperature -1", json!({"temperature": -1}), "temperature"),
        ("unknown model gpt-9-ultra", json!({"model": "gpt-9-ultra"}), "model"),
        ("model id with a space", json!({"model": "rm -rf"}), "model"),
        ("maxOutputTokens 0", json!({"maxOutputTokens": 0}), "maxOutputTokens"),
        (
            "maxOutputTokens 8,193",
            json!({"maxOutputTokens": 8_193}),
            "maxOutputTokens",
        ),
        (
            "memory.maxMessages 0",
            json!({"memory": {"maxMessages": 0}}),
            "memory.maxMessages",
        ),
        (
            "memory.maxMessages 201",
            json!({"memory": {"maxMessages": 201}}),
            "memory.maxMessages",
        ),
        (
            "memory.maxTokens 255",
            json!({"memory": {"maxTokens": 255}}),
            "memory.maxTokens",
        ),
        (
            "limits.dailyMessages above the free tier",
            json!({"limits": {"dailyMessages": 1_001}}),
            "limits.dailyMessages",
        ),
        (
            "limits.dailyMessages 0",
            json!({"limits": {"dailyMessages": 0}}),
            "limits.dailyMessages",
        ),
        (
            "limits.guestMessagesPerSession above the free tier",
            json!({"limits": {"guestMessagesPerSession": 101}}),
            "limits.guestMessagesPerSession",
        ),
    ]
}

/// Every documented limit of a bot's fields is a 400 naming the field, and a refused
/// create adds no bot while a refused update leaves the bot and its version unchanged.
#[tokio::test]
async fn bot_field_limits_are_validation_failed_with_the_field_named() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let chat_config = format!("/chat-config/{}", w.bot);
    let mut cases = Vec::new();
    for (what, change, field) in bot_field_limits() {
        let mut create = json!({"title": "Fine title"});
        if let (Some(c), Some(extra)) = (create.as_object_mut(), change.as_object()) {
            c.extend(extra.clone());
        }
        cases.push(Case::json(format!("create-chat: {what}"), "POST", "/create-chat", alice, &create).field(field));
        cases.push(
            Case::json(
                format!("chat-config: {what}"),
                "PUT",
                chat_config.clone(),
                alice,
                &change,
            )
            .field(field),
        );
        // One bad field among good ones must spoil the whole update.
        let mut mixed = json!({"description": "a good change"});
        if let (Some(m), Some(extra)) = (mixed.as_object_mut(), change.as_object()) {
            m.extend(extra.clone());
        }
        cases.push(
            Case::json(
                format!("chat-config: {what} next to a good change"),
                "PUT",
                chat_config.clone(),
                alice,
                &mixed,
            )
            .field(field),
        );
    }
    run(&w, cases).await;
}

/// The limits of sessions, rooms and messages: titles, overrides, message text and
/// client message ids; a refused send stores no message, charges no quota and calls no model.
#[tokio::test]
async fn session_room_and_message_limits_are_validation_failed_with_the_field_named() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let (bot, session) = (&w.bot, &w.session);
    let session_path = format!("/session/{session}");
    let room_messages = format!("/room/{}/messages", w.room);
    let long_title = "t".repeat(121);
    let long_message = "m".repeat(8_001);
    let send = |text: &str| json!({"sessionId": session, "message": text});
    let cases = vec![
        Case::json(
            "chat-session: title of 121 chars",
            "POST",
            "/chat-session",
            alice,
            &json!({"chatConfigId": bot, "title": long_title}),
        )
        .field("title"),
        Case::json(
            "chat-session: malformed chatConfigId",
            "POST",
            "/chat-session",
            alice,
            &json!({"chatConfigId": "not-an-id"}),
        )
        .field("chatConfigId"),
        Case::json(
            "chat-session: both chatConfigId and shareCode",
            "POST",
            "/chat-session",
            alice,
            &json!({"chatConfigId": bot, "shareCode": "abcdefghijklmnopqrstuv"}),
        )
        .field("chatConfigId"),
        Case::json(
            "session: title of 121 chars",
            "PUT",
            &session_path,
            alice,
            &json!({"title": long_title}),
        )
        .field("title"),
        Case::json(
            "session: blank title",
            "PUT",
            &session_path,
            alice,
            &json!({"title": " "}),
        )
        .field("title"),
        Case::json(
            "session: temperature 3",
            "PUT",
            &session_path,
            alice,
            &json!({"temperature": 3}),
        )
        .field("temperature"),
        Case::json(
            "session: temperature -1",
            "PUT",
            &session_path,
            alice,
            &json!({"temperature": -1}),
        )
        .field("temperature"),
        Case::json(
            "session: unknown model gpt-9-ultra",
            "PUT",
            &session_path,
            alice,
            &json!({"model": "gpt-9-ultra"}),
        )
        .field("model"),
        Case::json(
            "session: good title next to a bad temperature",
            "PUT",
            &session_path,
            alice,
            &json!({"title": "Fine", "temperature": 9}),
        )
        .field("temperature"),
        Case::json(
            "session-message: message of 8,001 chars",
            "POST",
            "/session-message",
            alice,
            &send(&long_message),
        )
        .field("message"),
        Case::json(
            "session-message: empty message",
            "POST",
            "/session-message",
            alice,
            &send(""),
        )
        .field("message"),
        Case::json(
            "session-message: blank message",
            "POST",
            "/session-message",
            alice,
            &send(" \n\t "),
        )
        .field("message"),
        Case::json(
            "session-message: control character",
            "POST",
            "/session-message",
            alice,
            &send("bell\u{7}"),
        )
        .field("message"),
        Case::json(
            "session-message: malformed sessionId",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": "../x", "message": "hi"}),
        )
        .field("sessionId"),
        Case::json(
            "session-message: clientMessageId with a space",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": session, "message": "hi", "clientMessageId": "a b"}),
        )
        .field("clientMessageId"),
        Case::json(
            "session-message: clientMessageId of 65 chars",
            "POST",
            "/session-message",
            alice,
            &json!({"sessionId": session, "message": "hi", "clientMessageId": "c".repeat(65)}),
        )
        .field("clientMessageId"),
        Case::json(
            "chat-room: title of 121 chars",
            "POST",
            "/chat-room",
            alice,
            &json!({"chatConfigId": bot, "title": long_title}),
        )
        .field("title"),
        Case::json(
            "chat-room: malformed chatConfigId",
            "POST",
            "/chat-room",
            alice,
            &json!({"chatConfigId": "x"}),
        )
        .field("chatConfigId"),
        Case::json(
            "room-message: message of 8,001 chars",
            "POST",
            &room_messages,
            alice,
            &json!({"message": long_message}),
        )
        .field("message"),
        Case::json(
            "room-message: blank message",
            "POST",
            &room_messages,
            alice,
            &json!({"message": "  "}),
        )
        .field("message"),
        Case::json(
            "room-message: clientMessageId with a slash",
            "POST",
            &room_messages,
            alice,
            &json!({"message": "hi", "clientMessageId": "a/b"}),
        )
        .field("clientMessageId"),
        Case::json(
            "dev-sign-in: not an email",
            "POST",
            "/dev/sign-in",
            None,
            &json!({"email": "nobody"}),
        )
        .field("email"),
        Case::json(
            "dev-sign-in: a bad group name",
            "POST",
            "/dev/sign-in",
            None,
            &json!({"email": "a@example.com", "groups": ["a b"]}),
        )
        .field("groups"),
        Case::json(
            "dev-sign-in: an unknown field",
            "POST",
            "/dev/sign-in",
            None,
            &json!({"email": "a@example.com", "admin": true}),
        )
        .field("admin"),
    ];
    run(&w, cases).await;
}

/// The limits are inclusive: the largest allowed value of each is accepted.
#[tokio::test]
async fn values_at_the_limits_are_accepted() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let at_limits = json!({
        "title": "t".repeat(120),
        "description": "d".repeat(1_000),
        "temperature": 2,
        "maxOutputTokens": 8_192,
        "memory": {"maxMessages": 200, "maxTokens": 256},
        "limits": {"dailyMessages": 1_000, "guestMessagesPerSession": 100},
    });
    let r = w.t.post("/create-chat", alice, at_limits.clone()).await;
    r.expect(201, None);
    let r =
        w.t.call("PUT", &format!("/chat-config/{}", w.bot), alice, Some(at_limits))
            .await;
    r.expect(200, None);
    assert_eq!(r.body["version"], 2, "one accepted update is one version");
    let r = w.t.say(&w.alice, &w.session, &"m".repeat(8_000)).await;
    r.expect(200, None);
}

/// A malformed id in the path is a 400 naming the id, on every route with one.
#[tokio::test]
async fn malformed_path_ids_are_400() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let long = "A".repeat(300);
    let mut cases = Vec::new();
    for (label, id) in [
        ("not-an-id", "not-an-id"),
        ("../.. encoded", "..%2F.."),
        ("300 chars", long.as_str()),
        ("25 chars", "01JDQ000000000000000000ZZ"),
        ("invalid UTF-8", "%FF%FE"),
    ] {
        // Text that is not UTF-8 never reaches the id's parser; the detail names the
        // route's parameter instead.
        let named = |field: &'static str| if id == "%FF%FE" { "id" } else { field };
        for (method, path, field) in [
            ("GET", format!("/chat-config/{id}"), "chatConfigId"),
            ("DELETE", format!("/chat-config/{id}"), "chatConfigId"),
            ("POST", format!("/chat-config/{id}/share-link"), "chatConfigId"),
            ("GET", format!("/session/{id}"), "sessionId"),
            ("DELETE", format!("/session/{id}"), "sessionId"),
            ("GET", format!("/session/{id}/messages"), "sessionId"),
            ("GET", format!("/room/{id}"), "roomId"),
            ("DELETE", format!("/room/{id}"), "roomId"),
            ("POST", format!("/room/{id}/invite-link"), "roomId"),
            ("GET", format!("/room/{id}/messages"), "roomId"),
        ] {
            cases.push(
                Case::raw(
                    format!("{method} {path} ({label})"),
                    method,
                    path,
                    alice,
                    None,
                    Vec::new(),
                )
                .field(named(field)),
            );
        }
        for (path, body, field) in [
            (format!("/chat-config/{id}"), json!({"title": "x"}), "chatConfigId"),
            (format!("/session/{id}"), json!({"title": "x"}), "sessionId"),
        ] {
            cases.push(Case::json(format!("PUT {path} ({label})"), "PUT", path, alice, &body).field(named(field)));
        }
        for (path, body) in [
            (format!("/room/{id}/messages"), json!({"message": "hi"})),
            (format!("/room/{id}/join"), json!({"inviteCode": w.invite})),
        ] {
            cases.push(Case::json(format!("POST {path} ({label})"), "POST", path, alice, &body).field(named("roomId")));
        }
    }
    let member = format!("/room/{}/members/{}", w.room, "u".repeat(300));
    cases.push(
        Case::raw(
            "DELETE a member with a 300-char user id",
            "DELETE",
            member,
            alice,
            None,
            Vec::new(),
        )
        .field("userId"),
    );
    let member = format!("/room/{}/members/%C3%28", w.room);
    cases.push(
        Case::raw(
            "DELETE a member whose id is not UTF-8",
            "DELETE",
            member,
            alice,
            None,
            Vec::new(),
        )
        .field("userId"),
    );
    run(&w, cases).await;
}

/// Bad query parameters on listings and histories are 400s.
#[tokio::test]
async fn bad_query_parameters_are_400() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let history = format!("/session/{}/messages", w.session);
    let room_history = format!("/room/{}/messages", w.room);
    let mut cases = Vec::new();
    for listing in ["/chat-configs", "/chat-sessions", "/chat-rooms"] {
        for (query, field) in [
            ("limit=0", Some("limit")),
            ("limit=101", Some("limit")),
            ("limit=-5", Some("limit")),
            ("limit=abc", Some("limit")),
            ("limit=", None),
            ("next=%24%24", Some("next")),
            ("next=..%2F..", Some("next")),
        ] {
            let path = format!("{listing}?{query}");
            let mut case = Case::raw(format!("GET {path}"), "GET", path, alice, None, Vec::new());
            case.field = field;
            cases.push(case);
        }
    }
    cases.push(
        Case::raw(
            "GET /chat-configs?scope=everything",
            "GET",
            "/chat-configs?scope=everything",
            alice,
            None,
            Vec::new(),
        )
        .field("scope"),
    );
    cases.push(
        Case::raw(
            "GET /chat-sessions?scope=all",
            "GET",
            "/chat-sessions?scope=all",
            alice,
            None,
            Vec::new(),
        )
        .field("scope"),
    );
    for base in [&history, &room_history] {
        for (query, field) in [
            ("limit=0", Some("limit")),
            ("limit=abc", Some("limit")),
            ("limit=1000", Some("limit")),
            ("before=-1", Some("before")),
            ("before=abc", Some("before")),
            ("before=", None),
            // One past i64::MAX once made SQLite refuse the bound parameter: a 500.
            ("before=9223372036854775808", Some("before")),
            ("before=18446744073709551615", Some("before")),
            ("before=9007199254740992", Some("before")),
        ] {
            let path = format!("{base}?{query}");
            let mut case = Case::raw(format!("GET {path}"), "GET", path, alice, None, Vec::new());
            case.field = field;
            cases.push(case);
        }
    }
    cases.push(
        Case::raw(
            "session history with after",
            "GET",
            format!("{history}?after=1"),
            alice,
            None,
            Vec::new(),
        )
        .field("after"),
    );
    cases.push(
        Case::raw(
            "room history ?after=-1",
            "GET",
            format!("{room_history}?after=-1"),
            alice,
            None,
            Vec::new(),
        )
        .field("after"),
    );
    cases.push(
        Case::raw(
            "room history ?after past the largest sequence number",
            "GET",
            format!("{room_history}?after=9223372036854775808"),
            alice,
            None,
            Vec::new(),
        )
        .field("after"),
    );
    cases.push(
        Case::raw(
            "room history with after and before",
            "GET",
            format!("{room_history}?after=1&before=5"),
            alice,
            None,
            Vec::new(),
        )
        .field("after"),
    );
    run(&w, cases).await;
}

/// A well-formed id that names nothing is a 404 `not_found`, and writes nothing.
#[tokio::test]
async fn well_formed_ids_that_do_not_exist_are_404() {
    let w = world().await;
    let alice = Some(w.alice.as_str());
    let id = MISSING_ID;
    let mut cases = Vec::new();
    for (method, path) in [
        ("GET", format!("/chat-config/{id}")),
        ("DELETE", format!("/chat-config/{id}")),
        ("POST", format!("/chat-config/{id}/share-link")),
        ("GET", format!("/session/{id}")),
        ("DELETE", format!("/session/{id}")),
        ("GET", format!("/session/{id}/messages")),
        ("GET", format!("/room/{id}")),
        ("DELETE", format!("/room/{id}")),
        ("POST", format!("/room/{id}/invite-link")),
        ("GET", format!("/room/{id}/messages")),
        ("GET", "/share/abcdefghijklmnopqrstuv".to_owned()),
        ("GET", "/share/%24%24".to_owned()),
        ("DELETE", format!("/room/{}/members/nobody-at-all", w.room)),
    ] {
        cases.push(
            Case::raw(format!("{method} {path}"), method, path, alice, None, Vec::new()).expect(404, "not_found"),
        );
    }
    for (name, method, path, token, body) in [
        (
            "PUT a missing bot",
            "PUT",
            format!("/chat-config/{id}"),
            alice,
            json!({"title": "x"}),
        ),
        (
            "PUT a missing session",
            "PUT",
            format!("/session/{id}"),
            alice,
            json!({"title": "x"}),
        ),
        (
            "a session on a missing bot",
            "POST",
            "/chat-session".to_owned(),
            alice,
            json!({"chatConfigId": id}),
        ),
        (
            "a session on a missing share code",
            "POST",
            "/chat-session".to_owned(),
            alice,
            json!({"shareCode": "abcdefghijklmnopqrstuv"}),
        ),
        (
            "a room on a missing bot",
            "POST",
            "/chat-room".to_owned(),
            alice,
            json!({"chatConfigId": id}),
        ),
        (
            "a send to a missing session",
            "POST",
            "/session-message".to_owned(),
            alice,
            json!({"sessionId": id, "message": "hi"}),
        ),
        (
            "a send to a missing room",
            "POST",
            format!("/room/{id}/messages"),
            alice,
            json!({"message": "hi"}),
        ),
        (
            "joining a missing room",
            "POST",
            format!("/room/{id}/join"),
            Some(w.bob.as_str()),
            json!({"inviteCode": w.invite}),
        ),
        (
            "joining with a wrong invite code",
            "POST",
            format!("/room/{}/join", w.room),
            Some(w.bob.as_str()),
            json!({"inviteCode": "abcdefghijklmnopqrstuv"}),
        ),
        (
            "joining with a malformed invite code",
            "POST",
            format!("/room/{}/join", w.room),
            Some(w.bob.as_str()),
            json!({"inviteCode": "$$"}),
        ),
    ] {
        cases.push(Case::json(name, method, path, token, &body).expect(404, "not_found"));
    }
    run(&w, cases).await;
}
