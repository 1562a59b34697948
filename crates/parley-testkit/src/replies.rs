//! The contract of a reply saved as it grows: `MessageStore::save_reply` and
//! `MessageStore::set_status_if`.

use parley_core::StoreError;
use parley_core::ids::{RoomId, SessionId};
use parley_core::message::{BOT_AUTHOR, Conversation, Message, MessageStatus, NewMessage, Role, Usage};
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds};
use parley_core::values::ClientMessageId;

use crate::fixtures::{new_message, user};

/// Protects streaming replies, which outlive their connection: a reply stored as
/// `streaming` with no text is saved as it grows, each save visible to `get` and to
/// both history ranges (a room member polling with `after` sees it grow); it ends
/// `complete` with its usage, or `failed` keeping its partial text; a save expecting a
/// status the reply no longer has is refused and changes nothing, which is how a stop
/// (`set_status_if` streaming → stopped) wins over the generator's next save, while the
/// generator's final save expecting `stopped` still writes its text; a `set_status_if`
/// expecting the wrong status is refused; both methods answer `NotFound` for a missing
/// message; and no save touches anything but the reply's content, status and usage
/// (not its role, author, creation time, client message id or seq, nor another
/// message).
pub async fn reply_progress_contract(store: &dyn MessageStore) {
    let raw = RandomIds.new_id();
    for conversation in [
        Conversation::Session(SessionId::parse(&raw).expect("valid id")),
        Conversation::Room(RoomId::parse(&raw).expect("valid id")),
    ] {
        grows_then_completes(store, &conversation).await;
    }
    let session = || Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"));
    stop_keeps_the_text(store, &session()).await;
    failure_keeps_the_partial_text(store, &session()).await;
    refusals_and_missing_messages(store, &session()).await;
    leases_are_kept_renewed_and_released(store, &session()).await;
}

/// A writer's lease is stored with the reply from its first write, renewed by saves,
/// released by the final one, and read back to the second: how an abandoned reply is
/// told from one still being written.
async fn leases_are_kept_renewed_and_released(store: &dyn MessageStore, conversation: &Conversation) {
    use chrono::{SubsecRound, Utc};
    use parley_core::message::Lease;
    let now = Utc::now().trunc_subsecs(3);
    let lease = |secs: i64| Lease {
        owner: "pid1-7".to_owned(),
        until: now + chrono::Duration::seconds(secs),
    };
    let mut reply = NewMessage {
        lease: Some(lease(30)),
        role: Role::Assistant,
        author_id: BOT_AUTHOR.to_owned(),
        author_name: None,
        content: String::new(),
        status: MessageStatus::Streaming,
        created_at: now,
        usage: None,
        client_message_id: None,
    };
    let appended = store.append(conversation, &reply).await.expect("append with a lease");
    let first = stored(store, conversation, appended.seq).await;
    assert_eq!(first.lease, Some(lease(30)), "the lease is stored from the first write");
    assert!(!first.lease_expired(now), "a fresh lease is live");
    assert!(first.lease_expired(now + chrono::Duration::seconds(31)), "and runs out");

    reply.content = "so far".to_owned();
    let mut renewed = reply.numbered(appended.seq);
    renewed.lease = Some(lease(60));
    assert!(
        store
            .save_reply(conversation, &renewed, MessageStatus::Streaming)
            .await
            .expect("renew")
    );
    assert_eq!(
        stored(store, conversation, appended.seq).await.lease,
        Some(lease(60)),
        "a save renews it"
    );

    let mut finished = renewed.clone();
    finished.status = MessageStatus::Complete;
    finished.lease = None;
    assert!(
        store
            .save_reply(conversation, &finished, MessageStatus::Streaming)
            .await
            .expect("finish")
    );
    let done = stored(store, conversation, appended.seq).await;
    assert_eq!(done.lease, None, "the final save releases it");
    assert!(
        !done.lease_expired(now + chrono::Duration::days(1)),
        "a finished reply never expires"
    );
}

/// Text that JSON and DynamoDB must carry as it is: quotes, a backslash, a newline,
/// non-ASCII letters and a character outside the Basic Multilingual Plane.
const PIECES: [&str; 3] = ["Once upon ", "a \"time\" \\ there\nwas ", "a crab: é 🦀."];

/// A question and its reply, appended as the generator does: the reply `streaming`
/// with no text yet. The reply carries an author name and a client message id, so
/// that a save dropping either shows.
async fn question_and_reply(store: &dyn MessageStore, conversation: &Conversation) -> (Message, Message) {
    let author = user();
    let mut question = new_message(author.as_str(), "Tell me a story.");
    question.status = MessageStatus::Pending;
    let question = store
        .append(conversation, &question)
        .await
        .expect("append the question");
    let reply = NewMessage {
        lease: None,
        role: Role::Assistant,
        author_id: BOT_AUTHOR.to_owned(),
        author_name: Some("Story bot".to_owned()),
        content: String::new(),
        status: MessageStatus::Streaming,
        created_at: chrono::Utc::now(),
        usage: None,
        client_message_id: Some(ClientMessageId::parse(&RandomIds.new_id()).expect("valid client id")),
    };
    let reply = store.append(conversation, &reply).await.expect("append the reply");
    (question, reply)
}

/// `reply` with the three fields a save writes.
fn saved(reply: &Message, content: &str, status: MessageStatus, usage: Option<Usage>) -> Message {
    Message {
        content: content.to_owned(),
        status,
        usage,
        ..reply.clone()
    }
}

/// The message `seq` as stored, which must exist.
async fn stored(store: &dyn MessageStore, conversation: &Conversation, seq: u64) -> Message {
    store
        .get(conversation, seq)
        .await
        .expect("get")
        .unwrap_or_else(|| panic!("message {seq} must exist"))
}

/// Asserts that `get` and both history ranges show exactly `question` then `expected`.
async fn assert_history(
    store: &dyn MessageStore,
    conversation: &Conversation,
    question: &Message,
    expected: &Message,
    what: &str,
) {
    assert_eq!(
        &stored(store, conversation, expected.seq).await,
        expected,
        "get must show {what}"
    );
    let newest = store
        .list(
            conversation,
            MessageRange::Before {
                before: None,
                limit: 10,
            },
        )
        .await
        .expect("list before");
    assert_eq!(
        newest,
        vec![question.clone(), expected.clone()],
        "history must show {what}, and the question untouched"
    );
    let polled = store
        .list(
            conversation,
            MessageRange::After {
                after: question.seq,
                limit: 10,
            },
        )
        .await
        .expect("list after");
    assert_eq!(polled, vec![expected.clone()], "polling with `after` must show {what}");
}

async fn grows_then_completes(store: &dyn MessageStore, conversation: &Conversation) {
    let (question, reply) = question_and_reply(store, conversation).await;
    assert_history(
        store,
        conversation,
        &question,
        &reply,
        "a new reply as streaming with no text",
    )
    .await;

    // GIVEN a streaming reply, WHEN it is saved three times as it grows,
    // THEN each save writes, and every reader sees the text so far as `streaming`.
    let mut text = String::new();
    for piece in PIECES {
        text.push_str(piece);
        let so_far = saved(&reply, &text, MessageStatus::Streaming, None);
        assert!(
            store
                .save_reply(conversation, &so_far, MessageStatus::Streaming)
                .await
                .expect("save the text so far"),
            "a save of a streaming reply expecting `streaming` must write"
        );
        assert_history(store, conversation, &question, &so_far, "the text so far, streaming").await;
    }

    // WHEN a save is given a reply whose other fields differ from the stored ones,
    // THEN it writes its content, status and usage, and the other fields stay as stored.
    text.push_str(" The end.");
    let stranger = Message {
        role: Role::User,
        author_name: None,
        created_at: reply.created_at + chrono::Duration::seconds(1),
        client_message_id: None,
        ..saved(&reply, &text, MessageStatus::Streaming, None)
    };
    assert!(
        store
            .save_reply(conversation, &stranger, MessageStatus::Streaming)
            .await
            .expect("save a reply built by hand"),
        "a save of a streaming reply must write, whatever its other fields"
    );
    let so_far = saved(&reply, &text, MessageStatus::Streaming, None);
    assert_history(
        store,
        conversation,
        &question,
        &so_far,
        "the saved text with the stored other fields",
    )
    .await;

    // WHEN the final save completes it with its usage, THEN that is what is stored.
    let usage = Some(Usage {
        input_tokens: 21,
        output_tokens: 13,
    });
    let complete = saved(&reply, &text, MessageStatus::Complete, usage);
    assert!(
        store
            .save_reply(conversation, &complete, MessageStatus::Streaming)
            .await
            .expect("the final save"),
        "the final save of a streaming reply must write"
    );
    assert_history(
        store,
        conversation,
        &question,
        &complete,
        "the complete reply with its usage",
    )
    .await;

    // WHEN a late save still expects `streaming`, THEN it is refused and changes nothing.
    let late = saved(&reply, &format!("{text} And more."), MessageStatus::Streaming, None);
    assert!(
        !store
            .save_reply(conversation, &late, MessageStatus::Streaming)
            .await
            .expect("a late save"),
        "a save expecting `streaming` on a complete reply must be refused"
    );
    assert_history(
        store,
        conversation,
        &question,
        &complete,
        "the complete reply after a refused save",
    )
    .await;
}

async fn stop_keeps_the_text(store: &dyn MessageStore, conversation: &Conversation) {
    let (question, reply) = question_and_reply(store, conversation).await;
    let first = saved(&reply, PIECES[0], MessageStatus::Streaming, None);
    assert!(
        store
            .save_reply(conversation, &first, MessageStatus::Streaming)
            .await
            .expect("save"),
        "a save of a streaming reply must write"
    );

    // WHEN the reply is stopped, THEN it is `stopped` with its text so far.
    assert!(
        store
            .set_status_if(
                conversation,
                reply.seq,
                MessageStatus::Streaming,
                MessageStatus::Stopped
            )
            .await
            .expect("stop"),
        "stopping a streaming reply must succeed"
    );
    let stopped = saved(&reply, PIECES[0], MessageStatus::Stopped, None);
    assert_history(
        store,
        conversation,
        &question,
        &stopped,
        "a stopped reply with its text so far",
    )
    .await;

    // WHEN the generator's next save still expects `streaming`, THEN it is refused.
    let longer = format!("{}{}", PIECES[0], PIECES[1]);
    assert!(
        !store
            .save_reply(
                conversation,
                &saved(&reply, &longer, MessageStatus::Streaming, None),
                MessageStatus::Streaming
            )
            .await
            .expect("a save after the stop"),
        "a save expecting `streaming` on a stopped reply must be refused"
    );
    assert_history(
        store,
        conversation,
        &question,
        &stopped,
        "the stopped text after a refused save",
    )
    .await;

    // WHEN the generator writes its final text expecting `stopped`, THEN it is stored
    // and the reply stays `stopped`.
    let usage = Some(Usage {
        input_tokens: 5,
        output_tokens: 8,
    });
    let last = saved(&reply, &longer, MessageStatus::Stopped, usage);
    assert!(
        store
            .save_reply(conversation, &last, MessageStatus::Stopped)
            .await
            .expect("the final save of a stopped reply"),
        "a save expecting `stopped` on a stopped reply must write"
    );
    assert_history(store, conversation, &question, &last, "the stopped reply's final text").await;
}

async fn failure_keeps_the_partial_text(store: &dyn MessageStore, conversation: &Conversation) {
    let (question, reply) = question_and_reply(store, conversation).await;
    let partial = saved(&reply, PIECES[0], MessageStatus::Streaming, None);
    assert!(
        store
            .save_reply(conversation, &partial, MessageStatus::Streaming)
            .await
            .expect("save"),
        "a save of a streaming reply must write"
    );
    // WHEN the model call fails, THEN the reply is `failed` and keeps its partial text.
    let failed = saved(&reply, PIECES[0], MessageStatus::Failed, None);
    assert!(
        store
            .save_reply(conversation, &failed, MessageStatus::Streaming)
            .await
            .expect("save the failure"),
        "failing a streaming reply must write"
    );
    assert_history(
        store,
        conversation,
        &question,
        &failed,
        "a failed reply with its partial text",
    )
    .await;

    // A writer that died is failed by another process: `set_status_if` streaming →
    // failed, refused here because the reply is no longer streaming.
    assert!(
        !store
            .set_status_if(conversation, reply.seq, MessageStatus::Streaming, MessageStatus::Failed)
            .await
            .expect("set_status_if"),
        "failing a reply that is no longer streaming must be refused"
    );
    assert_history(
        store,
        conversation,
        &question,
        &failed,
        "the failed reply after a refused status change",
    )
    .await;
}

async fn refusals_and_missing_messages(store: &dyn MessageStore, conversation: &Conversation) {
    // A missing message in an empty conversation, then one past the last seq.
    let ghost = saved(
        &new_message(BOT_AUTHOR, "").numbered(1),
        "text",
        MessageStatus::Streaming,
        None,
    );
    assert_not_found(store, conversation, &ghost, "an empty conversation").await;

    let (question, reply) = question_and_reply(store, conversation).await;
    let ghost = Message {
        seq: reply.seq + 1,
        ..reply.clone()
    };
    assert_not_found(store, conversation, &ghost, "a seq past the last one").await;

    // WHEN `set_status_if` expects a status the message does not have, THEN it is
    // refused, whatever the status asked for, and nothing changes.
    for (expected, status) in [
        (MessageStatus::Stopped, MessageStatus::Failed),
        (MessageStatus::Pending, MessageStatus::Streaming),
        (MessageStatus::Complete, MessageStatus::Stopped),
    ] {
        assert!(
            !store
                .set_status_if(conversation, reply.seq, expected, status)
                .await
                .expect("set_status_if"),
            "set_status_if expecting {expected:?} on a streaming reply must be refused"
        );
    }
    // Nor does a save expecting another status write.
    assert!(
        !store
            .save_reply(
                conversation,
                &saved(&reply, "text", MessageStatus::Complete, None),
                MessageStatus::Pending
            )
            .await
            .expect("save_reply"),
        "a save expecting `pending` on a streaming reply must be refused"
    );
    assert_history(
        store,
        conversation,
        &question,
        &reply,
        "the reply untouched by refused changes",
    )
    .await;

    // The question is a message like any other: its status moves only from the status
    // it has, and its content stays.
    assert!(
        store
            .set_status_if(
                conversation,
                question.seq,
                MessageStatus::Pending,
                MessageStatus::Failed
            )
            .await
            .expect("set_status_if on the question"),
        "set_status_if expecting the stored status must succeed"
    );
    let failed_question = Message {
        status: MessageStatus::Failed,
        ..question.clone()
    };
    assert_eq!(
        stored(store, conversation, question.seq).await,
        failed_question,
        "set_status_if must change the status only"
    );
}

async fn assert_not_found(store: &dyn MessageStore, conversation: &Conversation, ghost: &Message, what: &str) {
    let saved = store.save_reply(conversation, ghost, MessageStatus::Streaming).await;
    assert!(
        matches!(saved, Err(StoreError::NotFound)),
        "save_reply on {what} must be NotFound, got {saved:?}"
    );
    let set = store
        .set_status_if(
            conversation,
            ghost.seq,
            MessageStatus::Streaming,
            MessageStatus::Stopped,
        )
        .await;
    assert!(
        matches!(set, Err(StoreError::NotFound)),
        "set_status_if on {what} must be NotFound, got {set:?}"
    );
    assert_eq!(
        store.get(conversation, ghost.seq).await.expect("get"),
        None,
        "neither may create the missing message ({what})"
    );
}
