//! Every contract suite of `parley-testkit` against an [`AwsStore`] on a fresh table
//! and bucket in the local AWS emulator: the same assertions the SQLite adapter passes.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::fresh_store;
use parley_testkit as kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bot_store() {
    let store = fresh_store().await;
    kit::bot_store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_store() {
    let store = fresh_store().await;
    kit::session_store_contract(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn room_store() {
    let store = fresh_store().await;
    kit::room_store_contract(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_store() {
    let store = fresh_store().await;
    kit::message_store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reply_progress() {
    let store = fresh_store().await;
    kit::reply_progress_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_store() {
    let store = fresh_store().await;
    kit::quota_store_contract(&store).await;
    kit::quota_add_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn persona_store() {
    let store = fresh_store().await;
    kit::persona_store_contract(&store).await;
}

/// "100 concurrent sends into one session on DynamoDB: nothing lost, sequence strictly
/// increasing" — the conditional writes that number messages, under contention.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_appends_into_one_session() {
    let store = fresh_store().await;
    let started = Instant::now();
    kit::concurrent_appends_contract(Arc::new(store)).await;
    eprintln!("100 concurrent appends took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_client_ids() {
    let store = fresh_store().await;
    kit::concurrent_client_id_contract(Arc::new(store)).await;
}

/// A message and its quota charges are stored together or not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_charged() {
    let store = fresh_store().await;
    kit::append_charged_contract(&store, &store).await;
}

/// 50 racing retries of one message charge one unit; a limit of 10 stores 10 messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_append_charged() {
    let store = Arc::new(fresh_store().await);
    kit::concurrent_append_charged_contract(store.clone(), store).await;
}

/// A send's two transactions: the exchange opened with its reply, and finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exchange() {
    let store = fresh_store().await;
    kit::exchange_contract(&store, &store).await;
}

/// Exchanges opened at once in one conversation: each user message followed by its reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_exchanges() {
    let store = fresh_store().await;
    kit::concurrent_exchange_contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_quota() {
    let store = fresh_store().await;
    kit::concurrent_quota_contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_suites_share_one_store() {
    // The suites promise to use fresh ids, so they must also pass side by side.
    let store = fresh_store().await;
    tokio::join!(
        kit::bot_store_contract(&store),
        kit::session_store_contract(&store, &store),
        kit::room_store_contract(&store, &store),
        kit::message_store_contract(&store),
        kit::reply_progress_contract(&store),
        kit::exchange_contract(&store, &store),
        kit::quota_store_contract(&store),
        kit::persona_store_contract(&store),
    );
}
