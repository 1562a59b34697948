//! The real `chat-config` binary reads its keys from AWS Secrets Manager (`PARLEY_SECRETS`)
//! in the local AWS emulator: the guest key and a provider key come from the secret, none
//! from the plain environment. A secret that cannot be read stops it at start-up.

use std::time::Duration;

use parley_runtime::testing::{LoopbackRuntime, TEST_GUEST_KEY, emulator_endpoint, emulator_sdk, unique_name};
use serde_json::{Value, json};

/// `GET /models` as an HTTP API event: the health fixture on another route.
fn models_event() -> String {
    let mut event: Value = serde_json::from_str(include_str!("../../../crates/parley-runtime/fixtures/health.json"))
        .expect("the fixture is JSON");
    event["rawPath"] = "/models".into();
    event["routeKey"] = "GET /models".into();
    event["requestContext"]["http"]["path"] = "/models".into();
    event["requestContext"]["routeKey"] = "GET /models".into();
    event.to_string()
}

async fn create_secret(value: &Value) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&emulator_sdk().await);
    let out = client
        .create_secret()
        .name(unique_name("parley-keys"))
        .secret_string(value.to_string())
        .send()
        .await
        .expect("create the secret on the emulator");
    out.arn().expect("the secret's ARN").to_owned()
}

/// The binary with the secrets `ids` and no key in its environment.
fn command(runtime: &LoopbackRuntime, ids: &str) -> tokio::process::Command {
    let mut command = runtime.command(env!("CARGO_BIN_EXE_chat-config"), "chat-config");
    command
        .env_remove("PARLEY_GUEST_KEY")
        .env("AWS_ENDPOINT_URL", emulator_endpoint())
        .env("PARLEY_SECRETS", ids)
        .env(
            "PARLEY_MODELS",
            "offline:parley-offline,openai:gpt-4o-mini,gemini:gemini-2.0-flash",
        );
    command
}

#[tokio::test]
async fn keys_come_from_the_secrets_and_an_empty_one_stays_unset() {
    // GIVEN the guest key in one secret, the provider keys in another, Gemini's empty.
    let guest = create_secret(&json!({"PARLEY_GUEST_KEY": TEST_GUEST_KEY})).await;
    let providers = create_secret(&json!({"OPENAI_API_KEY": "sk-from-the-secret", "GEMINI_API_KEY": ""})).await;
    let mut runtime = LoopbackRuntime::start("chat-config", vec![models_event()]).await;
    let mut child = command(&runtime, &format!("{guest}, {providers}"))
        .spawn()
        .expect("start the function binary");

    let answered = runtime
        .answer_from(&mut child, Duration::from_secs(20))
        .await
        .expect("a response");
    child.start_kill().expect("stop the function");
    let _ = child.wait().await;

    // THEN it started (the guest key is required) and serves OpenAI (its key came from
    // the secret) but not Gemini (an empty member leaves the key unset).
    let response: Value = serde_json::from_slice(&answered.body).expect("a JSON answer");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body = response["body"].as_str().expect("a body");
    assert!(
        !body.contains("sk-from-the-secret"),
        "a key must never be shown: {body}"
    );
    let models: Value = serde_json::from_str(body).expect("JSON body");
    let configured = |id: &str| {
        models["items"]
            .as_array()
            .expect("a list of models")
            .iter()
            .find(|m| m["id"] == id)
            .map(|m| m["configured"].clone())
    };
    assert_eq!(configured("gpt-4o-mini"), Some(json!(true)), "{models}");
    assert_eq!(configured("gemini-2.0-flash"), Some(json!(false)), "{models}");
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_stops_the_function_naming_the_variable() {
    let runtime = LoopbackRuntime::start("chat-config", Vec::new()).await;
    let output = command(&runtime, "parley-no-such-secret")
        .output()
        .await
        .expect("run the function binary");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("configuration error: PARLEY_SECRETS names parley-no-such-secret, which cannot be read"),
        "{stderr}"
    );
}
