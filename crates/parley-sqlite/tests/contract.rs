//! Every contract suite of `parley-testkit` against a [`SqliteStore`] on a fresh file,
//! plus what only a file-backed store has to show: data survives reopening, and opening
//! an existing file again is safe.

use std::sync::Arc;

use parley_core::message::Conversation;
use parley_core::ports::{BotStore, MessageRange, MessageStore, QuotaStore, RoomStore, SessionStore};
use parley_core::quota::{QuotaCharge, QuotaOutcome};
use parley_sqlite::SqliteStore;
use parley_testkit as kit;
use tempfile::TempDir;

/// A store on a new file in a new directory; the directory lives as long as the guard.
fn store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    // A nested path also shows that `open` creates missing parent directories.
    let store = SqliteStore::open(&dir.path().join("data").join("parley.db")).expect("open a new database");
    (store, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bot_store() {
    let (store, _dir) = store();
    kit::bot_store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_store() {
    let (store, _dir) = store();
    kit::session_store_contract(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn room_store() {
    let (store, _dir) = store();
    kit::room_store_contract(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_store() {
    let (store, _dir) = store();
    kit::message_store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reply_progress() {
    let (store, _dir) = store();
    kit::reply_progress_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_store() {
    let (store, _dir) = store();
    kit::quota_store_contract(&store).await;
    kit::quota_add_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn persona_store() {
    let (store, _dir) = store();
    kit::persona_store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends() {
    let (store, _dir) = store();
    kit::concurrent_appends_contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_client_ids() {
    let (store, _dir) = store();
    kit::concurrent_client_id_contract(Arc::new(store)).await;
}

/// A message and its quota charges are stored together or not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_charged() {
    let (store, _dir) = store();
    kit::append_charged_contract(&store, &store).await;
}

/// 50 racing retries of one message charge one unit; a limit of 10 stores 10 messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_append_charged() {
    let (store, _dir) = store();
    let store = Arc::new(store);
    kit::concurrent_append_charged_contract(store.clone(), store).await;
}

/// A send's two transactions: the exchange opened with its reply, and finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exchange() {
    let (store, _dir) = store();
    kit::exchange_contract(&store, &store).await;
}

/// Exchanges opened at once in one conversation: each user message followed by its reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_exchanges() {
    let (store, _dir) = store();
    kit::concurrent_exchange_contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_quota() {
    let (store, _dir) = store();
    kit::concurrent_quota_contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_suites_share_one_store() {
    // The suites promise to use fresh ids, so they must also pass side by side.
    let (store, _dir) = store();
    tokio::join!(
        kit::bot_store_contract(&store),
        kit::session_store_contract(&store, &store),
        kit::room_store_contract(&store, &store),
        kit::message_store_contract(&store),
        kit::reply_progress_contract(&store),
        kit::exchange_contract(&store, &store),
        kit::quota_store_contract(&store),
        kit::persona_store_contract(&store),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    let owner = kit::user();
    let bot = kit::bot(owner.as_str());
    let session = kit::session(&bot.chat_config_id, owner.as_str());
    let room = kit::room(&bot.chat_config_id, owner.as_str());
    let member = kit::member(owner.as_str());
    let conversation = Conversation::Session(session.session_id.clone());
    let charge = QuotaCharge {
        key: "reopen#counter".to_owned(),
        limit: 5,
        expires_at: None,
        scope: "test",
    };

    let message = {
        let store = SqliteStore::open(&path).expect("open a new database");
        BotStore::create(&store, &bot).await.expect("create a bot");
        SessionStore::create(&store, &session).await.expect("create a session");
        RoomStore::create(&store, &room, &member).await.expect("create a room");
        let message = store
            .append(&conversation, &kit::new_message(owner.as_str(), "remember me"))
            .await
            .expect("append");
        assert_eq!(
            store.try_consume(std::slice::from_ref(&charge)).await.expect("consume"),
            QuotaOutcome::Granted
        );
        message
        // The last handle drops here, closing the connection.
    };

    let store = SqliteStore::open(&path).expect("reopen the database");
    assert_eq!(
        BotStore::get(&store, &bot.chat_config_id).await.expect("get"),
        Some(bot)
    );
    assert_eq!(
        SessionStore::get(&store, &session.session_id).await.expect("get"),
        Some(session)
    );
    assert_eq!(
        RoomStore::get(&store, &room.room_id).await.expect("get"),
        Some(room.clone())
    );
    assert_eq!(store.list_members(&room.room_id).await.expect("members"), vec![member]);
    assert_eq!(
        store
            .list(
                &conversation,
                MessageRange::Before {
                    before: None,
                    limit: 10
                }
            )
            .await
            .expect("list"),
        vec![message],
        "messages must survive reopening"
    );
    assert_eq!(
        store.used(&charge.key).await.expect("used"),
        1,
        "counters must survive reopening"
    );
    let next = store
        .append(&conversation, &kit::new_message(owner.as_str(), "and me"))
        .await
        .expect("append after reopening");
    assert_eq!(next.seq, 2, "numbering must continue after reopening");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opening_an_open_file_again_works() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    let first = SqliteStore::open(&path).expect("open a new database");
    let bot = kit::bot(kit::user().as_str());
    BotStore::create(&first, &bot).await.expect("create a bot");

    // A second open runs the idempotent schema creation against a live file.
    let second = SqliteStore::open(&path).expect("open the same database again");
    assert_eq!(
        BotStore::get(&second, &bot.chat_config_id).await.expect("get"),
        Some(bot.clone()),
        "a second handle must see the first one's data"
    );
    kit::bot_store_contract(&second).await;
    assert_eq!(
        BotStore::get(&first, &bot.chat_config_id).await.expect("get"),
        Some(bot),
        "the first handle must keep working"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.db");
    drop(SqliteStore::open(&path).expect("open a new database"));
    let conn = rusqlite::Connection::open(&path).expect("open the file directly");
    conn.pragma_update(None, "user_version", parley_sqlite::schema::SCHEMA_VERSION + 1)
        .expect("bump the schema version");
    drop(conn);
    assert!(
        matches!(SqliteStore::open(&path), Err(parley_core::StoreError::Other(_))),
        "a file from a newer build must be refused, not misread"
    );
}
