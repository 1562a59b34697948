//! A file of an older table layout opens, keeps every row, and then behaves as a new one;
//! a new file has the layout settings that keep a send's writes small.

use parley_core::StoreError;
use parley_core::message::Conversation;
use parley_core::ports::{MessageStore, QuotaStore};
use parley_core::quota::{QuotaCharge, QuotaOutcome};
use parley_core::values::ClientMessageId;
use parley_sqlite::SqliteStore;
use parley_testkit as kit;

/// The messages and quotas tables as schema version 1 created them (the other tables
/// did not change).
const VERSION_1: &str = "
CREATE TABLE messages (
    conversation      TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    author_id         TEXT NOT NULL,
    client_message_id TEXT,
    status            TEXT NOT NULL,
    reply_seq         INTEGER,
    body              TEXT NOT NULL,
    PRIMARY KEY (conversation, seq),
    UNIQUE (conversation, author_id, client_message_id)
);
CREATE TABLE quotas (
    key        TEXT PRIMARY KEY NOT NULL,
    used       INTEGER NOT NULL,
    expires_at INTEGER
);
PRAGMA user_version = 1;
";

fn charge(key: &str, limit: u32) -> QuotaCharge {
    QuotaCharge {
        key: key.to_owned(),
        limit,
        expires_at: None,
        scope: "test",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_file_is_upgraded_with_its_rows() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    let owner = kit::user();
    let conversation =
        Conversation::Session(kit::session(&kit::bot(owner.as_str()).chat_config_id, owner.as_str()).session_id);
    let cmid = ClientMessageId::parse("retry-me").expect("a client id");

    // GIVEN a version 1 file holding a message with a client id and a counter at 2 of 3
    {
        let raw = rusqlite::Connection::open(&path).expect("open the file directly");
        raw.pragma_update(None, "page_size", 4096).expect("v1 pages");
        raw.execute_batch(VERSION_1).expect("the version 1 layout");
        let mut message = kit::new_message(owner.as_str(), "kept");
        message.client_message_id = Some(cmid.clone());
        let body = parley_records::encode::<parley_records::MessageRecord>(&message.numbered(1)).expect("encode");
        raw.execute(
            "INSERT INTO messages VALUES (?1, 1, ?2, 'retry-me', 'ok', NULL, ?3)",
            rusqlite::params![conversation.key(), owner.as_str(), body],
        )
        .expect("a version 1 message");
        raw.execute("INSERT INTO quotas VALUES ('old#counter', 2, NULL)", [])
            .expect("a version 1 counter");
    }

    // WHEN the store opens it
    let store = SqliteStore::open(&path).expect("open the version 1 file");

    // THEN the message and the counter are there, and behave as before
    let found = store
        .find_by_client_id(&conversation, owner.as_str(), &cmid)
        .await
        .expect("find")
        .expect("the message survived the upgrade");
    assert_eq!((found.seq, found.content.as_str()), (1, "kept"));
    let mut again = kit::new_message(owner.as_str(), "retry");
    again.client_message_id = Some(cmid);
    assert!(
        matches!(
            store.append(&conversation, &again).await,
            Err(StoreError::AlreadyExists)
        ),
        "a reused client id must still be refused"
    );
    let next = store
        .append(&conversation, &kit::new_message(owner.as_str(), "next"))
        .await
        .expect("append");
    assert_eq!(next.seq, 2, "numbering goes on");
    assert_eq!(store.used("old#counter").await.expect("used"), 2);
    assert_eq!(
        store.try_consume(&[charge("old#counter", 3)]).await.expect("consume"),
        QuotaOutcome::Granted
    );
    assert_eq!(
        store.try_consume(&[charge("old#counter", 3)]).await.expect("consume"),
        QuotaOutcome::Denied {
            key: "old#counter".to_owned()
        }
    );
    drop(store);
    let raw = rusqlite::Connection::open(&path).expect("open the file directly");
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, parley_sqlite::schema::SCHEMA_VERSION);
    let leftovers: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('messages_1', 'quotas_1')",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(leftovers, 0, "the set-aside tables are dropped");
    // Reopening an upgraded file changes nothing.
    drop(raw);
    SqliteStore::open(&path).expect("reopen the upgraded file");
}

#[test]
fn a_new_file_has_small_pages_and_a_write_ahead_log() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    drop(SqliteStore::open(&path).expect("open a new database"));
    let raw = rusqlite::Connection::open(&path).expect("open the file directly");
    let page_size: i64 = raw
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .expect("page size");
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal mode");
    assert_eq!((page_size, mode.as_str()), (512, "wal"));
}
