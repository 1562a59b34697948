//! `make bench`: the local store under load in issue 11's own setup. `parley` (this
//! build, SQLite on a fresh data directory) runs in a process of its own; wrk, in
//! another, keeps `PARLEY_BENCH_WRK_LEVELS` connections (default 1,16,50,200) sending
//! `POST /session-message` for `PARLEY_BENCH_WRK_SECONDS` each (default 10); the model
//! is an OpenAI stand-in on loopback that answers at once (in this bench process).
//!
//! Per level: sends/s and wrk's p50/p99/max latency, and the server's own CPU time per
//! send and peak RSS, read from /proc, so neither the load generator nor the stand-in
//! counts. The sessions (two per connection, each of its own user, a fresh set per
//! level) are written into wrk's Lua script and taken in turn, so no session has two
//! sends at once. Any answer but 200 fails the bench.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{children_cpu_ms, cpu_ms, env_or, levels, open_sessions, peak_rss_kb, results_file, shared_bot, sign_in};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let levels = levels("PARLEY_BENCH_WRK_LEVELS")?;
    let seconds: u64 = env_or("PARLEY_BENCH_WRK_SECONDS", "10").parse()?;
    let mut out = results_file()?;

    let stand_in = stand_in()?;
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_parley"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("PARLEY_DATA_DIR", dir.path())
            .env("PARLEY_MODELS", "openai:gpt-bench")
            .env("OPENAI_BASE_URL", format!("{stand_in}/v1"))
            .env("OPENAI_API_KEY", "bench-key")
            .env("PARLEY_SENDS_PER_MINUTE", "1000000")
            .env("PARLEY_SESSION_STARTS_PER_MINUTE", "1000000")
            .env("PARLEY_GUEST_SESSIONS_PER_BOT_PER_HOUR", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let pid = server.0.id().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await?;

    let owner = sign_in(&base, &http, usize::MAX).await?;
    // A bot whose daily limit allows the whole run; friends open it by its share code.
    let share_code = shared_bot(
        &base,
        &http,
        &owner,
        json!({"title": "Bench", "model": "gpt-bench", "limits": {"dailyMessages": 1_000_000}}),
    )
    .await?;
    let max_sessions = 2 * levels.iter().copied().max().unwrap_or(1);
    let mut tokens = Vec::with_capacity(max_sessions);
    for n in 0..max_sessions {
        tokens.push(sign_in(&base, &http, n).await?);
    }

    println!("wrk against parley (its own process, SQLite), OpenAI stand-in answering at once, {seconds} s a level");
    for &connections in &levels {
        let sessions = open_sessions(&base, &http, &tokens[..2 * connections], &share_code).await?;
        // One wrk thread: it needs a tenth of a core, and a second would take more of
        // the cores the server needs than it gives.
        let threads = 1;
        let script = dir.path().join(format!("send-{connections}.lua"));
        std::fs::write(&script, lua_script(&sessions, threads))?;

        let cpu_before = cpu_ms(&pid);
        let (stand_in_before, wrk_before) = (cpu_ms("self"), children_cpu_ms("self"));
        let output = Command::new("wrk")
            .args(["-t", &threads.to_string(), "-c", &connections.to_string()])
            .args(["-d", &format!("{seconds}s"), "--timeout", "10s", "-s"])
            .arg(&script)
            .arg(format!("{base}/session-message"))
            .output()
            .map_err(|e| anyhow::anyhow!("cannot run wrk (scripts/setup.sh installs it): {e}"))?;
        let cpu = cpu_ms(&pid) - cpu_before;
        let stand_in_cpu = cpu_ms("self") - stand_in_before;
        let wrk_cpu = children_cpu_ms("self") - wrk_before;
        let stdout = String::from_utf8_lossy(&output.stdout);
        anyhow::ensure!(
            output.status.success(),
            "wrk failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: Value = stdout
            .lines()
            .find_map(|l| l.strip_prefix("PARLEY_WRK "))
            .ok_or_else(|| anyhow::anyhow!("wrk printed no summary: {stdout}"))
            .and_then(|l| Ok(serde_json::from_str(l)?))?;
        let number = |k: &str| summary[k].as_f64().unwrap_or_default();
        let sends = number("requests");
        let per_second = sends / (number("duration_us") / 1e6);
        let (p50, p99, max) = (number("p50_us") / 1e3, number("p99_us") / 1e3, number("max_us") / 1e3);
        let cpu_per_send = cpu / sends.max(1.0);
        let (stand_in_per_send, wrk_per_send) = (stand_in_cpu / sends.max(1.0), wrk_cpu / sends.max(1.0));
        let rss = peak_rss_kb(&pid);
        println!(
            "  {connections:>3} connections: {sends:>6} sends {per_second:>7.0}/s  p50 {p50:>6.1} ms  p99 {p99:>6.1} ms  max {max:>6.1} ms  server CPU {cpu_per_send:.3} ms/send (stand-in {stand_in_per_send:.3}, wrk {wrk_per_send:.3})  peak RSS {rss} KB"
        );
        anyhow::ensure!(
            number("failed") == 0.0,
            "{} of {sends} sends were not answered 200: {stdout}",
            number("failed")
        );
        anyhow::ensure!(sends > 0.0, "wrk sent nothing: {stdout}");
        if let Some(out) = out.as_mut() {
            let line = json!({"kind": "wrk", "connections": connections, "sends": sends, "seconds": number("duration_us") / 1e6,
                "per_second": per_second, "p50_ms": p50, "p99_ms": p99, "max_ms": max,
                "server_cpu_ms_per_send": cpu_per_send, "server_peak_rss_kb": rss,
                "stand_in_cpu_ms_per_send": stand_in_per_send, "wrk_cpu_ms_per_send": wrk_per_send});
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// The `parley` process, ended when the bench ends (also on an error).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// wrk's script: thread `t` of `threads` sends on sessions t, t + threads, … in turn,
/// and the summary is one JSON line (latencies in µs; `failed` counts answers but 200
/// and socket errors).
fn lua_script(sessions: &[(String, String)], threads: usize) -> String {
    let list: Vec<String> = sessions
        .iter()
        .map(|(token, id)| {
            let body = json!({"sessionId": id, "message": "benchmark message"}).to_string();
            format!("{{{:?}, {:?}}}", format!("Bearer {token}"), body)
        })
        .collect();
    format!(
        r#"local sessions = {{ {list} }}
local threads, started = {threads}, 0
function setup(thread)
  thread:set("cursor", started)
  started = started + 1
end
function request()
  local s = sessions[(cursor % #sessions) + 1]
  cursor = cursor + threads
  return wrk.format("POST", nil, {{["authorization"] = s[1], ["content-type"] = "application/json"}}, s[2])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('PARLEY_WRK {{"requests":%d,"duration_us":%d,"failed":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}}\n',
    summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"#,
        list = list.join(",\n  ")
    )
}

/// An OpenAI stand-in that answers every chat completion at once with a short reply, on
/// a thread of its own with a single-threaded runtime (the cheapest way to answer, so
/// that the stand-in takes as little as it can of the cores the server needs).
fn stand_in() -> anyhow::Result<String> {
    async fn complete(Json(_): Json<Value>) -> Response {
        Json(json!({
            "id": "chatcmpl-bench", "object": "chat.completion", "model": "gpt-bench",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "A short answer from the stand-in."}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
        }))
        .into_response()
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let base = format!("http://{}", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let app = Router::new().route("/v1/chat/completions", post(complete));
            let listener = tokio::net::TcpListener::from_std(listener).expect("a loopback listener");
            axum::serve(listener, app).await
        })
    });
    Ok(base)
}

/// A loopback port free at the moment.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits up to 30 s for the server to answer.
async fn wait_until_up(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if http.get(format!("{base}/models")).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("parley did not answer within 30 s")
}
