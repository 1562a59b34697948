//! The records Parley's stores keep: the JSON bodies of bots, sessions, rooms, room
//! members and messages, owned by the storage layer rather than by `parley-core`.
//!
//! Both adapters (`parley-sqlite` in its `body` columns, `parley-aws` in DynamoDB's
//! `body` and `config` attributes and in the S3 object `bots/{botId}/config.json`)
//! store exactly these records, so renaming a field of a domain type or of the API
//! cannot change what is stored: every stored name is fixed here by an explicit
//! `#[serde(rename = ...)]`. Each record converts from its domain type
//! (`From<&Domain>`) and back (`TryFrom<Record>`), and the way back parses every id
//! and value through its `parse`, so corrupt data is a [`StoreError`], never a panic
//! and never an invalid domain value.
//!
//! Every body carries `"schemaVersion"`: [`SCHEMA_VERSION`] when written by this
//! build; a body without one was written before versions existed and reads as version
//! 1; a body with a higher version than this build knows is refused
//! ([`RecordError::Newer`]) rather than misread.
//!
//! Layout: this file holds the version rule, [`encode`]/[`decode`] and the errors;
//! `bot.rs`, `session.rs`, `room.rs` and `message.rs` hold one record each (with the
//! parts nested in it).

use parley_core::{CoreError, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod bot;
mod message;
mod room;
mod session;

pub use bot::{BotRecord, LimitsRecord, MemoryRecord, OverridePolicyRecord, SharingModeRecord, SharingRecord};
pub use message::{
    BodyIdentity, CLIENT_MESSAGE_ID_FIELD, MessageRecord, MessageStatusRecord, RoleRecord, UsageRecord, reply_patch,
};
pub use room::{MemberRecord, ReplyModeRecord, RoomRecord};
pub use session::{OverridesRecord, ParticipantRecord, SessionRecord};

/// The version of the records this build writes, and the highest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The name of the version field in every body.
const VERSION_FIELD: &str = "schemaVersion";

/// A stored body and the domain type it holds.
pub trait Record: Serialize + DeserializeOwned + for<'a> From<&'a Self::Domain> {
    type Domain: TryFrom<Self, Error = StoreError>;
    /// What the record is, for error messages: `bot`, `session`, …
    const KIND: &'static str;
    /// The field that names the stored object, for error messages.
    const ID_FIELD: &'static str;
}

/// The stored JSON of a domain object, with [`SCHEMA_VERSION`].
pub fn encode<R: Record>(value: &R::Domain) -> Result<String, StoreError> {
    serde_json::to_string(&R::from(value)).map_err(|source| store_err(RecordError::Json { kind: R::KIND, source }))
}

/// The domain object in a stored body; see [`decode_slice`].
pub fn decode<R: Record>(body: &str) -> Result<R::Domain, StoreError> {
    decode_slice::<R>(body.as_bytes())
}

/// The domain object in stored JSON bytes. A body without a version is version 1; a
/// newer version, a body that does not decode or holds an invalid value is an error.
pub fn decode_slice<R: Record>(body: &[u8]) -> Result<R::Domain, StoreError> {
    let json = |source| store_err(RecordError::Json { kind: R::KIND, source });
    let value: serde_json::Value = serde_json::from_slice(body).map_err(json)?;
    let version = match value.get(VERSION_FIELD) {
        None => 1,
        Some(v) => v
            .as_u64()
            .filter(|v| *v >= 1)
            .ok_or_else(|| store_err(RecordError::BadVersion { kind: R::KIND }))?,
    };
    if version > u64::from(SCHEMA_VERSION) {
        let id = value.get(R::ID_FIELD).map(|id| match id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        return Err(store_err(RecordError::Newer {
            kind: R::KIND,
            id,
            version,
        }));
    }
    let record: R = serde_json::from_value(value).map_err(json)?;
    R::Domain::try_from(record)
}

/// Why a stored body could not be read or written. Adapters see it as the source of a
/// [`StoreError::Other`].
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Written by a newer build, whose fields this one might misread.
    #[error("stored {kind}{} has schema version {version}, newer than this build's {SCHEMA_VERSION}", named(.id))]
    Newer {
        kind: &'static str,
        id: Option<String>,
        version: u64,
    },
    /// `schemaVersion` is there but not a positive integer.
    #[error("stored {kind} has a schema version that is not a positive integer")]
    BadVersion { kind: &'static str },
    /// Not JSON, or not the record's shape.
    #[error("stored {kind} does not decode")]
    Json {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A message status column holds a name no status has.
    #[error("stored message has the unknown status {0:?}")]
    UnknownStatus(String),
    /// A field holds a value its domain type refuses (an id, a title, a temperature…).
    #[error("stored {kind} holds an invalid value")]
    Invalid {
        kind: &'static str,
        #[source]
        source: CoreError,
    },
}

fn named(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" {id}")).unwrap_or_default()
}

fn store_err(e: RecordError) -> StoreError {
    StoreError::Other(Box::new(e))
}

/// The error of a value of a `kind` record that its domain type refuses.
pub(crate) fn invalid(kind: &'static str) -> impl Fn(CoreError) -> StoreError {
    move |source| store_err(RecordError::Invalid { kind, source })
}

/// The version of a body written before versions existed.
pub(crate) fn unversioned() -> u32 {
    1
}
