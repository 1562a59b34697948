//! Creates the table and the bucket, idempotently: running it against what exists
//! already changes nothing. Used by `parley bootstrap` and by the tests.
//!
//! The table's shape is defined once, here: [`ensure_table`] creates it and
//! [`table_definition`] states it in CloudFormation's words for the CDK app, which reads
//! it from `docs/dynamodb-table.json` (`make openapi` rewrites that file; a test fails
//! while it differs, and another compares a bootstrapped table with it).

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use parley_core::StoreError;

use crate::error::{other, sdk_err, status};
use crate::keys::{EXPIRES_AT, GSI1, GSI1PK, GSI1SK, PK, SK};

/// How long to wait for a new table to become `ACTIVE`.
const TABLE_READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The table's key: partition and sort key.
const TABLE_KEY: [&str; 2] = [PK, SK];
/// The global secondary indexes (all attributes projected): name, partition and sort key.
const INDEXES: [(&str, [&str; 2]); 1] = [(GSI1, [GSI1PK, GSI1SK])];

/// Every key attribute (all strings): the table's, then each index's.
fn key_attributes() -> impl Iterator<Item = &'static str> {
    TABLE_KEY
        .into_iter()
        .chain(INDEXES.into_iter().flat_map(|(_, key)| key))
}

/// The table as `AWS::DynamoDB::Table` properties: keys, indexes, on-demand billing and
/// TTL on [`EXPIRES_AT`]. The deployment adds what a local emulator has no use for
/// (point-in-time recovery, deletion protection).
pub fn table_definition() -> serde_json::Value {
    let key_schema = |[hash, range]: [&str; 2]| {
        serde_json::json!([
            {"AttributeName": hash, "KeyType": "HASH"},
            {"AttributeName": range, "KeyType": "RANGE"},
        ])
    };
    serde_json::json!({
        "AttributeDefinitions": key_attributes()
            .map(|name| serde_json::json!({"AttributeName": name, "AttributeType": "S"}))
            .collect::<Vec<_>>(),
        "KeySchema": key_schema(TABLE_KEY),
        "GlobalSecondaryIndexes": INDEXES
            .into_iter()
            .map(|(name, key)| serde_json::json!({
                "IndexName": name,
                "KeySchema": key_schema(key),
                "Projection": {"ProjectionType": "ALL"},
            }))
            .collect::<Vec<_>>(),
        "BillingMode": "PAY_PER_REQUEST",
        "TimeToLiveSpecification": {"AttributeName": EXPIRES_AT, "Enabled": true},
    })
}

/// [`table_definition`] as `docs/dynamodb-table.json` holds it.
pub fn table_definition_json() -> String {
    let mut text = serde_json::to_string_pretty(&table_definition()).unwrap_or_default();
    text.push('\n');
    text
}

/// Creates the table if it does not exist (keys `PK`/`SK`, the index `GSI1`, on-demand
/// billing), waits until it is `ACTIVE`, and makes sure TTL is on `expires_at`.
pub async fn ensure_table(sdk: &aws_config::SdkConfig, table: &str) -> Result<(), StoreError> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let exists = match ddb.describe_table().table_name(table).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => return Err(sdk_err(e)),
    };
    if !exists {
        let result = ddb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(
                key_attributes()
                    .map(|name| {
                        AttributeDefinition::builder()
                            .attribute_name(name)
                            .attribute_type(ScalarAttributeType::S)
                            .build()
                            .map_err(other)
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ))
            .set_key_schema(Some(key_schema(TABLE_KEY)?))
            .set_global_secondary_indexes(Some(
                INDEXES
                    .into_iter()
                    .map(|(name, key)| {
                        GlobalSecondaryIndex::builder()
                            .index_name(name)
                            .set_key_schema(Some(key_schema(key)?))
                            .projection(Projection::builder().projection_type(ProjectionType::All).build())
                            .build()
                            .map_err(other)
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ))
            .send()
            .await;
        match result {
            Ok(_) => {}
            // Another bootstrap created it in the meantime.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(sdk_err(e)),
        }
    }
    wait_until_active(&ddb, table).await?;
    ensure_ttl(&ddb, table).await
}

fn key_schema([hash, range]: [&str; 2]) -> Result<Vec<KeySchemaElement>, StoreError> {
    [(hash, KeyType::Hash), (range, KeyType::Range)]
        .into_iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(other)
        })
        .collect()
}

async fn wait_until_active(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + TABLE_READY_TIMEOUT;
    loop {
        let out = ddb.describe_table().table_name(table).send().await.map_err(sdk_err)?;
        let description = out.table.ok_or_else(|| other("DescribeTable returned no table"))?;
        let indexes_active = description
            .global_secondary_indexes()
            .iter()
            .all(|i| i.index_status().is_none_or(|s| s.as_str() == "ACTIVE"));
        if description.table_status() == Some(&TableStatus::Active) && indexes_active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(
                format!("table {table} did not become ACTIVE within {TABLE_READY_TIMEOUT:?}").into(),
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn ensure_ttl(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), StoreError> {
    let current = ddb
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(sdk_err)?
        .time_to_live_description;
    if current.as_ref().and_then(|d| d.attribute_name()) == Some(EXPIRES_AT)
        && current
            .as_ref()
            .and_then(|d| d.time_to_live_status())
            .is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING"))
    {
        return Ok(());
    }
    ddb.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(EXPIRES_AT)
                .enabled(true)
                .build()
                .map_err(other)?,
        )
        .send()
        .await
        .map_err(sdk_err)?;
    Ok(())
}

/// Creates the bucket in the SDK's region if it does not exist.
pub async fn ensure_bucket(sdk: &aws_config::SdkConfig, bucket: &str) -> Result<(), StoreError> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build(),
    );
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => return Ok(()),
        Err(e) if status(&e) == Some(404) => {}
        Err(e) => return Err(sdk_err(e)),
    }
    let mut request = s3.create_bucket().bucket(bucket);
    // us-east-1 is the default location and must not be named.
    if let Some(region) = sdk.region().map(|r| r.as_ref()).filter(|r| *r != "us-east-1") {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => Ok(()),
        Err(e) => Err(sdk_err(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_table_definition_is_current() {
        let committed: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/dynamodb-table.json")).expect("the file is JSON");
        assert!(
            committed == super::table_definition(),
            "docs/dynamodb-table.json differs from the table bootstrap creates: run `make openapi`"
        );
    }
}
