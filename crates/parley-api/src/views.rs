//! Response shapes: the API's own types, built from the domain's, so that renaming a
//! field here changes the API only, and renaming one in the core changes neither the
//! API nor what is stored. Field names are camelCase, and AI Maker's are kept
//! (`chatConfigId`, `shareableUrl`, `sessionId`, `message`). Each derives its schema for
//! the OpenAPI document ([`crate::openapi`]).

use chrono::{DateTime, Utc};
use parley_core::bot::{self, BotConfig, PublicBotView};
use parley_core::message::{self, Message, Usage};
use parley_core::models;
use parley_core::persona::{self, PersonaDoc, PersonaInfo};
use parley_core::policy;
use parley_core::ports::Page;
use parley_core::room::{self, Room, RoomMember};
use parley_core::session::{self, Session};
use parley_core::usecases::{HistoryPage, SendOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Mirrors a field-less core enum in the API, both ways where the API reads it too.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident from $core:path { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                use $core as Core;
                match v {
                    $(Core::$variant => Self::$variant),+
                }
            }
        }

        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => Self::$variant),+
                }
            }
        }
    };
}

api_enum!(
    /// Who a bot is shared with: only its owner, signed-in users with the link, or
    /// anyone with the link (guests included).
    SharingMode from bot::SharingMode { Private, SignedIn, Anyone }
);
api_enum!(
    /// When the bot answers in a room: every message, or messages that mention `@bot`.
    ReplyMode from room::ReplyMode { Always, Mention }
);
api_enum!(
    /// Who wrote a message.
    Role from message::Role { User, Assistant }
);
api_enum!(
    /// `pending`: a user message whose reply is being generated; `streaming`: a reply
    /// being written (its text so far is shown); `complete`; `stopped`: a reply stopped
    /// on request, keeping its text; `failed`: the model call failed (a reply keeps what
    /// was written; a retry with the same `clientMessageId` tries again).
    MessageStatus from message::MessageStatus { Pending, Streaming, Complete, Stopped, Failed }
);
api_enum!(
    /// The kinds of persona document.
    PersonaKind from persona::PersonaKind { Facts, Summary, Style, Profile }
);
api_enum!(
    /// Who serves a model.
    ProviderKind from models::ProviderKind { Offline, Openai, Gemini }
);

/// Declares a listing, `{items, next}`: `next` is the cursor of the following page. One
/// named type per item kind, so that the OpenAPI document names each.
macro_rules! list_type {
    ($(#[$meta:meta])* $name:ident of $item:ty) => {
        $(#[$meta])*
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub next: Option<String>,
        }

        impl $name {
            pub fn map<U>(page: Page<U>, f: impl FnMut(U) -> $item) -> Self {
                Self {
                    items: page.items.into_iter().map(f).collect(),
                    next: page.next,
                }
            }
        }
    };
}

list_type!(
    /// A page of bots.
    BotList of BotView
);
list_type!(
    /// A page of sessions.
    SessionList of SessionView
);
list_type!(
    /// A page of rooms.
    RoomList of RoomView
);
list_type!(
    /// A bot's persona documents (one page).
    PersonaList of PersonaInfoView
);

/// Who shares a bot and whether its prompt is shown to them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharingView {
    pub mode: SharingMode,
    pub show_prompt: bool,
}

/// Which overrides a session may make.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverridePolicyView {
    pub temperature: bool,
    pub system_prompt: bool,
    /// The models a session may pick besides the bot's own.
    pub models: Vec<String>,
}

/// How much history the model reads.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryView {
    pub max_messages: u32,
    pub max_tokens: u32,
}

/// The bot's limits on guests and per day.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsView {
    pub guest_messages_per_session: u32,
    pub daily_messages: u32,
}

/// A bot as its owner and admins see it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotView {
    pub chat_config_id: String,
    pub owner_id: String,
    pub title: String,
    pub description: String,
    pub greeting: String,
    pub model: String,
    pub system_prompt: String,
    pub temperature: f32,
    pub max_output_tokens: u32,
    pub sharing: SharingView,
    pub share_code: String,
    pub session_overrides: OverridePolicyView,
    pub memory: MemoryView,
    pub limits: LimitsView,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The version `If-Match` (or the body's `version`) names to change this bot.
    pub version: u64,
    pub shareable_url: String,
    /// Messages the bot answered today (UTC), on `GET /chat-config/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_today: Option<u32>,
    /// Tokens the bot used today (UTC), on `GET /chat-config/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_today: Option<u32>,
}

impl BotView {
    pub fn new(bot: &BotConfig, public_url: &str) -> Self {
        Self {
            chat_config_id: bot.chat_config_id.to_string(),
            owner_id: bot.owner_id.to_string(),
            title: bot.title.as_str().to_owned(),
            description: bot.description.as_str().to_owned(),
            greeting: bot.greeting.as_str().to_owned(),
            model: bot.model.as_str().to_owned(),
            system_prompt: bot.system_prompt.as_str().to_owned(),
            temperature: bot.temperature.value(),
            max_output_tokens: bot.max_output_tokens,
            sharing: SharingView {
                mode: bot.sharing.mode.into(),
                show_prompt: bot.sharing.show_prompt,
            },
            share_code: bot.share_code.as_str().to_owned(),
            session_overrides: OverridePolicyView {
                temperature: bot.session_overrides.temperature,
                system_prompt: bot.session_overrides.system_prompt,
                models: bot
                    .session_overrides
                    .models
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
            },
            memory: MemoryView {
                max_messages: bot.memory.max_messages,
                max_tokens: bot.memory.max_tokens,
            },
            limits: LimitsView {
                guest_messages_per_session: bot.limits.guest_messages_per_session,
                daily_messages: bot.limits.daily_messages,
            },
            suspended: bot.suspended,
            created_at: bot.created_at,
            updated_at: bot.updated_at,
            version: bot.version,
            shareable_url: bot.share_url(public_url),
            messages_today: None,
            tokens_today: None,
        }
    }
}

/// `POST /chat-config/{id}/share-link`: the new code and link; the old one stops working.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareLinkView {
    pub share_code: String,
    pub shareable_url: String,
}

/// What a friend sees of a bot they may use: no id, since friends reach a bot through
/// its share code only.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicBot {
    pub title: String,
    pub description: String,
    pub greeting: String,
    pub model: String,
    /// Present only when the owner set `showPrompt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// The persona documents' texts, where the view is read by share code and the owner
    /// set `showPrompt`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub persona: Vec<PublicPersonaText>,
}

/// A persona document's text as friends may read it.
#[derive(Serialize, ToSchema)]
pub struct PublicPersonaText {
    pub kind: PersonaKind,
    pub text: String,
}

impl From<PublicBotView> for PublicBot {
    fn from(v: PublicBotView) -> Self {
        Self {
            title: v.title.as_str().to_owned(),
            description: v.description.as_str().to_owned(),
            greeting: v.greeting.as_str().to_owned(),
            model: v.model.as_str().to_owned(),
            system_prompt: v.system_prompt.map(|p| p.as_str().to_owned()),
            persona: v
                .persona
                .into_iter()
                .map(|d| PublicPersonaText {
                    kind: d.kind.into(),
                    text: d.text,
                })
                .collect(),
        }
    }
}

/// A model of `GET /models`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelView {
    pub id: String,
    pub provider: ProviderKind,
    /// Whether the provider has what it needs (an API key) to serve calls.
    pub configured: bool,
}

/// `GET /models`: the allowed models and the default for new bots.
#[derive(Serialize, ToSchema)]
pub struct Models {
    pub items: Vec<ModelView>,
    pub default: String,
}

impl Models {
    pub fn new(catalog: &models::ModelCatalog) -> Self {
        Self {
            items: catalog
                .models()
                .iter()
                .map(|m| ModelView {
                    id: m.id.as_str().to_owned(),
                    provider: m.provider.into(),
                    configured: m.configured,
                })
                .collect(),
            default: catalog.default_model().as_str().to_owned(),
        }
    }
}

/// A persona document without its content.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonaInfoView {
    pub kind: PersonaKind,
    /// The size of the text the model reads.
    pub text_bytes: u64,
    /// The size of the uploaded PDF, for a profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_bytes: Option<u64>,
    /// What the text costs of the bot's memory budget on every call.
    pub estimated_tokens: u32,
    pub updated_at: DateTime<Utc>,
}

impl From<PersonaInfo> for PersonaInfoView {
    fn from(i: PersonaInfo) -> Self {
        Self {
            kind: i.kind.into(),
            text_bytes: i.text_bytes,
            pdf_bytes: i.original_bytes,
            estimated_tokens: i.estimated_tokens,
            updated_at: i.updated_at,
        }
    }
}

/// A persona document with its content: facts as the JSON they were uploaded as, the
/// other kinds (a profile's extracted text) as a string.
#[derive(Serialize, ToSchema)]
pub struct PersonaView {
    #[serde(flatten)]
    pub info: PersonaInfoView,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

impl From<&PersonaDoc> for PersonaView {
    fn from(doc: &PersonaDoc) -> Self {
        let content = match doc.kind {
            persona::PersonaKind::Facts => {
                serde_json::from_str(&doc.text).unwrap_or_else(|_| serde_json::Value::String(doc.text.clone()))
            }
            _ => serde_json::Value::String(doc.text.clone()),
        };
        Self {
            info: doc.info().into(),
            content,
        }
    }
}

/// A message as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub seq: u64,
    pub role: Role,
    /// A user id, `guest`, or `bot`.
    pub author_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    pub content: String,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    /// On a user message: the seq of its reply, once stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_seq: Option<u64>,
}

/// Tokens a reply used. Input tokens only for the bot's owner: to anyone else they
/// would tell the size of a hidden prompt and persona.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u32>,
    pub output_tokens: u32,
}

impl UsageView {
    pub fn new(usage: Usage, owner_view: bool) -> Self {
        Self {
            input_tokens: owner_view.then_some(usage.input_tokens),
            output_tokens: usage.output_tokens,
        }
    }
}

impl MessageView {
    pub fn new(m: Message, owner_view: bool) -> Self {
        Self {
            seq: m.seq,
            role: m.role.into(),
            author_id: m.author_id,
            author_name: m.author_name,
            content: m.content,
            status: m.status.into(),
            created_at: m.created_at,
            usage: m.usage.map(|u| UsageView::new(u, owner_view)),
            client_message_id: m.client_message_id.map(|c| c.as_str().to_owned()),
            reply_seq: m.reply_seq,
        }
    }
}

/// `{messages, next}` for histories; `next` is the cursor of the following page.
#[derive(Serialize, ToSchema)]
pub struct History {
    pub messages: Vec<MessageView>,
    pub next: Option<u64>,
}

impl From<HistoryPage> for History {
    fn from(page: HistoryPage) -> Self {
        let owner_view = page.owner_view;
        Self {
            messages: page
                .messages
                .into_iter()
                .map(|m| MessageView::new(m, owner_view))
                .collect(),
            next: page.next,
        }
    }
}

/// Who a session belongs to: a signed-in user, or a guest.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum ParticipantView {
    User { user_id: String },
    Guest,
}

/// The session's own settings, honoured while the bot allows them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverridesView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
}

/// A session as its participant sees it. The bot's id only in the owner's own sessions
/// (the only ones opened by id); everyone else knows the bot by its public view.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_config_id: Option<String>,
    pub participant: ParticipantView,
    pub title: String,
    pub overrides: OverridesView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The public view of the bot, where the route loads it (absent once deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<PublicBot>,
    /// Whether the session may go on: false once its share link was rotated or turned
    /// off, or its bot deleted; its history can still be read. Where the route loads
    /// the bot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_send: Option<bool>,
}

impl SessionView {
    /// `bot` is the session's bot where the route loaded it.
    pub fn new(session: Session, bot: Option<&BotConfig>) -> Self {
        let owners = session.share_code.is_none();
        Self {
            chat_config_id: owners.then(|| session.chat_config_id.to_string()),
            can_send: Some(bot.is_some_and(|b| policy::link_still_open(b, session.share_code.as_ref()).is_ok())),
            bot: bot.map(|b| PublicBotView::from(b).into()),
            session_id: session.session_id.to_string(),
            participant: match session.participant {
                session::Participant::User { user_id } => ParticipantView::User {
                    user_id: user_id.to_string(),
                },
                session::Participant::Guest => ParticipantView::Guest,
            },
            title: session.title.as_str().to_owned(),
            overrides: OverridesView {
                model: session.overrides.model.map(|m| m.as_str().to_owned()),
                system_prompt: session.overrides.system_prompt.map(|p| p.as_str().to_owned()),
                temperature: session.overrides.temperature.map(|t| t.value()),
            },
            created_at: session.created_at,
            updated_at: session.updated_at,
        }
    }

    /// A session in a listing, without its bot.
    pub fn listed(session: Session) -> Self {
        let mut view = Self::new(session, None);
        view.can_send = None;
        view
    }
}

/// `POST /chat-session`: the session, and for a guest the token bound to it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartedSession {
    #[serde(flatten)]
    pub session: SessionView,
    /// For a caller without an account: the bearer token of this one session.
    pub guest_token: Option<String>,
}

/// Both send routes: the reply's text as `message` (AI Maker's field), the stored user
/// message and reply, and the tokens the model used.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// The session, on `POST /session-message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The reply's text; null when the bot stays silent (a `mention` room).
    pub message: Option<String>,
    pub user_message: MessageView,
    pub reply: Option<MessageView>,
    pub usage: Option<UsageView>,
}

impl From<SendOutcome> for Sent {
    fn from(o: SendOutcome) -> Self {
        let owner_view = o.owner_view;
        Self {
            session_id: None,
            message: o.reply.as_ref().map(|r| r.content.clone()),
            usage: o
                .reply
                .as_ref()
                .and_then(|r| r.usage)
                .map(|u| UsageView::new(u, owner_view)),
            user_message: MessageView::new(o.user_message, owner_view),
            reply: o.reply.map(|r| MessageView::new(r, owner_view)),
        }
    }
}

/// A member of a room.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: String,
    pub display_name: String,
    pub joined_at: DateTime<Utc>,
}

impl From<RoomMember> for MemberView {
    fn from(m: RoomMember) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            display_name: m.display_name,
            joined_at: m.joined_at,
        }
    }
}

/// A room for its members; the invite code only for its creator.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    pub room_id: String,
    /// Only for the bot's owner, in a room they opened by the bot's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_config_id: Option<String>,
    pub creator_id: String,
    pub title: String,
    pub reply_mode: ReplyMode,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    /// On `GET /room/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberView>>,
}

impl RoomView {
    pub fn new(room: &Room, viewer_is_creator: bool, members: Option<Vec<RoomMember>>) -> Self {
        Self {
            room_id: room.room_id.to_string(),
            chat_config_id: (viewer_is_creator && room.share_code.is_none()).then(|| room.chat_config_id.to_string()),
            creator_id: room.creator_id.to_string(),
            title: room.title.as_str().to_owned(),
            reply_mode: room.reply_mode.into(),
            created_at: room.created_at,
            invite_code: viewer_is_creator.then(|| room.invite_code.as_str().to_owned()),
            members: members.map(|ms| ms.into_iter().map(MemberView::from).collect()),
        }
    }
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the route answers without touching any dependency.
    pub status: String,
}

/// `POST /dev/sign-in`: tokens shaped like Cognito's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    pub id_token: String,
    pub access_token: String,
    /// Seconds until both expire.
    pub expires_in: u64,
}

impl From<parley_auth::DevTokens> for SignedIn {
    fn from(t: parley_auth::DevTokens) -> Self {
        Self {
            id_token: t.id_token,
            access_token: t.access_token,
            expires_in: t.expires_in,
        }
    }
}

/// `GET /.well-known/jwks.json`: a JSON Web Key Set (RFC 7517).
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct Jwks(serde_json::Value);

impl From<parley_auth::JwkSet> for Jwks {
    fn from(set: parley_auth::JwkSet) -> Self {
        Self(serde_json::to_value(set).unwrap_or_default())
    }
}

/// The data of a stream's `delta` event; its `id` is the reply's length so far, in
/// characters.
#[derive(Serialize, ToSchema)]
pub struct StreamDelta {
    pub text: String,
}

/// The data of a stream's `done` event: the reply as stored at its end (`complete` or
/// `stopped`), or null when the bot stays silent (a `mention` room).
#[derive(Serialize, ToSchema)]
pub struct StreamDone {
    pub reply: Option<MessageView>,
}
