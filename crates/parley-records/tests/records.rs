//! The stored JSON of every record: what today's stores hold keeps reading and is
//! written again byte for byte (plus `schemaVersion`), a newer version is refused, and
//! corrupt data is an error, never a panic.

use std::error::Error as _;

use chrono::{DateTime, Utc};
use parley_core::StoreError;
use parley_core::bot::{BotConfig, Limits, Memory, OverridePolicy, Sharing, SharingMode};
use parley_core::ids::{BotId, InviteCode, RoomId, SessionId, ShareCode, UserId};
use parley_core::message::{Message, MessageStatus, Role, Usage};
use parley_core::room::{ReplyMode, Room, RoomMember};
use parley_core::session::{Overrides, Participant, Session};
use parley_core::values::{ClientMessageId, Description, Greeting, ModelId, SystemPrompt, Temperature, Title};
use parley_records::{
    BotRecord, MemberRecord, MessageRecord, Record, RecordError, RoomRecord, SessionRecord, decode, decode_slice,
    encode,
};

// Bodies exactly as the stores wrote them before records existed: printed once by
// `serde_json::to_string` of the parley-core types (the code of commit 636b201) and
// pasted here. They must keep reading, and the records must keep writing them.
const BOT: &str = r#"{"chatConfigId":"01JDQ0000000000000000000AA","ownerId":"owner-1","title":"Ada","description":"A helpful bot","greeting":"Hello!","model":"gpt-4o-mini","systemPrompt":"Be brief.\nBe kind.","temperature":0.7,"maxOutputTokens":1024,"sharing":{"mode":"signed_in","showPrompt":true},"shareCode":"abcdefghijklmnopqrstuv","sessionOverrides":{"temperature":true,"systemPrompt":false,"models":["gpt-4o"]},"memory":{"maxMessages":20,"maxTokens":8000},"limits":{"guestMessagesPerSession":20,"dailyMessages":200},"suspended":false,"createdAt":"2026-01-02T03:04:05.123456789Z","updatedAt":"2026-01-03T00:00:00Z","version":3}"#;
const SESSION_USER: &str = r#"{"sessionId":"01JDQ0000000000000000000SS","chatConfigId":"01JDQ0000000000000000000AA","participant":{"kind":"user","userId":"user-1"},"title":"Chat","overrides":{"model":"gpt-4o","systemPrompt":"Pirate.","temperature":1.5},"shareCode":"abcdefghijklmnopqrstuv","createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:06.500Z"}"#;
const SESSION_GUEST: &str = r#"{"sessionId":"01JDQ0000000000000000000SS","chatConfigId":"01JDQ0000000000000000000AA","participant":{"kind":"guest"},"title":"Chat","overrides":{},"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:06.500Z"}"#;
const ROOM_OPENED_BY_CODE: &str = r#"{"roomId":"01JDQ0000000000000000000RR","chatConfigId":"01JDQ0000000000000000000AA","creatorId":"user-1","title":"Team","replyMode":"mention","inviteCode":"INVITEinvite0123456789","shareCode":"abcdefghijklmnopqrstuv","createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z"}"#;
const ROOM_OPENED_BY_ID: &str = r#"{"roomId":"01JDQ0000000000000000000RR","chatConfigId":"01JDQ0000000000000000000AA","creatorId":"user-1","title":"Team","replyMode":"always","inviteCode":"INVITEinvite0123456789","createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z"}"#;
const MEMBER: &str = r#"{"userId":"user-2","displayName":"Bea","joinedAt":"2026-01-02T03:04:05Z"}"#;
const USER_MESSAGE: &str = r#"{"seq":7,"role":"user","authorId":"user-1","authorName":"Ada L.","content":"Hi \"bot\"\n","status":"ok","createdAt":"2026-01-02T03:04:05.001Z","clientMessageId":"c-1","replySeq":8}"#;
const FAILED_REPLY: &str = r#"{"seq":8,"role":"assistant","authorId":"bot","content":"Hello.","status":"failed","createdAt":"2026-01-02T03:04:06Z","usage":{"inputTokens":12,"outputTokens":3}}"#;
const PENDING_REPLY: &str = r#"{"seq":8,"role":"assistant","authorId":"bot","content":"Hello.","status":"pending","createdAt":"2026-01-02T03:04:06Z","usage":{"inputTokens":12,"outputTokens":3}}"#;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a timestamp")
}

fn bot() -> BotConfig {
    BotConfig {
        chat_config_id: BotId::from_trusted("01JDQ0000000000000000000AA"),
        owner_id: UserId::from_trusted("owner-1"),
        title: Title::from_trusted("Ada"),
        description: Description::from_trusted("A helpful bot"),
        greeting: Greeting::from_trusted("Hello!"),
        model: ModelId::from_trusted("gpt-4o-mini"),
        system_prompt: SystemPrompt::from_trusted("Be brief.\nBe kind."),
        temperature: Temperature::parse(0.7).expect("in range"),
        max_output_tokens: 1024,
        sharing: Sharing {
            mode: SharingMode::SignedIn,
            show_prompt: true,
        },
        share_code: ShareCode::from_trusted("abcdefghijklmnopqrstuv"),
        session_overrides: OverridePolicy {
            temperature: true,
            system_prompt: false,
            models: vec![ModelId::from_trusted("gpt-4o")],
        },
        memory: Memory {
            max_messages: 20,
            max_tokens: 8000,
        },
        limits: Limits {
            guest_messages_per_session: 20,
            daily_messages: 200,
        },
        suspended: false,
        created_at: at("2026-01-02T03:04:05.123456789Z"),
        updated_at: at("2026-01-03T00:00:00Z"),
        version: 3,
    }
}

fn user_session() -> Session {
    Session {
        session_id: SessionId::from_trusted("01JDQ0000000000000000000SS"),
        chat_config_id: BotId::from_trusted("01JDQ0000000000000000000AA"),
        participant: Participant::User {
            user_id: UserId::from_trusted("user-1"),
        },
        title: Title::from_trusted("Chat"),
        overrides: Overrides {
            model: Some(ModelId::from_trusted("gpt-4o")),
            system_prompt: Some(SystemPrompt::from_trusted("Pirate.")),
            temperature: Some(Temperature::parse(1.5).expect("in range")),
        },
        share_code: Some(ShareCode::from_trusted("abcdefghijklmnopqrstuv")),
        created_at: at("2026-01-02T03:04:05Z"),
        updated_at: at("2026-01-02T03:04:06.5Z"),
    }
}

fn guest_session() -> Session {
    Session {
        participant: Participant::Guest,
        overrides: Overrides::default(),
        share_code: None,
        ..user_session()
    }
}

fn room_opened_by_code() -> Room {
    Room {
        room_id: RoomId::from_trusted("01JDQ0000000000000000000RR"),
        chat_config_id: BotId::from_trusted("01JDQ0000000000000000000AA"),
        creator_id: UserId::from_trusted("user-1"),
        title: Title::from_trusted("Team"),
        reply_mode: ReplyMode::Mention,
        invite_code: InviteCode::from_trusted("INVITEinvite0123456789"),
        share_code: Some(ShareCode::from_trusted("abcdefghijklmnopqrstuv")),
        created_at: at("2026-01-02T03:04:05Z"),
        updated_at: at("2026-01-02T03:04:05Z"),
    }
}

fn room_opened_by_id() -> Room {
    Room {
        reply_mode: ReplyMode::Always,
        share_code: None,
        ..room_opened_by_code()
    }
}

fn member() -> RoomMember {
    RoomMember {
        user_id: UserId::from_trusted("user-2"),
        display_name: "Bea".into(),
        joined_at: at("2026-01-02T03:04:05Z"),
    }
}

fn user_message() -> Message {
    Message {
        lease: None,
        seq: 7,
        role: Role::User,
        author_id: "user-1".into(),
        author_name: Some("Ada L.".into()),
        content: "Hi \"bot\"\n".into(),
        status: MessageStatus::Complete,
        created_at: at("2026-01-02T03:04:05.001Z"),
        usage: None,
        client_message_id: Some(ClientMessageId::from_trusted("c-1")),
        reply_seq: Some(8),
    }
}

fn failed_reply() -> Message {
    Message {
        lease: None,
        seq: 8,
        role: Role::Assistant,
        author_id: "bot".into(),
        author_name: None,
        content: "Hello.".into(),
        status: MessageStatus::Failed,
        created_at: at("2026-01-02T03:04:06Z"),
        usage: Some(Usage {
            input_tokens: 12,
            output_tokens: 3,
        }),
        client_message_id: None,
        reply_seq: None,
    }
}

fn pending_reply() -> Message {
    Message {
        status: MessageStatus::Pending,
        ..failed_reply()
    }
}

/// A stored body of today with the version this build adds in front.
fn versioned(old: &str) -> String {
    let rest = old.strip_prefix('{').expect("a JSON object");
    format!("{{\"schemaVersion\":1,{rest}")
}

/// GIVEN a body as stored before records, WHEN it is read, THEN it is `expected`; and
/// WHEN `expected` is written, THEN it is that body plus `"schemaVersion":1`, byte for
/// byte, which then reads back the same.
fn assert_golden<R: Record>(old: &str, expected: &R::Domain)
where
    R::Domain: PartialEq + std::fmt::Debug,
{
    let read = decode::<R>(old).unwrap_or_else(|e| panic!("{} body must read: {e:?}", R::KIND));
    assert_eq!(&read, expected, "{} read from today's body", R::KIND);
    let written = encode::<R>(expected).expect("encodes");
    assert_eq!(written, versioned(old), "{} as written", R::KIND);
    assert_eq!(&decode::<R>(&written).expect("reads back"), expected);
}

// Protects existing bot configs (S3 objects, DynamoDB listing copies, SQLite rows).
#[test]
fn bots_stored_today_read_and_are_written_the_same() {
    assert_golden::<BotRecord>(BOT, &bot());
}

// Protects bots stored before session overrides existed: none are allowed.
#[test]
fn a_bot_stored_without_session_overrides_allows_none() {
    let old = BOT.replace(
        r#""sessionOverrides":{"temperature":true,"systemPrompt":false,"models":["gpt-4o"]},"#,
        "",
    );
    assert!(!old.contains("sessionOverrides"));
    let read = decode::<BotRecord>(&old).expect("reads");
    assert_eq!(read.session_overrides, OverridePolicy::default());
}

// Protects existing sessions of users and of guests.
#[test]
fn sessions_stored_today_read_and_are_written_the_same() {
    assert_golden::<SessionRecord>(SESSION_USER, &user_session());
    assert_golden::<SessionRecord>(SESSION_GUEST, &guest_session());
}

// Protects existing rooms and their members.
#[test]
fn rooms_and_members_stored_today_read_and_are_written_the_same() {
    assert_golden::<RoomRecord>(ROOM_OPENED_BY_CODE, &room_opened_by_code());
    assert_golden::<RoomRecord>(ROOM_OPENED_BY_ID, &room_opened_by_id());
    assert_golden::<MemberRecord>(MEMBER, &member());
}

// Protects existing messages, with and without their optional fields.
#[test]
fn messages_stored_today_read_and_are_written_the_same() {
    assert_golden::<MessageRecord>(USER_MESSAGE, &user_message());
    assert_golden::<MessageRecord>(FAILED_REPLY, &failed_reply());
    assert_golden::<MessageRecord>(PENDING_REPLY, &pending_reply());
}

// Protects the S3 path, which reads the config as bytes.
#[test]
fn a_config_reads_from_bytes_as_from_text() {
    assert_eq!(decode_slice::<BotRecord>(BOT.as_bytes()).expect("reads"), bot());
}

/// The `RecordError` behind a `StoreError::Other`.
fn record_error(e: &StoreError) -> &RecordError {
    assert!(matches!(e, StoreError::Other(_)), "corrupt data is Other, not {e:?}");
    e.source()
        .and_then(|s| s.downcast_ref::<RecordError>())
        .unwrap_or_else(|| panic!("a RecordError is the source of {e:?}"))
}

fn with_version(old: &str, version: &str) -> String {
    let rest = old.strip_prefix('{').expect("a JSON object");
    format!("{{\"schemaVersion\":{version},{rest}")
}

// Protects against misreading a body written by a newer build: it is refused, and the
// message says what, which one and which versions.
#[test]
fn a_body_of_a_newer_schema_version_is_refused() {
    let e = decode::<BotRecord>(&with_version(BOT, "2")).expect_err("refused");
    assert!(matches!(record_error(&e), RecordError::Newer { version: 2, .. }));
    assert_eq!(
        record_error(&e).to_string(),
        "stored bot 01JDQ0000000000000000000AA has schema version 2, newer than this build's 1"
    );
    let e = decode::<SessionRecord>(&with_version(SESSION_USER, "2")).expect_err("refused");
    assert_eq!(
        record_error(&e).to_string(),
        "stored session 01JDQ0000000000000000000SS has schema version 2, newer than this build's 1"
    );
    let e = decode::<RoomRecord>(&with_version(ROOM_OPENED_BY_ID, "7")).expect_err("refused");
    assert!(matches!(record_error(&e), RecordError::Newer { version: 7, .. }));
    let e = decode::<MemberRecord>(&with_version(MEMBER, "2")).expect_err("refused");
    assert!(matches!(record_error(&e), RecordError::Newer { .. }));
    let e = decode::<MessageRecord>(&with_version(USER_MESSAGE, "2")).expect_err("refused");
    assert_eq!(
        record_error(&e).to_string(),
        "stored message 7 has schema version 2, newer than this build's 1"
    );
    // Even when the newer body no longer has the shape this build knows.
    let e = decode::<MemberRecord>(r#"{"schemaVersion":2,"who":"else"}"#).expect_err("refused");
    assert_eq!(
        record_error(&e).to_string(),
        "stored room member has schema version 2, newer than this build's 1"
    );
}

// Protects the rule that a body without a version is version 1, and that version 1
// written explicitly reads the same.
#[test]
fn a_body_without_a_version_reads_as_version_1() {
    assert_eq!(decode::<MemberRecord>(MEMBER).expect("reads"), member());
    assert_eq!(
        decode::<MemberRecord>(&with_version(MEMBER, "1")).expect("reads"),
        member()
    );
}

// Protects against reading a version that is no version at all.
#[test]
fn a_version_that_is_not_a_positive_integer_is_refused() {
    for version in ["0", "-1", "1.5", "\"1\"", "null"] {
        let e = decode::<MemberRecord>(&with_version(MEMBER, version)).expect_err(version);
        assert!(
            matches!(record_error(&e), RecordError::BadVersion { .. }),
            "{version}: {e:?}"
        );
    }
}

// Protects the domain from corrupt stored data: an id or value its type refuses is a
// StoreError (with the reason as its source), never a panic nor an invalid value.
#[test]
fn a_corrupt_id_or_value_is_a_store_error() {
    let cases: Vec<(&str, Result<(), StoreError>)> = vec![
        (
            "bot id",
            decode::<BotRecord>(&BOT.replace("01JDQ0000000000000000000AA", "not-a-ulid")).map(drop),
        ),
        (
            "owner id",
            decode::<BotRecord>(&BOT.replace("owner-1", "a/b")).map(drop),
        ),
        ("temperature", decode::<BotRecord>(&BOT.replace("0.7", "3.5")).map(drop)),
        (
            "title",
            decode::<BotRecord>(&BOT.replace(r#""Ada""#, r#""  ""#)).map(drop),
        ),
        (
            "share code",
            decode::<BotRecord>(&BOT.replace("abcdefghijklmnopqrstuv", "short")).map(drop),
        ),
        (
            "allowed model",
            decode::<BotRecord>(&BOT.replace(r#"["gpt-4o"]"#, r#"["rm -rf"]"#)).map(drop),
        ),
        (
            "session user",
            decode::<SessionRecord>(&SESSION_USER.replace("user-1", "")).map(drop),
        ),
        (
            "override temperature",
            decode::<SessionRecord>(&SESSION_USER.replace("1.5", "-1")).map(drop),
        ),
        (
            "invite code",
            decode::<RoomRecord>(&ROOM_OPENED_BY_ID.replace("INVITEinvite0123456789", "x")).map(drop),
        ),
        (
            "member id",
            decode::<MemberRecord>(&MEMBER.replace("user-2", "a b")).map(drop),
        ),
        (
            "client message id",
            decode::<MessageRecord>(&USER_MESSAGE.replace("c-1", "c 1")).map(drop),
        ),
    ];
    for (what, result) in cases {
        let e = result.expect_err(what);
        assert!(matches!(record_error(&e), RecordError::Invalid { .. }), "{what}: {e:?}");
    }
}

// Protects against panics on bodies that are not the record at all.
#[test]
fn a_body_of_the_wrong_shape_is_a_store_error() {
    let cases: Vec<(&str, Result<(), StoreError>)> = vec![
        ("not JSON", decode::<BotRecord>("{\"chatConfigId\":").map(drop)),
        ("not an object", decode::<SessionRecord>("[1,2]").map(drop)),
        (
            "missing field",
            decode::<RoomRecord>(&ROOM_OPENED_BY_ID.replace(r#""title":"Team","#, "")).map(drop),
        ),
        (
            "unknown status",
            decode::<MessageRecord>(&USER_MESSAGE.replace(r#""ok""#, r#""done""#)).map(drop),
        ),
        (
            "negative seq",
            decode::<MessageRecord>(&USER_MESSAGE.replace(r#""seq":7"#, r#""seq":-7"#)).map(drop),
        ),
        (
            "bad time",
            decode::<MemberRecord>(&MEMBER.replace("2026-01-02T03:04:05Z", "yesterday")).map(drop),
        ),
    ];
    for (what, result) in cases {
        let e = result.expect_err(what);
        assert!(matches!(record_error(&e), RecordError::Json { .. }), "{what}: {e:?}");
    }
}
