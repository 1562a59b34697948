//! Who is calling.

use serde::{Deserialize, Serialize};

use crate::ids::{BotId, SessionId, UserId};

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
    /// email, or a prefix of the id.
    pub fn display_name(&self) -> String {
        match self.email.as_deref().and_then(|e| e.split('@').next()) {
            Some(local) if !local.is_empty() => local.to_owned(),
            _ => self.id.as_str().chars().take(8).collect(),
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
