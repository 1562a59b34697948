//! [`MessageRecord`]: a message, as kept in SQLite's `messages.body` and DynamoDB's
//! message item (`body`). Both stores also keep the status (and the reply's seq, and
//! SQLite the seq) in columns or attributes of their own, which override the copies in
//! the body; [`MessageStatusRecord::name`] is the status as those columns hold it.

use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::message::{Message, MessageStatus, Role, Usage};
use parley_core::values::ClientMessageId;
use serde::{Deserialize, Serialize};

use crate::{Record, RecordError, SCHEMA_VERSION, invalid, store_err};

const KIND: &str = "message";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    #[serde(rename = "schemaVersion", default = "crate::unversioned")]
    pub schema_version: u32,
    #[serde(rename = "seq")]
    pub seq: u64,
    #[serde(rename = "role")]
    pub role: RoleRecord,
    #[serde(rename = "authorId")]
    pub author_id: String,
    #[serde(rename = "authorName", default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    #[serde(rename = "content")]
    pub content: String,
    #[serde(rename = "status")]
    pub status: MessageStatusRecord,
    #[serde(rename = "createdAt")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "usage", default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageRecord>,
    #[serde(rename = "clientMessageId", default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(rename = "replySeq", default, skip_serializing_if = "Option::is_none")]
    pub reply_seq: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleRecord {
    #[serde(rename = "user")]
    User,
    #[serde(rename = "assistant")]
    Assistant,
}

/// A message's status; [`name`](Self::name) is its stored name, in the body and in the
/// stores' status columns alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageStatusRecord {
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "streaming")]
    Streaming,
    /// Complete; stored as `ok`, its name before replies streamed.
    #[serde(rename = "ok")]
    Ok,
    #[serde(rename = "stopped")]
    Stopped,
    #[serde(rename = "failed")]
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    #[serde(rename = "inputTokens")]
    pub input_tokens: u32,
    #[serde(rename = "outputTokens")]
    pub output_tokens: u32,
}

impl MessageStatusRecord {
    const ALL: [Self; 5] = [Self::Pending, Self::Streaming, Self::Ok, Self::Stopped, Self::Failed];

    /// The stored name of a status, as in the body.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Streaming => "streaming",
            Self::Ok => "ok",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }

    /// The stored name of a domain status.
    pub fn name_of(status: MessageStatus) -> &'static str {
        Self::from(status).name()
    }

    /// The domain status a stored name stands for; an unknown name is corrupt data.
    pub fn parse(name: &str) -> Result<MessageStatus, StoreError> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .map(MessageStatus::from)
            .ok_or_else(|| store_err(RecordError::UnknownStatus(name.to_owned())))
    }
}

/// What a reply save rewrites in a stored body — `content`, `status` and `usage`, the
/// fields a reply changes while it streams — as an RFC 7396 merge patch of the body
/// (`usage` null removes it), so a store can apply it to the stored body in place and
/// keep every other field as stored (SQLite's `json_patch`).
pub fn reply_patch(reply: &Message) -> Result<String, StoreError> {
    #[derive(Serialize)]
    struct ReplyPatch<'a> {
        #[serde(rename = "content")]
        content: &'a str,
        #[serde(rename = "status")]
        status: MessageStatusRecord,
        // Not skipped when absent: a null in a merge patch removes the field.
        #[serde(rename = "usage")]
        usage: Option<UsageRecord>,
    }
    let record = MessageRecord::from(reply);
    let patch = ReplyPatch {
        content: &record.content,
        status: record.status,
        usage: record.usage,
    };
    serde_json::to_string(&patch).map_err(|source| store_err(RecordError::Json { kind: KIND, source }))
}

impl Record for MessageRecord {
    type Domain = Message;
    const KIND: &'static str = KIND;
    const ID_FIELD: &'static str = "seq";
}

impl From<&Message> for MessageRecord {
    fn from(m: &Message) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            seq: m.seq,
            role: match m.role {
                Role::User => RoleRecord::User,
                Role::Assistant => RoleRecord::Assistant,
            },
            author_id: m.author_id.clone(),
            author_name: m.author_name.clone(),
            content: m.content.clone(),
            status: m.status.into(),
            created_at: m.created_at,
            usage: m.usage.map(|u| UsageRecord {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
            }),
            client_message_id: m.client_message_id.as_ref().map(|c| c.as_str().to_owned()),
            reply_seq: m.reply_seq,
        }
    }
}

impl TryFrom<MessageRecord> for Message {
    type Error = StoreError;

    fn try_from(r: MessageRecord) -> Result<Self, StoreError> {
        Ok(Self {
            seq: r.seq,
            role: match r.role {
                RoleRecord::User => Role::User,
                RoleRecord::Assistant => Role::Assistant,
            },
            author_id: r.author_id,
            author_name: r.author_name,
            content: r.content,
            status: r.status.into(),
            created_at: r.created_at,
            usage: r.usage.map(|u| Usage {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
            }),
            client_message_id: r
                .client_message_id
                .as_deref()
                .map(ClientMessageId::parse)
                .transpose()
                .map_err(invalid(KIND))?,
            reply_seq: r.reply_seq,
        })
    }
}

impl From<MessageStatus> for MessageStatusRecord {
    fn from(status: MessageStatus) -> Self {
        match status {
            MessageStatus::Pending => Self::Pending,
            MessageStatus::Streaming => Self::Streaming,
            MessageStatus::Complete => Self::Ok,
            MessageStatus::Stopped => Self::Stopped,
            MessageStatus::Failed => Self::Failed,
        }
    }
}

impl From<MessageStatusRecord> for MessageStatus {
    fn from(status: MessageStatusRecord) -> Self {
        match status {
            MessageStatusRecord::Pending => Self::Pending,
            MessageStatusRecord::Streaming => Self::Streaming,
            MessageStatusRecord::Ok => Self::Complete,
            MessageStatusRecord::Stopped => Self::Stopped,
            MessageStatusRecord::Failed => Self::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Protects the stores' status columns from drifting from the body: the name a
    // column holds is the name serde writes in the body, for every status.
    #[test]
    fn column_names_of_statuses_are_their_body_names() {
        for status in MessageStatusRecord::ALL {
            let json = serde_json::to_string(&status).expect("json");
            assert_eq!(json, format!("\"{}\"", status.name()));
            assert_eq!(
                MessageStatusRecord::from(MessageStatusRecord::parse(status.name()).expect("known")),
                status
            );
        }
        assert!(MessageStatusRecord::parse("done").is_err());
    }

    // Protects reply saves in SQLite (`json_patch(body, patch)`): the patch names the
    // fields as the body does, carries the status under its stored name, and removes
    // `usage` (null) when the reply has none, so the patched body reads as the reply.
    #[test]
    fn a_reply_patch_rewrites_content_status_and_usage_by_their_body_names() {
        let mut reply = Message {
            seq: 2,
            role: Role::Assistant,
            author_id: "bot".into(),
            author_name: None,
            content: "Half \"way\"\n".into(),
            status: MessageStatus::Complete,
            created_at: DateTime::UNIX_EPOCH,
            usage: Some(Usage {
                input_tokens: 1,
                output_tokens: 2,
            }),
            client_message_id: None,
            reply_seq: None,
        };
        assert_eq!(
            reply_patch(&reply).expect("encodes"),
            r#"{"content":"Half \"way\"\n","status":"ok","usage":{"inputTokens":1,"outputTokens":2}}"#
        );
        reply.status = MessageStatus::Streaming;
        reply.usage = None;
        assert_eq!(
            reply_patch(&reply).expect("encodes"),
            r#"{"content":"Half \"way\"\n","status":"streaming","usage":null}"#
        );
    }
}
