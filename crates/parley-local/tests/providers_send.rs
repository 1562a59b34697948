//! The whole send path with real providers: the local app built from a configuration
//! whose OpenAI and Gemini base URLs point at wiremock servers, driven through
//! `POST /session-message` and `POST /room/{id}/messages`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{CountingModel, TestApp};
use parley_llm::ProvidersConfig;
use parley_local::{LocalConfig, build};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPENAI_PATH: &str = "/v1/chat/completions";
const GEMINI_PATH: &str = "/v1beta/models/gemini-2.0-flash:generateContent";

struct Servers {
    openai: MockServer,
    gemini: MockServer,
}

/// The app with its providers configured as the environment would configure them, with
/// millisecond backoffs so that exhausted retries take no time.
async fn app() -> (TestApp, Servers) {
    let servers = Servers {
        openai: MockServer::start().await,
        gemini: MockServer::start().await,
    };
    let env: HashMap<&str, String> = HashMap::from([
        ("OPENAI_API_KEY", "sk-local-test".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", servers.openai.uri())),
        ("GEMINI_API_KEY", "AIza-local-test".to_owned()),
        ("GEMINI_BASE_URL", servers.gemini.uri()),
        ("PARLEY_LLM_ATTEMPT_TIMEOUT_MS", "1000".to_owned()),
        ("PARLEY_LLM_DEADLINE_MS", "3000".to_owned()),
    ]);
    let mut providers = ProvidersConfig::from_lookup(|k| env.get(k).cloned()).expect("provider config");
    providers.retry.backoff_base = Duration::from_millis(5);
    providers.retry.backoff_cap = Duration::from_millis(20);

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = LocalConfig::for_data_dir(dir.path());
    config.providers = providers;
    let app = build(&config, None).expect("the app builds");
    let model = Arc::new(CountingModel::default());
    (TestApp { app, model, dir }, servers)
}

fn openai_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 57, "completion_tokens": 6, "total_tokens": 63}
    }))
}

fn gemini_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 61, "candidatesTokenCount": 7, "totalTokenCount": 68},
        "modelVersion": "gemini-2.0-flash"
    }))
}

async fn bot(t: &TestApp, token: &str, model: &str) -> String {
    let bot = t
        .create_bot(token, json!({"model": model, "systemPrompt": "Talk like a pirate."}))
        .await;
    bot["chatConfigId"].as_str().expect("id").to_owned()
}

/// Protects the session path end to end with OpenAI: the bot's prompt reaches the
/// provider as the system message with the user's text last, the reply is the
/// provider's, and its usage is stored on the assistant message. Also that `GET /models`
/// tells the same truth as the router.
#[tokio::test]
async fn a_session_message_is_answered_by_openai_with_usage_stored() {
    let (t, servers) = app().await;
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .and(header("authorization", "Bearer sk-local-test"))
        .and(body_partial_json(json!({"model": "gpt-4o-mini"})))
        .respond_with(openai_answer("Arr, on the island."))
        .expect(1)
        .mount(&servers.openai)
        .await;
    let alice = t.token("alice@example.com", &[]);
    let models = t.get("/models", Some(&alice)).await;
    let configured: Vec<&Value> = models.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| m["configured"] == true)
        .map(|m| &m["id"])
        .collect();
    assert_eq!(configured.len(), 5, "offline, two OpenAI, two Gemini: {}", models.body);

    let bot_id = bot(&t, &alice, "gpt-4o-mini").await;
    let (session, _) = t.start_session(Some(&alice), &bot_id).await;
    let sent = t.say(&alice, &session, "Where is the treasure?").await;
    sent.expect(200, None);
    assert_eq!(sent.body["message"], "Arr, on the island.");
    assert_eq!(sent.body["usage"], json!({"inputTokens": 57, "outputTokens": 6}));

    let history = t.get(&format!("/session/{session}/messages"), Some(&alice)).await;
    let reply = &history.body["messages"][1];
    assert_eq!(reply["role"], "assistant", "{}", history.body);
    assert_eq!(reply["content"], "Arr, on the island.");
    assert_eq!(reply["usage"], json!({"inputTokens": 57, "outputTokens": 6}));

    let sent: Value = servers.openai.received_requests().await.expect("recorded")[0]
        .body_json()
        .expect("json");
    let messages = sent["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["role"], "system");
    assert!(
        messages[0]["content"]
            .as_str()
            .is_some_and(|s| s.contains("Talk like a pirate.")),
        "{sent}"
    );
    assert_eq!(
        messages.last(),
        Some(&json!({"role": "user", "content": "Where is the treasure?"}))
    );
}

/// Protects the room path end to end with Gemini: the reply and its usage land in the
/// room's history, and the bot's prompt travels as the system instruction.
#[tokio::test]
async fn a_room_message_is_answered_by_gemini_with_usage_stored() {
    let (t, servers) = app().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .and(header("x-goog-api-key", "AIza-local-test"))
        .respond_with(gemini_answer("Ahoy, crew."))
        .expect(1)
        .mount(&servers.gemini)
        .await;
    let alice = t.token("alice@example.com", &[]);
    let bot_id = bot(&t, &alice, "gemini-2.0-flash").await;
    let (room, _) = t.create_room(&alice, &bot_id, json!({})).await;
    let sent = t
        .post(
            &format!("/room/{room}/messages"),
            Some(&alice),
            json!({"message": "Hello, bot"}),
        )
        .await;
    sent.expect(200, None);
    assert_eq!(sent.body["message"], "Ahoy, crew.");

    let history = t.get(&format!("/room/{room}/messages"), Some(&alice)).await;
    let reply = history.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["role"] == "assistant")
        .cloned()
        .expect("an assistant message");
    assert_eq!(reply["content"], "Ahoy, crew.");
    // Room members see output tokens only: input tokens would tell a hidden prompt's size.
    assert_eq!(reply["usage"], json!({"outputTokens": 7}));
    let bot_view = t.get(&format!("/chat-config/{bot_id}"), Some(&alice)).await;
    assert_eq!(
        bot_view.body["tokensToday"],
        61 + 7,
        "both counts are kept for the owner"
    );

    let sent: Value = servers.gemini.received_requests().await.expect("recorded")[0]
        .body_json()
        .expect("json");
    assert!(
        sent["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .is_some_and(|s| s.contains("Talk like a pirate.")),
        "{sent}"
    );
    let last = sent["contents"].as_array().and_then(|c| c.last()).expect("contents");
    assert_eq!(last["role"], "user");
    assert!(
        last["parts"][0]["text"]
            .as_str()
            .is_some_and(|s| s.contains("Hello, bot"))
    );
}

/// Protects the failure contract: a provider that keeps failing is retried, then the
/// client gets 502 provider_error and the user's message stays stored, marked failed.
#[tokio::test]
async fn a_provider_that_keeps_failing_is_a_502_and_the_message_stays_failed() {
    let (t, servers) = app().await;
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
            "message": "The server had an error while processing your request.",
            "type": "server_error", "param": null, "code": null}})))
        .expect(4)
        .mount(&servers.openai)
        .await;
    let alice = t.token("alice@example.com", &[]);
    let bot_id = bot(&t, &alice, "gpt-4o-mini").await;
    let (session, _) = t.start_session(Some(&alice), &bot_id).await;
    let failed = t.say(&alice, &session, "hello?").await;
    failed.expect(502, Some("provider_error"));
    let history = t.get(&format!("/session/{session}/messages"), Some(&alice)).await;
    let messages = history.body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{}", history.body);
    assert_eq!(messages[0]["content"], "hello?");
    assert_eq!(messages[0]["status"], "failed");
}

/// Protects what a 502 tells the client (issue 7, item 12): the provider's name and its
/// HTTP status, never the provider's own words, which may describe its internals or quote
/// the request. GIVEN OpenAI and Gemini answering 500 with a distinctive message WHEN a
/// session's message is sent THEN the problem names the provider and status only.
#[tokio::test]
async fn a_502_names_the_provider_and_status_but_not_the_provider_s_message() {
    const SECRET: &str = "shard db-7 at 10.2.3.4 is down";
    let (t, servers) = app().await;
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
            "message": SECRET, "type": "server_error", "param": null, "code": null}})))
        .mount(&servers.openai)
        .await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
            "code": 500, "message": SECRET, "status": "INTERNAL"}})))
        .mount(&servers.gemini)
        .await;
    let alice = t.token("alice@example.com", &[]);
    for (model, provider) in [("gpt-4o-mini", "OpenAI"), ("gemini-2.0-flash", "Gemini")] {
        let bot_id = bot(&t, &alice, model).await;
        let (session, _) = t.start_session(Some(&alice), &bot_id).await;
        let failed = t.say(&alice, &session, "hello?").await;
        failed.expect(502, Some("provider_error"));
        let text = failed.body.to_string();
        assert!(
            !text.contains("db-7"),
            "{model}: the provider's message reached the client: {text}"
        );
        assert_eq!(failed.body["detail"], format!("{provider} answered 500"), "{text}");
    }
}

/// Protects rate limits end to end: a provider that keeps answering 429 is retried,
/// then the client gets 429 rate_limited with a Retry-After header, message failed.
#[tokio::test]
async fn a_provider_that_keeps_rate_limiting_is_a_429_with_retry_after() {
    let (t, servers) = app().await;
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "10")
                .set_body_json(json!({"error": {"message": "Rate limit reached for gpt-4o-mini",
                    "type": "requests", "param": null, "code": "rate_limit_exceeded"}})),
        )
        .expect(4)
        .mount(&servers.openai)
        .await;
    let alice = t.token("alice@example.com", &[]);
    let bot_id = bot(&t, &alice, "gpt-4o-mini").await;
    let (session, _) = t.start_session(Some(&alice), &bot_id).await;
    let limited = t.say(&alice, &session, "hello?").await;
    limited.expect(429, Some("rate_limited"));
    assert_eq!(
        limited.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let history = t.get(&format!("/session/{session}/messages"), Some(&alice)).await;
    assert_eq!(history.body["messages"][0]["status"], "failed", "{}", history.body);
}

/// Protects the Gemini per-day quota end to end: one request, no retries, and the
/// client's Retry-After is Google's own delay.
#[tokio::test]
async fn a_gemini_daily_quota_is_a_429_with_google_s_delay() {
    let (t, servers) = app().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {
        "code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
        ]}})))
        .expect(1)
        .mount(&servers.gemini)
        .await;
    let alice = t.token("alice@example.com", &[]);
    let bot_id = bot(&t, &alice, "gemini-2.0-flash").await;
    let (session, _) = t.start_session(Some(&alice), &bot_id).await;
    let limited = t.say(&alice, &session, "hello?").await;
    limited.expect(429, Some("rate_limited"));
    assert_eq!(
        limited.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("37")
    );
}
