//! Sessions: one participant's conversation with one bot.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BotId, SessionId, ShareCode, UserId};
use crate::values::{ModelId, SystemPrompt, Temperature, Title};

/// Who a session belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Participant {
    User { user_id: UserId },
    Guest,
}

/// Per-session settings, honoured only while the bot allows overrides.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<SystemPrompt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<Temperature>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_id: SessionId,
    pub chat_config_id: BotId,
    pub participant: Participant,
    pub title: Title,
    pub overrides: Overrides,
    /// The share code the session was opened with; `None` when the bot's owner opened
    /// it by the bot's id. The session can go on only while this is the bot's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_code: Option<ShareCode>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Session {
    pub fn user_id(&self) -> Option<&UserId> {
        match &self.participant {
            Participant::User { user_id } => Some(user_id),
            Participant::Guest => None,
        }
    }
}
