//! The database schema and its version.
//!
//! Every table keeps the object's record (`parley-records`: JSON that carries its own
//! `schemaVersion`) in `body`, plus the columns that queries filter, order or enforce
//! uniqueness on. Creation is idempotent, so opening an existing file is safe;
//! `PRAGMA user_version` records the version of this table layout (separate from the
//! records' version), and a file written by a newer build is refused rather than
//! misread; a file of an older layout is brought up to date in one transaction.
//!
//! The layout keeps what a send writes small, since a commit writes every page it
//! changed whole: the counters are a `WITHOUT ROWID` table (an upsert changes one page,
//! not a row and its key's index), and the client message id index holds only the
//! messages that have one (a reply changes no page of it).

use rusqlite::{Connection, Transaction, TransactionBehavior};

use parley_core::StoreError;

use crate::db_err;

/// The version this build writes and understands.
///
/// 2: `quotas` without rowid, and the client message id uniqueness a partial index
/// instead of a table constraint (version 1 had both as a table and an index each).
pub const SCHEMA_VERSION: i64 = 2;

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
    PRIMARY KEY (conversation, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id ON messages (conversation, author_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

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
) WITHOUT ROWID;
";

/// Version 1 to 2, around the creation of the current layout: the two tables whose
/// layout changed are set aside first, then copied into their new form and dropped.
const FROM_1_BEFORE: &str = "
ALTER TABLE messages RENAME TO messages_1;
ALTER TABLE quotas RENAME TO quotas_1;
";
const FROM_1_AFTER: &str = "
INSERT INTO messages (conversation, seq, author_id, client_message_id, status, reply_seq, body)
    SELECT conversation, seq, author_id, client_message_id, status, reply_seq, body FROM messages_1;
DROP TABLE messages_1;
INSERT INTO quotas (key, used, expires_at) SELECT key, used, expires_at FROM quotas_1;
DROP TABLE quotas_1;
";

/// Creates whatever is missing, upgrades an older layout and records the version;
/// refuses a newer file.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    // One transaction, so that a failure half-way leaves the file as it was; IMMEDIATE,
    // so that two processes opening the file at once upgrade it once.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(db_err)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Other(
            format!("the database has schema version {version}, newer than this build's {SCHEMA_VERSION}").into(),
        ));
    }
    let from_1 = version == 1;
    if from_1 {
        tx.execute_batch(FROM_1_BEFORE).map_err(db_err)?;
    }
    tx.execute_batch(SCHEMA).map_err(db_err)?;
    if from_1 {
        tx.execute_batch(FROM_1_AFTER).map_err(db_err)?;
        tracing::info!("upgraded the sqlite schema from version 1 to {SCHEMA_VERSION}");
    }
    if version != SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}
