//! Who may do what: the actor table of the design, in one place. Every use case asks
//! here; nothing else decides a permission.
//!
//! Objects a caller may not see answer `NotFound`, never `Forbidden`, so that their
//! existence does not leak. `Forbidden` is only for objects the caller can already see.

use crate::bot::{BotConfig, SharingMode};
use crate::error::CoreError;
use crate::ids::ShareCode;
use crate::principal::{Principal, User};
use crate::room::Room;
use crate::session::Session;

/// How the caller relates to a bot they can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotAccess {
    Owner,
    /// An admin, who moderates (lists, suspends, sees usage) but does not chat as such.
    Admin,
    /// Someone the bot is shared with, through its link.
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

/// May the caller address this bot by its id? Only its owner and admins do; to anyone
/// else the id names nothing (404), so that the share code is the only way in and
/// rotating it revokes the link for good. Callers check [`require_user`] before
/// loading the bot, so that an anonymous caller learns nothing of which ids exist.
pub fn bot_manager(principal: &Principal, bot: &BotConfig) -> Result<BotAccess, CoreError> {
    match principal {
        Principal::User(user) if user.id == bot.owner_id => Ok(BotAccess::Owner),
        Principal::User(user) if user.is_admin() => Ok(BotAccess::Admin),
        _ => Err(CoreError::NotFound),
    }
}

/// Only the owner changes a bot; admins (who can see it) are refused, others get 404.
pub fn require_bot_owner<'a>(principal: &'a Principal, bot: &BotConfig) -> Result<&'a User, CoreError> {
    match bot_manager(principal, bot)? {
        BotAccess::Owner => require_user(principal),
        BotAccess::Admin | BotAccess::Friend => Err(CoreError::Forbidden("only the owner may change this bot")),
    }
}

/// May the caller chat with the bot (open a session or room, send)? Its owner always;
/// everyone else, admins included, as its sharing mode says: admins moderate bots, they
/// do not chat on private ones. A guest only with the bot of their own session. A
/// suspended bot serves its owner alone. Only callers who reached the bot through its
/// link (or a conversation opened with it) get here, so an anonymous caller on a bot
/// shared with signed-in users is told to sign in (401) rather than told nothing.
pub fn bot_chat(principal: &Principal, bot: &BotConfig) -> Result<BotAccess, CoreError> {
    let shared_with_caller = match principal {
        Principal::User(user) if user.id == bot.owner_id => return Ok(BotAccess::Owner),
        Principal::User(_) => matches!(bot.sharing.mode, SharingMode::SignedIn | SharingMode::Anyone),
        // Whoever gets here holds the bot's link: tell them to sign in.
        Principal::Anonymous if bot.sharing.mode == SharingMode::SignedIn => return Err(CoreError::Unauthorized),
        Principal::Anonymous => bot.sharing.mode == SharingMode::Anyone,
        Principal::Guest { bot_id, .. } => bot_id == &bot.chat_config_id && bot.sharing.mode == SharingMode::Anyone,
    };
    if !shared_with_caller {
        return Err(CoreError::NotFound);
    }
    if bot.suspended {
        return Err(CoreError::BotSuspended);
    }
    Ok(BotAccess::Friend)
}

/// May a conversation opened through a share link go on? Only while that link is the
/// bot's current one and sharing is on: rotating the code or turning sharing off
/// revokes it. Its participants can still read what was said. `opened_with` is `None`
/// for conversations the owner opened by the bot's id, which the link does not govern.
pub fn link_still_open(bot: &BotConfig, opened_with: Option<&ShareCode>) -> Result<(), CoreError> {
    match opened_with {
        None => Ok(()),
        Some(code) if bot.sharing.mode != SharingMode::Private && code == &bot.share_code => Ok(()),
        Some(_) => Err(CoreError::Forbidden(
            "the share link of this conversation was changed or turned off: it can be read, not continued",
        )),
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
