//! `make bench`: bytes SQLite writes, two ways. "Written" is what the process hands to
//! `write(2)` (`wchar` of /proc/self/io): the WAL frames and any checkpoint, i.e. what
//! reaches the disk; nothing else in this process writes while it is measured.
//!
//! - Per message append, through the store itself (`SqliteStore` on a file, as `parley`
//!   opens it), at message 1, 100 and `PARLEY_BENCH_MESSAGES` (default 2,000) of one
//!   conversation, the figure comparable to DynamoDB's per-append one: averaged over the
//!   `WINDOW` appends up to that message, so that the page splits and checkpoints that
//!   fall among them count; then the time of a history page of 50 at the end (the
//!   median of `PAGE_READS` reads).
//! - Per exchange, the target of issue 11 (a user message and its reply, with everything
//!   a send writes: quota charges, statuses, the token count): JSON sends through the
//!   local app's router (no sockets), one user of someone else's bot, offline model,
//!   `PARLEY_BENCH_MESSAGES / 2` exchanges in one session. Averaged over the first and
//!   over the last 100 exchanges, so that the checkpoints that fall among them count.
//!
//! Prints the figures and appends JSON lines to `PARLEY_BENCH_OUT` when set.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use chrono::Utc;
use common::{share_code, unix_now, unlimited_config};
use http_body_util::BodyExt;
use parley_core::ids::SessionId;
use parley_core::message::{Conversation, MessageStatus, NewMessage, Role};
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds};
use parley_local::build;
use parley_sqlite::SqliteStore;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Appends or exchanges averaged over.
const WINDOW: u64 = 100;

/// Reads of the history page whose median is reported.
const PAGE_READS: usize = 21;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages: u64 = std::env::var("PARLEY_BENCH_MESSAGES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(2_000);
    let mut lines = appends(messages).await?;
    lines.extend(exchanges((messages / 2).max(1)).await?);
    if let Ok(path) = std::env::var("PARLEY_BENCH_OUT") {
        let mut out = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Appends `messages` to one conversation through the store; answers the report lines.
async fn appends(messages: u64) -> anyhow::Result<Vec<Value>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("parley.sqlite3"))?;
    let conversation =
        Conversation::Session(SessionId::parse(&RandomIds.new_id()).map_err(|e| anyhow::anyhow!("{e}"))?);
    // Bytes of each append, in order.
    let mut each = Vec::new();
    for i in 1..=messages {
        let message = NewMessage {
            role: Role::User,
            author_id: "bench-user".to_owned(),
            author_name: None,
            content: format!("message number {i:04} of a long talk"),
            status: MessageStatus::Complete,
            created_at: Utc::now(),
            usage: None,
            client_message_id: None,
            lease: None,
        };
        let before = wchar();
        store.append(&conversation, &message).await?;
        each.push(wchar().saturating_sub(before));
    }
    let written: Vec<(u64, u64)> = [1, 100, messages]
        .into_iter()
        .filter(|&n| n <= messages)
        .map(|n| {
            let first = n.saturating_sub(WINDOW);
            let window = &each[usize::try_from(first).unwrap_or(0)..usize::try_from(n).unwrap_or(0)];
            (n, window.iter().sum::<u64>() / window.len().max(1) as u64)
        })
        .collect();
    // One read is at the mercy of the scheduler on a busy machine: the median of several.
    let mut took = Vec::new();
    for _ in 0..PAGE_READS {
        let started = Instant::now();
        let page = store
            .list(
                &conversation,
                MessageRange::Before {
                    before: None,
                    limit: 50,
                },
            )
            .await?;
        took.push(started.elapsed());
        anyhow::ensure!(page.len() == 50, "a page of {} messages", page.len());
    }
    took.sort_unstable();
    let took = took[took.len() / 2];
    let mut lines = Vec::new();
    for (i, bytes) in &written {
        println!("SQLite: appends up to message {i:>5} wrote {bytes} bytes each on average");
        lines.push(
            json!({"kind": "bytes_per_message", "store": "SQLite", "message": i, "written": bytes,
            "window": WINDOW.min(*i)}),
        );
    }
    println!(
        "SQLite: history page of 50 at message {messages}: {:.2} ms",
        took.as_secs_f64() * 1000.0
    );
    lines.push(
        json!({"kind": "history_page", "store": "SQLite", "message": messages, "limit": 50,
        "micros": took.as_micros() as u64, "reads": PAGE_READS}),
    );
    Ok(lines)
}

/// `count` JSON sends into one session through the local app; answers the report lines.
async fn exchanges(count: u64) -> anyhow::Result<Vec<Value>> {
    let dir = tempfile::tempdir()?;
    let config = unlimited_config(dir.path());
    let app = build(&config, None)?;
    let groups = ["tier-unlimited".to_owned()];
    let owner = app.idp.sign_in("owner@example.com", &groups, unix_now()).id_token;
    let user = app.idp.sign_in("user@example.com", &groups, unix_now()).id_token;
    let router = app.router;
    let bot = call(
        &router,
        "/create-chat",
        &owner,
        json!({"title": "Bytes", "limits": {"dailyMessages": 1_000_000}}),
    )
    .await?;
    let share_code = share_code(&bot);
    let session = call(&router, "/chat-session", &user, json!({"shareCode": share_code})).await?;
    let session_id = session["sessionId"].as_str().unwrap_or_default().to_owned();

    // (first exchange, last exchange) of each window: the first and the last `WINDOW`,
    // one window when they would overlap.
    let mut windows = vec![(1, WINDOW.min(count))];
    if count > WINDOW {
        windows.push((count - WINDOW + 1, count));
    }
    let mut totals = vec![0u64; windows.len()];
    let mut reply_bytes = 0usize;
    for i in 1..=count {
        let before = wchar();
        let sent = call(
            &router,
            "/session-message",
            &user,
            json!({"sessionId": session_id, "message": format!("exchange number {i:04} of a long talk"),
                "clientMessageId": format!("bytes-{i}")}),
        )
        .await?;
        let bytes = wchar().saturating_sub(before);
        for (total, &(first, last)) in totals.iter_mut().zip(&windows) {
            if (first..=last).contains(&i) {
                *total += bytes;
            }
        }
        reply_bytes = sent.to_string().len();
    }
    let mut lines = Vec::new();
    for (total, &(first, last)) in totals.iter().zip(&windows) {
        let average = total / (last - first + 1);
        println!("SQLite: exchanges {first}-{last} wrote {average} bytes each on average");
        lines.push(
            json!({"kind": "bytes_per_exchange", "store": "SQLite", "first": first, "last": last,
            "written": average, "response_bytes": reply_bytes}),
        );
    }
    Ok(lines)
}

/// A JSON POST through the router, as from a loopback client; answers the JSON body.
async fn call(router: &Router, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
    let mut request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))?;
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(serde_json::from_slice(&bytes)?)
}

/// Bytes this process has passed to `write(2)` so far.
fn wchar() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_default()
}
