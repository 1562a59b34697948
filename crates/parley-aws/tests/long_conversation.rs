//! "A 2,000-message conversation: writing message 2,000 stores no more bytes than
//! writing message 1." Measured twice: the size DynamoDB accounts for the stored item
//! (read back raw), and the bytes of the requests an append sends and of the answers it
//! reads, recorded on the wire by an SDK interceptor.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, Utc};
use common::unique_settings;
use parley_aws::{AwsStore, bootstrap, item_size, keys};
use parley_core::ids::SessionId;
use parley_core::message::Conversation;
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds};
use parley_testkit as kit;

const MESSAGES: u64 = 2_000;

/// One message on the wire: the operation (for requests), "sent" or "received", bytes.
type Record = (String, &'static str, usize);

/// Bytes sent and received per DynamoDB operation, in order.
#[derive(Clone, Debug, Default)]
struct WireBytes(Arc<Mutex<Vec<Record>>>);

impl WireBytes {
    fn take(&self) -> Vec<Record> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

impl Intercept for WireBytes {
    fn name(&self) -> &'static str {
        "WireBytes"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?")
            .to_owned();
        let size = request.body().bytes().map_or(0, <[u8]>::len);
        self.0.lock().expect("lock").push((operation, "sent", size));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let size = context.response().body().bytes().map_or(0, <[u8]>::len);
        self.0.lock().expect("lock").push((String::new(), "received", size));
        Ok(())
    }
}

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
    common::endpoint();
    let sdk = parley_aws::sdk_config().await;
    let settings = unique_settings();
    bootstrap::ensure_table(&sdk, &settings.table).await.expect("bootstrap");
    bootstrap::ensure_bucket(&sdk, &settings.bucket)
        .await
        .expect("bootstrap");
    let wire = WireBytes::default();
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(wire.clone())
            .build(),
    );
    // Only the DynamoDB client is measured; the bucket is not used here.
    let store = AwsStore::with_clients(ddb, aws_sdk_s3::Client::new(&sdk), settings);

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
async fn cost(store: &AwsStore, wire: &[Record], conversation: &Conversation, seq: u64) -> Cost {
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
