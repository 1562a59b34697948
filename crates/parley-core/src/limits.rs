//! Abuse limits: rates per client address and the per-bot budget of new guest sessions.
//!
//! They are counters of the [`crate::ports::QuotaStore`] on fixed windows (the key
//! names the window, the counter expires at its end), so they hold across processes and
//! Lambda instances, and a refusal tells the client when the window ends (`Retry-After`).

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::quota::QuotaCharge;

/// Counter keys of rate limits start with this; a refusal by one is a rate limit (429
/// `rate_limited` with `Retry-After`), not an exhausted quota.
pub const RATE_PREFIX: &str = "rate#";

/// The platform's limits against scripts. Platform settings, not owner-set; the binaries
/// read them from the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Sessions one client address may start per minute (any caller).
    pub session_starts_per_minute: u32,
    /// Messages one client address may send per minute (any caller, sessions and rooms).
    pub sends_per_minute: u32,
    /// New guest sessions one bot accepts per hour, from all addresses together.
    pub guest_sessions_per_bot_per_hour: u32,
}

impl Default for RateLimits {
    /// Generous for a family behind one router, tight for a script.
    fn default() -> Self {
        Self {
            session_starts_per_minute: 10,
            sends_per_minute: 30,
            guest_sessions_per_bot_per_hour: 60,
        }
    }
}

/// Where a request came from, as the edge saw it: the peer address locally, API
/// Gateway's source IP in the cloud. Requests without one share the key `unknown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAddress(Option<IpAddr>);

impl ClientAddress {
    /// No address known: such requests are limited together, under one key.
    pub const UNKNOWN: Self = Self(None);

    pub fn new(ip: IpAddr) -> Self {
        Self(Some(ip))
    }

    pub fn ip(&self) -> Option<IpAddr> {
        self.0
    }

    /// The part of a counter key that names the address: an IPv4 address whole (also
    /// when written IPv4-mapped), an IPv6 address by its /64 network, since one
    /// subscriber gets a whole /64 and could otherwise rotate through 2^64 addresses.
    pub fn key(&self) -> String {
        match self.0.map(|ip| ip.to_canonical()) {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// A charge on a fixed window of `window` seconds that contains `now`: the key names
/// the window's start, and the counter expires at its end.
pub(crate) fn window_charge(
    what: &str,
    subject: &str,
    limit: u32,
    window: i64,
    now: DateTime<Utc>,
    scope: &'static str,
) -> QuotaCharge {
    let start = now.timestamp().div_euclid(window) * window;
    QuotaCharge {
        key: format!("{RATE_PREFIX}{what}#{subject}#{start}"),
        limit,
        expires_at: DateTime::from_timestamp(start + window, 0),
        scope,
    }
}

/// How long until a rate counter's window ends: at least one second.
pub(crate) fn retry_after(charge: &QuotaCharge, now: DateTime<Utc>) -> Duration {
    let left = charge
        .expires_at
        .and_then(|at| (at - now).to_std().ok())
        .unwrap_or_default();
    left.max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_key_by_ipv4_and_by_ipv6_network() {
        let key = |s: &str| ClientAddress::new(s.parse().expect("an address")).key();
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(
            key("::ffff:192.0.2.7"),
            "192.0.2.7",
            "an IPv4-mapped address is its IPv4"
        );
        // Two hosts of one /64 share a counter; another /64 does not.
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(ClientAddress::UNKNOWN.key(), "unknown");
    }

    #[test]
    fn a_window_charge_names_its_window_and_expires_at_its_end() {
        let now = DateTime::from_timestamp(1_700_000_042, 500_000_000).expect("a time");
        let charge = window_charge("sends", "192.0.2.7", 30, 60, now, "test");
        assert_eq!(charge.key, "rate#sends#192.0.2.7#1700000040");
        assert_eq!(charge.expires_at, DateTime::from_timestamp(1_700_000_100, 0));
        let next = window_charge(
            "sends",
            "192.0.2.7",
            30,
            60,
            now + chrono::Duration::seconds(60),
            "test",
        );
        assert_ne!(charge.key, next.key, "the next window is another counter");
        let later = DateTime::from_timestamp(1_700_000_010, 250_000_000).expect("a time");
        let charge = window_charge("sends", "x", 30, 60, later, "test");
        assert_eq!(retry_after(&charge, later), Duration::from_millis(29_750));
        assert_eq!(
            retry_after(&charge, later + chrono::Duration::seconds(40)),
            Duration::from_secs(1),
            "never less than a second"
        );
    }
}
