//! What every parley-aws test needs: the emulator's address (or a clear failure when
//! there is none) and a store on a fresh table and bucket.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
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

/// A store on a new table and bucket whose DynamoDB requests and answers are recorded
/// on the wire (the bucket's are not).
pub async fn measured_store() -> (AwsStore, WireBytes) {
    let (sdk, settings) = fresh_resources().await;
    let wire = WireBytes::default();
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(wire.clone())
            .build(),
    );
    let store = AwsStore::with_clients(ddb, aws_sdk_s3::Client::new(&sdk), settings);
    (store, wire)
}

/// A store on a new table and bucket, created by `bootstrap`.
pub async fn fresh_store() -> AwsStore {
    let (sdk, settings) = fresh_resources().await;
    AwsStore::new(&sdk, settings)
}

/// A new table and bucket, created by `bootstrap`, and the SDK configuration.
async fn fresh_resources() -> (aws_config::SdkConfig, AwsSettings) {
    endpoint();
    let sdk = parley_aws::sdk_config().await;
    let settings = unique_settings();
    bootstrap::ensure_table(&sdk, &settings.table)
        .await
        .expect("bootstrap creates the table");
    bootstrap::ensure_bucket(&sdk, &settings.bucket)
        .await
        .expect("bootstrap creates the bucket");
    (sdk, settings)
}

/// One message on the wire: the operation (for requests), "sent" or "received", bytes.
pub type WireRecord = (String, &'static str, usize);

/// Bytes sent and received per DynamoDB operation, in order.
#[derive(Clone, Debug, Default)]
pub struct WireBytes(Arc<Mutex<Vec<WireRecord>>>);

impl WireBytes {
    pub fn take(&self) -> Vec<WireRecord> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

impl Intercept for WireBytes {
    fn name(&self) -> &'static str {
        "WireBytes"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?")
            .to_owned();
        let size = request.body().bytes().map_or(0, <[u8]>::len);
        self.0.lock().expect("lock").push((operation, "sent", size));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let size = context.response().body().bytes().map_or(0, <[u8]>::len);
        self.0.lock().expect("lock").push((String::new(), "received", size));
        Ok(())
    }
}
