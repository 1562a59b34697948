//! Response shapes. Field names are camelCase, and AI Maker's are kept
//! (`chatConfigId`, `shareableUrl`, `sessionId`, `message`).

use chrono::{DateTime, Utc};
use parley_core::bot::{BotConfig, PublicBotView};
use parley_core::ids::{BotId, SessionId};
use parley_core::message::{Message, MessageStatus, Role, Usage};
use parley_core::policy;
use parley_core::ports::Page;
use parley_core::room::{Room, RoomMember};
use parley_core::session::{Overrides, Participant, Session};
use parley_core::usecases::{HistoryPage, SendOutcome};
use parley_core::values::{ClientMessageId, Title};
use serde::Serialize;

/// A bot as its owner and admins see it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FullBot<'a> {
    #[serde(flatten)]
    pub bot: &'a BotConfig,
    pub shareable_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_today: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_today: Option<u32>,
}

impl<'a> FullBot<'a> {
    pub fn new(bot: &'a BotConfig, public_url: &str) -> Self {
        Self {
            bot,
            shareable_url: bot.share_url(public_url),
            messages_today: None,
            tokens_today: None,
        }
    }
}

/// `{items, next}` for every listing.
#[derive(Serialize)]
pub struct List<T: Serialize> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T: Serialize> List<T> {
    pub fn map<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(f).collect(),
            next: page.next,
        }
    }
}

/// A message as the API shows it.
#[derive(Serialize)]
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
    pub client_message_id: Option<ClientMessageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_seq: Option<u64>,
}

/// Tokens a reply used. Input tokens only for the bot's owner: to anyone else they
/// would tell the size of a hidden prompt and persona.
#[derive(Serialize)]
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
            role: m.role,
            author_id: m.author_id,
            author_name: m.author_name,
            content: m.content,
            status: m.status,
            created_at: m.created_at,
            usage: m.usage.map(|u| UsageView::new(u, owner_view)),
            client_message_id: m.client_message_id,
            reply_seq: m.reply_seq,
        }
    }
}

/// `{messages, next}` for histories; `next` is the cursor of the following page.
#[derive(Serialize)]
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

/// A session as its participant sees it. The bot's id only in the owner's own sessions
/// (the only ones opened by id); everyone else knows the bot by its public view.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub session_id: SessionId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_config_id: Option<BotId>,
    pub participant: Participant,
    pub title: Title,
    pub overrides: Overrides,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The public view of the bot, where the route loads it (absent once deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<PublicBotView>,
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
            chat_config_id: owners.then(|| session.chat_config_id.clone()),
            can_send: Some(bot.is_some_and(|b| policy::link_still_open(b, session.share_code.as_ref()).is_ok())),
            bot: bot.map(PublicBotView::from),
            session_id: session.session_id,
            participant: session.participant,
            title: session.title,
            overrides: session.overrides,
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

/// Both send routes: the reply's text as `message` (AI Maker's field), the stored user
/// message and reply, and the tokens the model used.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub message: Option<String>,
    pub user_message: MessageView,
    pub reply: Option<MessageView>,
    pub usage: Option<UsageView>,
}

impl From<SendOutcome> for Sent {
    fn from(o: SendOutcome) -> Self {
        let owner_view = o.owner_view;
        Self {
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

/// A room for its members; the invite code only for its creator.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    pub room_id: String,
    /// Only for the bot's owner, in a room they opened by the bot's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_config_id: Option<String>,
    pub creator_id: String,
    pub title: String,
    pub reply_mode: parley_core::room::ReplyMode,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<RoomMember>>,
}

impl RoomView {
    pub fn new(room: &Room, viewer_is_creator: bool, members: Option<Vec<RoomMember>>) -> Self {
        Self {
            room_id: room.room_id.to_string(),
            chat_config_id: (viewer_is_creator && room.share_code.is_none()).then(|| room.chat_config_id.to_string()),
            creator_id: room.creator_id.to_string(),
            title: room.title.as_str().to_owned(),
            reply_mode: room.reply_mode,
            created_at: room.created_at,
            invite_code: viewer_is_creator.then(|| room.invite_code.as_str().to_owned()),
            members,
        }
    }
}
