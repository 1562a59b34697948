//! "A 2,000-message conversation: writing message 2,000 stores no more bytes than
//! writing message 1." Measured twice: the size DynamoDB accounts for the stored item
//! (read back raw), and the bytes of the requests an append sends and of the answers it
//! reads, recorded on the wire by an SDK interceptor.

mod common;

use std::time::Instant;

use chrono::{DateTime, Utc};
use common::{WireRecord, measured_store};
use parley_aws::{AwsStore, item_size, keys};
use parley_core::ids::SessionId;
use parley_core::message::Conversation;
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds};
use parley_testkit as kit;

const MESSAGES: u64 = 2_000;
/// The appends whose cost is measured.
const MEASURED: [u64; 4] = [1, 3, 100, MESSAGES];

/// What one append cost: bytes sent by the write, bytes read to number it, and the size
/// of the stored item.
#[derive(Debug, PartialEq, Eq)]
struct Cost {
    written: usize,
    read: usize,
    item: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_message_2000_stores_no_more_bytes_than_writing_message_1() {
    let (store, wire) = measured_store().await;

    let conversation = Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"));
    let author = kit::user();
    // Same content length and timestamp for every message, so that only the number differs.
    let at: DateTime<Utc> = "2025-01-01T12:00:00.123456789Z".parse().expect("a timestamp");
    let message = |i: u64| {
        let mut m = kit::new_message(author.as_str(), &format!("message number {i:04} of a long talk"));
        m.created_at = at;
        m
    };

    let started = Instant::now();
    let mut costs = Vec::new();
    let mut warm_reads = Vec::new();
    for i in 1..=MESSAGES {
        wire.take();
        // The measured appends come from a new instance of the store (a cold function:
        // it numbers the message by reading the newest key); the others from a warm one.
        let measured = MEASURED.contains(&i);
        let appending = if measured {
            store.with_fresh_caches()
        } else {
            store.clone()
        };
        let stored = appending.append(&conversation, &message(i)).await.expect("append");
        assert_eq!(stored.seq, i, "messages are numbered in order");
        if measured {
            costs.push((i, cost(&store, &wire.take(), &conversation, i).await));
        } else if !MEASURED.contains(&(i - 1)) {
            // (After a measured append the warm store's number is stale: it reads once.)
            warm_reads.push(wire.take().iter().filter(|(op, _, _)| op == "Query").count());
        }
    }
    let elapsed = started.elapsed();
    let [(_, first), (_, third), (_, hundredth), (_, last)] = <[_; 4]>::try_from(costs).expect("four measurements");
    eprintln!(
        "append cost, message 1: {first:?}; message 3: {third:?}; message 100: {hundredth:?}; message {MESSAGES}: {last:?}"
    );
    eprintln!("{MESSAGES} sequential appends took {elapsed:?}");
    // A warm store numbers the next message from the last one it wrote: no read.
    assert!(
        warm_reads.iter().all(|&n| n == 0),
        "a warm store read to number a message it could know"
    );

    // "2000" has three digits more than "1"; the number appears twice in an item (the
    // `seq` attribute and the message body) and twice in its write request.
    let longer_number = 2 * (MESSAGES.to_string().len() - 1);
    assert!(
        last.item <= first.item + longer_number,
        "message {MESSAGES} must store no more bytes than message 1 (but its number): {} vs {}",
        last.item,
        first.item
    );
    assert!(
        last.written <= first.written + longer_number,
        "writing message {MESSAGES} must send no more bytes than writing message 1 (but its number): {} vs {}",
        last.written,
        first.written
    );
    // Numbering reads only the newest key, whose width is fixed. From message 3 on, the
    // answer also carries the same-width `LastEvaluatedKey` (older messages exist), so
    // message 3 and message 2,000 read exactly as much.
    assert!(
        third.read > first.read,
        "the answers to the numbering query are measured"
    );
    assert_eq!(
        last.read, third.read,
        "numbering message {MESSAGES} must read no more than numbering message 3"
    );

    wire.take();
    let page_started = Instant::now();
    let page = store
        .list(
            &conversation,
            MessageRange::Before {
                before: None,
                limit: 50,
            },
        )
        .await
        .expect("list");
    let page_took = page_started.elapsed();
    let page_read: usize = wire
        .take()
        .iter()
        .filter(|(_, dir, _)| *dir == "received")
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(page.len(), 50);
    eprintln!("history page of 50 at message {MESSAGES}: {page_took:?}, {page_read} bytes read");
    bench_out(
        &[(1, &first), (100, &hundredth), (MESSAGES, &last)],
        page_took,
        page_read,
    );
    let newest = store
        .list(
            &conversation,
            MessageRange::Before {
                before: None,
                limit: 20,
            },
        )
        .await
        .expect("list");
    assert_eq!(
        newest.iter().map(|m| m.seq).collect::<Vec<_>>(),
        ((MESSAGES - 19)..=MESSAGES).collect::<Vec<_>>(),
        "the newest page of a long conversation is its last 20 messages, oldest first"
    );
}

/// The cost of the append that stored message `seq`, from the bytes it moved and the
/// item it left.
async fn cost(store: &AwsStore, wire: &[WireRecord], conversation: &Conversation, seq: u64) -> Cost {
    let sent = |op: &str| {
        wire.iter()
            .filter(|(o, dir, _)| o == op && *dir == "sent")
            .map(|(_, _, n)| n)
            .sum::<usize>()
    };
    // The answer to the numbering query is the one right after it was sent.
    let read = wire
        .windows(2)
        .filter(|w| w[0].0 == "Query" && w[1].1 == "received")
        .map(|w| w[1].2)
        .sum();
    let item = store
        .dynamodb()
        .get_item()
        .table_name(store.table())
        .key(
            keys::PK,
            aws_sdk_dynamodb::types::AttributeValue::S(keys::conversation_pk(conversation)),
        )
        .key(
            keys::SK,
            aws_sdk_dynamodb::types::AttributeValue::S(keys::message_sk(seq)),
        )
        .send()
        .await
        .expect("get the raw item")
        .item
        .expect("the message is stored");
    Cost {
        written: sent("PutItem"),
        read,
        item: item_size(&item),
    }
}

/// Appends the measurements to `PARLEY_BENCH_OUT` (JSON lines) when `make bench` sets it.
fn bench_out(costs: &[(u64, &Cost)], page_took: std::time::Duration, page_read: usize) {
    use std::io::Write;
    let Ok(path) = std::env::var("PARLEY_BENCH_OUT") else {
        return;
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open PARLEY_BENCH_OUT");
    for (message, cost) in costs {
        let line = serde_json::json!({"kind": "bytes_per_message", "store": "DynamoDB", "message": message,
            "written": cost.written, "item": cost.item, "read": cost.read});
        writeln!(out, "{line}").expect("write PARLEY_BENCH_OUT");
    }
    let line = serde_json::json!({"kind": "history_page", "store": "DynamoDB", "message": MESSAGES, "limit": 50,
        "micros": page_took.as_micros() as u64, "read": page_read});
    writeln!(out, "{line}").expect("write PARLEY_BENCH_OUT");
}
