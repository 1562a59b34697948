//! [`RoomStore`]: a room and its members share the partition `ROOM#{id}` (`ROOM`, and
//! `MEMBER#{userId}` per member); each member item also sits in the member's `GSI1`
//! partition `ROOMS#{userId}`, which is the "my rooms" listing. The room's messages
//! live in the partition `CONV#r#{id}`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
use parley_core::StoreError;
use parley_core::ids::{RoomId, UserId};
use parley_core::message::Conversation;
use parley_core::ports::{Page, PageRequest, RoomStore};
use parley_core::room::{Room, RoomMember};
use parley_records::{MemberRecord, RoomRecord, encode};

use crate::AwsStore;
use crate::error::{other, sdk_err};
use crate::keys::{self, GSI1, GSI1PK, GSI1SK, MEMBER_PREFIX, PK, ROOM_PREFIX, ROOM_SK, SK};
use crate::table::{Item, below_cursor, cancellation, decode_attr, get_s, key, s};

const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailed";

/// Whether the transaction's action `index` failed its condition. A reply that lists
/// fewer reasons than actions (it should not, but it comes from the network) says no.
fn failed(reasons: &[(Option<String>, Option<Item>)], index: usize) -> bool {
    reasons
        .get(index)
        .is_some_and(|(code, _)| code.as_deref() == Some(CONDITIONAL_CHECK_FAILED))
}

impl AwsStore {
    fn room_item(room: &Room) -> Result<Item, StoreError> {
        let mut item = key(keys::room_pk(&room.room_id), ROOM_SK);
        item.insert("body".into(), s(encode::<RoomRecord>(room)?));
        Ok(item)
    }

    fn member_item(room: &RoomId, member: &RoomMember) -> Result<Item, StoreError> {
        let mut item = key(keys::room_pk(room), keys::member_sk(&member.user_id));
        item.insert(GSI1PK.into(), s(keys::rooms_gsi(&member.user_id)));
        item.insert(GSI1SK.into(), s(keys::room_pk(room)));
        item.insert("body".into(), s(encode::<MemberRecord>(member)?));
        Ok(item)
    }

    /// The rooms with these ids, in the given order; rooms deleted meanwhile are skipped.
    async fn rooms_by_id(&self, ids: &[String]) -> Result<Vec<Room>, StoreError> {
        let mut found: HashMap<String, Room> = HashMap::new();
        for chunk in ids.chunks(100) {
            let keys = chunk
                .iter()
                .map(|id| key(format!("{ROOM_PREFIX}{id}"), ROOM_SK))
                .collect();
            for item in self.batch_get(keys).await? {
                let room = decode_attr::<RoomRecord>(&item, "body")?;
                found.insert(room.room_id.as_str().to_owned(), room);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

#[async_trait]
impl RoomStore for AwsStore {
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room.room_id))]
    async fn create(&self, room: &Room, creator: &RoomMember) -> Result<(), StoreError> {
        // One transaction, so a room never exists without its creator.
        let room_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::room_item(room)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(other)?;
        let member_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::member_item(&room.room_id, creator)?))
            .build()
            .map_err(other)?;
        let result = self
            .ddb
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(room_put).build())
            .transact_items(TransactWriteItem::builder().put(member_put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match cancellation(&e) {
                Some(reasons) if failed(&reasons, 0) => Err(StoreError::AlreadyExists),
                _ => Err(sdk_err(e)),
            },
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %id))]
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.get_body::<RoomRecord>(key(keys::room_pk(id), ROOM_SK)).await
    }

    /// Replaces title, reply mode, invite code and `updated_at`; a missing room stays
    /// missing.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room.room_id))]
    async fn update(&self, room: &Room) -> Result<(), StoreError> {
        self.update_body::<RoomRecord>(key(keys::room_pk(&room.room_id), ROOM_SK), |stored| {
            stored.title = room.title.clone();
            stored.reply_mode = room.reply_mode;
            stored.invite_code = room.invite_code.clone();
            stored.updated_at = room.updated_at;
            Self::room_item(stored)
        })
        .await
    }

    /// Messages first, then members and the room (one partition), so that a delete cut
    /// short can be repeated.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %id))]
    async fn delete(&self, id: &RoomId) -> Result<(), StoreError> {
        self.delete_partition(&keys::conversation_pk(&Conversation::Room(id.clone())))
            .await?;
        self.delete_partition(&keys::room_pk(id)).await
    }

    /// Adds the member if the room exists and they are not in it yet: the existing
    /// membership stays as it was.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %member.user_id))]
    async fn add_member(&self, room: &RoomId, member: &RoomMember) -> Result<(), StoreError> {
        let room_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::room_pk(room), ROOM_SK)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(other)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::member_item(room, member)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(other)?;
        let result = self
            .ddb
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(room_exists).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        let Err(e) = result else { return Ok(()) };
        match cancellation(&e) {
            // The room went away meanwhile (deleted during the join).
            Some(reasons) if failed(&reasons, 0) => Err(StoreError::NotFound),
            Some(reasons) if failed(&reasons, 1) => Ok(()),
            _ => Err(sdk_err(e)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %user))]
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError> {
        self.ddb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::room_pk(room), keys::member_sk(user))))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %user))]
    async fn get_member(&self, room: &RoomId, user: &UserId) -> Result<Option<RoomMember>, StoreError> {
        self.get_body::<MemberRecord>(key(keys::room_pk(room), keys::member_sk(user)))
            .await
    }

    /// One `BatchGetItem` of the room's item and the member's.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room, user_id = %user))]
    async fn get_with_member(&self, room: &RoomId, user: &UserId) -> Result<Option<(Room, RoomMember)>, StoreError> {
        let (room_key, member_key) = (
            key(keys::room_pk(room), ROOM_SK),
            key(keys::room_pk(room), keys::member_sk(user)),
        );
        let (mut found, mut member) = (None, None);
        for item in self.batch_get(vec![room_key, member_key]).await? {
            if get_s(&item, SK)? == ROOM_SK {
                found = Some(decode_attr::<RoomRecord>(&item, "body")?);
            } else {
                member = Some(decode_attr::<MemberRecord>(&item, "body")?);
            }
        }
        Ok(found.zip(member))
    }

    /// In the order they joined.
    #[tracing::instrument(level = "debug", skip_all, fields(room_id = %room))]
    async fn list_members(&self, room: &RoomId) -> Result<Vec<RoomMember>, StoreError> {
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(keys::room_pk(room)))
            .expression_attribute_values(":prefix", s(MEMBER_PREFIX))
            .consistent_read(true);
        let mut members = self
            .query_all(query)
            .await?
            .iter()
            .map(|item| decode_attr::<MemberRecord>(item, "body"))
            .collect::<Result<Vec<_>, _>>()?;
        members.sort_by(|a, b| (a.joined_at, a.user_id.as_str()).cmp(&(b.joined_at, b.user_id.as_str())));
        Ok(members)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user))]
    async fn list_by_member(&self, user: &UserId, page: &PageRequest) -> Result<Page<Room>, StoreError> {
        let query = self
            .ddb
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_names("#pk", GSI1PK)
            .expression_attribute_names("#sk", GSI1SK)
            .expression_attribute_values(":pk", s(keys::rooms_gsi(user)));
        let query = below_cursor(query, ROOM_PREFIX, page);
        let ids = self
            .listing(query, page, |item| {
                let id = keys::strip(get_s(item, GSI1SK)?, ROOM_PREFIX)
                    .ok_or_else(|| other("a membership without a room key"))?
                    .to_owned();
                Ok((id.clone(), id))
            })
            .await?;
        Ok(Page {
            items: self.rooms_by_id(&ids.items).await?,
            next: ids.next,
        })
    }
}
