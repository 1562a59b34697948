//! Quotas: tiers from Cognito groups and the counters a send charges.

use chrono::{DateTime, Utc};

use crate::principal::User;

/// What a tier allows. The owner's tier caps what the owner may set on a bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub name: &'static str,
    /// Highest `limits.dailyMessages` a bot of this tier may have.
    pub bot_daily_messages_max: u32,
    /// Highest `limits.guestMessagesPerSession` a bot of this tier may have.
    pub guest_messages_per_session_max: u32,
    /// Messages a user of this tier may send per day, across all bots.
    pub user_daily_messages: u32,
}

pub const FREE: Tier = Tier {
    name: "free",
    bot_daily_messages_max: 1_000,
    guest_messages_per_session_max: 100,
    user_daily_messages: 500,
};
pub const PRO: Tier = Tier {
    name: "pro",
    bot_daily_messages_max: 20_000,
    guest_messages_per_session_max: 1_000,
    user_daily_messages: 5_000,
};
pub const UNLIMITED: Tier = Tier {
    name: "unlimited",
    bot_daily_messages_max: 1_000_000,
    guest_messages_per_session_max: 100_000,
    user_daily_messages: 1_000_000,
};

/// The user's tier: the highest `tier-*` group they are in, `free` by default.
pub fn tier_of(user: &User) -> Tier {
    if user.in_group("tier-unlimited") {
        UNLIMITED
    } else if user.in_group("tier-pro") {
        PRO
    } else {
        FREE
    }
}

/// An amount added to a counter with no limit (a reply's tokens), as
/// [`crate::ports::QuotaStore::add`] adds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaAdd {
    pub key: String,
    pub amount: u32,
    /// When the counter may be forgotten; an expired counter starts over.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One counter to increment by one, refused when it already stands at `limit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaCharge {
    pub key: String,
    pub limit: u32,
    /// When the counter may be forgotten (the end of its day); `None` lives as long as
    /// what it counts.
    pub expires_at: Option<DateTime<Utc>>,
    /// What to tell the client when this counter refuses.
    pub scope: &'static str,
}

/// The outcome of charging a set of counters together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuotaOutcome {
    /// Every counter was incremented.
    Granted,
    /// None was incremented, because the counter with this key is at its limit.
    Denied { key: String },
}
