//! [`PersonaStore`]: persona documents, one row per bot and kind.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::ids::BotId;
use parley_core::persona::{PersonaDoc, PersonaInfo, PersonaKind};
use parley_core::ports::PersonaStore;
use parley_core::prompt::estimate_tokens;
use rusqlite::params;

use crate::{SqliteStore, db_err, exec, first_row, to_u64};

#[async_trait]
impl PersonaStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot, kind = %doc.kind))]
    async fn put(&self, bot: &BotId, doc: &PersonaDoc) -> Result<(), StoreError> {
        let bot = bot.as_str().to_owned();
        let doc = doc.clone();
        self.run(move |conn| {
            exec(
                conn,
                "INSERT INTO personas (bot_id, kind, text, original, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (bot_id, kind) DO UPDATE
                 SET text = excluded.text, original = excluded.original, updated_at = excluded.updated_at",
                params![
                    bot,
                    doc.kind.as_str(),
                    doc.text,
                    doc.original,
                    doc.updated_at.to_rfc3339()
                ],
            )?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot, kind = %kind))]
    async fn get(&self, bot: &BotId, kind: PersonaKind) -> Result<Option<PersonaDoc>, StoreError> {
        let bot = bot.as_str().to_owned();
        self.read(move |conn| {
            let row: Option<(String, Option<Vec<u8>>, String)> = first_row(
                conn,
                "SELECT text, original, updated_at FROM personas WHERE bot_id = ?1 AND kind = ?2",
                params![bot, kind.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
            row.map(|(text, original, updated_at)| {
                Ok(PersonaDoc {
                    kind,
                    text,
                    original,
                    updated_at: timestamp(&updated_at)?,
                })
            })
            .transpose()
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot, kind = %kind))]
    async fn delete(&self, bot: &BotId, kind: PersonaKind) -> Result<bool, StoreError> {
        let bot = bot.as_str().to_owned();
        self.run(move |conn| {
            let deleted = exec(
                conn,
                "DELETE FROM personas WHERE bot_id = ?1 AND kind = ?2",
                params![bot, kind.as_str()],
            )?;
            Ok(deleted > 0)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot))]
    async fn delete_all(&self, bot: &BotId) -> Result<(), StoreError> {
        let bot = bot.as_str().to_owned();
        self.run(move |conn| {
            exec(conn, "DELETE FROM personas WHERE bot_id = ?1", [bot])?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot))]
    async fn list(&self, bot: &BotId) -> Result<Vec<PersonaInfo>, StoreError> {
        let bot = bot.as_str().to_owned();
        self.read(move |conn| {
            // Sizes come from SQLite, so the PDF bytes are never read for a listing.
            let mut stmt = conn
                .prepare_cached("SELECT kind, text, length(original), updated_at FROM personas WHERE bot_id = ?1")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([bot], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                })
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            let mut items = rows
                .into_iter()
                .map(|(kind, text, original_bytes, updated_at)| {
                    Ok(PersonaInfo {
                        kind: kind_of(&kind)?,
                        text_bytes: text.len() as u64,
                        original_bytes: original_bytes.map(to_u64).transpose()?,
                        estimated_tokens: estimate_tokens(&text),
                        updated_at: timestamp(&updated_at)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            items.sort_by_key(|i| i.kind);
            Ok(items)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot))]
    async fn texts(&self, bot: &BotId) -> Result<Vec<(PersonaKind, String)>, StoreError> {
        let bot = bot.as_str().to_owned();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT kind, text FROM personas WHERE bot_id = ?1")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([bot], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            let mut texts = rows
                .into_iter()
                .map(|(kind, text)| Ok((kind_of(&kind)?, text)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            texts.sort_by_key(|(kind, _)| *kind);
            Ok(texts)
        })
        .await
    }
}

/// A stored kind that this build does not know is corrupt data, not a panic.
fn kind_of(s: &str) -> Result<PersonaKind, StoreError> {
    PersonaKind::parse(s).map_err(|_| StoreError::Other(format!("unknown persona kind {s:?}").into()))
}

fn timestamp(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Other(Box::new(e)))
}
