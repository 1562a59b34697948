//! The AWS adapters: one [`AwsStore`] implements every storage port of `parley-core`
//! (`BotStore`, `PersonaStore`, `SessionStore`, `RoomStore`, `MessageStore`,
//! `QuotaStore`) on one S3 bucket and one DynamoDB table, and [`bootstrap`] creates
//! both, idempotently.
//!
//! Every body is a `parley-records` record (JSON with its `schemaVersion`), never a
//! domain type serialised directly.
//!
//! **S3** holds what is read as a whole and rarely written: bot configs as JSON at
//! `bots/{botId}/config.json` (created with `If-None-Match: *`, replaced with
//! `If-Match` on the stored ETag) and persona documents beside them at
//! `bots/{botId}/persona/{kind}`.
//!
//! **DynamoDB** holds everything else in one table with a string partition key `PK`, a
//! string sort key `SK`, one global secondary index `GSI1` (`GSI1PK`/`GSI1SK`) for the
//! "mine" listings, and the TTL attribute `expires_at` (see [`keys`] for the whole
//! key schema). No operation scans the table: every read is a `GetItem`, a `Query` on a
//! partition or a `Query` on the index, and every listing follows `LastEvaluatedKey`
//! across DynamoDB's 1 MB pages until it has the page it was asked for.
//!
//! Layout: [`keys`] names every item; `error.rs` maps SDK errors onto `StoreError`
//! (keeping them as sources); `table.rs` holds the paging, batch-delete and
//! transaction helpers; `bots.rs`, `personas.rs`, `sessions.rs`, `rooms.rs`,
//! `messages.rs` and `quotas.rs` implement one port each (`replies.rs` the saves of a
//! reply as it grows, for `messages.rs`); [`cognito`] checks users' status
//! with Cognito and creates the user pool, app client and `admin` group.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

pub mod bootstrap;
mod bots;
mod cache;
pub mod cognito;
mod error;
pub mod keys;
mod messages;
mod personas;
mod quotas;
mod replies;
mod rooms;
mod sessions;
mod table;

pub use cache::CONFIG_TTL;
pub use error::{is_unavailable, sdk_err};
pub use table::item_size;

/// How long opening a connection to AWS may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one attempt of an AWS call may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an AWS call may take with its retries.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsSettings {
    /// The DynamoDB table (`PARLEY_TABLE`).
    pub table: String,
    /// The S3 bucket (`PARLEY_BUCKET`).
    pub bucket: String,
}

impl AwsSettings {
    /// Reads `PARLEY_TABLE` and `PARLEY_BUCKET`; the error names what is missing.
    pub fn from_env() -> Result<Self, String> {
        Ok(Self {
            table: required("PARLEY_TABLE", "the DynamoDB table name")?,
            bucket: required("PARLEY_BUCKET", "the S3 bucket name")?,
        })
    }
}

fn required(name: &str, what: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(format!(
            "{name} is not set: it must name {what} (`parley bootstrap` creates one and prints it)"
        )),
    }
}

/// The SDK configuration from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`,
/// credentials), with [`CONNECT_TIMEOUT`], [`ATTEMPT_TIMEOUT`] and
/// [`OPERATION_TIMEOUT`]. It makes no network call: credentials are resolved lazily,
/// on the first request.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts(CONNECT_TIMEOUT, ATTEMPT_TIMEOUT, OPERATION_TIMEOUT))
        .load()
        .await
}

/// A timeout configuration, for callers (and tests) that need other limits.
pub fn timeouts(connect: Duration, attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(connect)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// Every Parley storage port on one S3 bucket and one DynamoDB table. Cloning is cheap:
/// the SDK clients share their connection pools.
#[derive(Clone, Debug)]
pub struct AwsStore {
    pub(crate) ddb: aws_sdk_dynamodb::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) table: String,
    pub(crate) bucket: String,
    /// Bot configs by id, read within [`CONFIG_TTL`] (see `cache.rs`).
    pub(crate) bots: cache::TtlMap<parley_core::bot::BotConfig>,
    /// Persona texts by bot id, read within [`CONFIG_TTL`].
    pub(crate) personas: cache::TtlMap<Vec<(parley_core::persona::PersonaKind, String)>>,
    /// The last message number written per conversation.
    pub(crate) seqs: cache::SeqHints,
}

impl AwsStore {
    /// Builds the clients once from `sdk`. S3 uses path-style addressing when an
    /// endpoint URL is set (an emulator has no per-bucket host names).
    pub fn new(sdk: &aws_config::SdkConfig, settings: AwsSettings) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Self::with_clients(
            aws_sdk_dynamodb::Client::new(sdk),
            aws_sdk_s3::Client::from_conf(s3),
            settings,
        )
    }

    /// From clients built elsewhere (with interceptors, say).
    pub fn with_clients(ddb: aws_sdk_dynamodb::Client, s3: aws_sdk_s3::Client, settings: AwsSettings) -> Self {
        Self {
            ddb,
            s3,
            table: settings.table,
            bucket: settings.bucket,
            bots: cache::TtlMap::new(CONFIG_TTL),
            personas: cache::TtlMap::new(CONFIG_TTL),
            seqs: cache::SeqHints::default(),
        }
    }

    /// This store, keeping bot configs and persona texts for `ttl` instead of
    /// [`CONFIG_TTL`] (`Duration::ZERO`: read them every time).
    #[must_use]
    pub fn with_config_ttl(mut self, ttl: Duration) -> Self {
        self.bots = cache::TtlMap::new(ttl);
        self.personas = cache::TtlMap::new(ttl);
        self
    }

    /// A store on the same clients that knows nothing yet, as a new function instance
    /// starts: nothing cached, no message numbers remembered.
    #[must_use]
    pub fn with_fresh_caches(&self) -> Self {
        Self {
            bots: cache::TtlMap::new(self.bots.ttl()),
            personas: cache::TtlMap::new(self.personas.ttl()),
            seqs: cache::SeqHints::default(),
            ..self.clone()
        }
    }

    /// The DynamoDB client, for tests and tools that look at raw items.
    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        &self.ddb
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let err = required("PARLEY_TEST_SURELY_UNSET_VARIABLE", "a thing").expect_err("unset");
        assert!(err.starts_with("PARLEY_TEST_SURELY_UNSET_VARIABLE is not set"), "{err}");
    }
}
