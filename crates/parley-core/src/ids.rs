//! Identifiers. Object ids are ULIDs (time-ordered, so listings page by id); share and
//! invite codes are 128-bit random secrets, separate from any id.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = CoreError;

            fn try_from(s: String) -> Result<Self, CoreError> {
                Self::parse(&s)
            }
        }

        impl $name {
            /// Accepts a 26-character ULID in Crockford base32 (as produced by the id source).
            pub fn parse(s: &str) -> Result<Self, CoreError> {
                if s.len() == 26 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Ok(Self(s.to_ascii_uppercase()))
                } else {
                    Err(CoreError::validation($field, "is not a valid id"))
                }
            }

            /// Wraps a value read back from storage, which only ever holds parsed ids.
            pub fn from_trusted(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// The id of a bot config (`chatConfigId`).
    BotId,
    "chatConfigId"
);
id_type!(
    /// The id of a session.
    SessionId,
    "sessionId"
);
id_type!(
    /// The id of a room.
    RoomId,
    "roomId"
);

/// Share and invite codes are secrets: compared in constant time (so the time a
/// comparison takes says nothing about how much of a guess was right), and never
/// printed by `Debug`, so no log line or error chain can carry one.
macro_rules! secret_code {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = CoreError;

            fn try_from(s: String) -> Result<Self, CoreError> {
                Self::parse(&s)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                use subtle::ConstantTimeEq;
                bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }

        impl $name {
            /// Accepts 22 to 64 URL-safe characters; the id source makes 22 (128 bits).
            pub fn parse(s: &str) -> Result<Self, CoreError> {
                if (22..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(CoreError::validation($field, "is not a valid code"))
                }
            }

            pub fn from_trusted(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

secret_code!(
    /// The secret in a bot's share link.
    ShareCode,
    "shareCode"
);
secret_code!(
    /// The secret in a room's invite link.
    InviteCode,
    "inviteCode"
);

/// A user's id: the Cognito `sub` (or the development identity provider's).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct UserId(String);

impl TryFrom<String> for UserId {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self, CoreError> {
        Self::parse(&s)
    }
}

impl UserId {
    /// Accepts 1 to 128 printable ASCII characters without spaces or slashes.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        if (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
            Ok(Self(s.to_owned()))
        } else {
            Err(CoreError::validation("userId", "is not a valid user id"))
        }
    }

    pub fn from_trusted(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_codes_compare_by_value_and_never_print() {
        let code = ShareCode::parse("abcdefghijklmnopqrstuv").expect("a code");
        assert_eq!(code, ShareCode::from_trusted("abcdefghijklmnopqrstuv"));
        assert_ne!(code, ShareCode::from_trusted("abcdefghijklmnopqrstuw"));
        assert_ne!(code, ShareCode::from_trusted("abcdefghijklmnopqrstuvw"));
        assert_eq!(format!("{code:?}"), "ShareCode(***)");
        let invite = InviteCode::from_trusted("ABCDEFGHIJKLMNOPQRSTUV");
        assert!(!format!("{invite:?}").contains("ABCDEF"));
    }
}
