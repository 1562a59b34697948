//! Valid domain objects with fresh ids, for contract suites and adapter tests.

use chrono::Utc;
use parley_core::bot::{BotConfig, OverridePolicy, Sharing, SharingMode};
use parley_core::ids::{BotId, InviteCode, RoomId, SessionId, ShareCode, UserId};
use parley_core::message::{MessageStatus, NewMessage, Role};
use parley_core::ports::{IdSource, RandomIds};
use parley_core::room::{ReplyMode, Room, RoomMember};
use parley_core::session::{Overrides, Participant, Session};
use parley_core::values::{Description, Greeting, ModelId, SystemPrompt, Temperature, Title};

/// A fresh user id, unlike any other user's.
pub fn user() -> UserId {
    UserId::parse(&format!("user-{}", RandomIds.new_id())).expect("a generated user id is valid")
}

/// A new bot of `owner` with a fresh id and share code, at version 1.
pub fn bot(owner: &str) -> BotConfig {
    let now = Utc::now();
    BotConfig {
        chat_config_id: BotId::parse(&RandomIds.new_id()).expect("a ULID is a valid bot id"),
        owner_id: UserId::parse(owner).expect("the fixture owner is a valid user id"),
        title: Title::parse("Test bot").expect("valid title"),
        description: Description::parse("A bot made by the contract suite.").expect("valid description"),
        greeting: Greeting::parse("Hello!").expect("valid greeting"),
        model: ModelId::parse("parley-offline").expect("valid model id"),
        system_prompt: SystemPrompt::parse("You are a test.").expect("valid prompt"),
        temperature: Temperature::parse(0.5).expect("valid temperature"),
        max_output_tokens: BotConfig::DEFAULT_MAX_OUTPUT_TOKENS,
        sharing: Sharing {
            mode: SharingMode::SignedIn,
            show_prompt: false,
        },
        share_code: ShareCode::parse(&RandomIds.new_secret()).expect("a generated secret is a valid code"),
        session_overrides: OverridePolicy {
            temperature: true,
            system_prompt: false,
            models: vec![ModelId::parse("parley-offline").expect("valid model id")],
        },
        memory: BotConfig::DEFAULT_MEMORY,
        limits: BotConfig::DEFAULT_LIMITS,
        suspended: false,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A new session of the signed-in `user` with the bot `bot_id`.
pub fn session(bot_id: &BotId, user: &str) -> Session {
    let user_id = UserId::parse(user).expect("the fixture user is a valid user id");
    new_session(bot_id, Participant::User { user_id })
}

/// A new guest session with the bot `bot_id`, opened with a share code (which the
/// stores must keep).
pub fn guest_session(bot_id: &BotId) -> Session {
    let mut session = new_session(bot_id, Participant::Guest);
    session.share_code = Some(ShareCode::parse(&RandomIds.new_secret()).expect("a generated secret is a valid code"));
    session
}

fn new_session(bot_id: &BotId, participant: Participant) -> Session {
    let now = Utc::now();
    Session {
        session_id: SessionId::parse(&RandomIds.new_id()).expect("a ULID is a valid session id"),
        chat_config_id: bot_id.clone(),
        participant,
        title: Title::parse("Test session").expect("valid title"),
        overrides: Overrides::default(),
        share_code: None,
        created_at: now,
        updated_at: now,
    }
}

/// A new room of `creator` with the bot `bot_id`, with a fresh id and invite code.
pub fn room(bot_id: &BotId, creator: &str) -> Room {
    let now = Utc::now();
    Room {
        room_id: RoomId::parse(&RandomIds.new_id()).expect("a ULID is a valid room id"),
        chat_config_id: bot_id.clone(),
        creator_id: UserId::parse(creator).expect("the fixture creator is a valid user id"),
        title: Title::parse("Test room").expect("valid title"),
        reply_mode: ReplyMode::Mention,
        invite_code: InviteCode::parse(&RandomIds.new_secret()).expect("a generated secret is a valid code"),
        share_code: Some(ShareCode::parse(&RandomIds.new_secret()).expect("a generated secret is a valid code")),
        created_at: now,
        updated_at: now,
    }
}

/// `user` as a room member who joins now.
pub fn member(user: &str) -> RoomMember {
    RoomMember {
        user_id: UserId::parse(user).expect("the fixture member is a valid user id"),
        display_name: format!("name of {user}"),
        joined_at: Utc::now(),
    }
}

/// A user message by `author`, already complete, without a client message id.
pub fn new_message(author: &str, content: &str) -> NewMessage {
    NewMessage {
        lease: None,
        role: Role::User,
        author_id: author.to_owned(),
        author_name: Some(format!("name of {author}")),
        content: content.to_owned(),
        status: MessageStatus::Complete,
        created_at: Utc::now(),
        usage: None,
        client_message_id: None,
    }
}
