//! [`SessionStore`]: sessions, whose messages live in the `messages` table under the
//! conversation key `s#{id}`.

use async_trait::async_trait;
use parley_core::StoreError;
use parley_core::ids::{SessionId, UserId};
use parley_core::message::Conversation;
use parley_core::ports::{Page, PageRequest, SessionStore};
use parley_core::session::Session;
use parley_records::{SessionRecord, decode, encode};
use rusqlite::{TransactionBehavior, params};

use crate::{SqliteStore, db_err, exec, fetch_limit, first_row, id_body_rows, into_page};

#[async_trait]
impl SessionStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session.session_id))]
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let id = session.session_id.as_str().to_owned();
        let bot_id = session.chat_config_id.as_str().to_owned();
        let user_id = session.user_id().map(|u| u.as_str().to_owned());
        let body = encode::<SessionRecord>(session)?;
        self.run(move |conn| {
            exec(
                conn,
                "INSERT INTO sessions (id, bot_id, user_id, body) VALUES (?1, ?2, ?3, ?4)",
                params![id, bot_id, user_id, body],
            )?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %id))]
    async fn get(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        let id = id.as_str().to_owned();
        self.read(move |conn| {
            let body: Option<String> =
                first_row(conn, "SELECT body FROM sessions WHERE id = ?1", [id], |row| row.get(0))?;
            body.as_deref().map(decode::<SessionRecord>).transpose()
        })
        .await
    }

    /// Replaces title, overrides and `updated_at`; who the session belongs to and which
    /// bot it talks to never change. A missing session stays missing.
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session.session_id))]
    async fn update(&self, session: &Session) -> Result<(), StoreError> {
        let session = session.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let id = session.session_id.as_str();
            let body: Option<String> =
                first_row(&tx, "SELECT body FROM sessions WHERE id = ?1", [id], |row| row.get(0))?;
            let Some(body) = body else {
                return Ok(());
            };
            let mut stored: Session = decode::<SessionRecord>(&body)?;
            stored.title = session.title;
            stored.overrides = session.overrides;
            stored.updated_at = session.updated_at;
            exec(
                &tx,
                "UPDATE sessions SET body = ?2 WHERE id = ?1",
                params![id, encode::<SessionRecord>(&stored)?],
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %id))]
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let conversation = Conversation::Session(id.clone()).key();
        let id = id.as_str().to_owned();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            exec(&tx, "DELETE FROM messages WHERE conversation = ?1", [conversation])?;
            exec(&tx, "DELETE FROM sessions WHERE id = ?1", [id])?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user))]
    async fn list_by_user(&self, user: &UserId, page: &PageRequest) -> Result<Page<Session>, StoreError> {
        let user = user.as_str().to_owned();
        let page = page.clone();
        self.read(move |conn| {
            let rows = id_body_rows(
                conn,
                "SELECT id, body FROM sessions
                 WHERE user_id = ?1 AND (?2 IS NULL OR id < ?2)
                 ORDER BY id DESC LIMIT ?3",
                params![user, page.after, fetch_limit(&page)],
            )?;
            into_page(rows, &page, decode::<SessionRecord>)
        })
        .await
    }
}
