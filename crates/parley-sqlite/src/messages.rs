//! [`MessageStore`]: one row per message, keyed by `(conversation, seq)`.
//!
//! The database assigns `seq` inside the inserting statement and its primary key
//! refuses a second row with the same number, so concurrent appends can never share
//! one. The `seq`, `status` and `reply_seq` columns are authoritative; `body` holds
//! the rest of the message as its record (`parley_records::MessageRecord`).
//!
//! A reply is saved as it grows by one `UPDATE` whose `WHERE` holds the expected
//! status, so a stopped reply is never overwritten by its generator; the body is
//! patched in place (`json_patch` with `parley_records::reply_patch`), which keeps its
//! other fields as stored. A charged append that opens a reply, and an exchange's end
//! (the reply, its user message and the tokens), are each one transaction.

use async_trait::async_trait;
use chrono::Utc;
use parley_core::StoreError;
use parley_core::message::{Conversation, Message, MessageStatus, NewMessage};
use parley_core::ports::{Appended, MessageRange, MessageStore};
use parley_core::quota::{QuotaAdd, QuotaCharge};
use parley_core::values::ClientMessageId;
use parley_records::{MessageRecord, MessageStatusRecord, decode, encode, reply_patch};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{SqliteStore, db_err, exec, quotas, to_i64, to_u64};

/// The columns [`from_row`] reads, in order.
const COLUMNS: &str = "seq, status, reply_seq, body";

#[async_trait]
impl MessageStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key()))]
    async fn append(&self, conversation: &Conversation, message: &NewMessage) -> Result<Message, StoreError> {
        let row = Row::new(conversation, message)?;
        self.run(move |conn| row.insert(conn)).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), charges = charges.len()))]
    async fn append_charged(
        &self,
        conversation: &Conversation,
        message: &NewMessage,
        reply: Option<&NewMessage>,
        charges: &[QuotaCharge],
    ) -> Result<Appended, StoreError> {
        let row = Row::new(conversation, message)?;
        let reply = reply.map(|reply| Row::new(conversation, reply)).transpose()?;
        let charges = charges.to_vec();
        self.run(move |conn| {
            let now = Utc::now().timestamp_millis();
            // IMMEDIATE: the write lock from the first read, as for a plain charge.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            if let Some(key) = quotas::consume(&tx, &charges, now)? {
                return Ok(Appended::Denied { key });
            }
            // A reused client id fails here, and dropping `tx` takes back the charges.
            let mut stored = row.insert(&tx)?;
            if let Some(reply) = reply {
                let key = reply.key.clone();
                let opened = reply.insert(&tx)?;
                let status = MessageStatusRecord::name_of(stored.status);
                set_status_row(&tx, &key, to_i64(stored.seq)?, status, Some(to_i64(opened.seq)?))?;
                stored.reply_seq = Some(opened.seq);
            }
            tx.commit().map_err(db_err)?;
            Ok(Appended::Stored(stored))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), seq))]
    async fn get(&self, conversation: &Conversation, seq: u64) -> Result<Option<Message>, StoreError> {
        let key = conversation.key();
        let seq = to_i64(seq)?;
        self.read(move |conn| {
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE conversation = ?1 AND seq = ?2");
            one(conn, &sql, params![key, seq])
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), author_id))]
    async fn find_by_client_id(
        &self,
        conversation: &Conversation,
        author_id: &str,
        client_message_id: &ClientMessageId,
    ) -> Result<Option<Message>, StoreError> {
        let key = conversation.key();
        let author = author_id.to_owned();
        let cmid = client_message_id.as_str().to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM messages
                 WHERE conversation = ?1 AND author_id = ?2 AND client_message_id = ?3"
            );
            one(conn, &sql, params![key, author, cmid])
        })
        .await
    }

    /// Sets both columns as given (`None` clears the reply); a missing message is left
    /// missing.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), seq))]
    async fn set_status(
        &self,
        conversation: &Conversation,
        seq: u64,
        status: MessageStatus,
        reply_seq: Option<u64>,
    ) -> Result<(), StoreError> {
        let key = conversation.key();
        let seq = to_i64(seq)?;
        let status = MessageStatusRecord::name_of(status);
        let reply_seq = reply_seq.map(to_i64).transpose()?;
        self.run(move |conn| set_status_row(conn, &key, seq, status, reply_seq).map(|_| ()))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), seq = reply.seq, ?expected, status = ?reply.status))]
    async fn save_reply(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
    ) -> Result<bool, StoreError> {
        let key = conversation.key();
        let seq = to_i64(reply.seq)?;
        let status = MessageStatusRecord::name_of(reply.status);
        let expected = MessageStatusRecord::name_of(expected);
        let patch = reply_patch(reply)?;
        self.run(move |conn| {
            let changed = save_row(conn, &key, seq, status, &patch, expected)?;
            refused_or_missing(conn, &key, seq, changed)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), seq = reply.seq, ?expected, status = ?reply.status))]
    async fn finish_exchange(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        asker_seq: u64,
        tokens: Option<&QuotaAdd>,
    ) -> Result<bool, StoreError> {
        let key = conversation.key();
        let (seq, asker) = (to_i64(reply.seq)?, to_i64(asker_seq)?);
        let status = MessageStatusRecord::name_of(reply.status);
        let expected = MessageStatusRecord::name_of(expected);
        let complete = MessageStatusRecord::name_of(MessageStatus::Complete);
        let patch = reply_patch(reply)?;
        let tokens = tokens.cloned();
        self.run(move |conn| {
            let now = Utc::now().timestamp_millis();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let changed = save_row(&tx, &key, seq, status, &patch, expected)?;
            // Refused or missing: dropping `tx` writes nothing.
            if !refused_or_missing(&tx, &key, seq, changed)? {
                return Ok(false);
            }
            if set_status_row(&tx, &key, asker, complete, Some(seq))? == 0 {
                return Err(StoreError::NotFound);
            }
            if let Some(tokens) = tokens {
                quotas::add(&tx, &tokens.key, tokens.amount, tokens.expires_at, now)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), seq, ?expected, ?status))]
    async fn set_status_if(
        &self,
        conversation: &Conversation,
        seq: u64,
        expected: MessageStatus,
        status: MessageStatus,
    ) -> Result<bool, StoreError> {
        let key = conversation.key();
        let seq = to_i64(seq)?;
        let status = MessageStatusRecord::name_of(status);
        let expected = MessageStatusRecord::name_of(expected);
        self.run(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE messages SET status = ?3 WHERE conversation = ?1 AND seq = ?2 AND status = ?4")
                .and_then(|mut stmt| stmt.execute(params![key, seq, status, expected]))
                .map_err(db_err)?;
            refused_or_missing(conn, &key, seq, changed)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(conversation = %conversation.key(), ?range))]
    async fn list(&self, conversation: &Conversation, range: MessageRange) -> Result<Vec<Message>, StoreError> {
        let key = conversation.key();
        // On the writer, not a reader: SQLite empties a connection's page cache whenever
        // another connection has committed, so under steady sends every reader starts
        // cold, and a conversation's last 20 messages (a send's history, each row on its
        // own 512-byte page, found through the key's index) cost it dozens of page reads
        // from the file. The writer's cache holds the pages the last sends wrote, which
        // are the ones read here: cheaper than the hand-over to its thread (`make bench`,
        // the wrk level). The rows are decoded here, off the writer's thread.
        let rows = self
            .run(move |conn| match range {
                MessageRange::Before { before, limit } => {
                    let before = before.map(to_i64).transpose()?;
                    let sql = format!(
                        "SELECT {COLUMNS} FROM messages
                     WHERE conversation = ?1 AND seq < COALESCE(?2, 9223372036854775807)
                     ORDER BY seq DESC LIMIT ?3"
                    );
                    let mut newest_first = many(conn, &sql, params![key, before, i64::from(limit)])?;
                    newest_first.reverse();
                    Ok(newest_first)
                }
                MessageRange::After { after, limit } => {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM messages
                     WHERE conversation = ?1 AND seq > ?2
                     ORDER BY seq ASC LIMIT ?3"
                    );
                    many(conn, &sql, params![key, to_i64(after)?, i64::from(limit)])
                }
            })
            .await?;
        rows.into_iter().map(from_row).collect()
    }
}

/// A message ready to be inserted: the message as it will be stored (its seq still a
/// placeholder) and its column values.
struct Row {
    key: String,
    message: Message,
    body: String,
    status: &'static str,
}

impl Row {
    fn new(conversation: &Conversation, message: &NewMessage) -> Result<Self, StoreError> {
        // Placeholder seq: the column holds the real number.
        let message = message.numbered(0);
        Ok(Self {
            key: conversation.key(),
            body: encode::<MessageRecord>(&message)?,
            status: MessageStatusRecord::name_of(message.status),
            message,
        })
    }

    /// Inserts the row and returns the message with the seq it got.
    fn insert(self, conn: &Connection) -> Result<Message, StoreError> {
        let cmid = self.message.client_message_id.as_ref().map(|c| c.as_str().to_owned());
        // One statement: the next number is computed and claimed atomically, and
        // the unique index on (conversation, author_id, client_message_id) refuses a
        // reused id.
        let seq = conn
            .prepare_cached(
                "INSERT INTO messages (conversation, seq, author_id, client_message_id, status, reply_seq, body)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation = ?1),
                         ?2, ?3, ?4, NULL, ?5)
                 RETURNING seq",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![self.key, self.message.author_id, cmid, self.status, self.body],
                    |row| row.get::<_, i64>(0),
                )
            })
            .map_err(db_err)?;
        Ok(Message {
            seq: to_u64(seq)?,
            ..self.message
        })
    }
}

/// Saves a reply's `status` and `patch` (its content, usage and lease) if its stored
/// status is `expected`; the number of rows changed.
fn save_row(
    conn: &Connection,
    key: &str,
    seq: i64,
    status: &str,
    patch: &str,
    expected: &str,
) -> Result<usize, StoreError> {
    exec(
        conn,
        "UPDATE messages SET status = ?3, body = json_patch(body, ?4)
         WHERE conversation = ?1 AND seq = ?2 AND status = ?5",
        params![key, seq, status, patch, expected],
    )
}

/// Sets a message's status and reply seq; the number of rows changed (0: no such message).
fn set_status_row(
    conn: &Connection,
    key: &str,
    seq: i64,
    status: &str,
    reply_seq: Option<i64>,
) -> Result<usize, StoreError> {
    exec(
        conn,
        "UPDATE messages SET status = ?3, reply_seq = ?4 WHERE conversation = ?1 AND seq = ?2",
        params![key, seq, status, reply_seq],
    )
}

/// The outcome of a conditional update that changed `changed` rows: `true` when it
/// wrote, `false` when the message exists in another status, `NotFound` when it does
/// not exist. The existence check runs only after a refusal, under the same connection
/// lock as the update; only deleting the conversation could come between them, and
/// then `NotFound` is the truth.
fn refused_or_missing(conn: &Connection, key: &str, seq: i64, changed: usize) -> Result<bool, StoreError> {
    if changed > 0 {
        return Ok(true);
    }
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE conversation = ?1 AND seq = ?2)")
        .and_then(|mut stmt| stmt.query_row(params![key, seq], |row| row.get(0)))
        .map_err(db_err)?;
    if exists { Ok(false) } else { Err(StoreError::NotFound) }
}

/// The raw columns of one message row.
type RawMessage = (i64, String, Option<i64>, String);

fn raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawMessage> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

/// Builds a message from its body and the authoritative columns.
fn from_row((seq, status, reply_seq, body): RawMessage) -> Result<Message, StoreError> {
    let mut message: Message = decode::<MessageRecord>(&body)?;
    message.seq = to_u64(seq)?;
    message.status = MessageStatusRecord::parse(&status)?;
    message.reply_seq = reply_seq.map(to_u64).transpose()?;
    Ok(message)
}

fn one(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Option<Message>, StoreError> {
    let raw = conn
        .prepare_cached(sql)
        .map_err(db_err)?
        .query_row(params, raw)
        .optional()
        .map_err(db_err)?;
    raw.map(from_row).transpose()
}

/// The rows `sql` selects, undecoded (see [`from_row`]).
fn many(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<RawMessage>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt.query_map(params, raw).map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}
