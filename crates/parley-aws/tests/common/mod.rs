//! What every parley-aws test needs: the emulator's address (or a clear failure when
//! there is none) and a store on a fresh table and bucket.

#![allow(dead_code)]

use parley_aws::{AwsSettings, AwsStore, bootstrap};
use parley_core::ports::{IdSource, RandomIds};

/// The emulator's endpoint. The AWS tests never skip: without an emulator they fail
/// and say how to run them.
pub fn endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: the parley-aws tests run against the local AWS emulator. \
             Run them with `make test`, or `scripts/aws-emulator.sh cargo test -p parley-aws`."
        ),
    }
}

/// A table and bucket name no other test uses.
pub fn unique_settings() -> AwsSettings {
    let name = format!("parley-test-{}", RandomIds.new_id().to_lowercase());
    AwsSettings {
        table: name.clone(),
        bucket: name,
    }
}

/// A store on a new table and bucket, created by `bootstrap`.
pub async fn fresh_store() -> AwsStore {
    endpoint();
    let sdk = parley_aws::sdk_config().await;
    let settings = unique_settings();
    bootstrap::ensure_table(&sdk, &settings.table)
        .await
        .expect("bootstrap creates the table");
    bootstrap::ensure_bucket(&sdk, &settings.bucket)
        .await
        .expect("bootstrap creates the bucket");
    AwsStore::new(&sdk, settings)
}
