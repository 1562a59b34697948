//! [`RoomRecord`] and [`MemberRecord`]: a room and one of its members, as kept in
//! SQLite's `rooms.body` and `room_members.body` and in DynamoDB's room and member items
//! (`body`).

use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::ids::{BotId, InviteCode, RoomId, ShareCode, UserId};
use parley_core::room::{ReplyMode, Room, RoomMember};
use parley_core::values::Title;
use serde::{Deserialize, Serialize};

use crate::{Record, SCHEMA_VERSION, invalid};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomRecord {
    #[serde(rename = "schemaVersion", default = "crate::unversioned")]
    pub schema_version: u32,
    #[serde(rename = "roomId")]
    pub room_id: String,
    #[serde(rename = "chatConfigId")]
    pub chat_config_id: String,
    #[serde(rename = "creatorId")]
    pub creator_id: String,
    #[serde(rename = "title")]
    pub title: String,
    #[serde(rename = "replyMode")]
    pub reply_mode: ReplyModeRecord,
    #[serde(rename = "inviteCode")]
    pub invite_code: String,
    /// Absent when the owner opened the room by the bot's id.
    #[serde(rename = "shareCode", default, skip_serializing_if = "Option::is_none")]
    pub share_code: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplyModeRecord {
    #[serde(rename = "always")]
    Always,
    #[serde(rename = "mention")]
    Mention,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    #[serde(rename = "schemaVersion", default = "crate::unversioned")]
    pub schema_version: u32,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "joinedAt")]
    pub joined_at: DateTime<Utc>,
}

impl Record for RoomRecord {
    type Domain = Room;
    const KIND: &'static str = "room";
    const ID_FIELD: &'static str = "roomId";
}

impl Record for MemberRecord {
    type Domain = RoomMember;
    const KIND: &'static str = "room member";
    const ID_FIELD: &'static str = "userId";
}

impl From<&Room> for RoomRecord {
    fn from(room: &Room) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            room_id: room.room_id.as_str().to_owned(),
            chat_config_id: room.chat_config_id.as_str().to_owned(),
            creator_id: room.creator_id.as_str().to_owned(),
            title: room.title.as_str().to_owned(),
            reply_mode: match room.reply_mode {
                ReplyMode::Always => ReplyModeRecord::Always,
                ReplyMode::Mention => ReplyModeRecord::Mention,
            },
            invite_code: room.invite_code.as_str().to_owned(),
            share_code: room.share_code.as_ref().map(|c| c.as_str().to_owned()),
            created_at: room.created_at,
            updated_at: room.updated_at,
        }
    }
}

impl TryFrom<RoomRecord> for Room {
    type Error = StoreError;

    fn try_from(r: RoomRecord) -> Result<Self, StoreError> {
        let bad = invalid(RoomRecord::KIND);
        Ok(Self {
            room_id: RoomId::parse(&r.room_id).map_err(&bad)?,
            chat_config_id: BotId::parse(&r.chat_config_id).map_err(&bad)?,
            creator_id: UserId::parse(&r.creator_id).map_err(&bad)?,
            title: Title::parse(&r.title).map_err(&bad)?,
            reply_mode: match r.reply_mode {
                ReplyModeRecord::Always => ReplyMode::Always,
                ReplyModeRecord::Mention => ReplyMode::Mention,
            },
            invite_code: InviteCode::parse(&r.invite_code).map_err(&bad)?,
            share_code: r
                .share_code
                .as_deref()
                .map(ShareCode::parse)
                .transpose()
                .map_err(&bad)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl From<&RoomMember> for MemberRecord {
    fn from(member: &RoomMember) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            user_id: member.user_id.as_str().to_owned(),
            display_name: member.display_name.clone(),
            joined_at: member.joined_at,
        }
    }
}

impl TryFrom<MemberRecord> for RoomMember {
    type Error = StoreError;

    fn try_from(r: MemberRecord) -> Result<Self, StoreError> {
        Ok(Self {
            user_id: UserId::parse(&r.user_id).map_err(invalid(MemberRecord::KIND))?,
            display_name: r.display_name,
            joined_at: r.joined_at,
        })
    }
}
