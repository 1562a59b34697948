//! `make bench`: sends per second and latency of `POST /session-message` (JSON) and
//! `POST /session-message/stream` (server-sent events) with the offline model, over real
//! HTTP on loopback against the local server on SQLite, at each concurrency of
//! `PARLEY_BENCH_LEVELS` (default 1,16,50,200). Every client is its own user with its own
//! session (a fresh one per level). Bounded: `PARLEY_BENCH_REQUESTS` JSON sends per level
//! (default 2,000) and `PARLEY_BENCH_STREAMS` streamed sends per client (default 3; the
//! offline model pauses 30 ms between words, so a streamed send takes about a second).
//! Prints a line per level and appends JSON lines to `PARLEY_BENCH_OUT` when set; the
//! peak RSS is the bench process's (server and clients) after each level, and the CPU
//! time per send is the bench process's too (server and clients share the cores).

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{
    cpu_ms, env_or, levels, open_sessions, peak_rss_kb, results_file, shared_bot, sign_in, unix_now, unlimited_config,
};
use futures::StreamExt;
use parley_local::build;
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Stream,
}

struct Level {
    latencies: Vec<Duration>,
    first_bytes: Vec<Duration>,
    failures: usize,
    elapsed: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let levels = levels("PARLEY_BENCH_LEVELS")?;
    let requests: usize = env_or("PARLEY_BENCH_REQUESTS", "2000").parse()?;
    let streams: usize = env_or("PARLEY_BENCH_STREAMS", "3").parse()?;
    let mut out = results_file()?;

    let dir = tempfile::tempdir()?;
    let config = unlimited_config(dir.path());
    let app = build(&config, None)?;
    let owner = app
        .idp
        .sign_in("owner@example.com", &["tier-unlimited".to_owned()], unix_now())
        .id_token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app.router).await });

    let http = reqwest::Client::new();
    // A bot whose daily limit allows the whole run.
    let share_code = shared_bot(
        &base,
        &http,
        &owner,
        json!({"title": "Bench", "limits": {"dailyMessages": 1_000_000}}),
    )
    .await?;
    // One user per client (a user's daily allowance caps one user).
    let max_clients = levels.iter().copied().max().unwrap_or(1);
    let mut tokens = Vec::new();
    for c in 0..max_clients {
        tokens.push(sign_in(&base, &http, c).await?);
    }

    println!("sends over loopback HTTP to the local server (SQLite, offline model)");
    for mode in [Mode::Json, Mode::Stream] {
        for &clients in &levels {
            let per_client = match mode {
                Mode::Json => (requests / clients).max(1),
                Mode::Stream => streams,
            };
            let sessions = open_sessions(&base, &http, &tokens[..clients], &share_code).await?;
            let cpu_before = cpu_ms("self");
            let mut level = run_level(&http, &base, mode, sessions, per_client).await?;
            let cpu_per_send = (cpu_ms("self") - cpu_before) / level.latencies.len().max(1) as f64;
            level.latencies.sort_unstable();
            level.first_bytes.sort_unstable();
            let count = level.latencies.len();
            let throughput = count as f64 / level.elapsed.as_secs_f64();
            let rss = peak_rss_kb("self");
            let name = if mode == Mode::Json { "json" } else { "stream" };
            let (p50, p99, max) = (
                pct(&level.latencies, 0.50),
                pct(&level.latencies, 0.99),
                pct(&level.latencies, 1.0),
            );
            let first_p50 = pct(&level.first_bytes, 0.50);
            println!(
                "  {name:<6} {clients:>3} clients: {count:>5} sends {:>6.2} s {throughput:>7.0}/s  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  first byte p50 {:>6.1} ms  CPU {cpu_per_send:.2} ms/send  failures {}  peak RSS {rss} KB",
                level.elapsed.as_secs_f64(),
                ms(p50),
                ms(p99),
                ms(max),
                ms(first_p50),
                level.failures
            );
            if let Some(out) = out.as_mut() {
                let line = json!({"kind": "send", "mode": name, "clients": clients, "sends": count,
                    "seconds": level.elapsed.as_secs_f64(), "per_second": throughput,
                    "p50_ms": ms(p50), "p99_ms": ms(p99), "max_ms": ms(max), "first_byte_p50_ms": first_p50.as_secs_f64() * 1000.0,
                    "first_byte_p99_ms": ms(pct(&level.first_bytes, 0.99)),
                    "failures": level.failures, "peak_rss_kb": rss, "cpu_ms_per_send": cpu_per_send});
                writeln!(out, "{line}")?;
            }
            anyhow::ensure!(level.failures == 0, "{} sends failed", level.failures);
        }
    }
    Ok(())
}

/// `per_client` sends from each client, all clients at once.
async fn run_level(
    http: &reqwest::Client,
    base: &str,
    mode: Mode,
    sessions: Vec<(String, String)>,
    per_client: usize,
) -> anyhow::Result<Level> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (token, session) in sessions {
        let (http, base) = (http.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut first_bytes = Vec::with_capacity(per_client);
            let mut failures = 0usize;
            let url = match mode {
                Mode::Json => format!("{base}/session-message"),
                Mode::Stream => format!("{base}/session-message/stream"),
            };
            for i in 0..per_client {
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"sessionId": session, "message": format!("benchmark message {i}")}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let mut body = r.bytes_stream();
                        let mut first = None;
                        let mut ok = true;
                        while let Some(chunk) = body.next().await {
                            first.get_or_insert_with(|| t.elapsed());
                            ok &= chunk.is_ok();
                        }
                        if !ok {
                            failures += 1;
                        }
                        first_bytes.push(first.unwrap_or_else(|| t.elapsed()));
                    }
                    _ => failures += 1,
                }
                latencies.push(t.elapsed());
            }
            (latencies, first_bytes, failures)
        }));
    }
    let mut level = Level {
        latencies: Vec::new(),
        first_bytes: Vec::new(),
        failures: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (l, f, n) = task.await?;
        level.latencies.extend(l);
        level.first_bytes.extend(f);
        level.failures += n;
    }
    level.elapsed = started.elapsed();
    Ok(level)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
