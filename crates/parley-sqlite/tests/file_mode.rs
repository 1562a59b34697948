//! The database holds every user's bots and conversations: only its owner may read it.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use parley_core::ports::BotStore;
use parley_sqlite::SqliteStore;
use parley_testkit as kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_database_and_its_wal_are_readable_by_their_owner_only() {
    // GIVEN a data directory without a database
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("parley.sqlite3");
    // WHEN the store creates it and writes to it
    let store = SqliteStore::open(&path).expect("open");
    store
        .create(&kit::bot(kit::user().as_str()))
        .await
        .expect("create a bot");
    // THEN the file and its write-ahead log are mode 0600
    let mut checked = 0;
    for name in ["parley.sqlite3", "parley.sqlite3-wal", "parley.sqlite3-shm"] {
        if let Ok(meta) = std::fs::metadata(dir.path().join(name)) {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "the database and its WAL exist");
}
