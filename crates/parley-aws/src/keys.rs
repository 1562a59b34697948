//! The key schema of the one DynamoDB table. Every item has `PK` and `SK`; items that
//! appear in a "mine" listing also have `GSI1PK`/`GSI1SK`; short-lived items have the
//! TTL attribute `expires_at` (epoch seconds).
//!
//! | item | `PK` | `SK` | `GSI1PK` / `GSI1SK` | other attributes |
//! |---|---|---|---|---|
//! | bot index | `BOTS` | `BOT#{botId}` | `OWNER#{ownerId}` / `BOT#{botId}` | `config` (JSON copy), `version`, `share_code` |
//! | share code | `SHARE#{code}` | `SHARE` | | `bot_id` |
//! | session | `SESSION#{id}` | `SESSION` | `SESSIONS#{userId}` / `SESSION#{id}` (not for guests) | `body` |
//! | room | `ROOM#{id}` | `ROOM` | | `body` |
//! | room member | `ROOM#{id}` | `MEMBER#{userId}` | `ROOMS#{userId}` / `ROOM#{id}` | `body` |
//! | message | `CONV#{s\|r}#{id}` | `MSG#{seq, 20 digits}` | | `body`, `seq`, `status`, `reply_seq` |
//! | client message id | `CONV#{s\|r}#{id}` | `CMID#{authorId}/{clientMessageId}` | | `seq` |
//! | quota counter | `QUOTA#{key}` | `QUOTA` | | `n`, `expires_at` |
//!
//! All bots share the partition `BOTS`, so the admin listing is a `Query`, not a
//! `Scan`; ids are ULIDs, so sorting by `SK` (or `GSI1SK`) descending lists newest first.
//! A user id never contains `/`, so the client-message-id key cannot be ambiguous, and
//! every user id comes last in its key, after a fixed prefix.

use parley_core::ids::{BotId, RoomId, SessionId, UserId};
use parley_core::message::Conversation;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
/// The TTL attribute: DynamoDB deletes an item some time after this instant (epoch
/// seconds). Deletion lags, so every read and condition also treats a past value as gone.
pub const EXPIRES_AT: &str = "expires_at";

pub const BOTS_PK: &str = "BOTS";
pub const BOT_PREFIX: &str = "BOT#";
pub const SESSION_PREFIX: &str = "SESSION#";
pub const ROOM_PREFIX: &str = "ROOM#";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const MSG_PREFIX: &str = "MSG#";

pub fn bot_sk(id: &BotId) -> String {
    format!("{BOT_PREFIX}{id}")
}

pub fn owner_gsi(owner: &UserId) -> String {
    format!("OWNER#{owner}")
}

pub fn share_pk(code: &str) -> String {
    format!("SHARE#{code}")
}

pub const SHARE_SK: &str = "SHARE";

pub fn session_pk(id: &SessionId) -> String {
    format!("{SESSION_PREFIX}{id}")
}

pub const SESSION_SK: &str = "SESSION";

pub fn sessions_gsi(user: &UserId) -> String {
    format!("SESSIONS#{user}")
}

pub fn room_pk(id: &RoomId) -> String {
    format!("{ROOM_PREFIX}{id}")
}

pub const ROOM_SK: &str = "ROOM";

pub fn member_sk(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

pub fn rooms_gsi(user: &UserId) -> String {
    format!("ROOMS#{user}")
}

pub fn conversation_pk(conversation: &Conversation) -> String {
    format!("CONV#{}", conversation.key())
}

/// Zero-padded to the 20 digits of `u64::MAX`, so that string order is numeric order.
pub fn message_sk(seq: u64) -> String {
    format!("{MSG_PREFIX}{seq:020}")
}

pub fn client_id_sk(author_id: &str, client_message_id: &str) -> String {
    format!("CMID#{author_id}/{client_message_id}")
}

pub fn quota_pk(key: &str) -> String {
    format!("QUOTA#{key}")
}

pub const QUOTA_SK: &str = "QUOTA";

/// What follows `prefix` in `key`, if `key` starts with it.
pub fn strip<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    key.strip_prefix(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_sort_numerically() {
        assert_eq!(message_sk(7), "MSG#00000000000000000007");
        assert!(message_sk(9) < message_sk(10));
        assert!(message_sk(1_999) < message_sk(2_000));
        assert_eq!(message_sk(u64::MAX).len(), message_sk(1).len());
    }
}
