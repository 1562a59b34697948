//! The ports: what the use cases need from the outside world, one trait per capability.
//! The SQLite adapters implement them locally, the AWS adapters in the cloud, and the
//! contract suites in `parley-testkit` hold both to the same behaviour.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::bot::BotConfig;
use crate::error::{LlmError, PdfError, StoreError};
use crate::ids::{BotId, RoomId, SessionId, ShareCode, UserId};
use crate::message::{Conversation, Message, MessageStatus, NewMessage, Role, Usage};
use crate::persona::{PersonaDoc, PersonaInfo, PersonaKind};
use crate::quota::{QuotaAdd, QuotaCharge, QuotaOutcome};
use crate::room::{Room, RoomMember};
use crate::session::Session;
use crate::values::ClientMessageId;

/// One page of a listing, newest first, and the cursor of the next page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id of the last item when more may follow.
    pub next: Option<String>,
}

/// Which page of a listing: items whose id sorts before `after` (ids are time-ordered,
/// so this is "older than"), at most `limit` of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u32,
}

/// Bot configs, with optimistic concurrency on `version`.
#[async_trait]
pub trait BotStore: Send + Sync {
    /// Stores a new bot; `AlreadyExists` if its id or share code is taken.
    async fn create(&self, bot: &BotConfig) -> Result<(), StoreError>;
    async fn get(&self, id: &BotId) -> Result<Option<BotConfig>, StoreError>;
    /// Replaces the stored bot only if its version is still `expected_version`
    /// (`VersionMismatch` otherwise, and when the bot is gone). `bot.version` is the new one.
    async fn update(&self, bot: &BotConfig, expected_version: u64) -> Result<(), StoreError>;
    /// Deletes the bot; deleting a missing bot is not an error.
    async fn delete(&self, id: &BotId) -> Result<(), StoreError>;
    async fn find_by_share_code(&self, code: &ShareCode) -> Result<Option<BotConfig>, StoreError>;
    async fn list_by_owner(&self, owner: &UserId, page: &PageRequest) -> Result<Page<BotConfig>, StoreError>;
    /// Every bot, for admins.
    async fn list_all(&self, page: &PageRequest) -> Result<Page<BotConfig>, StoreError>;
}

/// Persona documents, kept beside their bot's config: at most one of each kind per bot.
#[async_trait]
pub trait PersonaStore: Send + Sync {
    /// Stores the document, replacing the bot's document of the same kind.
    async fn put(&self, bot: &BotId, doc: &PersonaDoc) -> Result<(), StoreError>;
    /// The document with its original file (the profile PDF), if there is one.
    async fn get(&self, bot: &BotId, kind: PersonaKind) -> Result<Option<PersonaDoc>, StoreError>;
    /// Deletes the document; `false` when there was none.
    async fn delete(&self, bot: &BotId, kind: PersonaKind) -> Result<bool, StoreError>;
    /// Deletes every document of the bot; deleting none is not an error.
    async fn delete_all(&self, bot: &BotId) -> Result<(), StoreError>;
    /// What the bot has, without contents, in [`PersonaKind::ALL`] order.
    async fn list(&self, bot: &BotId) -> Result<Vec<PersonaInfo>, StoreError>;
    /// The text of every document of the bot, without original files: what a model call
    /// needs, in one read.
    async fn texts(&self, bot: &BotId) -> Result<Vec<(PersonaKind, String)>, StoreError>;
}

/// Sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create(&self, session: &Session) -> Result<(), StoreError>;
    async fn get(&self, id: &SessionId) -> Result<Option<Session>, StoreError>;
    /// Replaces title and overrides of an existing session.
    async fn update(&self, session: &Session) -> Result<(), StoreError>;
    /// Deletes the session and its messages.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError>;
    async fn list_by_user(&self, user: &UserId, page: &PageRequest) -> Result<Page<Session>, StoreError>;
}

/// Rooms and their members.
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Stores a new room with its creator as the first member.
    async fn create(&self, room: &Room, creator: &RoomMember) -> Result<(), StoreError>;
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError>;
    /// Replaces title, reply mode and invite code of an existing room.
    async fn update(&self, room: &Room) -> Result<(), StoreError>;
    /// Deletes the room, its members and its messages.
    async fn delete(&self, id: &RoomId) -> Result<(), StoreError>;
    /// Adds a member; adding an existing member changes nothing. `NotFound` when the
    /// room is gone (deleted during the join).
    async fn add_member(&self, room: &RoomId, member: &RoomMember) -> Result<(), StoreError>;
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError>;
    async fn get_member(&self, room: &RoomId, user: &UserId) -> Result<Option<RoomMember>, StoreError>;
    /// The room and the user's membership of it, read together (what every member's
    /// request checks first); `None` when the room is gone or the user is not a member.
    /// A store that can read both in one request overrides this.
    async fn get_with_member(&self, room: &RoomId, user: &UserId) -> Result<Option<(Room, RoomMember)>, StoreError> {
        let Some(found) = self.get(room).await? else {
            return Ok(None);
        };
        Ok(self.get_member(room, user).await?.map(|member| (found, member)))
    }
    async fn list_members(&self, room: &RoomId) -> Result<Vec<RoomMember>, StoreError>;
    /// The rooms the user is a member of.
    async fn list_by_member(&self, user: &UserId, page: &PageRequest) -> Result<Page<Room>, StoreError>;
}

/// Which messages of a conversation, oldest first within the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRange {
    /// The newest `limit` messages with `seq < before` (all when `before` is `None`).
    Before { before: Option<u64>, limit: u32 },
    /// The oldest `limit` messages with `seq > after`.
    After { after: u64, limit: u32 },
}

/// What [`MessageStore::append_charged`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Appended {
    /// The message is stored and every counter charged.
    Stored(Message),
    /// Nothing is stored or charged: the counter with this key is at its limit.
    Denied { key: String },
}

/// Messages: one item per message, so a send costs the same however long the
/// conversation is.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message with the next sequence number of its conversation, assigned by
    /// the store so that concurrent appends never share one. `AlreadyExists` when the
    /// message carries a client message id that its author already used there.
    async fn append(&self, conversation: &Conversation, message: &NewMessage) -> Result<Message, StoreError>;
    /// Stores a message as [`MessageStore::append`] does and charges `charges` as
    /// [`QuotaStore::try_consume`] does, in one transaction: both or neither. A counter
    /// at its limit stores nothing (`Denied`, naming it); a client message id its author
    /// already used is `AlreadyExists` and charges nothing. This is how a send is
    /// charged exactly once per stored message, however many retries race.
    ///
    /// With a `reply`, the same transaction also stores it right after the message
    /// (seq + 1, the placeholder of the reply being written), and the stored message's
    /// `reply_seq` names it: a send opens its whole exchange in one write.
    async fn append_charged(
        &self,
        conversation: &Conversation,
        message: &NewMessage,
        reply: Option<&NewMessage>,
        charges: &[QuotaCharge],
    ) -> Result<Appended, StoreError>;
    async fn get(&self, conversation: &Conversation, seq: u64) -> Result<Option<Message>, StoreError>;
    async fn find_by_client_id(
        &self,
        conversation: &Conversation,
        author_id: &str,
        client_message_id: &ClientMessageId,
    ) -> Result<Option<Message>, StoreError>;
    /// Sets a message's status and, on a user message, the seq of its reply.
    async fn set_status(
        &self,
        conversation: &Conversation,
        seq: u64,
        status: MessageStatus,
        reply_seq: Option<u64>,
    ) -> Result<(), StoreError>;
    async fn list(&self, conversation: &Conversation, range: MessageRange) -> Result<Vec<Message>, StoreError>;
    /// Writes a reply as it grows: its `content`, `status` and `usage` (the other fields
    /// as stored), if its stored status is still `expected`. `false`, changing nothing,
    /// when it is not: generation was stopped, or another writer finished it. A reply
    /// that does not exist is `NotFound`. How replies outlive their connection.
    async fn save_reply(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
    ) -> Result<bool, StoreError>;
    /// Ends an exchange in one transaction: saves `reply` as [`MessageStore::save_reply`]
    /// does if its stored status is still `expected`, marks the user message `asker_seq`
    /// `complete`, answered by `reply`, and adds `tokens` as [`QuotaStore::add`] does.
    /// `false`, changing nothing, when the reply's status is not `expected`; `NotFound`,
    /// changing nothing, when the reply or the user message does not exist. How a reply
    /// that ends well is stored with one write.
    async fn finish_exchange(
        &self,
        conversation: &Conversation,
        reply: &Message,
        expected: MessageStatus,
        asker_seq: u64,
        tokens: Option<&QuotaAdd>,
    ) -> Result<bool, StoreError>;
    /// Moves a message from `expected` to `status`, leaving its content; `false`,
    /// changing nothing, when its stored status is not `expected`. A message that does
    /// not exist is `NotFound`. Stops a reply, and fails one whose writer died.
    async fn set_status_if(
        &self,
        conversation: &Conversation,
        seq: u64,
        expected: MessageStatus,
        status: MessageStatus,
    ) -> Result<bool, StoreError>;
}

/// Atomic counters for quotas.
#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// Increments every counter by one, or none of them if any stands at its limit.
    /// Atomic against concurrent calls: a limit is never overspent.
    async fn try_consume(&self, charges: &[QuotaCharge]) -> Result<QuotaOutcome, StoreError>;
    /// The counter's current value (0 when absent or expired).
    async fn used(&self, key: &str) -> Result<u32, StoreError>;
    /// Adds `amount` to a counter with no limit (token usage), creating it if needed.
    async fn add(&self, key: &str, amount: u32, expires_at: Option<DateTime<Utc>>) -> Result<(), StoreError>;
    /// Gives back one unit of each counter (never below zero; an absent counter stays
    /// absent): the refund of a send whose exchange failed.
    async fn release(&self, keys: &[String]) -> Result<(), StoreError>;
}

/// One turn of the conversation sent to a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTurn {
    pub role: Role,
    pub content: String,
}

/// A model call.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system_prompt: String,
    /// Oldest first; the last one is the new user message.
    pub messages: Vec<ChatTurn>,
    pub temperature: f32,
    pub max_output_tokens: u32,
}

/// A model's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatReply {
    pub text: String,
    pub usage: Usage,
}

/// A piece of a streamed reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// More text of the reply.
    Delta(String),
    /// The reply is complete; the tokens it used.
    Done(Usage),
}

/// A reply as it is produced. It ends with `Done`, or with an error if the provider
/// breaks off in the middle.
pub type ReplyStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// A chat model.
#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// The whole reply at once.
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError>;

    /// The reply as it is produced. Providers that cannot stream answer with the whole
    /// reply as one delta.
    async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, LlmError> {
        let reply = self.complete(request).await?;
        let events = [Ok(StreamEvent::Delta(reply.text)), Ok(StreamEvent::Done(reply.usage))];
        Ok(Box::pin(futures::stream::iter(events)))
    }
}

/// Reads the text of a PDF (a persona's profile). Only the binaries that serve persona
/// uploads wire one in, so the others do not link a PDF parser.
#[async_trait]
pub trait PdfTextExtractor: Send + Sync {
    /// The raw text of `pdf`, in reading order as the extractor sees it (untidied), or
    /// why it was refused. An adapter bounds the memory, time and output it spends.
    async fn extract_text(&self, pdf: Vec<u8>) -> Result<String, PdfError>;
}

/// The time, injectable for tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// New ids and secrets, injectable for tests.
pub trait IdSource: Send + Sync {
    /// A new time-ordered object id (a ULID).
    fn new_id(&self) -> String;
    /// A new 128-bit random secret, URL-safe (share and invite codes).
    fn new_secret(&self) -> String;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// ULIDs and secrets from the operating system's random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_id(&self) -> String {
        ulid::Ulid::new().to_string()
    }

    fn new_secret(&self) -> String {
        use rand::RngCore;
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        // Six random bits per character, 32 characters: 192 bits, over the 128 required.
        bytes.iter().map(|b| ALPHABET[usize::from(b & 0x3f)] as char).collect()
    }
}
