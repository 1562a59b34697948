//! `OpenAiProvider` against a wiremock server that answers with the wire shapes of
//! OpenAI's Chat Completions reference.

mod common;

use std::time::{Duration, Instant};

use common::{fast_policy, request, requests_received, transport};
use parley_core::error::{LlmError, ProviderFailure};
use parley_core::message::Usage;
use parley_core::ports::LlmProvider;
use parley_llm::{ApiKey, MaxTokensField, OpenAiConfig, OpenAiProvider, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-0123456789";

fn provider(server: &MockServer, policy: RetryPolicy) -> OpenAiProvider {
    let mut config = OpenAiConfig::openai(ApiKey::new(KEY));
    config.base_url = format!("{}/v1", server.uri());
    OpenAiProvider::new(transport(policy), config)
}

fn completion(text: &str) -> Value {
    json!({
        "id": "chatcmpl-123", "object": "chat.completion", "created": 1_677_652_288, "model": "gpt-4o-mini",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21,
                  "completion_tokens_details": {"reasoning_tokens": 0}}
    })
}

fn error(status: u16, message: &str, kind: &str, code: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}}))
}

async fn chat_mock(server: &MockServer, response: ResponseTemplate, times: Option<u64>, expect: Option<u64>) {
    let mut mock = Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response);
    if let Some(times) = times {
        mock = mock.up_to_n_times(times).with_priority(1);
    }
    if let Some(n) = expect {
        mock = mock.expect(n);
    }
    mock.mount(server).await;
}

/// Protects the request we send (system first, roles, temperature, the documented
/// `max_completion_tokens`, the bearer key) and the usage we read back.
#[tokio::test]
async fn a_completion_carries_the_conversation_and_returns_text_with_usage() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_partial_json(json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a pirate."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Arr!"},
                {"role": "user", "content": "Where is the treasure?"}
            ],
            "temperature": 0.3,
            "max_completion_tokens": 200
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("On the island.")))
        .expect(1)
        .mount(&server)
        .await;

    let reply = provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect("a reply");
    assert_eq!(reply.text, "On the island.");
    assert_eq!(
        reply.usage,
        Usage {
            input_tokens: 9,
            output_tokens: 12
        }
    );
    let sent: Value = server.received_requests().await.expect("recorded")[0]
        .body_json()
        .expect("json");
    assert!(
        sent.get("max_tokens").is_none() && sent.get("stream").is_none(),
        "{sent}"
    );
}

/// Protects OpenAI-compatible servers: no key means no Authorization header, and the
/// limit goes in `max_tokens`, which Ollama, LM Studio and llama.cpp read.
#[tokio::test]
async fn a_compatible_server_gets_max_tokens_and_no_authorization() {
    let server = MockServer::start().await;
    chat_mock(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("ok")),
        None,
        Some(1),
    )
    .await;
    let config = OpenAiConfig::compatible(format!("{}/v1/", server.uri()), None);
    assert_eq!(config.max_tokens_field, MaxTokensField::MaxTokens);
    let reply = OpenAiProvider::new(transport(fast_policy()), config)
        .complete(&request("llama3.2"))
        .await
        .expect("a reply");
    assert_eq!(reply.text, "ok");
    let received = &server.received_requests().await.expect("recorded")[0];
    assert!(received.headers.get("authorization").is_none());
    let sent: Value = received.body_json().expect("json");
    assert_eq!(sent["max_tokens"], 200);
    assert!(sent.get("max_completion_tokens").is_none());
}

/// Protects against retrying what cannot succeed (400, 401, 404) and against the key
/// reaching an error message: OpenAI's 401 quotes the key it got.
#[tokio::test]
async fn client_errors_fail_at_once_with_the_provider_message_and_no_key() {
    for (status, message, kind, code) in [
        (400, "Invalid value for 'temperature'.", "invalid_request_error", None),
        (
            401,
            "Incorrect API key provided: sk-test-0123456789. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        (
            404,
            "The model `gpt-9` does not exist or you do not have access to it.",
            "invalid_request_error",
            Some("model_not_found"),
        ),
    ] {
        let server = MockServer::start().await;
        chat_mock(&server, error(status, message, kind, code), None, Some(1)).await;
        let err = provider(&server, fast_policy())
            .complete(&request("gpt-4o-mini"))
            .await
            .expect_err("an error");
        let LlmError::Provider {
            failure,
            message: logged,
            ..
        } = &err
        else {
            panic!("{status}: {err:?}")
        };
        assert_eq!(*failure, ProviderFailure::Status(status));
        assert_eq!(err.to_string(), format!("OpenAI answered {status}"));
        assert!(
            logged.starts_with(&message[..20]),
            "the log keeps the message: {logged}"
        );
        assert!(!logged.contains("0123456789"), "the key leaked: {logged}");
    }
}

/// Protects `retry-after-ms`: the retry waits at least the hinted delay, then succeeds.
#[tokio::test]
async fn a_429_with_retry_after_ms_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    let limited = error(
        429,
        "Rate limit reached for gpt-4o-mini",
        "requests",
        Some("rate_limit_exceeded"),
    )
    .insert_header("retry-after-ms", "150");
    chat_mock(&server, limited, Some(1), None).await;
    chat_mock(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("later")),
        None,
        None,
    )
    .await;
    let started = Instant::now();
    let reply = provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect("a reply after the wait");
    assert_eq!(reply.text, "later");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests_received(&server).await, 2);
}

/// Protects `Retry-After` in whole seconds (the HTTP form every server may send).
#[tokio::test]
async fn a_429_with_retry_after_seconds_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    let limited =
        error(429, "Rate limit reached", "requests", Some("rate_limit_exceeded")).insert_header("retry-after", "1");
    chat_mock(&server, limited, Some(1), None).await;
    chat_mock(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("later")),
        None,
        None,
    )
    .await;
    let started = Instant::now();
    provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect("a reply after the wait");
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
}

/// Protects the exhausted case: four 429s become `RateLimited` with the server's hint,
/// which the API passes on as `Retry-After`.
#[tokio::test]
async fn a_429_that_never_ends_is_rate_limited_with_the_hint() {
    let server = MockServer::start().await;
    let limited =
        error(429, "Rate limit reached", "requests", Some("rate_limit_exceeded")).insert_header("retry-after-ms", "20");
    chat_mock(&server, limited, None, Some(4)).await;
    let err = provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect_err("rate limited");
    assert!(
        matches!(err, LlmError::RateLimited { retry_after: Some(d) } if d == Duration::from_millis(20)),
        "{err:?}"
    );
}

/// Protects the no-credit case: `insufficient_quota` will not pass by waiting, so it is
/// not retried and is a provider failure rather than a rate limit.
#[tokio::test]
async fn insufficient_quota_is_not_retried() {
    let server = MockServer::start().await;
    let body = "You exceeded your current quota, please check your plan and billing details.";
    chat_mock(
        &server,
        error(429, body, "insufficient_quota", Some("insufficient_quota")),
        None,
        Some(1),
    )
    .await;
    let err = provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect_err("no credit");
    assert!(
        matches!(&err, LlmError::Provider { failure: ProviderFailure::Status(429), message, .. } if message.contains("exceeded your current quota")),
        "{err:?}"
    );
}

/// Protects retries on server errors: two 500s, then the answer.
#[tokio::test]
async fn two_500s_then_success() {
    let server = MockServer::start().await;
    chat_mock(
        &server,
        error(
            500,
            "The server had an error while processing your request.",
            "server_error",
            None,
        ),
        Some(2),
        None,
    )
    .await;
    chat_mock(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("third time")),
        None,
        None,
    )
    .await;
    let reply = provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect("a reply");
    assert_eq!(reply.text, "third time");
    assert_eq!(requests_received(&server).await, 3);
}

/// Protects the per-attempt timeout and the deadline: a server that hangs makes the
/// call fail with `Timeout` when the deadline passes, not when the server wakes up.
#[tokio::test]
async fn a_hanging_server_times_out_within_the_deadline() {
    let server = MockServer::start().await;
    chat_mock(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(completion("too late"))
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
        .complete(&request("gpt-4o-mini"))
        .await
        .expect_err("a timeout");
    let elapsed = started.elapsed();
    assert!(matches!(err, LlmError::Timeout), "{err:?}");
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
    assert!(requests_received(&server).await >= 2, "timeouts are retried");
}

/// Protects against a 200 whose body is not a completion passing as an empty reply.
#[tokio::test]
async fn a_malformed_success_body_is_a_provider_error() {
    let server = MockServer::start().await;
    chat_mock(
        &server,
        ResponseTemplate::new(200).set_body_raw("{\"choices\": [", "application/json"),
        None,
        Some(1),
    )
    .await;
    let err = provider(&server, fast_policy())
        .complete(&request("gpt-4o-mini"))
        .await
        .expect_err("an error");
    assert!(
        matches!(&err, LlmError::Provider { failure: ProviderFailure::Malformed, message, .. } if message.contains("not a chat completion")),
        "{err:?}"
    );
}

/// Protects connection failures: retried, then a provider error that names no URL.
#[tokio::test]
async fn an_unreachable_server_is_a_provider_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    drop(listener);
    let config = OpenAiConfig::compatible(url, None);
    let err = OpenAiProvider::new(transport(fast_policy()), config)
        .complete(&request("llama3.2"))
        .await
        .expect_err("no server");
    assert!(
        matches!(
            &err,
            LlmError::Provider {
                failure: ProviderFailure::Unreachable,
                ..
            }
        ),
        "{err:?}"
    );
}
