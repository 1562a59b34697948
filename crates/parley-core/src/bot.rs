//! Bot configs and their public view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BotId, ShareCode, UserId};
use crate::values::{Description, Greeting, ModelId, SystemPrompt, Temperature, Title};

/// Who a bot is shared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingMode {
    /// Only the owner.
    Private,
    /// Any signed-in user who has the link or the id.
    SignedIn,
    /// Anyone, guests included.
    Anyone,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sharing {
    pub mode: SharingMode,
    /// Whether friends see the system prompt (and persona).
    pub show_prompt: bool,
}

/// How much of the conversation the model sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub max_messages: u32,
    pub max_tokens: u32,
}

/// The owner's limits, capped by the owner's tier when they are set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub guest_messages_per_session: u32,
    pub daily_messages: u32,
}

/// A bot, as stored (`bots/{botId}/config.json` in the cloud).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotConfig {
    pub chat_config_id: BotId,
    pub owner_id: UserId,
    pub title: Title,
    pub description: Description,
    pub greeting: Greeting,
    pub model: ModelId,
    pub system_prompt: SystemPrompt,
    pub temperature: Temperature,
    pub max_output_tokens: u32,
    pub sharing: Sharing,
    pub share_code: ShareCode,
    pub allow_session_overrides: bool,
    pub memory: Memory,
    pub limits: Limits,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented by every update; the basis of the ETag.
    pub version: u64,
}

impl BotConfig {
    pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 1_024;
    pub const DEFAULT_MEMORY: Memory = Memory {
        max_messages: 20,
        max_tokens: 8_000,
    };
    /// Conservative limits for a new bot; the owner may raise them within their tier.
    pub const DEFAULT_LIMITS: Limits = Limits {
        guest_messages_per_session: 20,
        daily_messages: 200,
    };

    /// The link friends open.
    pub fn share_url(&self, public_url: &str) -> String {
        format!("{}/s/{}", public_url.trim_end_matches('/'), self.share_code.as_str())
    }
}

/// What a friend sees of a bot they may use.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicBotView {
    pub chat_config_id: BotId,
    pub title: Title,
    pub description: Description,
    pub greeting: Greeting,
    pub model: ModelId,
    /// Present only when the owner set `showPrompt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<SystemPrompt>,
}

impl From<&BotConfig> for PublicBotView {
    fn from(bot: &BotConfig) -> Self {
        Self {
            chat_config_id: bot.chat_config_id.clone(),
            title: bot.title.clone(),
            description: bot.description.clone(),
            greeting: bot.greeting.clone(),
            model: bot.model.clone(),
            system_prompt: bot.sharing.show_prompt.then(|| bot.system_prompt.clone()),
        }
    }
}
