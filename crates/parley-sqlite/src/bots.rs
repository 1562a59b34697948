//! [`BotStore`]: bot configs with optimistic concurrency on `version`.

use async_trait::async_trait;
use parley_core::StoreError;
use parley_core::bot::BotConfig;
use parley_core::ids::{BotId, ShareCode, UserId};
use parley_core::ports::{BotStore, Page, PageRequest};
use parley_records::{BotRecord, decode, encode};
use rusqlite::params;

use crate::{SqliteStore, exec, fetch_limit, first_row, id_body_rows, into_page, to_i64};

#[async_trait]
impl BotStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot.chat_config_id))]
    async fn create(&self, bot: &BotConfig) -> Result<(), StoreError> {
        let row = BotRow::new(bot)?;
        self.run(move |conn| {
            // The primary key and the UNIQUE share code turn a collision into AlreadyExists.
            exec(
                conn,
                "INSERT INTO bots (id, owner_id, share_code, version, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![row.id, row.owner_id, row.share_code, row.version, row.body],
            )?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %id))]
    async fn get(&self, id: &BotId) -> Result<Option<BotConfig>, StoreError> {
        let id = id.as_str().to_owned();
        self.read(move |conn| {
            let body: Option<String> = first_row(conn, "SELECT body FROM bots WHERE id = ?1", [id], |row| row.get(0))?;
            body.as_deref().map(decode::<BotRecord>).transpose()
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot.chat_config_id, expected_version))]
    async fn update(&self, bot: &BotConfig, expected_version: u64) -> Result<(), StoreError> {
        let row = BotRow::new(bot)?;
        let expected = to_i64(expected_version)?;
        self.run(move |conn| {
            let changed = exec(
                conn,
                "UPDATE bots SET owner_id = ?2, share_code = ?3, version = ?4, body = ?5
                 WHERE id = ?1 AND version = ?6",
                params![row.id, row.owner_id, row.share_code, row.version, row.body, expected],
            )?;
            // Zero rows: another writer got there first, or the bot is gone.
            if changed == 0 {
                return Err(StoreError::VersionMismatch);
            }
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %id))]
    async fn delete(&self, id: &BotId) -> Result<(), StoreError> {
        let id = id.as_str().to_owned();
        self.run(move |conn| {
            exec(conn, "DELETE FROM bots WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_by_share_code(&self, code: &ShareCode) -> Result<Option<BotConfig>, StoreError> {
        let code = code.as_str().to_owned();
        self.read(move |conn| {
            let body: Option<String> = first_row(conn, "SELECT body FROM bots WHERE share_code = ?1", [code], |row| {
                row.get(0)
            })?;
            body.as_deref().map(decode::<BotRecord>).transpose()
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(owner_id = %owner))]
    async fn list_by_owner(&self, owner: &UserId, page: &PageRequest) -> Result<Page<BotConfig>, StoreError> {
        let owner = owner.as_str().to_owned();
        let page = page.clone();
        self.read(move |conn| {
            let rows = id_body_rows(
                conn,
                "SELECT id, body FROM bots
                 WHERE owner_id = ?1 AND (?2 IS NULL OR id < ?2)
                 ORDER BY id DESC LIMIT ?3",
                params![owner, page.after, fetch_limit(&page)],
            )?;
            into_page(rows, &page, decode::<BotRecord>)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_all(&self, page: &PageRequest) -> Result<Page<BotConfig>, StoreError> {
        let page = page.clone();
        self.read(move |conn| {
            let rows = id_body_rows(
                conn,
                "SELECT id, body FROM bots WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2",
                params![page.after, fetch_limit(&page)],
            )?;
            into_page(rows, &page, decode::<BotRecord>)
        })
        .await
    }
}

/// The columns of one bot, prepared before the writer takes them.
struct BotRow {
    id: String,
    owner_id: String,
    share_code: String,
    version: i64,
    body: String,
}

impl BotRow {
    fn new(bot: &BotConfig) -> Result<Self, StoreError> {
        Ok(Self {
            id: bot.chat_config_id.as_str().to_owned(),
            owner_id: bot.owner_id.as_str().to_owned(),
            share_code: bot.share_code.as_str().to_owned(),
            version: to_i64(bot.version)?,
            body: encode::<BotRecord>(bot)?,
        })
    }
}
