//! [`RoomStore`]: rooms and their members; a room's messages live in the `messages`
//! table under the conversation key `r#{id}`.

use async_trait::async_trait;
use parley_core::StoreError;
use parley_core::ids::{RoomId, UserId};
use parley_core::message::Conversation;
use parley_core::ports::{Page, PageRequest, RoomStore};
use parley_core::room::{Room, RoomMember};
use parley_records::{MemberRecord, RoomRecord, decode, encode};
use rusqlite::{TransactionBehavior, params};

use crate::{SqliteStore, db_err, exec, fetch_limit, first_row, id_body_rows, into_page};

#[async_trait]
impl RoomStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room.room_id))]
    async fn create(&self, room: &Room, creator: &RoomMember) -> Result<(), StoreError> {
        let id = room.room_id.as_str().to_owned();
        let bot_id = room.chat_config_id.as_str().to_owned();
        let body = encode::<RoomRecord>(room)?;
        let creator_id = creator.user_id.as_str().to_owned();
        let creator_body = encode::<MemberRecord>(creator)?;
        self.run(move |conn| {
            // One transaction, so a room never exists without its creator.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            exec(
                &tx,
                "INSERT INTO rooms (id, bot_id, body) VALUES (?1, ?2, ?3)",
                params![id, bot_id, body],
            )?;
            exec(
                &tx,
                "INSERT INTO room_members (room_id, user_id, body) VALUES (?1, ?2, ?3)",
                params![id, creator_id, creator_body],
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %id))]
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let id = id.as_str().to_owned();
        self.read(move |conn| {
            let body: Option<String> = first_row(conn, "SELECT body FROM rooms WHERE id = ?1", [id], |row| row.get(0))?;
            body.as_deref().map(decode::<RoomRecord>).transpose()
        })
        .await
    }

    /// Replaces title, reply mode, invite code and `updated_at`; a missing room stays
    /// missing.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room.room_id))]
    async fn update(&self, room: &Room) -> Result<(), StoreError> {
        let room = room.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let id = room.room_id.as_str();
            let body: Option<String> = first_row(&tx, "SELECT body FROM rooms WHERE id = ?1", [id], |row| row.get(0))?;
            let Some(body) = body else {
                return Ok(());
            };
            let mut stored: Room = decode::<RoomRecord>(&body)?;
            stored.title = room.title;
            stored.reply_mode = room.reply_mode;
            stored.invite_code = room.invite_code;
            stored.updated_at = room.updated_at;
            exec(
                &tx,
                "UPDATE rooms SET body = ?2 WHERE id = ?1",
                params![id, encode::<RoomRecord>(&stored)?],
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %id))]
    async fn delete(&self, id: &RoomId) -> Result<(), StoreError> {
        let conversation = Conversation::Room(id.clone()).key();
        let id = id.as_str().to_owned();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            exec(&tx, "DELETE FROM messages WHERE conversation = ?1", [&conversation])?;
            exec(&tx, "DELETE FROM room_members WHERE room_id = ?1", [&id])?;
            exec(&tx, "DELETE FROM rooms WHERE id = ?1", [&id])?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %member.user_id))]
    async fn add_member(&self, room: &RoomId, member: &RoomMember) -> Result<(), StoreError> {
        let room = room.as_str().to_owned();
        let user = member.user_id.as_str().to_owned();
        let body = encode::<MemberRecord>(member)?;
        self.run(move |conn| {
            // An existing member keeps their row as it is (joined_at, display name). The
            // room must still exist: one deleted during a join is not found, not a
            // foreign-key failure.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let exists = first_row(&tx, "SELECT 1 FROM rooms WHERE id = ?1", [&room], |_| Ok(()))?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            exec(
                &tx,
                "INSERT INTO room_members (room_id, user_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (room_id, user_id) DO NOTHING",
                params![room, user, body],
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %user))]
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError> {
        let room = room.as_str().to_owned();
        let user = user.as_str().to_owned();
        self.run(move |conn| {
            exec(
                conn,
                "DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2",
                params![room, user],
            )?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %user))]
    async fn get_member(&self, room: &RoomId, user: &UserId) -> Result<Option<RoomMember>, StoreError> {
        let room = room.as_str().to_owned();
        let user = user.as_str().to_owned();
        self.read(move |conn| {
            let body: Option<String> = first_row(
                conn,
                "SELECT body FROM room_members WHERE room_id = ?1 AND user_id = ?2",
                params![room, user],
                |row| row.get(0),
            )?;
            body.as_deref().map(decode::<MemberRecord>).transpose()
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room))]
    async fn list_members(&self, room: &RoomId) -> Result<Vec<RoomMember>, StoreError> {
        let room = room.as_str().to_owned();
        self.read(move |conn| {
            // In the order they joined.
            let mut stmt = conn
                .prepare_cached("SELECT body FROM room_members WHERE room_id = ?1 ORDER BY rowid")
                .map_err(db_err)?;
            let bodies = stmt
                .query_map([room], |row| row.get::<_, String>(0))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            bodies.iter().map(|b| decode::<MemberRecord>(b)).collect()
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user))]
    async fn list_by_member(&self, user: &UserId, page: &PageRequest) -> Result<Page<Room>, StoreError> {
        let user = user.as_str().to_owned();
        let page = page.clone();
        self.read(move |conn| {
            let rows = id_body_rows(
                conn,
                "SELECT r.id, r.body FROM room_members m JOIN rooms r ON r.id = m.room_id
                 WHERE m.user_id = ?1 AND (?2 IS NULL OR r.id < ?2)
                 ORDER BY r.id DESC LIMIT ?3",
                params![user, page.after, fetch_limit(&page)],
            )?;
            into_page(rows, &page, decode::<RoomRecord>)
        })
        .await
    }
}
