//! The store reads and writes only through `parley-records`: rows written before schema
//! versions existed keep reading, and rows of a newer version are refused.

use std::error::Error as _;

use parley_core::StoreError;
use parley_core::message::Conversation;
use parley_core::ports::{BotStore, MessageRange, MessageStore, RoomStore, SessionStore};
use parley_records::RecordError;
use parley_sqlite::SqliteStore;
use parley_testkit as kit;

/// Runs `sql` on the file behind the store's back.
fn tamper(path: &std::path::Path, sql: &str) {
    let raw = rusqlite::Connection::open(path).expect("open the file directly");
    raw.execute_batch(sql).expect("tamper with the rows");
}

fn versions(path: &std::path::Path) -> Vec<Option<i64>> {
    let raw = rusqlite::Connection::open(path).expect("open the file directly");
    let sql = "SELECT json_extract(body, '$.schemaVersion') FROM bots
               UNION ALL SELECT json_extract(body, '$.schemaVersion') FROM sessions
               UNION ALL SELECT json_extract(body, '$.schemaVersion') FROM rooms
               UNION ALL SELECT json_extract(body, '$.schemaVersion') FROM room_members
               UNION ALL SELECT json_extract(body, '$.schemaVersion') FROM messages";
    let mut stmt = raw.prepare(sql).expect("prepare");
    stmt.query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_without_a_version_read_and_rows_of_a_newer_one_are_refused() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    let store = SqliteStore::open(&path).expect("open");
    let owner = kit::user();
    let bot = kit::bot(owner.as_str());
    BotStore::create(&store, &bot).await.expect("create a bot");
    let session = kit::session(&bot.chat_config_id, owner.as_str());
    SessionStore::create(&store, &session).await.expect("create a session");
    let room = kit::room(&bot.chat_config_id, owner.as_str());
    let creator = kit::member(owner.as_str());
    RoomStore::create(&store, &room, &creator).await.expect("create a room");
    let conversation = Conversation::Session(session.session_id.clone());
    let message = store
        .append(&conversation, &kit::new_message(owner.as_str(), "hi"))
        .await
        .expect("append");

    // Every body is written by its record, with the version.
    assert_eq!(versions(&path), vec![Some(1); 5]);

    // GIVEN every body as a build before schema versions wrote it.
    tamper(
        &path,
        "UPDATE bots SET body = json_remove(body, '$.schemaVersion');
         UPDATE sessions SET body = json_remove(body, '$.schemaVersion');
         UPDATE rooms SET body = json_remove(body, '$.schemaVersion');
         UPDATE room_members SET body = json_remove(body, '$.schemaVersion');
         UPDATE messages SET body = json_remove(body, '$.schemaVersion');",
    );
    assert_eq!(versions(&path), vec![None; 5]);
    // THEN everything reads as it was written.
    assert_eq!(
        BotStore::get(&store, &bot.chat_config_id).await.expect("read"),
        Some(bot.clone())
    );
    assert_eq!(
        SessionStore::get(&store, &session.session_id).await.expect("read"),
        Some(session.clone())
    );
    assert_eq!(
        RoomStore::get(&store, &room.room_id).await.expect("read"),
        Some(room.clone())
    );
    assert_eq!(store.list_members(&room.room_id).await.expect("read"), vec![creator]);
    let listed = store
        .list(&conversation, MessageRange::After { after: 0, limit: 10 })
        .await
        .expect("read");
    assert_eq!(listed, vec![message]);

    // GIVEN a bot and a session written by a newer build.
    tamper(
        &path,
        "UPDATE bots SET body = json_set(body, '$.schemaVersion', 2);
         UPDATE sessions SET body = json_set(body, '$.schemaVersion', 2);",
    );
    // THEN they are refused, saying why, rather than misread.
    let err = BotStore::get(&store, &bot.chat_config_id).await.expect_err("newer");
    let reason = err.source().and_then(|s| s.downcast_ref::<RecordError>());
    assert!(matches!(reason, Some(RecordError::Newer { version: 2, .. })), "{err:?}");
    assert_eq!(
        reason.map(ToString::to_string),
        Some(format!(
            "stored bot {} has schema version 2, newer than this build's 1",
            bot.chat_config_id
        ))
    );
    // An update reads the stored session first, so it cannot overwrite what it cannot read.
    let err = SessionStore::update(&store, &session).await.expect_err("newer");
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");
}
