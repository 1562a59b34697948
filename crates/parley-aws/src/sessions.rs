//! [`SessionStore`]: one item per session (`SESSION#{id}` / `SESSION`), in its user's
//! `GSI1` partition unless it is a guest's; its messages live in the partition
//! `CONV#s#{id}`.

use async_trait::async_trait;
use parley_core::StoreError;
use parley_core::ids::{SessionId, UserId};
use parley_core::message::Conversation;
use parley_core::ports::{Page, PageRequest, SessionStore};
use parley_core::session::Session;
use parley_records::{SessionRecord, encode};

use crate::AwsStore;
use crate::error::sdk_err;
use crate::keys::{self, GSI1, GSI1PK, GSI1SK, SESSION_PREFIX, SESSION_SK};
use crate::table::{Item, below_cursor, decode_attr, key, s};

impl AwsStore {
    fn session_item(session: &Session) -> Result<Item, StoreError> {
        let mut item = key(keys::session_pk(&session.session_id), SESSION_SK);
        if let Some(user) = session.user_id() {
            item.insert(GSI1PK.into(), s(keys::sessions_gsi(user)));
            item.insert(GSI1SK.into(), s(keys::session_pk(&session.session_id)));
        }
        item.insert("body".into(), s(encode::<SessionRecord>(session)?));
        Ok(item)
    }

    fn decode_session(item: &Item) -> Result<(String, Session), StoreError> {
        let session = decode_attr::<SessionRecord>(item, "body")?;
        Ok((session.session_id.as_str().to_owned(), session))
    }
}

#[async_trait]
impl SessionStore for AwsStore {
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session.session_id))]
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.put_new(Self::session_item(session)?).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %id))]
    async fn get(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        self.get_body::<SessionRecord>(key(keys::session_pk(id), SESSION_SK))
            .await
    }

    /// Replaces title, overrides and `updated_at`; a missing session stays missing.
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %session.session_id))]
    async fn update(&self, session: &Session) -> Result<(), StoreError> {
        let pk = keys::session_pk(&session.session_id);
        self.update_body::<SessionRecord>(key(pk, SESSION_SK), |stored| {
            stored.title = session.title.clone();
            stored.overrides = session.overrides.clone();
            stored.updated_at = session.updated_at;
            Self::session_item(stored)
        })
        .await
    }

    /// Deletes the messages first, so that a delete cut short leaves a session that can
    /// be deleted again rather than messages nobody can reach.
    #[tracing::instrument(level = "debug", skip_all, fields(session_id = %id))]
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.delete_partition(&keys::conversation_pk(&Conversation::Session(id.clone())))
            .await?;
        self.ddb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::session_pk(id), SESSION_SK)))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user))]
    async fn list_by_user(&self, user: &UserId, page: &PageRequest) -> Result<Page<Session>, StoreError> {
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_names("#pk", GSI1PK)
            .expression_attribute_names("#sk", GSI1SK)
            .expression_attribute_values(":pk", s(keys::sessions_gsi(user)));
        let query = below_cursor(query, SESSION_PREFIX, page);
        self.listing(query, page, Self::decode_session).await
    }
}
