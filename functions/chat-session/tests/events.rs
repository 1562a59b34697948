//! `chat-session` driven by API Gateway HTTP API events, against the local AWS emulator.

use parley_runtime::testing::{assert_health, call, create_bot, emulator_functions, event};

const START_ANONYMOUS: &str = include_str!("fixtures/start-session-anonymous.json");
const GET_AS_GUEST: &str = include_str!("fixtures/get-session-guest.json");

#[tokio::test]
async fn a_guest_starts_a_session_by_share_code_and_reads_only_it() {
    let [create_chat, chat_session] = emulator_functions(["create-chat", "chat-session"]).await;
    assert_health(&chat_session).await;
    let bot = create_bot(&create_chat, "d3b2e9f0-0c7a-4c2b-9b5a-4e8f3d9c1a23").await;
    let (bot_id, code) = (
        bot["chatConfigId"].as_str().unwrap(),
        bot["shareCode"].as_str().unwrap(),
    );

    let (status, started) = call(&chat_session, event(START_ANONYMOUS, &[("shareCode", code)])).await;
    assert_eq!(status, 201, "{started}");
    let session_id = started["sessionId"].as_str().expect("a session id");
    assert!(started["guestToken"].is_string(), "{started}");

    let read = event(GET_AS_GUEST, &[("sessionId", session_id), ("botId", bot_id)]);
    let (status, session) = call(&chat_session, read).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["sessionId"], session_id);

    // The authorizer context of a guest of another session does not open this one.
    let other = "01JDQ0000000000000000000ZZ";
    let mismatched = GET_AS_GUEST.replacen(
        "\"sessionId\": \"{{sessionId}}\"",
        &format!("\"sessionId\": \"{other}\""),
        1,
    );
    let (status, problem) = call(
        &chat_session,
        event(&mismatched, &[("sessionId", session_id), ("botId", bot_id)]),
    )
    .await;
    assert_eq!(status, 404, "{problem}");
}

/// Issue 7 item 2 in the cloud: the limit on session starts per client address counts
/// API Gateway's `sourceIp` across function instances (two routers on one table, as
/// two Lambda instances would be), and another source IP has its own.
#[tokio::test]
async fn session_starts_from_one_source_ip_are_limited_across_instances() {
    let [create_chat, first, second] = emulator_functions(["create-chat", "chat-session", "chat-session"]).await;
    let bot = create_bot(&create_chat, "d3b2e9f0-0c7a-4c2b-9b5a-4e8f3d9c1a23").await;
    let code = bot["shareCode"].as_str().expect("a share code");
    let from = |ip: &str| START_ANONYMOUS.replace("\"sourceIp\": \"192.0.2.1\"", &format!("\"sourceIp\": \"{ip}\""));
    // The limit is per minute of the wall clock: a run that crosses into the next
    // minute proves nothing, so it is made again from a fresh address.
    for attempt in 0..3 {
        let ip = format!("198.51.100.{}", 10 + attempt);
        let minute = wall_minute();
        let mut answers = Vec::new();
        for i in 0..11 {
            let instance = if i % 2 == 0 { &first } else { &second };
            answers.push(call(instance, event(&from(&ip), &[("shareCode", code)])).await);
        }
        if wall_minute() != minute {
            continue;
        }
        let started = answers.iter().filter(|(status, _)| *status == 201).count();
        assert_eq!(started, 10, "ten starts a minute from one source IP, on any instance");
        let (status, problem) = &answers[10];
        assert_eq!(
            (*status, problem["code"].as_str()),
            (429, Some("rate_limited")),
            "{problem}"
        );
        let (status, other) = call(&second, event(&from("198.51.100.99"), &[("shareCode", code)])).await;
        assert_eq!(status, 201, "another source IP has its own limit: {other}");
        return;
    }
    panic!("three runs in a row crossed a minute boundary");
}

/// The current minute since the epoch.
fn wall_minute() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or_default()
}
