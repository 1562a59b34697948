//! Request shapes: the bodies and query strings each route reads, converted into the
//! core's inputs. AI Maker's snake_case names are accepted beside Parley's camelCase.
//! Values are checked by the core (which names the failing field); only JSON types are
//! checked here.

use parley_core::usecases::{
    BotFields, JoinRoom, LimitsFields, MemoryFields, NewRoom, NewSession, OverrideFields, SessionChanges, SharingFields,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::views::{ReplyMode, SharingMode};

/// The fields of a bot, all optional: a create fills defaults, an update keeps what is
/// stored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotRequest {
    /// 1 to 120 characters.
    pub title: Option<String>,
    pub description: Option<String>,
    /// The bot's first words, shown before the first message.
    pub greeting: Option<String>,
    /// One of `GET /models`.
    pub model: Option<String>,
    #[serde(alias = "system_prompt", alias = "prompt")]
    pub system_prompt: Option<String>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    #[serde(alias = "max_output_tokens")]
    pub max_output_tokens: Option<i64>,
    pub sharing: Option<SharingRequest>,
    /// Which overrides sessions may make.
    pub session_overrides: Option<OverridesPolicyRequest>,
    /// The earlier switch: `true` lets sessions change their temperature (only), `false`
    /// turns every override off. `sessionOverrides` says more.
    #[serde(alias = "allow_session_overrides")]
    pub allow_session_overrides: Option<bool>,
    pub memory: Option<MemoryRequest>,
    /// Within the owner's tier.
    pub limits: Option<LimitsRequest>,
    /// `PUT /chat-config/{id}` only, instead of an `If-Match` header: the version the
    /// fields were read at; a stale one answers 412.
    pub version: Option<u64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharingRequest {
    pub mode: Option<SharingMode>,
    /// Whether friends may read the system prompt and persona.
    pub show_prompt: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverridesPolicyRequest {
    pub temperature: Option<bool>,
    /// Only while `showPrompt` is on.
    pub system_prompt: Option<bool>,
    /// Models a session may pick besides the bot's own.
    pub models: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryRequest {
    pub max_messages: Option<i64>,
    pub max_tokens: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsRequest {
    pub guest_messages_per_session: Option<i64>,
    pub daily_messages: Option<i64>,
}

impl From<BotRequest> for BotFields {
    fn from(r: BotRequest) -> Self {
        Self {
            title: r.title,
            description: r.description,
            greeting: r.greeting,
            model: r.model,
            system_prompt: r.system_prompt,
            temperature: r.temperature,
            max_output_tokens: r.max_output_tokens,
            sharing: r.sharing.map(|s| SharingFields {
                mode: s.mode.map(Into::into),
                show_prompt: s.show_prompt,
            }),
            session_overrides: r.session_overrides.map(|o| OverrideFields {
                temperature: o.temperature,
                system_prompt: o.system_prompt,
                models: o.models,
            }),
            allow_session_overrides: r.allow_session_overrides,
            memory: r.memory.map(|m| MemoryFields {
                max_messages: m.max_messages,
                max_tokens: m.max_tokens,
            }),
            limits: r.limits.map(|l| LimitsFields {
                guest_messages_per_session: l.guest_messages_per_session,
                daily_messages: l.daily_messages,
            }),
        }
    }
}

/// `POST /chat-session` and `POST /chat-room`: which bot, by its share code (anyone the
/// sharing mode admits) or by its id (its owner). A share code is accepted in
/// `chatConfigId` too, as AI Maker clients send it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewSessionRequest {
    #[serde(alias = "chat_config_id")]
    pub chat_config_id: Option<String>,
    #[serde(alias = "share_code")]
    pub share_code: Option<String>,
    pub title: Option<String>,
}

impl From<NewSessionRequest> for NewSession {
    fn from(r: NewSessionRequest) -> Self {
        Self {
            chat_config_id: r.chat_config_id,
            share_code: r.share_code,
            title: r.title,
        }
    }
}

/// `PUT /session/{id}`: a new title, and the overrides the bot allows.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionChangesRequest {
    pub title: Option<String>,
    pub model: Option<String>,
    #[serde(alias = "system_prompt")]
    pub system_prompt: Option<String>,
    pub temperature: Option<f64>,
}

impl From<SessionChangesRequest> for SessionChanges {
    fn from(r: SessionChangesRequest) -> Self {
        Self {
            title: r.title,
            model: r.model,
            system_prompt: r.system_prompt,
            temperature: r.temperature,
        }
    }
}

/// `POST /chat-room`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewRoomRequest {
    #[serde(alias = "chat_config_id")]
    pub chat_config_id: Option<String>,
    #[serde(alias = "share_code")]
    pub share_code: Option<String>,
    pub title: Option<String>,
    pub reply_mode: Option<ReplyMode>,
}

impl From<NewRoomRequest> for NewRoom {
    fn from(r: NewRoomRequest) -> Self {
        Self {
            chat_config_id: r.chat_config_id,
            share_code: r.share_code,
            title: r.title,
            reply_mode: r.reply_mode.map(Into::into),
        }
    }
}

/// `POST /room/{id}/join`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinRoomRequest {
    #[serde(alias = "invite_code")]
    pub invite_code: String,
}

impl From<JoinRoomRequest> for JoinRoom {
    fn from(r: JoinRoomRequest) -> Self {
        Self {
            invite_code: r.invite_code,
        }
    }
}

/// `POST /session-message`, in Parley's names or AI Maker's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionSend {
    #[serde(alias = "session_id")]
    pub session_id: String,
    /// 1 to 8,000 characters.
    pub message: String,
    /// Makes a retry safe: the same id in the same conversation answers the stored
    /// exchange instead of sending twice.
    #[serde(alias = "client_message_id")]
    pub client_message_id: Option<String>,
}

/// `POST /room/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomSend {
    pub message: String,
    #[serde(alias = "client_message_id")]
    pub client_message_id: Option<String>,
}

/// `POST /dev/sign-in` (local development sign-in only).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    /// Cognito-style groups: `admin`, `tier-pro`, `tier-unlimited`, …
    #[serde(default)]
    pub groups: Vec<String>,
}

/// `?next=&limit=&scope=` of listings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The cursor a previous page returned.
    pub next: Option<String>,
    /// Page size, 1 to 100.
    pub limit: Option<i64>,
    /// `GET /chat-configs` only: `mine` (default) or `all` (admins).
    pub scope: Option<String>,
}

/// `?before=&after=&limit=` of histories.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages with a lower seq (older), newest page first.
    pub before: Option<u64>,
    /// Rooms only: messages with a higher seq (newer), for polling.
    pub after: Option<u64>,
    /// Page size, 1 to 100.
    pub limit: Option<i64>,
}
