//! `chat-config` driven by API Gateway HTTP API events, against the local AWS emulator.

use parley_runtime::testing::{assert_health, call, create_bot, emulator_functions, event};

const GET_CONFIG: &str = include_str!("fixtures/get-chat-config.json");
const GET_SHARE: &str = include_str!("fixtures/get-share-anonymous.json");

const OWNER: &str = "b1f0c7de-8a5e-4a0f-9f3e-2c6d1b7a9e01";
const FRIEND: &str = "c2a1d8ef-9b6f-4b1a-8a4f-3d7e2c8b0f12";

// The full config by id for its owner; for anyone else the id names nothing, and the
// public view comes by share code.
#[tokio::test]
async fn serves_the_full_config_to_its_owner_and_the_public_view_by_share_code() {
    let [create_chat, chat_config] = emulator_functions(["create-chat", "chat-config"]).await;
    assert_health(&chat_config).await;
    let bot = create_bot(&create_chat, OWNER).await;
    let id = bot["chatConfigId"].as_str().expect("an id");

    let (status, full) = call(&chat_config, event(GET_CONFIG, &[("botId", id), ("sub", OWNER)])).await;
    assert_eq!(status, 200, "{full}");
    assert_eq!(full["systemPrompt"], "Talk like a pirate.");

    let (status, hidden) = call(&chat_config, event(GET_CONFIG, &[("botId", id), ("sub", FRIEND)])).await;
    assert_eq!(status, 404, "{hidden}");

    // A new bot is shared with anyone, its prompt hidden, its id not shown.
    let code = bot["shareCode"].as_str().expect("a share code");
    let (status, shared) = call(&chat_config, event(GET_SHARE, &[("shareCode", code)])).await;
    assert_eq!(status, 200, "{shared}");
    assert_eq!(shared["title"], "Pirate");
    assert!(shared.get("systemPrompt").is_none_or(|p| p.is_null()), "{shared}");
    assert!(shared.get("chatConfigId").is_none(), "{shared}");
}
