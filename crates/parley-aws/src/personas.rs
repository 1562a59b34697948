//! [`PersonaStore`]: persona documents in S3 beside their bot's config.
//!
//! The text the model reads is `bots/{botId}/persona/{kind}` (UTF-8), with user
//! metadata `updated-at` (RFC 3339) and, when an uploaded file is kept beside it,
//! `original-bytes`; that file (the profile PDF) is `bots/{botId}/persona/{kind}.original`.
//! So listings and model calls read only the small text objects, one per kind, all at
//! once, and never the PDF.

use async_trait::async_trait;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use chrono::{DateTime, SecondsFormat, Utc};
use parley_core::StoreError;
use parley_core::ids::BotId;
use parley_core::persona::{PersonaDoc, PersonaInfo, PersonaKind};
use parley_core::ports::PersonaStore;
use parley_core::prompt::estimate_tokens;

use crate::AwsStore;
use crate::error::{other, sdk_err};

const UPDATED_AT: &str = "updated-at";
const ORIGINAL_BYTES: &str = "original-bytes";

fn prefix(bot: &BotId) -> String {
    format!("bots/{bot}/persona/")
}

/// The S3 key of a persona document's text.
pub fn persona_key(bot: &BotId, kind: PersonaKind) -> String {
    format!("{}{kind}", prefix(bot))
}

fn original_key(bot: &BotId, kind: PersonaKind) -> String {
    format!("{}.original", persona_key(bot, kind))
}

/// A stored text with what its metadata says.
struct Text {
    text: String,
    updated_at: DateTime<Utc>,
    original_bytes: Option<u64>,
}

impl AwsStore {
    async fn read_bytes(
        &self,
        key: String,
    ) -> Result<Option<(Vec<u8>, Option<std::collections::HashMap<String, String>>)>, StoreError> {
        let out = match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(e) => return Err(sdk_err(e)),
        };
        let metadata = out.metadata.clone();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        Ok(Some((bytes.to_vec(), metadata)))
    }

    async fn read_text(&self, bot: &BotId, kind: PersonaKind) -> Result<Option<Text>, StoreError> {
        let Some((bytes, metadata)) = self.read_bytes(persona_key(bot, kind)).await? else {
            return Ok(None);
        };
        let metadata = metadata.unwrap_or_default();
        let updated_at = metadata
            .get(UPDATED_AT)
            .ok_or_else(|| other("a persona document without updated-at"))
            .and_then(|v| DateTime::parse_from_rfc3339(v).map_err(other))?
            .with_timezone(&Utc);
        let original_bytes = metadata
            .get(ORIGINAL_BYTES)
            .map(|v| v.parse())
            .transpose()
            .map_err(other)?;
        Ok(Some(Text {
            text: String::from_utf8(bytes).map_err(other)?,
            updated_at,
            original_bytes,
        }))
    }

    /// Every kind's text, read at once.
    async fn read_texts(&self, bot: &BotId) -> Result<Vec<(PersonaKind, Text)>, StoreError> {
        let reads = PersonaKind::ALL.map(|kind| async move { (kind, self.read_text(bot, kind).await) });
        let mut texts = Vec::new();
        for (kind, text) in futures::future::join_all(reads).await {
            if let Some(text) = text? {
                texts.push((kind, text));
            }
        }
        Ok(texts)
    }

    async fn delete_keys(&self, keys: Vec<String>) -> Result<(), StoreError> {
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build().map_err(other))
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(other)?;
            let out = self
                .s3
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(sdk_err)?;
            if let Some(failed) = out.errors.as_ref().and_then(|e| e.first()) {
                return Err(StoreError::Unavailable(
                    format!("S3 did not delete {:?}: {:?}", failed.key(), failed.code()).into(),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl PersonaStore for AwsStore {
    /// Writes the original file first, so that a text never announces a file that is
    /// not there.
    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot, kind = %doc.kind))]
    async fn put(&self, bot: &BotId, doc: &PersonaDoc) -> Result<(), StoreError> {
        self.personas.forget(bot.as_str());
        let text = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(persona_key(bot, doc.kind))
            .content_type("text/plain; charset=utf-8")
            .metadata(UPDATED_AT, doc.updated_at.to_rfc3339_opts(SecondsFormat::Nanos, true))
            .body(ByteStream::from(doc.text.clone().into_bytes()));
        let text = match &doc.original {
            Some(original) => {
                self.s3
                    .put_object()
                    .bucket(&self.bucket)
                    .key(original_key(bot, doc.kind))
                    .content_type(doc.kind.media_type())
                    .body(ByteStream::from(original.clone()))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                text.metadata(ORIGINAL_BYTES, original.len().to_string())
            }
            None => text,
        };
        text.send().await.map_err(sdk_err)?;
        if doc.original.is_none() {
            self.delete_keys(vec![original_key(bot, doc.kind)]).await?;
        }
        // Again: a read that raced the write may have kept the old text.
        self.personas.forget(bot.as_str());
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot, %kind))]
    async fn get(&self, bot: &BotId, kind: PersonaKind) -> Result<Option<PersonaDoc>, StoreError> {
        let Some(text) = self.read_text(bot, kind).await? else {
            return Ok(None);
        };
        let original = match text.original_bytes {
            Some(_) => self.read_bytes(original_key(bot, kind)).await?.map(|(bytes, _)| bytes),
            None => None,
        };
        Ok(Some(PersonaDoc {
            kind,
            text: text.text,
            original,
            updated_at: text.updated_at,
        }))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot, %kind))]
    async fn delete(&self, bot: &BotId, kind: PersonaKind) -> Result<bool, StoreError> {
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(persona_key(bot, kind))
            .send()
            .await;
        let existed = match head {
            Ok(_) => true,
            Err(e) if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_))) => false,
            Err(e) => return Err(sdk_err(e)),
        };
        self.personas.forget(bot.as_str());
        self.delete_keys(vec![persona_key(bot, kind), original_key(bot, kind)])
            .await?;
        self.personas.forget(bot.as_str());
        Ok(existed)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot))]
    async fn delete_all(&self, bot: &BotId) -> Result<(), StoreError> {
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix(bot))
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(sdk_err)?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        self.personas.forget(bot.as_str());
        let deleted = self.delete_keys(keys).await;
        self.personas.forget(bot.as_str());
        deleted
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot))]
    async fn list(&self, bot: &BotId) -> Result<Vec<PersonaInfo>, StoreError> {
        Ok(self
            .read_texts(bot)
            .await?
            .into_iter()
            .map(|(kind, t)| PersonaInfo {
                kind,
                text_bytes: t.text.len() as u64,
                original_bytes: t.original_bytes,
                estimated_tokens: estimate_tokens(&t.text),
                updated_at: t.updated_at,
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot))]
    async fn texts(&self, bot: &BotId) -> Result<Vec<(PersonaKind, String)>, StoreError> {
        if let Some(texts) = self.personas.get(bot.as_str()) {
            return Ok(texts);
        }
        let read_at = std::time::Instant::now();
        let texts: Vec<_> = self
            .read_texts(bot)
            .await?
            .into_iter()
            .map(|(kind, t)| (kind, t.text))
            .collect();
        self.personas.put(bot.as_str(), texts.clone(), read_at);
        Ok(texts)
    }
}
