//! `make bench`, streamed sends: how much later than the provider's own first chunk the
//! client gets its first delta (the time Parley adds to the first byte of a reply), and
//! how many times a reply of 2,000 characters is written while it streams.
//!
//! A loopback stand-in speaks OpenAI's streaming chat completions: after a known delay it
//! sends 2,000 characters in 100 chunks, 10 ms apart, and notes when its first chunk
//! went out. Sends are one after another, so each first chunk pairs with its client.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use futures::StreamExt;
use parley_core::limits::RateLimits;
use parley_llm::{OpenAiConfig, ProvidersConfig};
use parley_local::{LocalConfig, build};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Streamed sends measured (`PARLEY_BENCH_STREAM_SENDS`, default 40).
fn sends() -> usize {
    std::env::var("PARLEY_BENCH_STREAM_SENDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
}
const FIRST_CHUNK_DELAY: Duration = Duration::from_millis(100);
const CHUNKS: usize = 100;
const CHUNK: &str = "twenty characters.. ";
const CHUNK_EVERY: Duration = Duration::from_millis(10);

/// When the stand-in sent each reply's first chunk.
type FirstChunks = Arc<Mutex<Vec<Instant>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let saves = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(SavesLayer(saves.clone()));
    tracing::subscriber::set_global_default(subscriber)?;

    let sends = sends();
    let first_chunks: FirstChunks = Arc::default();
    let stand_in = stand_in(first_chunks.clone()).await?;

    let dir = tempfile::tempdir()?;
    let mut config = LocalConfig::for_data_dir(dir.path());
    config.models = "openai:gpt-bench".into();
    config.providers = ProvidersConfig {
        openai: Some(OpenAiConfig::compatible(format!("{stand_in}/v1"), None)),
        ..ProvidersConfig::default()
    };
    config.rate_limits = RateLimits {
        session_starts_per_minute: 1_000_000,
        sends_per_minute: 1_000_000,
        guest_sessions_per_bot_per_hour: 1_000_000,
    };
    let app = build(&config, None)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app.router).await });

    let http = reqwest::Client::new();
    let token = sign_in(&base, &http).await?;
    let bot: Value = http
        .post(format!("{base}/create-chat"))
        .bearer_auth(&token)
        .json(
            &json!({"title": "Stream bench", "model": "gpt-bench", "maxOutputTokens": 4096,
            "memory": {"maxMessages": 2}}),
        )
        .send()
        .await?
        .json()
        .await?;
    let session: Value = http
        .post(format!("{base}/chat-session"))
        .bearer_auth(&token)
        .json(&json!({"chatConfigId": bot["chatConfigId"]}))
        .send()
        .await?
        .json()
        .await?;
    let session = session["sessionId"].as_str().unwrap_or_default().to_owned();

    let mut added = Vec::with_capacity(sends);
    let mut lengths = Vec::with_capacity(sends);
    for i in 0..sends {
        let response = http
            .post(format!("{base}/session-message/stream"))
            .bearer_auth(&token)
            .json(&json!({"sessionId": session, "message": format!("stream {i}")}))
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "send {i}: {}", response.status());
        let mut body = response.bytes_stream();
        let mut text = String::new();
        let mut first_delta = None;
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk?));
            if first_delta.is_none() && text.contains("event: delta") {
                first_delta = Some(Instant::now());
            }
        }
        anyhow::ensure!(text.contains("event: done"), "send {i} did not end with done");
        let first_chunk = first_chunks.lock().map_err(|_| anyhow::anyhow!("lock"))?[i];
        let first_delta = first_delta.ok_or_else(|| anyhow::anyhow!("send {i} had no delta"))?;
        added.push(first_delta.saturating_duration_since(first_chunk));
        lengths.push(text.matches("event: delta").count());
    }
    // The generator logs its saves when the reply has ended, just after `done`.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let saves = saves.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone();
    anyhow::ensure!(
        saves.len() == sends,
        "{} of {sends} replies logged their saves",
        saves.len()
    );

    added.sort_unstable();
    let pct = |p: f64| added[((added.len() as f64 * p) as usize).min(added.len() - 1)];
    println!(
        "session-message/stream, OpenAI stand-in (first chunk after {FIRST_CHUNK_DELAY:?}, {} characters in {CHUNKS} chunks {CHUNK_EVERY:?} apart), SQLite, {sends} sends",
        CHUNK.len() * CHUNKS
    );
    println!(
        "  added time to first delta over the provider's first chunk: p50 {:?}  p99 {:?}  max {:?}",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    let (min, max) = (
        saves.iter().min().copied().unwrap_or_default(),
        saves.iter().max().copied().unwrap_or_default(),
    );
    println!(
        "  writes of the reply's text per reply of {} characters: {min}–{max} (saves while it streams, and the final one)",
        CHUNK.len() * CHUNKS
    );
    println!(
        "  deltas per reply: {}",
        lengths.iter().max().copied().unwrap_or_default()
    );
    if let Ok(path) = std::env::var("PARLEY_BENCH_OUT") {
        use std::io::Write;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let line = json!({"kind": "stream_first_delta", "sends": sends, "added_p50_ms": ms(pct(0.50)),
            "added_p99_ms": ms(pct(0.99)), "added_max_ms": ms(pct(1.0)), "reply_chars": CHUNK.len() * CHUNKS,
            "saves_min": min, "saves_max": max});
        writeln!(
            std::fs::OpenOptions::new().create(true).append(true).open(path)?,
            "{line}"
        )?;
    }
    Ok(())
}

/// Serves `POST /v1/chat/completions` as a streaming OpenAI server would, noting when
/// each reply's first chunk leaves.
async fn stand_in(first_chunks: FirstChunks) -> anyhow::Result<String> {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let first_chunks = first_chunks.clone();
            async move {
                let chunks = futures::stream::iter(0..=CHUNKS + 1).then(move |n| {
                    let first_chunks = first_chunks.clone();
                    async move {
                        let data = if n == 0 {
                            tokio::time::sleep(FIRST_CHUNK_DELAY).await;
                            if let Ok(mut f) = first_chunks.lock() {
                                f.push(Instant::now());
                            }
                            json!({"choices": [{"index": 0, "delta": {"content": CHUNK}}]}).to_string()
                        } else if n < CHUNKS {
                            tokio::time::sleep(CHUNK_EVERY).await;
                            json!({"choices": [{"index": 0, "delta": {"content": CHUNK}}]}).to_string()
                        } else if n == CHUNKS {
                            json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 500}}).to_string()
                        } else {
                            "[DONE]".to_owned()
                        };
                        Ok::<_, std::io::Error>(format!("data: {data}\n\n"))
                    }
                });
                axum::response::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(chunks))
                    .unwrap_or_default()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

async fn sign_in(base: &str, http: &reqwest::Client) -> anyhow::Result<String> {
    let r: Value = http
        .post(format!("{base}/dev/sign-in"))
        .json(&json!({"email": "streamer@example.com", "groups": ["tier-pro"]}))
        .send()
        .await?
        .json()
        .await?;
    Ok(r["idToken"].as_str().unwrap_or_default().to_owned())
}

/// Collects the `saves` of every "reply ended" log event.
struct SavesLayer(Arc<Mutex<Vec<u64>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SavesLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Saves(Option<u64>);
        impl Visit for Saves {
            fn record_u64(&mut self, field: &Field, value: u64) {
                if field.name() == "saves" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut saves = Saves(None);
        event.record(&mut saves);
        if let (Some(n), Ok(mut all)) = (saves.0, self.0.lock()) {
            all.push(n);
        }
    }
}
