//! "DynamoDB sees a bounded number of writes per reply": every save of a growing reply
//! and every stop is ONE request to DynamoDB — whether it writes, is refused (the
//! reply was stopped) or finds no message — counted on the wire by an SDK interceptor.

mod common;

use common::{WireRecord, measured_store};
use parley_core::StoreError;
use parley_core::ids::SessionId;
use parley_core::message::{BOT_AUTHOR, Conversation, Message, MessageStatus, Role, Usage};
use parley_core::ports::{IdSource, MessageStore, RandomIds};
use parley_testkit as kit;

/// The operations sent, in order.
fn sent(wire: &[WireRecord]) -> Vec<&str> {
    wire.iter()
        .filter(|(_, direction, _)| *direction == "sent")
        .map(|(operation, _, _)| operation.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_and_a_stop_are_one_request_each() {
    let (store, wire) = measured_store().await;
    let conversation = Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"));
    let mut new = kit::new_message(BOT_AUTHOR, "");
    new.role = Role::Assistant;
    new.status = MessageStatus::Streaming;
    let reply = store.append(&conversation, &new).await.expect("append the reply");

    // GIVEN a reply of 2,000 characters saved every 500 as it streams, then finished,
    // WHEN each save is sent, THEN each is one UpdateItem and nothing else.
    let text = "abcdefghij".repeat(200);
    let mut requests = Vec::new();
    for end in [500, 1_000, 1_500, 2_000] {
        wire.take();
        let so_far = Message {
            content: text[..end].to_owned(),
            ..reply.clone()
        };
        let wrote = store
            .save_reply(&conversation, &so_far, MessageStatus::Streaming)
            .await
            .expect("save");
        assert!(wrote, "a save of a streaming reply writes");
        requests.push(sent(&wire.take()).join(","));
    }
    let complete = Message {
        content: text.clone(),
        status: MessageStatus::Complete,
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 500,
        }),
        ..reply.clone()
    };
    wire.take();
    assert!(
        store
            .save_reply(&conversation, &complete, MessageStatus::Streaming)
            .await
            .expect("the final save")
    );
    requests.push(sent(&wire.take()).join(","));
    eprintln!(
        "a 2,000-character reply saved every 500 characters: {} requests ({requests:?})",
        requests.len()
    );
    assert_eq!(requests, vec!["UpdateItem"; 5], "one UpdateItem per save");

    // A refused save (the reply is complete) and a save of a missing message: one each.
    wire.take();
    assert!(
        !store
            .save_reply(&conversation, &reply, MessageStatus::Streaming)
            .await
            .expect("a refused save")
    );
    assert_eq!(sent(&wire.take()), ["UpdateItem"], "a refused save is one request");
    let missing = Message {
        seq: reply.seq + 1,
        ..reply.clone()
    };
    let result = store
        .save_reply(&conversation, &missing, MessageStatus::Streaming)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "got {result:?}");
    assert_eq!(
        sent(&wire.take()),
        ["UpdateItem"],
        "a save of a missing reply is one request"
    );

    // WHEN a streaming reply is stopped, THEN that is one UpdateItem, and so is the
    // generator's refused save after it.
    let streaming = store.append(&conversation, &new).await.expect("append a second reply");
    wire.take();
    assert!(
        store
            .set_status_if(
                &conversation,
                streaming.seq,
                MessageStatus::Streaming,
                MessageStatus::Stopped
            )
            .await
            .expect("stop")
    );
    assert_eq!(sent(&wire.take()), ["UpdateItem"], "a stop is one request");
    assert!(
        !store
            .save_reply(&conversation, &streaming, MessageStatus::Streaming)
            .await
            .expect("the save after the stop")
    );
    assert_eq!(
        sent(&wire.take()),
        ["UpdateItem"],
        "the refused save after a stop is one request"
    );
    let result = store
        .set_status_if(
            &conversation,
            streaming.seq + 1,
            MessageStatus::Streaming,
            MessageStatus::Stopped,
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "got {result:?}");
    assert_eq!(
        sent(&wire.take()),
        ["UpdateItem"],
        "a stop of a missing reply is one request"
    );
}
