//! [`SessionRecord`]: a session, as kept in SQLite's `sessions.body` and DynamoDB's
//! session item (`body`).

use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::ids::{BotId, SessionId, ShareCode, UserId};
use parley_core::session::{Overrides, Participant, Session};
use parley_core::values::{ModelId, SystemPrompt, Temperature, Title};
use serde::{Deserialize, Serialize};

use crate::{Record, SCHEMA_VERSION, invalid};

const KIND: &str = "session";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    #[serde(rename = "schemaVersion", default = "crate::unversioned")]
    pub schema_version: u32,
    #[serde(rename = "sessionId")]
    pub session_id: String,
    #[serde(rename = "chatConfigId")]
    pub chat_config_id: String,
    #[serde(rename = "participant")]
    pub participant: ParticipantRecord,
    #[serde(rename = "title")]
    pub title: String,
    #[serde(rename = "overrides")]
    pub overrides: OverridesRecord,
    /// Absent when the owner opened the session by the bot's id.
    #[serde(rename = "shareCode", default, skip_serializing_if = "Option::is_none")]
    pub share_code: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime<Utc>,
}

/// `{"kind": "user", "userId": …}` or `{"kind": "guest"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ParticipantRecord {
    #[serde(rename = "user")]
    User {
        #[serde(rename = "userId")]
        user_id: String,
    },
    #[serde(rename = "guest")]
    Guest,
}

/// Each override is absent when not set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OverridesRecord {
    #[serde(rename = "model", default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(rename = "systemPrompt", default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(rename = "temperature", default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
}

impl Record for SessionRecord {
    type Domain = Session;
    const KIND: &'static str = KIND;
    const ID_FIELD: &'static str = "sessionId";
}

impl From<&Session> for SessionRecord {
    fn from(session: &Session) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            session_id: session.session_id.as_str().to_owned(),
            chat_config_id: session.chat_config_id.as_str().to_owned(),
            participant: match &session.participant {
                Participant::User { user_id } => ParticipantRecord::User {
                    user_id: user_id.as_str().to_owned(),
                },
                Participant::Guest => ParticipantRecord::Guest,
            },
            title: session.title.as_str().to_owned(),
            overrides: OverridesRecord {
                model: session.overrides.model.as_ref().map(|m| m.as_str().to_owned()),
                system_prompt: session.overrides.system_prompt.as_ref().map(|p| p.as_str().to_owned()),
                temperature: session.overrides.temperature.map(Temperature::value),
            },
            share_code: session.share_code.as_ref().map(|c| c.as_str().to_owned()),
            created_at: session.created_at,
            updated_at: session.updated_at,
        }
    }
}

impl TryFrom<SessionRecord> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRecord) -> Result<Self, StoreError> {
        let bad = invalid(KIND);
        Ok(Self {
            session_id: SessionId::parse(&r.session_id).map_err(&bad)?,
            chat_config_id: BotId::parse(&r.chat_config_id).map_err(&bad)?,
            participant: match r.participant {
                ParticipantRecord::User { user_id } => Participant::User {
                    user_id: UserId::parse(&user_id).map_err(&bad)?,
                },
                ParticipantRecord::Guest => Participant::Guest,
            },
            title: Title::parse(&r.title).map_err(&bad)?,
            overrides: Overrides {
                model: r
                    .overrides
                    .model
                    .as_deref()
                    .map(ModelId::parse)
                    .transpose()
                    .map_err(&bad)?,
                system_prompt: r
                    .overrides
                    .system_prompt
                    .as_deref()
                    .map(SystemPrompt::parse)
                    .transpose()
                    .map_err(&bad)?,
                temperature: r
                    .overrides
                    .temperature
                    .map(|t| Temperature::parse(f64::from(t)))
                    .transpose()
                    .map_err(&bad)?,
            },
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
