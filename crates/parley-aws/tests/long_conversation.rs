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
    for i in 1..=MESSAGES {
        wire.take();
        let stored = store.append(&conversation, &message(i)).await.expect("append");
        assert_eq!(stored.seq, i, "messages are numbered in order");
        if [1, 3, MESSAGES].contains(&i) {
            costs.push((i, cost(&store, &wire.take(), &conversation, i).await));
        }
    }
    let elapsed = started.elapsed();
    let [(_, first), (_, third), (_, last)] = <[_; 3]>::try_from(costs).expect("three measurements");
    eprintln!("append cost, message 1: {first:?}; message 3: {third:?}; message {MESSAGES}: {last:?}");
    eprintln!("{MESSAGES} sequential appends took {elapsed:?}");

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
