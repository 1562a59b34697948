//! Who is calling.

use serde::{Deserialize, Serialize};

use crate::ids::{BotId, SessionId, UserId};
use crate::values::is_invisible_or_bidi;

/// The Cognito group whose members are admins.
pub const ADMIN_GROUP: &str = "admin";

/// The caller of a use case, as established by a verified token (locally) or by the
/// API Gateway authorizer (in the cloud).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// No token.
    Anonymous,
    /// A signed-in user.
    User(User),
    /// A guest holding a platform-signed token bound to one session of one bot.
    Guest { session_id: SessionId, bot_id: BotId },
}

/// A signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.in_group(ADMIN_GROUP)
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// A short name to show beside the user's messages in a room: the local part of the
    /// email, or a prefix of the id when that has nothing to show. Characters that hide
    /// themselves or reorder text (and controls) are dropped, so that no member can
    /// pose as another.
    pub fn display_name(&self) -> String {
        let visible = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_control() && !is_invisible_or_bidi(*c))
                .take(64)
                .collect()
        };
        match self.email.as_deref().and_then(|e| e.split('@').next()).map(visible) {
            Some(local) if !local.trim().is_empty() => local,
            _ => visible(self.id.as_str()).chars().take(8).collect(),
        }
    }
}

impl Principal {
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::User(u) => Some(u),
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(User::is_admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str) -> User {
        User {
            id: UserId::from_trusted("0123456789abcdef"),
            email: Some(email.to_owned()),
            groups: Vec::new(),
        }
    }

    #[test]
    fn display_names_drop_characters_that_hide_or_reorder_text() {
        // GIVEN an email whose local part reverses what follows it on screen.
        assert_eq!(user("ev\u{202E}nimda@x.io").display_name(), "evnimda");
        assert_eq!(user("a\u{200B}\u{2066}b\u{7}@x.io").display_name(), "ab");
        // Nothing visible left: the id's prefix stands in.
        assert_eq!(user("\u{200B}\u{200C}@x.io").display_name(), "01234567");
        assert_eq!(user("alice@example.com").display_name(), "alice");
    }
}
