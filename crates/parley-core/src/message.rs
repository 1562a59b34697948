//! Messages: one stored item each, numbered per conversation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{RoomId, SessionId};
use crate::values::ClientMessageId;

/// The conversation a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Conversation {
    Session(SessionId),
    Room(RoomId),
}

impl Conversation {
    /// A storage key, unique across both kinds.
    pub fn key(&self) -> String {
        match self {
            Conversation::Session(id) => format!("s#{id}"),
            Conversation::Room(id) => format!("r#{id}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// A user message whose reply is being generated.
    Pending,
    /// A reply being generated: its text so far is stored as it grows.
    Streaming,
    /// Complete: a user message with its reply, a reply written to its end, or a message
    /// that wants no reply.
    Complete,
    /// A reply whose generation was stopped on request; it keeps the text written so far.
    Stopped,
    /// The model call failed (a reply keeps what was written); a retry with the same
    /// `clientMessageId` tries again.
    Failed,
}

impl MessageStatus {
    /// Whether a reply in this status is still being written.
    pub fn is_final(self) -> bool {
        !matches!(self, MessageStatus::Pending | MessageStatus::Streaming)
    }
}

/// Tokens a model call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// The author id of the bot's own messages.
pub const BOT_AUTHOR: &str = "bot";
/// The author id of a guest's messages.
pub const GUEST_AUTHOR: &str = "guest";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
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
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<ClientMessageId>,
    /// On a user message: the seq of the bot's reply, once stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_seq: Option<u64>,
    /// On a reply being written: who writes it, and until when (renewed as it works). A
    /// `streaming` reply whose lease has run out has lost its writer and is failed when
    /// read or retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
}

/// A writer's claim on a reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// Which generator holds it (a process and task), for the log.
    pub owner: String,
    pub until: DateTime<Utc>,
}

impl Message {
    /// Whether this is a reply still being written whose writer's lease ran out at `now`.
    pub fn lease_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == MessageStatus::Streaming && self.lease.as_ref().is_none_or(|l| l.until <= now)
    }
}

/// A message before the store gives it its sequence number.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    pub role: Role,
    pub author_id: String,
    pub author_name: Option<String>,
    pub content: String,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
    pub usage: Option<Usage>,
    pub client_message_id: Option<ClientMessageId>,
    /// A reply's writer's lease, from its first write.
    pub lease: Option<Lease>,
}

impl NewMessage {
    /// The message as stored with sequence number `seq` (and no reply yet).
    pub fn numbered(&self, seq: u64) -> Message {
        Message {
            seq,
            role: self.role,
            author_id: self.author_id.clone(),
            author_name: self.author_name.clone(),
            content: self.content.clone(),
            status: self.status,
            created_at: self.created_at,
            usage: self.usage,
            client_message_id: self.client_message_id.clone(),
            lease: self.lease.clone(),
            reply_seq: None,
        }
    }
}
