//! Rooms: several signed-in members talking with one bot.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BotId, InviteCode, RoomId, ShareCode, UserId};
use crate::values::Title;

/// When the bot answers in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyMode {
    /// Every message.
    Always,
    /// Only messages that mention `@bot`.
    Mention,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub room_id: RoomId,
    pub chat_config_id: BotId,
    pub creator_id: UserId,
    pub title: Title,
    pub reply_mode: ReplyMode,
    pub invite_code: InviteCode,
    /// The bot's share code the room was opened with; `None` when the bot's owner opened
    /// it by the bot's id. The bot answers in the room only while this is its code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_code: Option<ShareCode>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomMember {
    pub user_id: UserId,
    pub display_name: String,
    pub joined_at: DateTime<Utc>,
}

/// The word that wakes the bot in a room in `mention` mode.
pub const MENTION: &str = "@bot";

pub fn mentions_bot(text: &str) -> bool {
    text.to_lowercase().contains(MENTION)
}
