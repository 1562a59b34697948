//! `GeminiProvider` against a wiremock server that answers with the wire shapes of the
//! Gemini API reference (`generateContent`, `streamGenerateContent`, google.rpc errors).

mod common;

use std::time::{Duration, Instant};

use common::{collect, fast_policy, request, requests_received, sse, transport};
use parley_core::error::{LlmError, ProviderFailure};
use parley_core::message::Usage;
use parley_core::ports::{LlmProvider, StreamEvent};
use parley_llm::{ApiKey, GeminiConfig, GeminiProvider, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "AIza-test-key";
const GENERATE: &str = "/v1beta/models/gemini-2.0-flash:generateContent";
const STREAM: &str = "/v1beta/models/gemini-2.0-flash:streamGenerateContent";

fn provider(server: &MockServer, policy: RetryPolicy) -> GeminiProvider {
    let config = GeminiConfig {
        api_key: ApiKey::new(KEY),
        base_url: server.uri(),
    };
    GeminiProvider::new(transport(policy), config)
}

fn answer(text: &str) -> Value {
    json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "STOP", "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]
        }],
        "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 4, "totalTokenCount": 15},
        "modelVersion": "gemini-2.0-flash"
    })
}

fn error(code: u16, status: &str, message: &str, details: Value) -> ResponseTemplate {
    ResponseTemplate::new(code)
        .set_body_json(json!({"error": {"code": code, "message": message, "status": status, "details": details}}))
}

async fn generate_mock(server: &MockServer, response: ResponseTemplate, times: Option<u64>, expect: Option<u64>) {
    let mut mock = Mock::given(method("POST")).and(path(GENERATE)).respond_with(response);
    if let Some(times) = times {
        mock = mock.up_to_n_times(times).with_priority(1);
    }
    if let Some(n) = expect {
        mock = mock.expect(n);
    }
    mock.mount(server).await;
}

async fn complete(server: &MockServer) -> Result<parley_core::ports::ChatReply, LlmError> {
    provider(server, fast_policy())
        .complete(&request("gemini-2.0-flash"))
        .await
}

/// Protects the request we send (system instruction apart from the turns, roles user
/// and model, generation config, the key in its header and not in the URL) and the usage
/// we read back.
#[tokio::test]
async fn a_generation_carries_the_conversation_and_returns_text_with_usage() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GENERATE))
        .and(header("x-goog-api-key", KEY))
        .and(body_partial_json(json!({
            "systemInstruction": {"parts": [{"text": "You are a pirate."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Hi"}]},
                {"role": "model", "parts": [{"text": "Arr!"}]},
                {"role": "user", "parts": [{"text": "Where is the treasure?"}]}
            ],
            "generationConfig": {"temperature": 0.3, "maxOutputTokens": 200}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer("On the island.")))
        .expect(1)
        .mount(&server)
        .await;
    let reply = complete(&server).await.expect("a reply");
    assert_eq!(reply.text, "On the island.");
    assert_eq!(
        reply.usage,
        Usage {
            input_tokens: 11,
            output_tokens: 4
        }
    );
    let received = &server.received_requests().await.expect("recorded")[0];
    assert!(received.url.query().is_none(), "no key in the URL: {}", received.url);
    let sent: Value = received.body_json().expect("json");
    assert!(sent["systemInstruction"].get("role").is_none(), "{sent}");
}

/// Protects against retrying what cannot succeed (400 bad key, 403, 404) and against the
/// key reaching an error message.
#[tokio::test]
async fn client_errors_fail_at_once_with_the_provider_message() {
    let key_invalid = json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                              "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]);
    for (code, status, message, details) in [
        (
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            key_invalid,
        ),
        (
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers.",
            json!([]),
        ),
        (
            404,
            "NOT_FOUND",
            "models/gemini-9 is not found for API version v1beta.",
            json!([]),
        ),
    ] {
        let server = MockServer::start().await;
        generate_mock(&server, error(code, status, message, details), None, Some(1)).await;
        let err = complete(&server).await.expect_err("an error");
        let LlmError::Provider {
            failure,
            message: logged,
            ..
        } = &err
        else {
            panic!("{code}: {err:?}")
        };
        assert_eq!(*failure, ProviderFailure::Status(code));
        // The client reads the provider and the status; the log keeps what Gemini said.
        assert_eq!(err.to_string(), format!("Gemini answered {code}"));
        assert_eq!(logged, &format!("{status}: {message}"));
        assert!(!logged.contains(KEY));
    }
}

/// Protects `RetryInfo.retryDelay`: the retry waits at least that long, then succeeds.
#[tokio::test]
async fn a_429_with_retry_info_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    let details = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.2s"}]);
    generate_mock(
        &server,
        error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted.", details),
        Some(1),
        None,
    )
    .await;
    generate_mock(
        &server,
        ResponseTemplate::new(200).set_body_json(answer("later")),
        None,
        None,
    )
    .await;
    let started = Instant::now();
    assert_eq!(complete(&server).await.expect("a reply").text, "later");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests_received(&server).await, 2);
}

/// Protects per-day quotas: waiting seconds will not help, so there is one request and
/// the answer is `RateLimited` at once, with Google's hint.
#[tokio::test]
async fn a_per_day_quota_is_not_retried() {
    let server = MockServer::start().await;
    let details = json!([
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": "gemini-2.0-flash"}, "quotaValue": "200"}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
    ]);
    generate_mock(
        &server,
        error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", details),
        None,
        Some(1),
    )
    .await;
    let err = complete(&server).await.expect_err("rate limited");
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(37)),
        "{err:?}"
    );
}

/// Protects retries on server errors: two 503s, then the answer.
#[tokio::test]
async fn two_503s_then_success() {
    let server = MockServer::start().await;
    generate_mock(
        &server,
        error(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            json!([]),
        ),
        Some(2),
        None,
    )
    .await;
    generate_mock(
        &server,
        ResponseTemplate::new(200).set_body_json(answer("third time")),
        None,
        None,
    )
    .await;
    assert_eq!(complete(&server).await.expect("a reply").text, "third time");
    assert_eq!(requests_received(&server).await, 3);
}

/// Protects the deadline: a server that hangs gives `Timeout`, in time.
#[tokio::test]
async fn a_hanging_server_times_out_within_the_deadline() {
    let server = MockServer::start().await;
    generate_mock(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(answer("too late"))
            .set_delay(Duration::from_secs(5)),
        None,
        None,
    )
    .await;
    let policy = RetryPolicy {
        attempt_timeout: Duration::from_millis(200),
        deadline: Duration::from_millis(700),
        ..fast_policy()
    };
    let started = Instant::now();
    let err = provider(&server, policy)
        .complete(&request("gemini-2.0-flash"))
        .await
        .expect_err("a timeout");
    assert!(matches!(err, LlmError::Timeout), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
}

/// Protects against a 200 that is not a GenerateContentResponse passing as a reply.
#[tokio::test]
async fn a_malformed_success_body_is_a_provider_error() {
    let server = MockServer::start().await;
    generate_mock(
        &server,
        ResponseTemplate::new(200).set_body_raw("{\"candidates\": 7}", "application/json"),
        None,
        Some(1),
    )
    .await;
    let err = complete(&server).await.expect_err("an error");
    assert!(
        matches!(&err, LlmError::Provider { failure: ProviderFailure::Malformed, message, .. } if message.contains("not a GenerateContentResponse")),
        "{err:?}"
    );
}

/// Protects users from empty replies when Gemini blocks: a blocked prompt
/// (`promptFeedback.blockReason`) and a blocked answer (`finishReason: SAFETY`, no text)
/// both say that the model refused, and why.
#[tokio::test]
async fn safety_blocks_are_clear_errors_not_empty_replies() {
    let blocked_prompt = json!({
        "promptFeedback": {"blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}
    });
    let blocked_answer = json!({
        "candidates": [{"finishReason": "SAFETY", "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]}],
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}
    });
    for body in [blocked_prompt, blocked_answer] {
        let server = MockServer::start().await;
        generate_mock(&server, ResponseTemplate::new(200).set_body_json(body), None, Some(1)).await;
        let err = complete(&server).await.expect_err("a refusal");
        assert!(
            matches!(&err, LlmError::Provider { failure: ProviderFailure::Refused, message, .. } if message == "SAFETY"),
            "{err:?}"
        );
    }
}

async fn stream_mock(server: &MockServer, body: String) {
    Mock::given(method("POST"))
        .and(path(STREAM))
        .and(query_param("alt", "sse"))
        .and(header("x-goog-api-key", KEY))
        .and(body_partial_json(json!({"generationConfig": {"maxOutputTokens": 200}})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .expect(1)
        .mount(server)
        .await;
}

fn part(text: &str, finish: Option<&str>, usage: Value) -> String {
    let mut candidate = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.0-flash"}).to_string()
}

/// Protects streaming: `:streamGenerateContent?alt=sse`, deltas in order, and the usage of
/// the last chunk (each chunk carries running totals).
#[tokio::test]
async fn a_stream_yields_deltas_then_its_usage() {
    let server = MockServer::start().await;
    let body = sse(&[
        &part("On the ", None, json!({"promptTokenCount": 11, "totalTokenCount": 11})),
        &part(
            "island.",
            Some("STOP"),
            json!({"promptTokenCount": 11, "candidatesTokenCount": 3, "totalTokenCount": 14}),
        ),
    ]);
    stream_mock(&server, body).await;
    let stream = provider(&server, fast_policy())
        .stream(&request("gemini-2.0-flash"))
        .await
        .expect("a stream");
    let events: Vec<StreamEvent> = collect(stream)
        .await
        .into_iter()
        .map(|e| e.expect("no error"))
        .collect();
    assert_eq!(
        events,
        vec![
            StreamEvent::Delta("On the ".into()),
            StreamEvent::Delta("island.".into()),
            StreamEvent::Done(Usage {
                input_tokens: 11,
                output_tokens: 3
            }),
        ]
    );
}

/// Protects against a cut stream passing as complete: Gemini has no end marker, so a
/// body that ends before any `finishReason` is an error after the deltas.
#[tokio::test]
async fn a_stream_cut_before_its_finish_reason_ends_with_an_error() {
    let server = MockServer::start().await;
    stream_mock(&server, sse(&[&part("On the ", None, json!({"promptTokenCount": 11}))])).await;
    let events = collect(
        provider(&server, fast_policy())
            .stream(&request("gemini-2.0-flash"))
            .await
            .expect("a stream"),
    )
    .await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(&events[0], Ok(StreamEvent::Delta(t)) if t == "On the "));
    assert!(
        matches!(&events[1], Err(LlmError::Provider { failure: ProviderFailure::BrokeOff, message, .. }) if message.contains("before a finishReason")),
        "{events:?}"
    );
}

/// Protects streamed refusals: a blocked prompt in the stream is the same clear error.
#[tokio::test]
async fn a_blocked_stream_is_a_refusal() {
    let server = MockServer::start().await;
    let blocked = json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}).to_string();
    stream_mock(&server, sse(&[&blocked])).await;
    let events = collect(
        provider(&server, fast_policy())
            .stream(&request("gemini-2.0-flash"))
            .await
            .expect("a stream"),
    )
    .await;
    assert!(
        matches!(&events[..], [Err(LlmError::Provider { failure: ProviderFailure::Refused, message, .. })] if message == "PROHIBITED_CONTENT"),
        "{events:?}"
    );
}
