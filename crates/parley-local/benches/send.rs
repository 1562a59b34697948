//! `make bench`: requests per second of `POST /session-message` with the offline model,
//! over real HTTP on loopback against the local server, with latency percentiles.
//! Bounded: a fixed number of requests from a fixed number of clients.

use std::time::{Duration, Instant};

use parley_core::limits::RateLimits;
use parley_local::{LocalConfig, build};
use serde_json::{Value, json};

const REQUESTS: usize = 4_000;
const CLIENTS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = LocalConfig::for_data_dir(dir.path());
    // Every client of the bench is one loopback address: exactly what the per-address
    // limits stop. Lift them; the bench measures the send path, not the limits.
    config.rate_limits = RateLimits {
        session_starts_per_minute: 1_000_000,
        sends_per_minute: 1_000_000,
        guest_sessions_per_bot_per_hour: 1_000_000,
    };
    let app = build(&config, None)?;
    let owner = app
        .idp
        .sign_in("owner@example.com", &["tier-pro".to_owned()], unix_now())
        .id_token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app.router).await });

    let http = reqwest::Client::new();
    // A bot whose daily limit (within its owner's tier) allows the whole run.
    let bot: Value = http
        .post(format!("{base}/create-chat"))
        .bearer_auth(&owner)
        .json(&json!({"title": "Bench", "limits": {"dailyMessages": 20_000}}))
        .send()
        .await?
        .json()
        .await?;
    // Friends open sessions through the bot's share link.
    let share_code = bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default()
        .to_owned();

    // Each client has its own session (a user's daily allowance caps one user, so each
    // client signs in as its own user).
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let token = sign_in(&base, &http, c).await?;
        let session: Value = http
            .post(format!("{base}/chat-session"))
            .bearer_auth(&token)
            .json(&json!({"shareCode": share_code}))
            .send()
            .await?
            .json()
            .await?;
        clients.push((token, session["sessionId"].as_str().unwrap_or_default().to_owned()));
    }

    let per_client = REQUESTS / CLIENTS;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (token, session) in clients {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut failures = 0usize;
            for i in 0..per_client {
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/session-message"))
                    .bearer_auth(&token)
                    .json(&json!({"sessionId": session, "message": format!("benchmark message {i}")}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => failures += 1,
                }
                latencies.push(t.elapsed());
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("session-message, offline model, SQLite, {CLIENTS} clients over loopback HTTP");
    println!(
        "  requests: {}  failures: {failures}  time: {:.2} s",
        latencies.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "  throughput: {:.0} requests/s",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    anyhow::ensure!(failures == 0, "{failures} requests failed");
    Ok(())
}

/// Signs in a benchmark user of its own through the development sign-in route.
async fn sign_in(base: &str, http: &reqwest::Client, n: usize) -> anyhow::Result<String> {
    let r: Value = http
        .post(format!("{base}/dev/sign-in"))
        .json(&json!({"email": format!("bench{n}@example.com"), "groups": ["tier-pro"]}))
        .send()
        .await?
        .json()
        .await?;
    Ok(r["idToken"].as_str().unwrap_or_default().to_owned())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
