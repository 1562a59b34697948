//! Response shapes. Field names are camelCase, and AI Maker's are kept
//! (`chatConfigId`, `shareableUrl`, `sessionId`, `message`).

use parley_core::bot::{BotConfig, PublicBotView};
use parley_core::message::{Message, Usage};
use parley_core::ports::Page;
use parley_core::room::{Room, RoomMember};
use parley_core::session::Session;
use parley_core::usecases::SendOutcome;
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

/// `{messages, next}` for histories; `next` is the cursor of the following page.
#[derive(Serialize)]
pub struct History {
    pub messages: Vec<Message>,
    pub next: Option<u64>,
}

/// A session and the public view of its bot (absent once the bot is deleted).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    #[serde(flatten)]
    pub session: Session,
    pub bot: Option<PublicBotView>,
}

/// Both send routes: the reply's text as `message` (AI Maker's field), the stored user
/// message and reply, and the tokens the model used.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub message: Option<String>,
    pub user_message: Message,
    pub reply: Option<Message>,
    pub usage: Option<Usage>,
}

impl From<SendOutcome> for Sent {
    fn from(o: SendOutcome) -> Self {
        Self {
            message: o.reply.as_ref().map(|r| r.content.clone()),
            usage: o.reply.as_ref().and_then(|r| r.usage),
            user_message: o.user_message,
            reply: o.reply,
        }
    }
}

/// A room for its members; the invite code only for its creator.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    pub room_id: String,
    pub chat_config_id: String,
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
            chat_config_id: room.chat_config_id.to_string(),
            creator_id: room.creator_id.to_string(),
            title: room.title.as_str().to_owned(),
            reply_mode: room.reply_mode,
            created_at: room.created_at,
            invite_code: viewer_is_creator.then(|| room.invite_code.as_str().to_owned()),
            members,
        }
    }
}
