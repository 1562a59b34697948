//! [`BotRecord`]: a bot config, as kept in S3's `bots/{botId}/config.json`, DynamoDB's
//! listing copy (`config`) and SQLite's `bots.body`.

use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::bot::{BotConfig, Limits, Memory, OverridePolicy, Sharing, SharingMode};
use parley_core::ids::{BotId, ShareCode, UserId};
use parley_core::values::{Description, Greeting, ModelId, SystemPrompt, Temperature, Title};
use serde::{Deserialize, Serialize};

use crate::{Record, SCHEMA_VERSION, invalid};

const KIND: &str = "bot";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotRecord {
    #[serde(rename = "schemaVersion", default = "crate::unversioned")]
    pub schema_version: u32,
    #[serde(rename = "chatConfigId")]
    pub chat_config_id: String,
    #[serde(rename = "ownerId")]
    pub owner_id: String,
    #[serde(rename = "title")]
    pub title: String,
    #[serde(rename = "description")]
    pub description: String,
    #[serde(rename = "greeting")]
    pub greeting: String,
    #[serde(rename = "model")]
    pub model: String,
    #[serde(rename = "systemPrompt")]
    pub system_prompt: String,
    /// `f32`, as the domain holds it, so that `0.7` is written `0.7`.
    #[serde(rename = "temperature")]
    pub temperature: f32,
    #[serde(rename = "maxOutputTokens")]
    pub max_output_tokens: u32,
    #[serde(rename = "sharing")]
    pub sharing: SharingRecord,
    #[serde(rename = "shareCode")]
    pub share_code: String,
    /// Absent from bots stored before session overrides existed: none allowed.
    #[serde(rename = "sessionOverrides", default)]
    pub session_overrides: OverridePolicyRecord,
    #[serde(rename = "memory")]
    pub memory: MemoryRecord,
    #[serde(rename = "limits")]
    pub limits: LimitsRecord,
    #[serde(rename = "suspended")]
    pub suspended: bool,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime<Utc>,
    #[serde(rename = "version")]
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharingRecord {
    #[serde(rename = "mode")]
    pub mode: SharingModeRecord,
    #[serde(rename = "showPrompt")]
    pub show_prompt: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharingModeRecord {
    #[serde(rename = "private")]
    Private,
    #[serde(rename = "signed_in")]
    SignedIn,
    #[serde(rename = "anyone")]
    Anyone,
}

/// Each field may be absent (all off), as the domain type has always read it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OverridePolicyRecord {
    #[serde(rename = "temperature")]
    pub temperature: bool,
    #[serde(rename = "systemPrompt")]
    pub system_prompt: bool,
    #[serde(rename = "models")]
    pub models: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryRecord {
    #[serde(rename = "maxMessages")]
    pub max_messages: u32,
    #[serde(rename = "maxTokens")]
    pub max_tokens: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsRecord {
    #[serde(rename = "guestMessagesPerSession")]
    pub guest_messages_per_session: u32,
    #[serde(rename = "dailyMessages")]
    pub daily_messages: u32,
}

impl Record for BotRecord {
    type Domain = BotConfig;
    const KIND: &'static str = KIND;
    const ID_FIELD: &'static str = "chatConfigId";
}

impl From<&BotConfig> for BotRecord {
    fn from(bot: &BotConfig) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            chat_config_id: bot.chat_config_id.as_str().to_owned(),
            owner_id: bot.owner_id.as_str().to_owned(),
            title: bot.title.as_str().to_owned(),
            description: bot.description.as_str().to_owned(),
            greeting: bot.greeting.as_str().to_owned(),
            model: bot.model.as_str().to_owned(),
            system_prompt: bot.system_prompt.as_str().to_owned(),
            temperature: bot.temperature.value(),
            max_output_tokens: bot.max_output_tokens,
            sharing: SharingRecord {
                mode: bot.sharing.mode.into(),
                show_prompt: bot.sharing.show_prompt,
            },
            share_code: bot.share_code.as_str().to_owned(),
            session_overrides: OverridePolicyRecord {
                temperature: bot.session_overrides.temperature,
                system_prompt: bot.session_overrides.system_prompt,
                models: bot
                    .session_overrides
                    .models
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
            },
            memory: MemoryRecord {
                max_messages: bot.memory.max_messages,
                max_tokens: bot.memory.max_tokens,
            },
            limits: LimitsRecord {
                guest_messages_per_session: bot.limits.guest_messages_per_session,
                daily_messages: bot.limits.daily_messages,
            },
            suspended: bot.suspended,
            created_at: bot.created_at,
            updated_at: bot.updated_at,
            version: bot.version,
        }
    }
}

impl TryFrom<BotRecord> for BotConfig {
    type Error = StoreError;

    fn try_from(r: BotRecord) -> Result<Self, StoreError> {
        let bad = invalid(KIND);
        Ok(Self {
            chat_config_id: BotId::parse(&r.chat_config_id).map_err(&bad)?,
            owner_id: UserId::parse(&r.owner_id).map_err(&bad)?,
            title: Title::parse(&r.title).map_err(&bad)?,
            description: Description::parse(&r.description).map_err(&bad)?,
            greeting: Greeting::parse(&r.greeting).map_err(&bad)?,
            model: ModelId::parse(&r.model).map_err(&bad)?,
            system_prompt: SystemPrompt::parse(&r.system_prompt).map_err(&bad)?,
            temperature: Temperature::parse(f64::from(r.temperature)).map_err(&bad)?,
            max_output_tokens: r.max_output_tokens,
            sharing: Sharing {
                mode: r.sharing.mode.into(),
                show_prompt: r.sharing.show_prompt,
            },
            share_code: ShareCode::parse(&r.share_code).map_err(&bad)?,
            session_overrides: OverridePolicy {
                temperature: r.session_overrides.temperature,
                system_prompt: r.session_overrides.system_prompt,
                models: r
                    .session_overrides
                    .models
                    .iter()
                    .map(|m| ModelId::parse(m))
                    .collect::<Result<_, _>>()
                    .map_err(&bad)?,
            },
            memory: Memory {
                max_messages: r.memory.max_messages,
                max_tokens: r.memory.max_tokens,
            },
            limits: Limits {
                guest_messages_per_session: r.limits.guest_messages_per_session,
                daily_messages: r.limits.daily_messages,
            },
            suspended: r.suspended,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

impl From<SharingMode> for SharingModeRecord {
    fn from(mode: SharingMode) -> Self {
        match mode {
            SharingMode::Private => Self::Private,
            SharingMode::SignedIn => Self::SignedIn,
            SharingMode::Anyone => Self::Anyone,
        }
    }
}

impl From<SharingModeRecord> for SharingMode {
    fn from(mode: SharingModeRecord) -> Self {
        match mode {
            SharingModeRecord::Private => Self::Private,
            SharingModeRecord::SignedIn => Self::SignedIn,
            SharingModeRecord::Anyone => Self::Anyone,
        }
    }
}
