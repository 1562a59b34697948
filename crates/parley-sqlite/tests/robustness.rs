//! What the contracts cannot see: bad data in the file is an error, never a panic.

use parley_core::StoreError;
use parley_core::message::Conversation;
use parley_core::ports::{BotStore, MessageRange, MessageStore, PageRequest};
use parley_sqlite::SqliteStore;
use parley_testkit as kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_decode_is_other() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    let store = SqliteStore::open(&path).expect("open");
    let owner = kit::user();
    let bot = kit::bot(owner.as_str());
    store.create(&bot).await.expect("create a bot");
    let conversation = Conversation::Session(kit::session(&bot.chat_config_id, owner.as_str()).session_id);
    store
        .append(&conversation, &kit::new_message(owner.as_str(), "hi"))
        .await
        .expect("append");

    // GIVEN rows corrupted behind the store's back.
    let raw = rusqlite::Connection::open(&path).expect("open the file directly");
    raw.execute("UPDATE bots SET body = '{\"not\": \"a bot\"}'", [])
        .expect("corrupt the bot");
    raw.execute("UPDATE messages SET status = 'exploded'", [])
        .expect("corrupt the message");
    drop(raw);

    // THEN reads fail cleanly, keeping the decoding error as the cause.
    let err = BotStore::get(&store, &bot.chat_config_id)
        .await
        .expect_err("a corrupt bot");
    assert!(
        matches!(err, StoreError::Other(_)),
        "a corrupt body must be Other, got {err:?}"
    );
    let listed = store
        .list_by_owner(&owner, &PageRequest { after: None, limit: 10 })
        .await;
    assert!(
        matches!(listed, Err(StoreError::Other(_))),
        "a corrupt listing must be Other"
    );
    let messages = store
        .list(&conversation, MessageRange::After { after: 0, limit: 10 })
        .await;
    assert!(
        matches!(messages, Err(StoreError::Other(_))),
        "a corrupt status must be Other"
    );
}
