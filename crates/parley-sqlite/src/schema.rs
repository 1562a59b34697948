//! The database schema and its version.
//!
//! Every table keeps the object's record (`parley-records`: JSON that carries its own
//! `schemaVersion`) in `body`, plus the columns that queries filter, order or enforce
//! uniqueness on. Creation is idempotent, so opening an existing file is safe;
//! `PRAGMA user_version` records the version of this table layout (separate from the
//! records' version), and a file written by a newer build is refused rather than
//! misread.

use rusqlite::Connection;

use parley_core::StoreError;

use crate::db_err;

/// The version this build writes and understands.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bots (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT NOT NULL,
    share_code TEXT NOT NULL UNIQUE,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bots_by_owner ON bots (owner_id, id);

CREATE TABLE IF NOT EXISTS sessions (
    id      TEXT PRIMARY KEY NOT NULL,
    bot_id  TEXT NOT NULL,
    user_id TEXT,
    body    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, id);

CREATE TABLE IF NOT EXISTS rooms (
    id     TEXT PRIMARY KEY NOT NULL,
    bot_id TEXT NOT NULL,
    body   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS room_members (
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX IF NOT EXISTS room_members_by_user ON room_members (user_id, room_id);

-- seq, status and reply_seq are authoritative; body holds the rest of the message.
CREATE TABLE IF NOT EXISTS messages (
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

-- One row per persona document of a bot: `text` is what the model reads, `original` the
-- uploaded file it was derived from (the profile PDF), NULL for the text kinds.
CREATE TABLE IF NOT EXISTS personas (
    bot_id     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    original   BLOB,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (bot_id, kind)
);

-- expires_at is in Unix milliseconds; NULL never expires.
CREATE TABLE IF NOT EXISTS quotas (
    key        TEXT PRIMARY KEY NOT NULL,
    used       INTEGER NOT NULL,
    expires_at INTEGER
);
";

/// Creates whatever is missing and records the version; refuses a newer file.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Other(
            format!("the database has schema version {version}, newer than this build's {SCHEMA_VERSION}").into(),
        ));
    }
    // A transaction, so that a failure half-way leaves the file as it was.
    let tx = conn.unchecked_transaction().map_err(db_err)?;
    tx.execute_batch(SCHEMA).map_err(db_err)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(db_err)?;
    tx.commit().map_err(db_err)
}
