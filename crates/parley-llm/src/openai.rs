//! OpenAI Chat Completions, and every server that speaks it (Ollama, vLLM, LM Studio,
//! llama.cpp server): `POST {base}/chat/completions`.

use async_trait::async_trait;
use parley_core::error::{LlmError, ProviderFailure};
use parley_core::message::{Role, Usage};
use parley_core::ports::{ChatReply, ChatRequest, LlmProvider, ReplyStream};
use parley_core::prompt::estimate_tokens;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{MaxTokensField, OpenAiConfig};
use crate::retry::{Endpoint, ErrorDetails, Quota, Transport};
use crate::sse::{self, ChunkParser, Parsed};

const NAME: &str = "OpenAI";

/// A Chat Completions client.
#[derive(Debug)]
pub struct OpenAiProvider {
    transport: Transport,
    config: OpenAiConfig,
    url: String,
}

impl OpenAiProvider {
    pub fn new(transport: Transport, config: OpenAiConfig) -> Self {
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Self { transport, config, url }
    }

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            provider: NAME,
            key: self.config.api_key.as_ref(),
            read_error,
        }
    }

    fn request(&self, body: &WireRequest<'_>) -> reqwest::RequestBuilder {
        let builder = self.transport.client.post(&self.url).json(body);
        match &self.config.api_key {
            Some(key) => builder.bearer_auth(key.expose()),
            None => builder,
        }
    }
}

#[async_trait]
impl LlmProvider for OpenAiProvider {
    #[tracing::instrument(name = "openai.complete", skip_all, fields(model = %request.model))]
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let body = WireRequest::new(request, self.config.max_tokens_field, false);
        let deadline = self.transport.deadline();
        let bytes = self
            .transport
            .call(&self.endpoint(), deadline, || self.request(&body), |r| r.bytes())
            .await?;
        let completion: Completion = serde_json::from_slice(&bytes)
            .map_err(|e| LlmError::provider(NAME, ProviderFailure::Malformed, format!("not a chat completion: {e}")))?;
        let choice = completion.choices.into_iter().next();
        let (message, finish) = match choice {
            Some(c) => (c.message, c.finish_reason),
            None => (None, None),
        };
        let text = message.as_ref().and_then(|m| m.content.clone()).unwrap_or_default();
        if let Some(refusal) = message.and_then(|m| m.refusal).filter(|r| !r.is_empty()) {
            return Err(refused(&refusal));
        }
        if text.is_empty() {
            return Err(empty(finish.as_deref()));
        }
        let usage = match completion.usage {
            Some(u) => u.into(),
            None => estimated(request, &text),
        };
        Ok(ChatReply { text, usage })
    }

    #[tracing::instrument(name = "openai.stream", skip_all, fields(model = %request.model))]
    async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, LlmError> {
        let body = WireRequest::new(request, self.config.max_tokens_field, true);
        let deadline = self.transport.deadline();
        let response = self
            .transport
            .call(&self.endpoint(), deadline, || self.request(&body), |r| async { Ok(r) })
            .await?;
        let parser = StreamParser {
            usage: None,
            text: String::new(),
            finish: None,
            estimate_input: estimated(request, "").input_tokens,
        };
        let idle = self.transport.policy.attempt_timeout;
        Ok(sse::reply_stream(response, parser, NAME, idle, deadline))
    }
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    temperature: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<Value>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

impl<'a> WireRequest<'a> {
    fn new(request: &'a ChatRequest, field: MaxTokensField, stream: bool) -> Self {
        let system = (!request.system_prompt.is_empty()).then(|| WireMessage {
            role: "system",
            content: &request.system_prompt,
        });
        let turns = request.messages.iter().map(|turn| WireMessage {
            role: match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            },
            content: &turn.content,
        });
        let limit = Some(request.max_output_tokens);
        Self {
            model: &request.model,
            messages: system.into_iter().chain(turns).collect(),
            temperature: request.temperature,
            max_tokens: limit.filter(|_| field == MaxTokensField::MaxTokens),
            max_completion_tokens: limit.filter(|_| field == MaxTokensField::MaxCompletionTokens),
            stream,
            stream_options: stream.then(|| serde_json::json!({"include_usage": true})),
        }
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<WireMessageOut>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessageOut {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

/// One `chat.completion.chunk`; the last one (with `include_usage`) has no choices and
/// the usage of the whole reply.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    delta: Option<WireMessageOut>,
    finish_reason: Option<String>,
}

struct StreamParser {
    usage: Option<Usage>,
    text: String,
    finish: Option<String>,
    estimate_input: u32,
}

impl ChunkParser for StreamParser {
    fn on_data(&mut self, data: &str) -> Result<Parsed, LlmError> {
        if data.trim() == "[DONE]" {
            if self.text.is_empty() {
                return Err(empty(self.finish.as_deref()));
            }
            let usage = self.usage.unwrap_or(Usage {
                input_tokens: self.estimate_input,
                output_tokens: estimate_tokens(&self.text),
            });
            return Ok(Parsed::Finished(usage));
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            LlmError::provider(
                NAME,
                ProviderFailure::Malformed,
                format!("a streamed chunk is not JSON: {e}"),
            )
        })?;
        if let Some(error) = chunk.error {
            let message = error["message"].as_str().unwrap_or("unknown error");
            return Err(LlmError::provider(NAME, ProviderFailure::BrokeOff, message));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        let mut text = String::new();
        for choice in chunk.choices {
            self.finish = choice.finish_reason.or(self.finish.take());
            if let Some(delta) = choice.delta {
                if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
                    return Err(refused(&refusal));
                }
                text.push_str(delta.content.as_deref().unwrap_or_default());
            }
        }
        self.text.push_str(&text);
        Ok(Parsed::Text(text))
    }

    fn on_end(&mut self) -> Result<Usage, LlmError> {
        Err(LlmError::provider(
            NAME,
            ProviderFailure::BrokeOff,
            "the stream ended before [DONE]",
        ))
    }
}

/// Reads `{"error": {"message", "type", "code"}}`, and the flatter shapes some
/// compatible servers send (`{"message": …}`, `{"error": "…"}`).
fn read_error(body: &[u8]) -> ErrorDetails {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return ErrorDetails {
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
            ..ErrorDetails::default()
        };
    };
    let error = &json["error"];
    let message = error["message"]
        .as_str()
        .or_else(|| error.as_str())
        .or_else(|| json["message"].as_str())
        .unwrap_or_default();
    let code = error["code"].as_str().or_else(|| error["type"].as_str());
    let quota = if code == Some("insufficient_quota") {
        Quota::Exhausted
    } else {
        Quota::Transient
    };
    ErrorDetails {
        message: message.to_owned(),
        retry_delay: None,
        quota,
    }
}

fn refused(refusal: &str) -> LlmError {
    LlmError::provider(NAME, ProviderFailure::Refused, refusal)
}

fn empty(finish: Option<&str>) -> LlmError {
    match finish {
        Some("content_filter") => LlmError::provider(NAME, ProviderFailure::Refused, "finish_reason content_filter"),
        Some(reason) => LlmError::provider(NAME, ProviderFailure::Empty, format!("finish_reason {reason}")),
        None => LlmError::provider(NAME, ProviderFailure::Empty, "no finish_reason"),
    }
}

/// Usage for servers that report none, so quotas still count something.
fn estimated(request: &ChatRequest, reply: &str) -> Usage {
    Usage {
        input_tokens: estimate_tokens(&request.system_prompt)
            + request
                .messages
                .iter()
                .map(|t| estimate_tokens(&t.content))
                .sum::<u32>(),
        output_tokens: if reply.is_empty() { 0 } else { estimate_tokens(reply) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_error_shapes_are_read() {
        let details = read_error(
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert_eq!(details.quota, Quota::Exhausted);
        assert_eq!(details.message, "You exceeded your current quota");
        let vllm = read_error(br#"{"object":"error","message":"model not found","type":"NotFoundError","code":404}"#);
        assert_eq!(vllm.message, "model not found");
        assert_eq!(
            read_error(b"<html>bad gateway</html>").message,
            "<html>bad gateway</html>"
        );
    }
}
