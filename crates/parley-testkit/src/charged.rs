//! The contract of [`MessageStore::append_charged`]: a message and its quota charges
//! are stored together or not at all, so a unit is charged once per stored message.

use std::sync::Arc;

use chrono::{Duration, Utc};
use parley_core::StoreError;
use parley_core::ids::SessionId;
use parley_core::message::{Conversation, NewMessage};
use parley_core::ports::{Appended, IdSource, MessageRange, MessageStore, QuotaStore, RandomIds};
use parley_core::quota::QuotaCharge;
use parley_core::values::ClientMessageId;
use tokio::task::JoinSet;

use crate::fixtures::{new_message, user};
use crate::quotas::key;

/// How many sends race in the concurrent cases: the size of the burst that charged up to
/// 17 units for one stored message before charges and messages were written together.
const RACERS: usize = 50;

fn charge(key: &str, limit: u32) -> QuotaCharge {
    QuotaCharge {
        key: key.to_owned(),
        limit,
        expires_at: Some(Utc::now() + Duration::days(1)),
        scope: "test",
    }
}

pub(crate) fn fresh_conversation() -> Conversation {
    Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"))
}

fn with_client_id(mut message: NewMessage, cmid: &ClientMessageId) -> NewMessage {
    message.client_message_id = Some(cmid.clone());
    message
}

/// How many messages the conversation holds.
pub(crate) async fn stored(messages: &dyn MessageStore, conversation: &Conversation) -> usize {
    messages
        .list(conversation, MessageRange::After { after: 0, limit: 200 })
        .await
        .expect("list")
        .len()
}

/// Protects "charged in the same transaction that stores the message": a granted append
/// stores the message and counts every counter; a counter at its limit stores nothing,
/// names itself and leaves the other counters as they were; a reused client message id
/// is `AlreadyExists` and charges nothing; an expired counter starts over inside the
/// transaction; an append without charges is a plain append.
pub async fn append_charged_contract(messages: &dyn MessageStore, quotas: &dyn QuotaStore) {
    let conversation = fresh_conversation();
    let author = user();
    let (bot, sender) = (key("bot"), key("sender"));
    let cmid = ClientMessageId::parse(&format!("c-{}", RandomIds.new_id())).expect("valid client id");

    // GIVEN counters under their limits WHEN a message is appended with their charges
    // THEN it is stored with the next seq and both counters count one.
    let first = with_client_id(new_message(author.as_str(), "first"), &cmid);
    let outcome = messages
        .append_charged(&conversation, &first, None, &[charge(&bot, 2), charge(&sender, 10)])
        .await
        .expect("append_charged");
    let Appended::Stored(message) = outcome else {
        panic!("counters under their limits must store the message, got {outcome:?}")
    };
    assert_eq!((message.seq, message.content.as_str()), (1, "first"));
    assert_eq!(
        messages.get(&conversation, 1).await.expect("get"),
        Some(message.clone()),
        "the message must be stored as returned"
    );
    assert_eq!(
        quotas.used(&bot).await.expect("used"),
        1,
        "a stored message must charge"
    );
    assert_eq!(quotas.used(&sender).await.expect("used"), 1, "every counter must count");

    // WHEN the same client message id is appended again THEN AlreadyExists, and the
    // counters are as they were: a retry never pays twice.
    let again = with_client_id(new_message(author.as_str(), "first, again"), &cmid);
    assert!(
        matches!(
            messages
                .append_charged(&conversation, &again, None, &[charge(&bot, 2), charge(&sender, 10)])
                .await,
            Err(StoreError::AlreadyExists)
        ),
        "a reused client message id must be AlreadyExists"
    );
    assert_eq!(
        (
            quotas.used(&bot).await.expect("used"),
            quotas.used(&sender).await.expect("used")
        ),
        (1, 1),
        "a refused duplicate must charge nothing"
    );

    // GIVEN the bot counter reaches its limit WHEN another message is appended THEN
    // nothing is stored and the sender's counter does not move.
    let second = new_message(author.as_str(), "second");
    assert!(matches!(
        messages
            .append_charged(&conversation, &second, None, &[charge(&bot, 2), charge(&sender, 10)])
            .await
            .expect("append_charged"),
        Appended::Stored(_)
    ));
    let third = new_message(author.as_str(), "third");
    assert_eq!(
        messages
            .append_charged(&conversation, &third, None, &[charge(&sender, 10), charge(&bot, 2)])
            .await
            .expect("append_charged"),
        Appended::Denied { key: bot.clone() },
        "a full counter must refuse, naming itself"
    );
    assert_eq!(
        stored(messages, &conversation).await,
        2,
        "a refused append must store nothing"
    );
    assert_eq!(
        (
            quotas.used(&bot).await.expect("used"),
            quotas.used(&sender).await.expect("used")
        ),
        (2, 2),
        "a refused append must charge no counter"
    );
    let closed = key("closed");
    assert_eq!(
        messages
            .append_charged(&conversation, &third, None, &[charge(&closed, 0)])
            .await
            .expect("append_charged"),
        Appended::Denied { key: closed },
        "a limit of zero must refuse at once"
    );

    // GIVEN a counter at its limit whose expiry has passed THEN it starts over.
    let expired = key("expired");
    let yesterday = QuotaCharge {
        expires_at: Some(Utc::now() - Duration::days(1)),
        ..charge(&expired, 1)
    };
    quotas.try_consume(&[yesterday]).await.expect("consume");
    assert!(matches!(
        messages
            .append_charged(&conversation, &third, None, &[charge(&expired, 1)])
            .await
            .expect("append_charged"),
        Appended::Stored(_)
    ));
    assert_eq!(
        quotas.used(&expired).await.expect("used"),
        1,
        "an expired counter must start over at 1"
    );

    // Without charges it is a plain append.
    let plain = messages
        .append_charged(&conversation, &new_message(author.as_str(), "free"), None, &[])
        .await
        .expect("append_charged");
    assert!(matches!(plain, Appended::Stored(m) if m.seq == 4));
}

/// Protects "a quota unit is charged once per stored message" under a burst: 50
/// concurrent appends by one author with one client message id store one message and
/// charge one unit; 50 concurrent distinct appends against a limit of 10 store exactly
/// 10 messages and charge exactly 10 units.
pub async fn concurrent_append_charged_contract(messages: Arc<dyn MessageStore>, quotas: Arc<dyn QuotaStore>) {
    // One client message id, 50 racers.
    let conversation = fresh_conversation();
    let author = user();
    let counter = key("burst");
    let cmid = ClientMessageId::parse(&format!("burst-{}", RandomIds.new_id())).expect("valid client id");
    let mut tasks = JoinSet::new();
    for i in 0..RACERS {
        let (messages, conversation, charges) =
            (Arc::clone(&messages), conversation.clone(), [charge(&counter, 1_000)]);
        let message = with_client_id(new_message(author.as_str(), &format!("attempt {i}")), &cmid);
        tasks.spawn(async move { messages.append_charged(&conversation, &message, None, &charges).await });
    }
    let (mut won, mut refused) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("an append task panicked") {
            Ok(Appended::Stored(_)) => won += 1,
            Err(StoreError::AlreadyExists) => refused += 1,
            other => panic!("a racing retry must be stored or AlreadyExists, got {other:?}"),
        }
    }
    assert_eq!((won, refused), (1, RACERS - 1), "exactly one racing retry is stored");
    assert_eq!(
        quotas.used(&counter).await.expect("used"),
        1,
        "50 racing retries of one message must charge exactly one unit"
    );
    assert_eq!(stored(messages.as_ref(), &conversation).await, 1);

    // 50 distinct messages, a limit of 10.
    let conversation = fresh_conversation();
    let (narrow, wide) = (key("narrow"), key("wide"));
    let mut tasks = JoinSet::new();
    for i in 0..RACERS {
        let messages = Arc::clone(&messages);
        let conversation = conversation.clone();
        let charges = [charge(&wide, 1_000), charge(&narrow, 10)];
        let message = new_message(author.as_str(), &format!("distinct {i}"));
        tasks.spawn(async move { messages.append_charged(&conversation, &message, None, &charges).await });
    }
    let mut granted = 0;
    while let Some(result) = tasks.join_next().await {
        match result.expect("an append task panicked").expect("append_charged") {
            Appended::Stored(_) => granted += 1,
            Appended::Denied { key } => assert_eq!(key, narrow, "only the narrow counter can refuse"),
        }
    }
    assert_eq!(granted, 10, "a limit of 10 must store exactly 10 messages");
    assert_eq!(
        stored(messages.as_ref(), &conversation).await,
        10,
        "refused appends store nothing"
    );
    assert_eq!(
        (
            quotas.used(&narrow).await.expect("used"),
            quotas.used(&wide).await.expect("used")
        ),
        (10, 10),
        "each stored message charges each counter once, and refusals charge none"
    );
}
