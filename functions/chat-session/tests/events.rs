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
