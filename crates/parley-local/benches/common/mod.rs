//! What the send and bytes benches share: the local app's configuration with the
//! per-address limits lifted, and the clock the dev sign-in takes.

use parley_core::limits::RateLimits;
use parley_local::LocalConfig;

/// The configuration over `dir`. Every client of a bench is one loopback address:
/// exactly what the per-address limits stop. They are lifted, since a bench measures
/// the send path, not the limits.
pub fn unlimited_config(dir: &std::path::Path) -> LocalConfig {
    let mut config = LocalConfig::for_data_dir(dir);
    config.rate_limits = RateLimits {
        session_starts_per_minute: 1_000_000,
        sends_per_minute: 1_000_000,
        guest_sessions_per_bot_per_hour: 1_000_000,
    };
    config
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
