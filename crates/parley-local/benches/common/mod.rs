//! What the benches share: the local app's configuration with the per-address limits
//! lifted, the clock the dev sign-in takes, benchmark users, and a process's CPU time and
//! peak memory. Each bench compiles this module on its own and uses a part of it.
#![allow(dead_code)]

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

/// The variable `name`, or `default` when unset.
pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// The concurrency levels in the variable `name` (default 1,16,50,200).
pub fn levels(name: &str) -> anyhow::Result<Vec<usize>> {
    Ok(env_or(name, "1,16,50,200")
        .split(',')
        .map(|l| l.trim().parse())
        .collect::<Result<_, _>>()?)
}

/// The file `PARLEY_BENCH_OUT` names, opened to append the results' JSON lines, if set.
pub fn results_file() -> anyhow::Result<Option<std::fs::File>> {
    match std::env::var("PARLEY_BENCH_OUT") {
        Ok(path) => Ok(Some(std::fs::OpenOptions::new().create(true).append(true).open(path)?)),
        Err(_) => Ok(None),
    }
}

/// CPU time the process `pid` (`"self"` for this one; every thread) has used so far,
/// user and system, in ms: fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms.
pub fn cpu_ms(pid: &str) -> f64 {
    stat_ms(pid, 11)
}

/// CPU time of the children the process `pid` has waited for, in ms (fields 16 and 17).
pub fn children_cpu_ms(pid: &str) -> f64 {
    stat_ms(pid, 13)
}

/// Two clock-tick fields of /proc/<pid>/stat from `skip` fields after the command name.
fn stat_ms(pid: &str, skip: usize) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name, in parentheses, may hold spaces: count fields after it.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(skip)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    ticks as f64 * 10.0
}

/// The peak resident set (`VmHWM`) of the process `pid` (`"self"` for this one), in KB.
pub fn peak_rss_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_default()
}

/// Signs in benchmark user `n` (of the unlimited tier, so that no daily allowance ends
/// a run) through the development sign-in route; its ID token.
pub async fn sign_in(base: &str, http: &reqwest::Client, n: usize) -> anyhow::Result<String> {
    let r: serde_json::Value = http
        .post(format!("{base}/dev/sign-in"))
        .json(&serde_json::json!({"email": format!("bench{n}@example.com"), "groups": ["tier-unlimited"]}))
        .send()
        .await?
        .json()
        .await?;
    Ok(r["idToken"].as_str().unwrap_or_default().to_owned())
}

/// Creates a bot as `owner` from `body` (`POST /create-chat`) and answers its share code,
/// by which the benchmark users open it.
pub async fn shared_bot(
    base: &str,
    http: &reqwest::Client,
    owner: &str,
    body: serde_json::Value,
) -> anyhow::Result<String> {
    let bot: serde_json::Value = http
        .post(format!("{base}/create-chat"))
        .bearer_auth(owner)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(share_code(&bot))
}

/// A fresh session on the bot of `share_code` for each user of `tokens`: (token, session id).
pub async fn open_sessions(
    base: &str,
    http: &reqwest::Client,
    tokens: &[String],
    share_code: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut sessions = Vec::with_capacity(tokens.len());
    for token in tokens {
        let session: serde_json::Value = http
            .post(format!("{base}/chat-session"))
            .bearer_auth(token)
            .json(&serde_json::json!({"shareCode": share_code}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = session["sessionId"].as_str().unwrap_or_default().to_owned();
        sessions.push((token.clone(), id));
    }
    Ok(sessions)
}

/// The share code at the end of a bot's `shareableUrl`.
pub fn share_code(bot: &serde_json::Value) -> String {
    bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}
