//! `make bench`: bytes SQLite writes per message of one long conversation, at message 1,
//! 100 and `PARLEY_BENCH_MESSAGES` (default 2,000), and the time of a history page of 50
//! at the end. "Written" is what the process hands to `write(2)` during the append
//! (`wchar` of /proc/self/io): the WAL frames and any checkpoint, i.e. what reaches the
//! disk. Appends through the store itself (`SqliteStore` on a file, as `parley` opens it).
//! Prints the figures and appends JSON lines to `PARLEY_BENCH_OUT` when set.

use std::io::Write;
use std::time::Instant;

use chrono::Utc;
use parley_core::ids::SessionId;
use parley_core::message::{Conversation, MessageStatus, NewMessage, Role};
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds};
use parley_sqlite::SqliteStore;
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages: u64 = std::env::var("PARLEY_BENCH_MESSAGES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("parley.sqlite3"))?;
    let conversation =
        Conversation::Session(SessionId::parse(&RandomIds.new_id()).map_err(|e| anyhow::anyhow!("{e}"))?);
    let mut written = Vec::new();
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
        if [1, 100, messages].contains(&i) {
            written.push((i, wchar().saturating_sub(before)));
        }
    }
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
    let took = started.elapsed();
    anyhow::ensure!(page.len() == 50, "a page of {} messages", page.len());
    for (i, bytes) in &written {
        println!("SQLite: message {i:>5} wrote {bytes} bytes");
    }
    println!(
        "SQLite: history page of 50 at message {messages}: {:.2} ms",
        took.as_secs_f64() * 1000.0
    );
    if let Ok(path) = std::env::var("PARLEY_BENCH_OUT") {
        let mut out = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        for (i, bytes) in &written {
            writeln!(
                out,
                "{}",
                json!({"kind": "bytes_per_message", "store": "SQLite", "message": i, "written": bytes})
            )?;
        }
        let line = json!({"kind": "history_page", "store": "SQLite", "message": messages, "limit": 50,
            "micros": took.as_micros() as u64});
        writeln!(out, "{line}")?;
    }
    Ok(())
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
