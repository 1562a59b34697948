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

/// What the owner lets a session change: its temperature, its system prompt, and its
/// model among the ones listed. All off by default.
///
/// A session's prompt replaces the owner's, but the persona and the guard rules are
/// still sent with it; so a prompt override is allowed only on a bot whose prompt and
/// persona are shown to friends (`sharing.showPrompt`), never beside hidden ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OverridePolicy {
    pub temperature: bool,
    pub system_prompt: bool,
    /// The models a session may pick instead of the bot's own; empty: none.
    pub models: Vec<ModelId>,
}

impl OverridePolicy {
    /// The most models the owner may list.
    pub const MODELS_MAX: usize = 20;

    pub fn allows_any(&self) -> bool {
        self.temperature || self.system_prompt || !self.models.is_empty()
    }
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
    /// What a session of this bot may change for itself.
    #[serde(default)]
    pub session_overrides: OverridePolicy,
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

/// What a friend sees of a bot they may use. It does not carry the bot's id: friends
/// reach a bot through its share code only, so that rotating the code revokes the link.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicBotView {
    pub title: Title,
    pub description: Description,
    pub greeting: Greeting,
    pub model: ModelId,
    /// Present only when the owner set `showPrompt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<SystemPrompt>,
    /// The persona documents' texts, where the view is read by share code and the owner
    /// set `showPrompt`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub persona: Vec<PublicPersonaDoc>,
}

/// A persona document's text as friends may read it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicPersonaDoc {
    pub kind: crate::persona::PersonaKind,
    pub text: String,
}

impl From<&BotConfig> for PublicBotView {
    fn from(bot: &BotConfig) -> Self {
        Self {
            title: bot.title.clone(),
            description: bot.description.clone(),
            greeting: bot.greeting.clone(),
            model: bot.model.clone(),
            system_prompt: bot.sharing.show_prompt.then(|| bot.system_prompt.clone()),
            persona: Vec::new(),
        }
    }
}
