//! The contract of an exchange written in two transactions: `append_charged` with a
//! reply opens it (the user message, its charges and the reply being written), and
//! `finish_exchange` ends it (the reply, the user message completed, the tokens).

use std::sync::Arc;

use chrono::{Duration, Utc};
use parley_core::StoreError;
use parley_core::message::{BOT_AUTHOR, Conversation, Lease, Message, MessageStatus, NewMessage, Role, Usage};
use parley_core::ports::{Appended, IdSource, MessageRange, MessageStore, QuotaStore, RandomIds};
use parley_core::quota::{QuotaAdd, QuotaCharge};
use parley_core::values::ClientMessageId;
use tokio::task::JoinSet;

use crate::charged::{fresh_conversation, stored as count_of};
use crate::fixtures::{new_message, user};
use crate::quotas::key;

/// How many exchanges open at once in one conversation in the concurrent case.
const RACERS: usize = 20;

/// A user message waiting for its reply, as a send stores it.
fn pending(author: &str, content: &str) -> NewMessage {
    NewMessage {
        status: MessageStatus::Pending,
        ..new_message(author, content)
    }
}

/// A reply as a send opens it: empty, `streaming`, under a lease.
fn opening() -> NewMessage {
    NewMessage {
        lease: Some(Lease {
            owner: "pid1-1".to_owned(),
            until: Utc::now() + Duration::seconds(30),
        }),
        role: Role::Assistant,
        author_id: BOT_AUTHOR.to_owned(),
        author_name: None,
        content: String::new(),
        status: MessageStatus::Streaming,
        created_at: Utc::now(),
        usage: None,
        client_message_id: None,
    }
}

fn tokens(key: &str, amount: u32) -> QuotaAdd {
    QuotaAdd {
        key: key.to_owned(),
        amount,
        expires_at: Some(Utc::now() + Duration::days(1)),
    }
}

async fn stored(messages: &dyn MessageStore, conversation: &Conversation, seq: u64) -> Message {
    messages
        .get(conversation, seq)
        .await
        .expect("get")
        .unwrap_or_else(|| panic!("message {seq} must be stored"))
}

/// `reply` ended: its content, status and usage, its lease released.
fn ended(reply: &Message, content: &str, status: MessageStatus, usage: Option<Usage>) -> Message {
    Message {
        content: content.to_owned(),
        status,
        usage,
        lease: None,
        ..reply.clone()
    }
}

/// Opens an exchange; the user message and its reply as stored.
async fn open(
    messages: &dyn MessageStore,
    conversation: &Conversation,
    message: &NewMessage,
    charges: &[QuotaCharge],
) -> (Message, Message) {
    let outcome = messages
        .append_charged(conversation, message, Some(&opening()), charges)
        .await
        .expect("append_charged with a reply");
    let Appended::Stored(asker) = outcome else {
        panic!("counters under their limits must open the exchange, got {outcome:?}")
    };
    let reply_seq = asker.reply_seq.expect("the user message must name the reply it opened");
    (asker, stored(messages, conversation, reply_seq).await)
}

/// Protects the two writes of a send: an exchange opened with a reply stores the user
/// message (naming its reply) and the reply right after it (`streaming`, empty, its
/// lease kept), charged once, or nothing at all when a counter refuses or the client
/// message id is taken; `finish_exchange` stores the reply's end, completes the user
/// message and adds the tokens together, and when the reply is no longer in the
/// expected status (stopped meanwhile), or the reply or the user message is missing, it
/// changes none of the three; a stopped reply's end is finished expecting `stopped`;
/// an expired token counter starts over inside the transaction; an end built by hand
/// keeps the reply's stored fields.
pub async fn exchange_contract(messages: &dyn MessageStore, quotas: &dyn QuotaStore) {
    let conversation = fresh_conversation();
    let author = user();
    let (daily, spent) = (key("exchange-daily"), key("exchange-tokens"));
    let charge = QuotaCharge {
        key: daily.clone(),
        limit: 2,
        expires_at: Some(Utc::now() + Duration::days(1)),
        scope: "test",
    };
    let cmid = ClientMessageId::parse(&format!("x-{}", RandomIds.new_id())).expect("valid client id");

    // WHEN an exchange is opened THEN the user message names the reply stored after it.
    let mut asking = pending(author.as_str(), "hello?");
    asking.client_message_id = Some(cmid.clone());
    let (asker, reply) = open(messages, &conversation, &asking, std::slice::from_ref(&charge)).await;
    assert_eq!((asker.seq, asker.reply_seq, reply.seq), (1, Some(2), 2));
    assert_eq!(
        stored(messages, &conversation, 1).await,
        asker,
        "the user message as returned"
    );
    assert_eq!(
        (reply.role, reply.status, reply.content.as_str()),
        (Role::Assistant, MessageStatus::Streaming, "")
    );
    assert_eq!(
        reply.lease.as_ref().map(|l| l.owner.as_str()),
        Some("pid1-1"),
        "the opened reply keeps its writer's lease"
    );
    assert_eq!(
        quotas.used(&daily).await.expect("used"),
        1,
        "an exchange is charged once"
    );

    // WHEN the same client message id opens again THEN nothing is stored or charged.
    assert!(
        matches!(
            messages
                .append_charged(&conversation, &asking, Some(&opening()), std::slice::from_ref(&charge))
                .await,
            Err(StoreError::AlreadyExists)
        ),
        "a reused client message id must be AlreadyExists"
    );
    assert_eq!(
        (
            count_of(messages, &conversation).await,
            quotas.used(&daily).await.expect("used")
        ),
        (2, 1)
    );

    // WHEN the reply ends THEN its end, the user message and the tokens are written.
    let usage = Usage {
        input_tokens: 40,
        output_tokens: 2,
    };
    let done = ended(&reply, "hello!", MessageStatus::Complete, Some(usage));
    let counted = tokens(&spent, 42);
    let finish = || {
        messages.finish_exchange(
            &conversation,
            &done,
            MessageStatus::Streaming,
            asker.seq,
            Some(&counted),
        )
    };
    assert!(
        finish().await.expect("finish_exchange"),
        "a streaming reply must be finished"
    );
    assert_eq!(
        stored(messages, &conversation, reply.seq).await,
        done,
        "the reply's end as given"
    );
    let answered = stored(messages, &conversation, asker.seq).await;
    assert_eq!(
        (answered.status, answered.reply_seq),
        (MessageStatus::Complete, Some(reply.seq))
    );
    assert_eq!(answered.content, "hello?", "the user message keeps its text");
    assert_eq!(quotas.used(&spent).await.expect("used"), 42, "the tokens are counted");

    // WHEN it is finished again expecting `streaming` THEN nothing moves.
    assert!(
        !finish().await.expect("finish_exchange"),
        "a reply no longer streaming is not finished again"
    );
    assert_eq!(
        quotas.used(&spent).await.expect("used"),
        42,
        "a refused end counts no tokens"
    );

    stopped_meanwhile(messages, quotas, &conversation, &author, &charge, &spent).await;
    missing(messages, quotas, &conversation, &author, &spent).await;
    refused_charge_opens_nothing(messages, quotas, &conversation, &author, &charge).await;
    built_by_hand(messages, quotas, &conversation, &author, &spent).await;
}

/// An end given with other fields than the stored reply's (built by hand) still writes
/// all three, and the reply keeps its stored fields but content, status and usage.
async fn built_by_hand(
    messages: &dyn MessageStore,
    quotas: &dyn QuotaStore,
    conversation: &Conversation,
    author: &parley_core::ids::UserId,
    spent: &str,
) {
    let (asker, reply) = open(messages, conversation, &pending(author.as_str(), "by hand?"), &[]).await;
    let before = quotas.used(spent).await.expect("used");
    let end = ended(&reply, "by hand.", MessageStatus::Complete, None);
    let stranger = Message {
        author_name: Some("someone else".to_owned()),
        created_at: reply.created_at + Duration::seconds(1),
        ..end.clone()
    };
    assert!(
        messages
            .finish_exchange(
                conversation,
                &stranger,
                MessageStatus::Streaming,
                asker.seq,
                Some(&tokens(spent, 5))
            )
            .await
            .expect("finish a reply built by hand"),
        "an end must be written whatever its other fields"
    );
    assert_eq!(
        stored(messages, conversation, reply.seq).await,
        end,
        "the stored fields stay"
    );
    assert_eq!(
        stored(messages, conversation, asker.seq).await.status,
        MessageStatus::Complete
    );
    assert_eq!(quotas.used(spent).await.expect("used"), before + 5);
}

/// A reply stopped while written is not overwritten by its generator's end (which
/// writes nothing, not even the user message or the tokens); finished expecting
/// `stopped`, it keeps its text and completes the user message.
async fn stopped_meanwhile(
    messages: &dyn MessageStore,
    quotas: &dyn QuotaStore,
    conversation: &Conversation,
    author: &parley_core::ids::UserId,
    charge: &QuotaCharge,
    spent: &str,
) {
    let (asker, reply) = open(
        messages,
        conversation,
        &pending(author.as_str(), "stop me"),
        std::slice::from_ref(charge),
    )
    .await;
    assert!(
        messages
            .set_status_if(
                conversation,
                reply.seq,
                MessageStatus::Streaming,
                MessageStatus::Stopped
            )
            .await
            .expect("stop")
    );
    let usage = Usage {
        input_tokens: 5,
        output_tokens: 5,
    };
    let end = ended(&reply, "partial", MessageStatus::Complete, Some(usage));
    let before = quotas.used(spent).await.expect("used");
    let finished = messages
        .finish_exchange(
            conversation,
            &end,
            MessageStatus::Streaming,
            asker.seq,
            Some(&tokens(spent, 10)),
        )
        .await
        .expect("finish_exchange");
    assert!(!finished, "a stopped reply must refuse its generator's end");
    let kept = stored(messages, conversation, reply.seq).await;
    assert_eq!((kept.status, kept.content.as_str()), (MessageStatus::Stopped, ""));
    assert_eq!(
        stored(messages, conversation, asker.seq).await.status,
        MessageStatus::Pending,
        "a refused end leaves the user message"
    );
    assert_eq!(quotas.used(spent).await.expect("used"), before, "and the tokens");

    let end = ended(&reply, "partial", MessageStatus::Stopped, None);
    let finished = messages
        .finish_exchange(conversation, &end, MessageStatus::Stopped, asker.seq, None)
        .await
        .expect("finish_exchange");
    assert!(finished, "a stopped reply's text is saved expecting `stopped`");
    assert_eq!(stored(messages, conversation, reply.seq).await, end);
    assert_eq!(
        stored(messages, conversation, asker.seq).await.status,
        MessageStatus::Complete
    );
}

/// A missing reply or user message is `NotFound`, and nothing is written: the reply
/// stays as it was and no token is counted.
async fn missing(
    messages: &dyn MessageStore,
    quotas: &dyn QuotaStore,
    conversation: &Conversation,
    author: &parley_core::ids::UserId,
    spent: &str,
) {
    let (asker, reply) = open(messages, conversation, &pending(author.as_str(), "anyone?"), &[]).await;
    let before = quotas.used(spent).await.expect("used");
    let end = ended(&reply, "nobody", MessageStatus::Complete, None);
    let nowhere = Message {
        seq: 9_999,
        ..end.clone()
    };
    assert!(
        matches!(
            messages
                .finish_exchange(
                    conversation,
                    &nowhere,
                    MessageStatus::Streaming,
                    asker.seq,
                    Some(&tokens(spent, 3))
                )
                .await,
            Err(StoreError::NotFound)
        ),
        "a missing reply must be NotFound"
    );
    assert!(
        matches!(
            messages
                .finish_exchange(
                    conversation,
                    &end,
                    MessageStatus::Streaming,
                    9_998,
                    Some(&tokens(spent, 3))
                )
                .await,
            Err(StoreError::NotFound)
        ),
        "a missing user message must be NotFound"
    );
    assert_eq!(
        stored(messages, conversation, reply.seq).await,
        reply,
        "NotFound writes nothing"
    );
    assert_eq!(quotas.used(spent).await.expect("used"), before, "nor counts tokens");

    // An expired token counter starts over within the same transaction.
    let stale = key("exchange-stale-tokens");
    quotas
        .add(&stale, 500, Some(Utc::now() - Duration::seconds(1)))
        .await
        .expect("add");
    assert!(
        messages
            .finish_exchange(
                conversation,
                &end,
                MessageStatus::Streaming,
                asker.seq,
                Some(&tokens(&stale, 7))
            )
            .await
            .expect("finish_exchange")
    );
    assert_eq!(
        quotas.used(&stale).await.expect("used"),
        7,
        "an expired counter starts over"
    );
}

/// A counter at its limit opens no exchange: neither the user message nor its reply.
async fn refused_charge_opens_nothing(
    messages: &dyn MessageStore,
    quotas: &dyn QuotaStore,
    conversation: &Conversation,
    author: &parley_core::ids::UserId,
    charge: &QuotaCharge,
) {
    assert_eq!(
        quotas.used(&charge.key).await.expect("used"),
        2,
        "the counter is at its limit"
    );
    let before = count_of(messages, conversation).await;
    let outcome = messages
        .append_charged(
            conversation,
            &pending(author.as_str(), "one too many"),
            Some(&opening()),
            std::slice::from_ref(charge),
        )
        .await
        .expect("append_charged");
    assert_eq!(
        outcome,
        Appended::Denied {
            key: charge.key.clone()
        }
    );
    assert_eq!(
        count_of(messages, conversation).await,
        before,
        "a refused exchange stores nothing"
    );
}

/// Protects numbering under exchanges opened at once in one conversation: each user
/// message is followed by its own reply, and no two messages share a seq.
pub async fn concurrent_exchange_contract(messages: Arc<dyn MessageStore>) {
    let conversation = fresh_conversation();
    let author = user();
    let mut tasks = JoinSet::new();
    for i in 0..RACERS {
        let (messages, conversation) = (Arc::clone(&messages), conversation.clone());
        let asking = pending(author.as_str(), &format!("racer {i}"));
        tasks.spawn(async move {
            messages
                .append_charged(&conversation, &asking, Some(&opening()), &[])
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        let outcome = result.expect("an exchange task panicked").expect("append_charged");
        assert!(matches!(outcome, Appended::Stored(_)), "{outcome:?}");
    }
    let all = messages
        .list(&conversation, MessageRange::After { after: 0, limit: 500 })
        .await
        .expect("list");
    let seqs: Vec<u64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=2 * RACERS as u64).collect::<Vec<_>>(),
        "every seq once, none lost"
    );
    for pair in all.chunks(2) {
        let (asker, reply) = (&pair[0], &pair[1]);
        assert_eq!(asker.role, Role::User, "{all:?}");
        assert_eq!(asker.reply_seq, Some(reply.seq), "each user message names its reply");
        assert_eq!((reply.role, reply.status), (Role::Assistant, MessageStatus::Streaming));
    }
}
