//! `chat-room` driven by API Gateway HTTP API events, against the local AWS emulator.

use parley_runtime::testing::{assert_health, call, create_bot, emulator_functions, event};

const CREATE_ROOM: &str = include_str!("fixtures/create-room.json");
const LIST_ROOMS: &str = include_str!("fixtures/list-rooms.json");

const CREATOR: &str = "e4c3f0a1-1d8b-4d3c-8c6b-5f9a4e0d2b34";

#[tokio::test]
async fn a_signed_in_user_creates_a_room_and_finds_it_in_their_list() {
    let [create_chat, chat_room] = emulator_functions(["create-chat", "chat-room"]).await;
    assert_health(&chat_room).await;
    let bot = create_bot(&create_chat, CREATOR).await;
    let bot_id = bot["chatConfigId"].as_str().unwrap();

    let (status, room) = call(&chat_room, event(CREATE_ROOM, &[("botId", bot_id), ("sub", CREATOR)])).await;
    assert_eq!(status, 201, "{room}");
    let room_id = room["roomId"].as_str().expect("a room id");

    let (status, list) = call(&chat_room, event(LIST_ROOMS, &[("sub", CREATOR)])).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<_> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| &r["roomId"])
        .collect();
    assert_eq!(ids, [room_id]);

    // Another user has no rooms: listings are per caller.
    let (status, list) = call(&chat_room, event(LIST_ROOMS, &[("sub", "someone-else")])).await;
    assert_eq!(
        (status, list["items"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{list}"
    );
}
