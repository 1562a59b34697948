//! `session-message` driven by API Gateway HTTP API events, against the local AWS emulator.

use parley_runtime::testing::{assert_health, call, create_bot, emulator_functions, event};

const SEND_AS_GUEST: &str = include_str!("fixtures/send-as-guest.json");
const START_ANONYMOUS: &str = include_str!("../../chat-session/tests/fixtures/start-session-anonymous.json");

#[tokio::test]
async fn a_guest_sends_a_message_and_the_offline_model_replies_once() {
    let [create_chat, chat_session, session_message] =
        emulator_functions(["create-chat", "chat-session", "session-message"]).await;
    assert_health(&session_message).await;
    let bot = create_bot(&create_chat, "f5d4a1b2-2e9c-4e4d-9d7c-6a0b5f1e3c45").await;
    let (bot_id, code) = (
        bot["chatConfigId"].as_str().unwrap(),
        bot["shareCode"].as_str().unwrap(),
    );
    let (status, started) = call(&chat_session, event(START_ANONYMOUS, &[("shareCode", code)])).await;
    assert_eq!(status, 201, "{started}");
    let session_id = started["sessionId"].as_str().unwrap();

    let send = || event(SEND_AS_GUEST, &[("sessionId", session_id), ("botId", bot_id)]);
    let (status, sent) = call(&session_message, send()).await;
    assert_eq!(status, 200, "{sent}");
    let reply = sent["message"].as_str().expect("the reply text");
    assert!(reply.to_lowercase().contains("offline"), "{reply}");
    assert_eq!(sent["userMessage"]["content"], "Ahoy! Who are you?");

    // The same clientMessageId again: the stored result, not a second model call.
    let (status, again) = call(&session_message, send()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["reply"]["seq"], sent["reply"]["seq"]);
}

#[tokio::test]
async fn a_guest_context_for_another_session_is_refused() {
    let [session_message] = emulator_functions(["session-message"]).await;
    let other = "01JDQ0000000000000000000ZZ";
    let mismatched = SEND_AS_GUEST.replacen(
        "\"sessionId\": \"{{sessionId}}\"",
        &format!("\"sessionId\": \"{other}\""),
        1,
    );
    let send = event(
        &mismatched,
        &[
            ("sessionId", "01JDQ0000000000000000000AA"),
            ("botId", "01JDQ0000000000000000000BB"),
        ],
    );
    let (status, problem) = call(&session_message, send).await;
    assert_eq!(status, 404, "{problem}");
}
