//! [`BotStore`]: configs in S3, index items in DynamoDB.
//!
//! The S3 object `bots/{botId}/config.json` is the truth: `get` and
//! `find_by_share_code` always read it. DynamoDB holds what S3 cannot answer: the
//! bot's index item (`BOTS` / `BOT#{id}`, in its owner's `GSI1` partition, with a copy
//! of the config for listings) and one claim item per share code, which is what makes
//! ids and codes unique.
//!
//! Consistency rule: a create claims the id and the share code in DynamoDB first (one
//! transaction) and then writes S3 with `If-None-Match: *`, undoing the claims if S3
//! refuses. An update checks the version, claims a new share code, writes S3 with
//! `If-Match` on the ETag it read, and only then refreshes the index copy (never to an
//! older version) and releases the old code. So the S3 object never refers to a code
//! that is not claimed, while a listing may show the previous version of a bot for the
//! moment between the S3 write and the index refresh.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use parley_core::StoreError;
use parley_core::bot::BotConfig;
use parley_core::ids::{BotId, ShareCode, UserId};
use parley_core::ports::{BotStore, Page, PageRequest};
use parley_records::{BotRecord, decode_slice, encode};

use crate::AwsStore;
use crate::error::{other, sdk_err, status};
use crate::keys::{self, BOT_PREFIX, BOTS_PK, GSI1, GSI1PK, GSI1SK, PK, SHARE_SK, SK};
use crate::table::{Item, below_cursor, cancellation, decode_attr, get_s, key, n, s};

/// The S3 key of a bot's config.
pub fn config_key(id: &BotId) -> String {
    format!("bots/{id}/config.json")
}

impl AwsStore {
    /// The stored config and its ETag.
    async fn read_config(&self, id: &BotId) -> Result<Option<(BotConfig, String)>, StoreError> {
        let out = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(config_key(id))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(e) => return Err(sdk_err(e)),
        };
        let etag = out.e_tag.clone().ok_or_else(|| other("S3 returned no ETag"))?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        let config = decode_slice::<BotRecord>(&bytes.into_bytes())?;
        Ok(Some((config, etag)))
    }

    fn index_item(bot: &BotConfig) -> Result<Item, StoreError> {
        let mut item = key(BOTS_PK, keys::bot_sk(&bot.chat_config_id));
        item.insert(GSI1PK.into(), s(keys::owner_gsi(&bot.owner_id)));
        item.insert(GSI1SK.into(), s(keys::bot_sk(&bot.chat_config_id)));
        item.insert("config".into(), s(encode::<BotRecord>(bot)?));
        item.insert("version".into(), n(bot.version));
        item.insert("share_code".into(), s(bot.share_code.as_str()));
        Ok(item)
    }

    fn share_item(code: &ShareCode, id: &BotId) -> Item {
        let mut item = key(keys::share_pk(code.as_str()), SHARE_SK);
        item.insert("bot_id".into(), s(id.as_str()));
        item
    }

    /// Deletes a share code's claim if it still belongs to `id`.
    async fn release_code(&self, code: &str, id: &BotId) -> Result<(), StoreError> {
        let result = self
            .ddb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::share_pk(code), SHARE_SK)))
            .condition_expression("bot_id = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_err(e)),
        }
    }

    async fn delete_index(&self, id: &BotId) -> Result<(), StoreError> {
        self.ddb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(BOTS_PK, keys::bot_sk(id))))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn put_config(&self, bot: &BotConfig, etag: Option<&str>) -> Result<(), StoreError> {
        let body = ByteStream::from(encode::<BotRecord>(bot)?.into_bytes());
        let request = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(config_key(&bot.chat_config_id))
            .content_type("application/json")
            .body(body);
        let request = match etag {
            Some(etag) => request.if_match(etag),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            // 412: the condition failed; 404: the object is gone; 409: a concurrent
            // conditional write won.
            Err(e) if matches!(status(&e), Some(404 | 409 | 412)) => Err(if etag.is_some() {
                StoreError::VersionMismatch
            } else {
                StoreError::AlreadyExists
            }),
            Err(e) => Err(sdk_err(e)),
        }
    }

    fn decode_index(item: &Item) -> Result<(String, BotConfig), StoreError> {
        let config = decode_attr::<BotRecord>(item, "config")?;
        Ok((config.chat_config_id.as_str().to_owned(), config))
    }
}

impl AwsStore {
    async fn update_config(&self, bot: &BotConfig, expected_version: u64) -> Result<(), StoreError> {
        let id = &bot.chat_config_id;
        let Some((stored, etag)) = self.read_config(id).await? else {
            return Err(StoreError::VersionMismatch);
        };
        if stored.version != expected_version {
            return Err(StoreError::VersionMismatch);
        }
        let new_code = stored.share_code != bot.share_code;
        if new_code {
            let claimed = self
                .ddb
                .put_item()
                .table_name(&self.table)
                .set_item(Some(Self::share_item(&bot.share_code, id)))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await;
            match claimed {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    return Err(StoreError::AlreadyExists);
                }
                Err(e) => return Err(sdk_err(e)),
            }
        }
        if let Err(e) = self.put_config(bot, Some(&etag)).await {
            let released = if new_code {
                self.release_code(bot.share_code.as_str(), id).await
            } else {
                Ok(())
            };
            if let Err(undo) = released {
                tracing::warn!(bot_id = %id, error = ?undo, "could not release the share code of a failed update");
            }
            return Err(e);
        }
        // Refresh the listing copy, never back to an older version, and never for a bot
        // deleted in the meantime.
        let refreshed = self
            .ddb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::index_item(bot)?))
            .condition_expression("attribute_exists(PK) AND version < :v")
            .expression_attribute_values(":v", n(bot.version))
            .send()
            .await;
        match refreshed {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(sdk_err(e)),
        }
        if new_code {
            self.release_code(stored.share_code.as_str(), id).await?;
        }
        Ok(())
    }

    async fn delete_config(&self, id: &BotId) -> Result<(), StoreError> {
        let stored = self.read_config(id).await?;
        let index = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(BOTS_PK, keys::bot_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?
            .item;
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(config_key(id))
            .send()
            .await
            .map_err(sdk_err)?;
        self.delete_index(id).await?;
        let mut codes: Vec<String> = stored
            .map(|(c, _)| c.share_code.as_str().to_owned())
            .into_iter()
            .collect();
        if let Some(item) = index {
            codes.push(get_s(&item, "share_code")?.to_owned());
        }
        codes.dedup();
        for code in codes {
            self.release_code(&code, id).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl BotStore for AwsStore {
    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot.chat_config_id))]
    async fn create(&self, bot: &BotConfig) -> Result<(), StoreError> {
        let id = &bot.chat_config_id;
        let claim = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(other)
        };
        let result = self
            .ddb
            .transact_write_items()
            .transact_items(claim(Self::index_item(bot)?)?)
            .transact_items(claim(Self::share_item(&bot.share_code, id))?)
            .send()
            .await;
        if let Err(e) = result {
            return match cancellation(&e) {
                Some(reasons)
                    if reasons
                        .iter()
                        .any(|(c, _)| c.as_deref() == Some("ConditionalCheckFailed")) =>
                {
                    Err(StoreError::AlreadyExists)
                }
                _ => Err(sdk_err(e)),
            };
        }
        if let Err(e) = self.put_config(bot, None).await {
            // Undo the claims, so that a refused create stores nothing. The caller hears
            // why the create failed, not why the undo did too.
            let undone = match self.delete_index(id).await {
                Ok(()) => self.release_code(bot.share_code.as_str(), id).await,
                Err(undo) => Err(undo),
            };
            if let Err(undo) = undone {
                tracing::warn!(bot_id = %id, error = ?undo, "could not undo the claims of a failed create");
            }
            return Err(e);
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %id))]
    async fn get(&self, id: &BotId) -> Result<Option<BotConfig>, StoreError> {
        if let Some(config) = self.bots.get(id.as_str()) {
            return Ok(Some(config));
        }
        let read_at = std::time::Instant::now();
        let config = self.read_config(id).await?.map(|(config, _)| config);
        if let Some(config) = &config {
            self.bots.put(id.as_str(), config.clone(), read_at);
        }
        Ok(config)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %bot.chat_config_id, expected_version))]
    async fn update(&self, bot: &BotConfig, expected_version: u64) -> Result<(), StoreError> {
        let updated = self.update_config(bot, expected_version).await;
        self.bots.forget(bot.chat_config_id.as_str());
        updated
    }

    #[tracing::instrument(level = "debug", skip_all, fields(bot_id = %id))]
    async fn delete(&self, id: &BotId) -> Result<(), StoreError> {
        let deleted = self.delete_config(id).await;
        self.bots.forget(id.as_str());
        deleted
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn find_by_share_code(&self, code: &ShareCode) -> Result<Option<BotConfig>, StoreError> {
        let claim = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::share_pk(code.as_str()), SHARE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?
            .item;
        let Some(claim) = claim else { return Ok(None) };
        let id = BotId::from_trusted(get_s(&claim, "bot_id")?);
        // The claim of a code being rotated away may outlive the switch for a moment;
        // the config decides.
        Ok(self.get(&id).await?.filter(|bot| &bot.share_code == code))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(owner = %owner))]
    async fn list_by_owner(&self, owner: &UserId, page: &PageRequest) -> Result<Page<BotConfig>, StoreError> {
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_names("#pk", GSI1PK)
            .expression_attribute_names("#sk", GSI1SK)
            .expression_attribute_values(":pk", s(keys::owner_gsi(owner)));
        let query = below(query, page);
        self.listing(query, page, Self::decode_index).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_all(&self, page: &PageRequest) -> Result<Page<BotConfig>, StoreError> {
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(BOTS_PK));
        let query = below(query, page);
        self.listing(query, page, Self::decode_index).await
    }
}

/// Restricts a bot listing to bot keys below the page's cursor.
fn below(query: QueryFluentBuilder, page: &PageRequest) -> QueryFluentBuilder {
    below_cursor(query, BOT_PREFIX, page)
}
