//! Contracts that race many tasks against one store: what "conditional writes" and
//! "atomic counters" in the design have to mean.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use parley_core::StoreError;
use parley_core::ids::SessionId;
use parley_core::message::Conversation;
use parley_core::ports::{IdSource, MessageRange, MessageStore, QuotaStore, RandomIds};
use parley_core::quota::{QuotaCharge, QuotaOutcome};
use parley_core::values::ClientMessageId;
use tokio::task::JoinSet;

use crate::fixtures::{new_message, user};
use crate::quotas::key;

const TASKS: u64 = 100;

/// Protects "concurrent sends lose nothing": 100 appends at once into one conversation
/// store 100 messages numbered exactly 1..=100, each content once, and each append
/// learns the number its message got.
pub async fn concurrent_appends_contract(store: Arc<dyn MessageStore>) {
    let conversation = Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"));
    let author = user();
    let mut tasks = JoinSet::new();
    for i in 0..TASKS {
        let store = Arc::clone(&store);
        let conversation = conversation.clone();
        let message = new_message(author.as_str(), &format!("concurrent {i}"));
        tasks.spawn(async move { store.append(&conversation, &message).await });
    }
    let mut appended = Vec::new();
    while let Some(result) = tasks.join_next().await {
        appended.push(
            result
                .expect("an append task panicked")
                .expect("a concurrent append failed"),
        );
    }
    let seqs: BTreeSet<u64> = appended.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=TASKS).collect::<BTreeSet<_>>(),
        "concurrent appends must get the numbers 1..=100, each once"
    );

    let mut listed = store
        .list(&conversation, MessageRange::After { after: 0, limit: 200 })
        .await
        .expect("list");
    assert_eq!(
        listed.len(),
        TASKS as usize,
        "every concurrent append must be stored, once"
    );
    assert_eq!(
        listed.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=TASKS).collect::<Vec<_>>(),
        "stored messages must be numbered 1..=100, oldest first"
    );
    let contents: BTreeSet<&str> = listed.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents.len(),
        TASKS as usize,
        "each content must be stored exactly once"
    );
    appended.sort_by_key(|m| m.seq);
    listed.sort_by_key(|m| m.seq);
    assert_eq!(appended, listed, "each append must return the message as stored");
}

/// Protects idempotent sends: 20 concurrent appends by one author with one client
/// message id store exactly one message; the others get `AlreadyExists` and can find it.
pub async fn concurrent_client_id_contract(store: Arc<dyn MessageStore>) {
    let conversation = Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"));
    let author = user();
    let cmid = ClientMessageId::parse(&format!("retry-{}", RandomIds.new_id())).expect("valid client id");
    let mut tasks = JoinSet::new();
    for i in 0..20 {
        let store = Arc::clone(&store);
        let conversation = conversation.clone();
        let mut message = new_message(author.as_str(), &format!("attempt {i}"));
        message.client_message_id = Some(cmid.clone());
        tasks.spawn(async move { store.append(&conversation, &message).await });
    }
    let (mut stored, mut refused) = (Vec::new(), 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("an append task panicked") {
            Ok(message) => stored.push(message),
            Err(StoreError::AlreadyExists) => refused += 1,
            Err(e) => panic!("a concurrent append failed: {e:?}"),
        }
    }
    assert_eq!(stored.len(), 1, "exactly one of the concurrent retries must be stored");
    assert_eq!(refused, 19, "every other retry must be AlreadyExists");
    assert_eq!(
        store
            .find_by_client_id(&conversation, author.as_str(), &cmid)
            .await
            .expect("find"),
        stored.pop(),
        "the retries must find the stored message by its client id"
    );
}

/// Protects "concurrency cannot overspend": 100 concurrent charges against a limit of
/// 10 grant exactly 10; and with two counters charged together, the grants of the
/// one never exceed the grants of the other (all or nothing under contention).
pub async fn concurrent_quota_contract(store: Arc<dyn QuotaStore>) {
    let expires_at = Some(Utc::now() + Duration::days(1));
    let charge = |key: &str, limit: u32| QuotaCharge {
        key: key.to_owned(),
        limit,
        expires_at,
        scope: "test",
    };

    let single = key("single");
    let granted = race(&store, vec![charge(&single, 10)]).await;
    assert_eq!(
        granted, 10,
        "100 concurrent charges against a limit of 10 must grant exactly 10"
    );
    assert_eq!(
        store.used(&single).await.expect("used"),
        10,
        "the counter must stand at its limit"
    );

    let wide = key("wide");
    let narrow = key("narrow");
    let granted = race(&store, vec![charge(&wide, 1_000), charge(&narrow, 10)]).await;
    assert_eq!(
        granted, 10,
        "charges on two counters must grant as often as the fuller allows"
    );
    assert_eq!(
        store.used(&wide).await.expect("used"),
        10,
        "a refused charge must leave the other counter unchanged, even under contention"
    );
    assert_eq!(
        store.used(&narrow).await.expect("used"),
        10,
        "the narrow counter must stand at its limit"
    );

    // GIVEN the second counter is full WHEN both are charged THEN the first is unchanged.
    let first = key("first");
    assert_eq!(
        store
            .try_consume(&[charge(&first, 100), charge(&narrow, 10)])
            .await
            .expect("consume"),
        QuotaOutcome::Denied { key: narrow },
        "a charge with a full counter must be refused, naming it"
    );
    assert_eq!(
        store.used(&first).await.expect("used"),
        0,
        "a refused charge must charge no counter"
    );
}

/// Runs 100 concurrent `try_consume(charges)` and returns how many were granted.
async fn race(store: &Arc<dyn QuotaStore>, charges: Vec<QuotaCharge>) -> usize {
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let store = Arc::clone(store);
        let charges = charges.clone();
        tasks.spawn(async move { store.try_consume(&charges).await });
    }
    let mut granted = 0;
    while let Some(result) = tasks.join_next().await {
        match result
            .expect("a quota task panicked")
            .expect("a concurrent charge failed")
        {
            QuotaOutcome::Granted => granted += 1,
            QuotaOutcome::Denied { key } => {
                assert!(
                    charges.iter().any(|c| c.key == key),
                    "a refusal must name a charged counter"
                );
            }
        }
    }
    granted
}
