//! `make bench`: the cold start of each function binary named in `PARLEY_BENCH_BINS`
//! (`name=path,…`): process start to its first answered event, the Lambda Runtime API
//! played on loopback by [`LoopbackRuntime`], `PARLEY_BENCH_RUNS` times each (default 5),
//! with the process's peak RSS. `lambda-echo` (a bare `lambda_runtime` echo) is the floor.
//! AWS_ENDPOINT_URL points at a closed port: start-up and the first event call no AWS.
//! Prints a line per binary and appends JSON lines to `PARLEY_BENCH_OUT` when set.

use std::io::Write;
use std::time::{Duration, Instant};

use parley_runtime::testing::LoopbackRuntime;
use serde_json::{Value, json};

const HEALTH: &str = include_str!("../fixtures/health.json");
const REST_EVENT: &str = include_str!("../../../functions/session-stream/tests/fixtures/resume-stream.json");
const AUTHORIZER_EVENT: &str =
    include_str!("../../../functions/auth-check/tests/fixtures/authorizer-request-anonymous.json");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bins = std::env::var("PARLEY_BENCH_BINS").unwrap_or_default();
    let runs: usize = std::env::var("PARLEY_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    anyhow::ensure!(!bins.is_empty(), "PARLEY_BENCH_BINS names no binary (name=path,…)");
    let mut out = match std::env::var("PARLEY_BENCH_OUT") {
        Ok(path) => Some(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
        Err(_) => None,
    };
    for entry in bins.split(',') {
        let (name, bin) = entry
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{entry:?} is not name=path"))?;
        let mut times = Vec::new();
        let mut peak_rss_kb = 0;
        for _ in 0..runs {
            let (took, rss) = cold_start(name, bin).await?;
            times.push(took);
            peak_rss_kb = peak_rss_kb.max(rss);
        }
        times.sort_unstable();
        let median = times[times.len() / 2];
        println!(
            "cold start {name:<16} median {:>6.1} ms  min {:>6.1} ms  max {:>6.1} ms  peak RSS {:>6} KB",
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1]),
            peak_rss_kb
        );
        if let Some(out) = out.as_mut() {
            let line = json!({"kind": "cold_start", "function": name, "runs": runs, "median_ms": ms(median),
                "min_ms": ms(times[0]), "max_ms": ms(times[times.len() - 1]), "peak_rss_kb": peak_rss_kb});
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// One cold start of `bin` as function `name`: the time to its first answer, and its
/// peak RSS then.
async fn cold_start(name: &str, bin: &str) -> anyhow::Result<(Duration, u64)> {
    let mut runtime = LoopbackRuntime::start(name, vec![event_for(name)]).await;
    let mut command = runtime.command(bin, name);
    command
        .env("COGNITO_USER_POOL_ID", "us-east-1_bench")
        .env("COGNITO_CLIENT_ID", "bench");
    let started = Instant::now();
    let mut child = command.spawn()?;
    let answered = runtime
        .answer_from(&mut child, Duration::from_secs(30))
        .await
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let took = answered.at.duration_since(started);
    let rss = child.id().map(peak_rss_kb).unwrap_or_default();
    child.start_kill()?;
    let _ = child.wait().await;
    Ok((took, rss))
}

/// What each function is first asked: `GET /health` in its API's format, or (auth-check)
/// an anonymous authorizer request.
fn event_for(name: &str) -> String {
    match name {
        "auth-check" => AUTHORIZER_EVENT
            .replace("{{method}}", "GET")
            .replace("{{path}}", "/health")
            .replace("{{routeKey}}", "GET /health"),
        "session-stream" => {
            let mut event: Value = serde_json::from_str(REST_EVENT).unwrap_or_default();
            event["resource"] = json!("/health");
            event["path"] = json!("/health");
            event["pathParameters"] = Value::Null;
            event["requestContext"]["resourcePath"] = json!("/health");
            event["requestContext"]["path"] = json!("/prod/health");
            event.to_string()
        }
        _ => HEALTH.to_owned(),
    }
}

/// `VmHWM` of process `pid`, in KB.
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
