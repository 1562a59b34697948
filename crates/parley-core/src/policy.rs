//! Who may do what: the actor table of the design, in one place. Every use case asks
//! here; nothing else decides a permission.
//!
//! Objects a caller may not see answer `NotFound`, never `Forbidden`, so that their
//! existence does not leak. `Forbidden` is only for objects the caller can already see.

use crate::bot::{BotConfig, SharingMode};
use crate::error::CoreError;
use crate::principal::{Principal, User};
use crate::room::Room;
use crate::session::Session;

/// How the caller relates to a bot they can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotAccess {
    Owner,
    Admin,
    /// Someone the bot is shared with.
    Friend,
}

/// The caller must be a signed-in user (guests and anonymous callers are not).
pub fn require_user(principal: &Principal) -> Result<&User, CoreError> {
    principal.user().ok_or(CoreError::Unauthorized)
}

/// The caller must be an admin. Checked before any object is loaded, so a refusal
/// says nothing about the object.
pub fn require_admin(principal: &Principal) -> Result<&User, CoreError> {
    let user = require_user(principal)?;
    if user.is_admin() {
        Ok(user)
    } else {
        Err(CoreError::Forbidden("admins only"))
    }
}

/// May the caller create bots? When a creators group is configured, only its members.
pub fn require_creator<'a>(principal: &'a Principal, creators_group: Option<&str>) -> Result<&'a User, CoreError> {
    let user = require_user(principal)?;
    match creators_group {
        Some(group) if !user.in_group(group) => Err(CoreError::Forbidden(
            "only members of the creators group may create bots",
        )),
        _ => Ok(user),
    }
}

/// Can the caller see this bot, and as whom? Sharing decides for everyone but the
/// owner and admins; a guest sees only the bot of their own session.
pub fn bot_access(principal: &Principal, bot: &BotConfig) -> Result<BotAccess, CoreError> {
    let shared_with_caller = match principal {
        Principal::User(user) if user.id == bot.owner_id => return Ok(BotAccess::Owner),
        Principal::User(user) if user.is_admin() => return Ok(BotAccess::Admin),
        Principal::User(_) => matches!(bot.sharing.mode, SharingMode::SignedIn | SharingMode::Anyone),
        Principal::Anonymous => bot.sharing.mode == SharingMode::Anyone,
        Principal::Guest { bot_id, .. } => bot_id == &bot.chat_config_id && bot.sharing.mode == SharingMode::Anyone,
    };
    if shared_with_caller {
        Ok(BotAccess::Friend)
    } else {
        Err(CoreError::NotFound)
    }
}

/// May the caller use (chat with) the bot? A suspended bot serves only its owner and admins.
pub fn bot_serving(principal: &Principal, bot: &BotConfig) -> Result<BotAccess, CoreError> {
    let access = bot_access(principal, bot)?;
    if bot.suspended && access == BotAccess::Friend {
        return Err(CoreError::BotSuspended);
    }
    Ok(access)
}

/// Only the owner changes a bot; others who can see it are refused, others get 404.
pub fn require_bot_owner<'a>(principal: &'a Principal, bot: &BotConfig) -> Result<&'a User, CoreError> {
    require_user(principal)?;
    match bot_access(principal, bot)? {
        BotAccess::Owner => require_user(principal),
        BotAccess::Admin | BotAccess::Friend => Err(CoreError::Forbidden("only the owner may change this bot")),
    }
}

/// May the caller read the bot's persona documents? The owner and admins may; friends
/// only when the owner set `showPrompt` (otherwise the documents do not exist for
/// them); a suspended bot shows friends nothing.
pub fn persona_readable(principal: &Principal, bot: &BotConfig) -> Result<BotAccess, CoreError> {
    match bot_serving(principal, bot)? {
        BotAccess::Friend if !bot.sharing.show_prompt => Err(CoreError::NotFound),
        access => Ok(access),
    }
}

/// What the owner and admins alone may see of a bot (which persona documents it has);
/// others who can see the bot are refused, others get 404.
pub fn require_bot_manager(principal: &Principal, bot: &BotConfig) -> Result<BotAccess, CoreError> {
    match bot_access(principal, bot)? {
        BotAccess::Friend => Err(CoreError::Forbidden("only the owner and admins may do this")),
        access => Ok(access),
    }
}

/// A session is visible to its participant alone: its user, or the guest whose token
/// is bound to it and to its bot (a token naming another bot than its session's was not
/// issued for it). Admins do not read others' conversations.
pub fn session_access(principal: &Principal, session: &Session) -> Result<(), CoreError> {
    let mine = match principal {
        Principal::User(user) => session.user_id() == Some(&user.id),
        Principal::Guest { session_id, bot_id } => {
            session_id == &session.session_id && bot_id == &session.chat_config_id
        }
        Principal::Anonymous => false,
    };
    if mine { Ok(()) } else { Err(CoreError::NotFound) }
}

/// Only a room's creator rotates its invite, removes others or deletes it.
pub fn require_room_creator(user: &User, room: &Room) -> Result<(), CoreError> {
    if room.creator_id == user.id {
        Ok(())
    } else {
        Err(CoreError::Forbidden("only the room's creator may do this"))
    }
}
