//! [`MessageRecord`]: a message, as kept in SQLite's `messages.body` and DynamoDB's
//! message item (`body`). Both stores also keep the status (and the reply's seq, and
//! SQLite the seq) in columns or attributes of their own, which override the copies in
//! the body; [`MessageStatusRecord::name`] is the status as those columns hold it.

use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::message::{Lease, Message, MessageStatus, Role, Usage};
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
    #[serde(rename = "lease", default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseRecord>,
}

/// A writer's lease on a reply being written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    #[serde(rename = "owner")]
    pub owner: String,
    #[serde(rename = "until")]
    pub until: DateTime<Utc>,
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
        #[serde(rename = "lease")]
        lease: Option<LeaseRecord>,
    }
    let record = MessageRecord::from(reply);
    let patch = ReplyPatch {
        content: &record.content,
        status: record.status,
        usage: record.usage,
        lease: record.lease,
    };
    serde_json::to_string(&patch).map_err(|source| store_err(RecordError::Json { kind: KIND, source }))
}

/// The fields of a message that no reply save changes — seq, role, author, author
/// name, creation time and client message id — as pieces of the body this build
/// writes for it, so that a store can check, in the condition of the very write that
/// replaces a body, that the stored body is of the same message (DynamoDB's
/// `begins_with` and `contains`). A body that has `head` as its prefix, contains
/// `created_at`, and contains `client_message_id` (or, when that is `None`, not
/// [`CLIENT_MESSAGE_ID_FIELD`]) holds these fields exactly as given: every piece ends
/// on a JSON delimiter, and none can match inside a string value, where every quote
/// is escaped. The converse does not hold for bodies written otherwise (before
/// `schemaVersion`, say): a store falls back to reading the body then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyIdentity {
    /// The body up to and including `,"content":`.
    pub head: String,
    /// `,"createdAt":"…"`.
    pub created_at: String,
    /// `,"clientMessageId":"…"`, when the message has one.
    pub client_message_id: Option<String>,
}

/// The start of the client message id field in a body, which a body of a message
/// without one does not contain.
pub const CLIENT_MESSAGE_ID_FIELD: &str = ",\"clientMessageId\":";

impl BodyIdentity {
    /// The identity of `message` in the body this build writes for it.
    pub fn of(message: &Message) -> Result<Self, StoreError> {
        let json = |source| store_err(RecordError::Json { kind: KIND, source });
        let record = MessageRecord::from(message);
        let body = serde_json::to_string(&record).map_err(json)?;
        // The first `,"content":` is the field itself: the fields before it are
        // numbers and escaped strings.
        let end = body
            .find(CONTENT_FIELD)
            .ok_or_else(|| StoreError::Other("a message body without its content field".into()))?;
        let created_at = serde_json::to_string(&record.created_at).map_err(json)?;
        let client_message_id = record
            .client_message_id
            .as_ref()
            .map(|id| serde_json::to_string(id).map(|id| format!("{CLIENT_MESSAGE_ID_FIELD}{id}")))
            .transpose()
            .map_err(json)?;
        Ok(Self {
            head: body[..end + CONTENT_FIELD.len()].to_owned(),
            created_at: format!(",\"createdAt\":{created_at}"),
            client_message_id,
        })
    }
}

const CONTENT_FIELD: &str = ",\"content\":";

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
            lease: m.lease.as_ref().map(|l| LeaseRecord {
                owner: l.owner.clone(),
                until: l.until,
            }),
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
            lease: r.lease.map(|l| Lease {
                owner: l.owner,
                until: l.until,
            }),
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

    // Protects reply saves in DynamoDB, whose condition is that the stored body has
    // this identity: the pieces are found in the body written for the message, and a
    // message differing in any of those fields (the author name only by a suffix, the
    // client message id only by its absence) does not have them all.
    #[test]
    fn a_body_identity_is_found_in_its_body_and_tells_other_messages_apart() {
        let message = Message {
            lease: None,
            seq: 2,
            role: Role::Assistant,
            author_id: "bot".into(),
            author_name: Some("Ann".into()),
            content: r#"x","createdAt":"1970-01-01T00:00:01Z"#.into(),
            status: MessageStatus::Streaming,
            created_at: DateTime::UNIX_EPOCH,
            usage: None,
            client_message_id: Some(ClientMessageId::from_trusted("c-1")),
            reply_seq: None,
        };
        let has = |body: &str, id: &BodyIdentity| {
            body.starts_with(&id.head)
                && body.contains(&id.created_at)
                && match &id.client_message_id {
                    Some(cmid) => body.contains(cmid),
                    None => !body.contains(CLIENT_MESSAGE_ID_FIELD),
                }
        };
        let body = crate::encode::<MessageRecord>(&message).expect("encodes");
        let identity = BodyIdentity::of(&message).expect("identity");
        assert!(has(&body, &identity), "{identity:?} in {body}");
        assert!(identity.head.ends_with(r#""authorName":"Ann","content":"#));
        // A save changes none of it.
        let saved = Message {
            content: "more".into(),
            status: MessageStatus::Complete,
            usage: Some(Usage {
                input_tokens: 1,
                output_tokens: 2,
            }),
            ..message.clone()
        };
        assert_eq!(BodyIdentity::of(&saved).expect("identity"), identity);
        let others = [
            Message {
                seq: 3,
                ..message.clone()
            },
            Message {
                role: Role::User,
                ..message.clone()
            },
            Message {
                author_id: "bot2".into(),
                ..message.clone()
            },
            Message {
                author_name: Some("Anna".into()),
                ..message.clone()
            },
            Message {
                author_name: None,
                ..message.clone()
            },
            // The content above holds this time as text, escaped in the body.
            Message {
                created_at: DateTime::from_timestamp(1, 0).expect("a time"),
                ..message.clone()
            },
            Message {
                client_message_id: Some(ClientMessageId::from_trusted("c-10")),
                ..message.clone()
            },
            Message {
                client_message_id: None,
                ..message.clone()
            },
        ];
        for other in others {
            let theirs = BodyIdentity::of(&other).expect("identity");
            assert!(!has(&body, &theirs), "{other:?} must not pass as the stored message");
        }
    }

    // Protects reply saves in SQLite (`json_patch(body, patch)`): the patch names the
    // fields as the body does, carries the status under its stored name, and removes
    // `usage` (null) when the reply has none, so the patched body reads as the reply.
    #[test]
    fn a_reply_patch_rewrites_content_status_usage_and_lease_by_their_body_names() {
        let mut reply = Message {
            lease: None,
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
            r#"{"content":"Half \"way\"\n","status":"ok","usage":{"inputTokens":1,"outputTokens":2},"lease":null}"#
        );
        reply.status = MessageStatus::Streaming;
        reply.usage = None;
        reply.lease = Some(Lease {
            owner: "pid1-2".into(),
            until: DateTime::UNIX_EPOCH,
        });
        assert_eq!(
            reply_patch(&reply).expect("encodes"),
            r#"{"content":"Half \"way\"\n","status":"streaming","usage":null,"lease":{"owner":"pid1-2","until":"1970-01-01T00:00:00Z"}}"#
        );
    }
}
