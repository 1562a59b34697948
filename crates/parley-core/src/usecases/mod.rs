//! The use cases: one method of [`Parley`] per API operation. Each takes the caller
//! first, asks [`crate::policy`] whether they may, and speaks to the ports.

mod bots;
mod messaging;
mod personas;
mod rooms;
mod sessions;
mod streaming;

use std::sync::Arc;

use chrono::{DateTime, Days, Utc};

pub use bots::{BotFields, BotList, LimitsFields, MemoryFields, OverrideFields, SharingFields, is_owner};
pub use messaging::SendOutcome;
pub use rooms::{JoinRoom, NewRoom};
pub use sessions::{HistoryPage, NewSession, SessionChanges, SessionStart};
pub use streaming::{
    FOLLOW_EVERY, LEASE_FOR, RENEW_EVERY, ReplyEvent, ReplyEvents, SAVE_BYTES, SAVE_EVERY, StreamedSend,
};

use crate::error::{CoreError, StoreError};
use crate::limits::{self, RATE_PREFIX, RateLimits};
use crate::models::ModelCatalog;
use crate::ports::{
    BotStore, Clock, IdSource, LlmProvider, MessageStore, PageRequest, PersonaStore, QuotaStore, RoomStore,
    SessionStore,
};
use crate::quota::QuotaCharge;
use crate::values::PageLimit;

/// Platform settings the use cases need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the web app is served; share links start with it.
    pub public_url: String,
    /// If set, only members of this Cognito group may create bots.
    pub creators_group: Option<String>,
    /// How long a model call may stay pending before a retry may take it over.
    pub pending_timeout: chrono::Duration,
    /// Rate limits per client address and the per-bot budget of new guest sessions.
    pub rate_limits: RateLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8787".into(),
            creators_group: None,
            pending_timeout: chrono::Duration::minutes(2),
            rate_limits: RateLimits::default(),
        }
    }
}

/// Everything a use case may touch.
#[derive(Clone)]
pub struct Ports {
    pub bots: Arc<dyn BotStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub rooms: Arc<dyn RoomStore>,
    pub messages: Arc<dyn MessageStore>,
    pub quotas: Arc<dyn QuotaStore>,
    pub personas: Arc<dyn PersonaStore>,
    pub llm: Arc<dyn LlmProvider>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

impl Ports {
    /// Every store port served by one adapter (SQLite locally, AWS in the cloud), with
    /// the system clock and random ids.
    pub fn over_store<S>(store: Arc<S>, llm: Arc<dyn LlmProvider>) -> Self
    where
        S: BotStore + SessionStore + RoomStore + MessageStore + QuotaStore + PersonaStore + 'static,
    {
        Self {
            bots: store.clone(),
            sessions: store.clone(),
            rooms: store.clone(),
            messages: store.clone(),
            quotas: store.clone(),
            personas: store,
            llm,
            clock: Arc::new(crate::ports::SystemClock),
            ids: Arc::new(crate::ports::RandomIds),
        }
    }
}

/// The application: ports, the model catalog and settings.
#[derive(Clone)]
pub struct Parley {
    ports: Ports,
    catalog: Arc<ModelCatalog>,
    settings: Arc<Settings>,
    /// The reply generators running in this process, for stops.
    generators: Arc<streaming::Generators>,
}

impl Parley {
    pub fn new(ports: Ports, catalog: ModelCatalog, settings: Settings) -> Self {
        Self {
            ports,
            catalog: Arc::new(catalog),
            settings: Arc::new(settings),
            generators: Arc::default(),
        }
    }

    pub fn catalog(&self) -> &ModelCatalog {
        &self.catalog
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// The end of the current UTC day, when daily counters may be forgotten.
    fn end_of_day(&self) -> DateTime<Utc> {
        let today = self.now().date_naive();
        today
            .checked_add_days(Days::new(1))
            .unwrap_or(today)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
    }
}

impl Parley {
    /// The error for a refused charge: `RateLimited` until its window ends for a rate
    /// counter, `QuotaExceeded` for a quota.
    fn refusal(&self, charges: &[QuotaCharge], key: &str) -> CoreError {
        match charges.iter().find(|c| c.key == key) {
            Some(c) if c.key.starts_with(RATE_PREFIX) => CoreError::RateLimited {
                scope: c.scope,
                retry_after: limits::retry_after(c, self.now()),
            },
            Some(c) => CoreError::QuotaExceeded(c.scope),
            None => CoreError::QuotaExceeded("a quota"),
        }
    }
}

/// A listing request as the API receives it: an opaque cursor and a size.
pub fn page_request(cursor: Option<String>, limit: Option<i64>) -> Result<PageRequest, CoreError> {
    const LIST_DEFAULT: u32 = 20;
    let limit = PageLimit::parse(limit, LIST_DEFAULT)?;
    if let Some(c) = &cursor
        && (c.len() > 64 || !c.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(CoreError::validation("next", "is not a valid cursor"));
    }
    Ok(PageRequest {
        after: cursor,
        limit: limit.get(),
    })
}

/// Turns "absent" into `NotFound`.
fn found<T>(value: Result<Option<T>, StoreError>) -> Result<T, CoreError> {
    value?.ok_or(CoreError::NotFound)
}
