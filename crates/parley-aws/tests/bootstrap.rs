//! `bootstrap` creates the table (keys, index, TTL, on-demand billing) and the bucket,
//! and running it again against what exists changes nothing and loses nothing.

mod common;

use aws_sdk_dynamodb::types::{BillingMode, KeyType, ProjectionType};
use common::unique_settings;
use parley_aws::{AwsStore, bootstrap, keys};
use parley_core::ports::BotStore;
use parley_testkit as kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_creates_the_table_and_bucket_and_is_idempotent() {
    common::endpoint();
    let sdk = parley_aws::sdk_config().await;
    let settings = unique_settings();
    bootstrap::ensure_table(&sdk, &settings.table)
        .await
        .expect("create the table");
    bootstrap::ensure_bucket(&sdk, &settings.bucket)
        .await
        .expect("create the bucket");
    let store = AwsStore::new(&sdk, settings.clone());
    let bot = kit::bot(kit::user().as_str());
    BotStore::create(&store, &bot).await.expect("create a bot");

    // WHEN bootstrap runs again on what exists THEN it succeeds and the data stays.
    bootstrap::ensure_table(&sdk, &settings.table)
        .await
        .expect("the table again");
    bootstrap::ensure_bucket(&sdk, &settings.bucket)
        .await
        .expect("the bucket again");
    assert_eq!(
        BotStore::get(&store, &bot.chat_config_id).await.expect("get"),
        Some(bot.clone()),
        "a second bootstrap must keep the data"
    );
    assert_eq!(
        store
            .find_by_share_code(&bot.share_code)
            .await
            .expect("find by share code"),
        Some(bot),
        "a second bootstrap must keep the index items"
    );

    let table = store
        .dynamodb()
        .describe_table()
        .table_name(&settings.table)
        .send()
        .await
        .expect("describe the table")
        .table
        .expect("a table description");
    let key_names = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        schema
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        key_names(table.key_schema()),
        vec![
            (keys::PK.to_owned(), KeyType::Hash),
            (keys::SK.to_owned(), KeyType::Range)
        ]
    );
    let indexes = table.global_secondary_indexes();
    assert_eq!(indexes.len(), 1, "one global secondary index");
    assert_eq!(indexes[0].index_name(), Some(keys::GSI1));
    assert_eq!(
        key_names(indexes[0].key_schema()),
        vec![
            (keys::GSI1PK.to_owned(), KeyType::Hash),
            (keys::GSI1SK.to_owned(), KeyType::Range)
        ]
    );
    assert_eq!(
        indexes[0].projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let ttl = store
        .dynamodb()
        .describe_time_to_live()
        .table_name(&settings.table)
        .send()
        .await
        .expect("describe TTL")
        .time_to_live_description
        .expect("a TTL description");
    assert_eq!(ttl.attribute_name(), Some(keys::EXPIRES_AT));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
}
