//! `bootstrap` creates the table (keys, index, TTL, on-demand billing) as
//! `bootstrap::table_definition` states it for the deployment, and the bucket; running it
//! again against what exists changes nothing and loses nothing.

mod common;

use aws_sdk_dynamodb::types::KeySchemaElement;
use common::unique_settings;
use parley_aws::{AwsStore, bootstrap};
use parley_core::ports::BotStore;
use parley_testkit as kit;
use serde_json::json;

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

    // THEN the table is exactly the shape the deployment reads (docs/dynamodb-table.json).
    let table = store
        .dynamodb()
        .describe_table()
        .table_name(&settings.table)
        .send()
        .await
        .expect("describe the table")
        .table
        .expect("a table description");
    let ttl = store
        .dynamodb()
        .describe_time_to_live()
        .table_name(&settings.table)
        .send()
        .await
        .expect("describe TTL")
        .time_to_live_description
        .expect("a TTL description");
    let key_schema = |schema: &[KeySchemaElement]| {
        schema
            .iter()
            .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
            .collect::<Vec<_>>()
    };
    let described = json!({
        "AttributeDefinitions": table.attribute_definitions().iter()
            .map(|a| json!({"AttributeName": a.attribute_name(), "AttributeType": a.attribute_type().as_str()}))
            .collect::<Vec<_>>(),
        "KeySchema": key_schema(table.key_schema()),
        "GlobalSecondaryIndexes": table.global_secondary_indexes().iter()
            .map(|i| json!({
                "IndexName": i.index_name(),
                "KeySchema": key_schema(i.key_schema()),
                "Projection": {"ProjectionType": i.projection().and_then(|p| p.projection_type()).map(|p| p.as_str())},
            }))
            .collect::<Vec<_>>(),
        "BillingMode": table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str()),
        "TimeToLiveSpecification": {
            "AttributeName": ttl.attribute_name(),
            "Enabled": ttl.time_to_live_status().map(|s| s.as_str()) == Some("ENABLED"),
        },
    });
    assert_eq!(described, bootstrap::table_definition());
}
