//! `OpenAiProvider`'s streams against a wiremock server that answers with the SSE
//! chunks of OpenAI's Chat Completions reference (`chat.completion.chunk`, `[DONE]`).

mod common;

use common::{collect, fast_policy, request, sse, transport};
use parley_core::error::{LlmError, ProviderFailure};
use parley_core::message::Usage;
use parley_core::ports::{LlmProvider, StreamEvent};
use parley_llm::{ApiKey, OpenAiConfig, OpenAiProvider};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn provider(server: &MockServer) -> OpenAiProvider {
    let mut config = OpenAiConfig::openai(ApiKey::new("sk-test"));
    config.base_url = format!("{}/v1", server.uri());
    OpenAiProvider::new(transport(fast_policy()), config)
}

async fn chat_mock(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}], "usage": null})
    .to_string()
}

/// Protects streaming: `stream` and `stream_options.include_usage` are sent, deltas
/// arrive in order, and the usage comes from the final choice-less chunk.
#[tokio::test]
async fn a_stream_yields_deltas_then_its_usage() {
    let server = MockServer::start().await;
    let usage = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
                       "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})
    .to_string();
    let body = sse(&[
        &chunk(json!({"role": "assistant", "content": ""}), None),
        &chunk(json!({"content": "On the "}), None),
        &chunk(json!({"content": "island."}), None),
        &chunk(json!({}), Some("stop")),
        &usage,
        "[DONE]",
    ]);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .expect(1)
        .mount(&server)
        .await;
    let stream = provider(&server)
        .stream(&request("gpt-4o-mini"))
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
                input_tokens: 9,
                output_tokens: 3
            }),
        ]
    );
}

/// Protects against a cut stream passing as a complete reply: the deltas already sent
/// stay, and the stream ends with an error instead of `Done`.
#[tokio::test]
async fn a_stream_cut_before_done_ends_with_an_error() {
    let server = MockServer::start().await;
    let body = sse(&[
        &chunk(json!({"content": "On the "}), None),
        &chunk(json!({"content": "isl"}), None),
    ]);
    chat_mock(
        &server,
        ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"),
    )
    .await;
    let events = collect(
        provider(&server)
            .stream(&request("gpt-4o-mini"))
            .await
            .expect("a stream"),
    )
    .await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[0], Ok(StreamEvent::Delta(t)) if t == "On the "));
    assert!(matches!(&events[1], Ok(StreamEvent::Delta(t)) if t == "isl"));
    assert!(
        matches!(&events[2], Err(LlmError::Provider { failure: ProviderFailure::BrokeOff, message, .. }) if message.contains("before [DONE]")),
        "{events:?}"
    );
}

/// Protects streams from the retry loop's other half: a 401 before the stream starts is
/// an error from `stream` itself, tried once.
#[tokio::test]
async fn a_stream_refused_up_front_is_an_error_not_a_stream() {
    let server = MockServer::start().await;
    chat_mock(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided", "type": "invalid_request_error",
            "param": null, "code": "invalid_api_key"}})),
    )
    .await;
    let result = provider(&server).stream(&request("gpt-4o-mini")).await;
    assert!(matches!(
        result,
        Err(LlmError::Provider {
            failure: ProviderFailure::Status(401),
            ..
        })
    ));
}
