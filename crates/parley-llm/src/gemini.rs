//! Google's Gemini API: `POST {base}/v1beta/models/{model}:generateContent`, and
//! `:streamGenerateContent?alt=sse` for streaming.

use async_trait::async_trait;
use parley_core::error::{LlmError, ProviderFailure};
use parley_core::message::{Role, Usage};
use parley_core::ports::{ChatReply, ChatRequest, LlmProvider, ReplyStream};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::GeminiConfig;
use crate::retry::{Endpoint, ErrorDetails, Quota, Transport, parse_proto_duration};
use crate::sse::{self, ChunkParser, Parsed};

const NAME: &str = "Gemini";

/// Finish reasons that mean the model would not answer, rather than that it ran out.
const REFUSALS: &[&str] = &[
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "RECITATION",
    "SPII",
    "IMAGE_SAFETY",
];

/// A Gemini API client.
#[derive(Debug)]
pub struct GeminiProvider {
    transport: Transport,
    config: GeminiConfig,
}

impl GeminiProvider {
    pub fn new(transport: Transport, config: GeminiConfig) -> Self {
        Self { transport, config }
    }

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            provider: NAME,
            key: Some(&self.config.api_key),
            read_error,
        }
    }

    fn request(&self, url: &str, body: &WireRequest<'_>) -> reqwest::RequestBuilder {
        self.transport
            .client
            .post(url)
            .header("x-goog-api-key", self.config.api_key.expose())
            .json(body)
    }

    fn url(&self, model: &str, method: &str) -> String {
        let model = model.strip_prefix("models/").unwrap_or(model);
        format!(
            "{}/v1beta/models/{model}:{method}",
            self.config.base_url.trim_end_matches('/')
        )
    }
}

#[async_trait]
impl LlmProvider for GeminiProvider {
    #[tracing::instrument(name = "gemini.complete", skip_all, fields(model = %request.model))]
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let body = WireRequest::new(request);
        let url = self.url(&request.model, "generateContent");
        let deadline = self.transport.deadline();
        let bytes = self
            .transport
            .call(&self.endpoint(), deadline, || self.request(&url, &body), |r| r.bytes())
            .await?;
        let response: WireResponse = serde_json::from_slice(&bytes).map_err(|e| {
            LlmError::provider(
                NAME,
                ProviderFailure::Malformed,
                format!("not a GenerateContentResponse: {e}"),
            )
        })?;
        let mut reading = Reading::default();
        reading.absorb(response)?;
        let usage = reading.finish()?;
        Ok(ChatReply {
            text: reading.text,
            usage,
        })
    }

    #[tracing::instrument(name = "gemini.stream", skip_all, fields(model = %request.model))]
    async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, LlmError> {
        let body = WireRequest::new(request);
        let url = self.url(&request.model, "streamGenerateContent?alt=sse");
        let deadline = self.transport.deadline();
        let response = self
            .transport
            .call(
                &self.endpoint(),
                deadline,
                || self.request(&url, &body),
                |r| async { Ok(r) },
            )
            .await?;
        let idle = self.transport.policy.attempt_timeout;
        Ok(sse::reply_stream(response, Reading::default(), NAME, idle, deadline))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<WireContent<'a>>,
    contents: Vec<WireContent<'a>>,
    generation_config: GenerationConfig,
}

#[derive(Serialize)]
struct WireContent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    parts: [WirePart<'a>; 1],
}

#[derive(Serialize)]
struct WirePart<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    temperature: f32,
    max_output_tokens: u32,
}

impl<'a> WireRequest<'a> {
    fn new(request: &'a ChatRequest) -> Self {
        let system_instruction = (!request.system_prompt.is_empty()).then(|| WireContent {
            role: None,
            parts: [WirePart {
                text: &request.system_prompt,
            }],
        });
        let contents = request
            .messages
            .iter()
            .map(|turn| WireContent {
                role: Some(match turn.role {
                    Role::User => "user",
                    Role::Assistant => "model",
                }),
                parts: [WirePart { text: &turn.content }],
            })
            .collect();
        Self {
            system_instruction,
            contents,
            generation_config: GenerationConfig {
                temperature: request.temperature,
                max_output_tokens: request.max_output_tokens,
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<CandidateContent>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct CandidateContent {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
    /// Thinking models mark their thoughts; they are not part of the reply.
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
    /// Billed as output by thinking models, so it counts against quotas too.
    #[serde(default)]
    thoughts_token_count: u32,
}

/// A reply read from one response or from a stream of them.
#[derive(Default)]
struct Reading {
    text: String,
    finish: Option<String>,
    usage: Option<Usage>,
}

impl Reading {
    /// Takes in one response (or stream chunk); returns its new text.
    fn absorb(&mut self, response: WireResponse) -> Result<String, LlmError> {
        if let Some(error) = response.error {
            let message = error["message"].as_str().unwrap_or("unknown error");
            return Err(LlmError::provider(NAME, ProviderFailure::BrokeOff, message));
        }
        if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
            return Err(refused(&reason));
        }
        if let Some(u) = response.usage_metadata {
            // Every chunk repeats the running totals; the last one holds.
            self.usage = Some(Usage {
                input_tokens: u.prompt_token_count,
                output_tokens: u.candidates_token_count + u.thoughts_token_count,
            });
        }
        let mut text = String::new();
        if let Some(candidate) = response.candidates.into_iter().next() {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                if !part.thought {
                    text.push_str(part.text.as_deref().unwrap_or_default());
                }
            }
            if candidate.finish_reason.is_some() {
                self.finish = candidate.finish_reason;
            }
        }
        self.text.push_str(&text);
        Ok(text)
    }

    /// The reply is over: its usage, or why there is no reply.
    fn finish(&mut self) -> Result<Usage, LlmError> {
        if self.text.is_empty() {
            return Err(match self.finish.as_deref() {
                Some(reason) if REFUSALS.contains(&reason) => refused(reason),
                Some(reason) => LlmError::provider(NAME, ProviderFailure::Empty, format!("finishReason {reason}")),
                None => LlmError::provider(NAME, ProviderFailure::Empty, "no finishReason"),
            });
        }
        Ok(self.usage.unwrap_or_default())
    }
}

impl ChunkParser for Reading {
    fn on_data(&mut self, data: &str) -> Result<Parsed, LlmError> {
        let response: WireResponse = serde_json::from_str(data).map_err(|e| {
            LlmError::provider(
                NAME,
                ProviderFailure::Malformed,
                format!("a streamed chunk is not JSON: {e}"),
            )
        })?;
        self.absorb(response).map(Parsed::Text)
    }

    /// Gemini has no end marker: the stream is complete when a chunk carried a
    /// `finishReason` before the body ended.
    fn on_end(&mut self) -> Result<Usage, LlmError> {
        if self.finish.is_none() {
            return Err(LlmError::provider(
                NAME,
                ProviderFailure::BrokeOff,
                "the stream ended before a finishReason",
            ));
        }
        self.finish()
    }
}

/// Reads `{"error": {"code", "message", "status", "details": [...]}}`: the
/// `RetryInfo.retryDelay` and whether a `QuotaFailure` is a per-day quota.
fn read_error(body: &[u8]) -> ErrorDetails {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return ErrorDetails {
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
            ..ErrorDetails::default()
        };
    };
    let error = &json["error"];
    let mut details = ErrorDetails {
        message: match (error["status"].as_str(), error["message"].as_str()) {
            (Some(status), Some(message)) => format!("{status}: {message}"),
            (None, Some(message)) => message.to_owned(),
            (Some(status), None) => status.to_owned(),
            (None, None) => String::new(),
        },
        ..ErrorDetails::default()
    };
    for detail in error["details"].as_array().into_iter().flatten() {
        match detail["@type"].as_str() {
            Some("type.googleapis.com/google.rpc.RetryInfo") => {
                details.retry_delay = detail["retryDelay"].as_str().and_then(parse_proto_duration);
            }
            Some("type.googleapis.com/google.rpc.QuotaFailure") => {
                let daily = detail["violations"].as_array().into_iter().flatten().any(|v| {
                    ["quotaId", "quotaMetric", "description"].iter().any(|field| {
                        v[field]
                            .as_str()
                            .is_some_and(|s| s.to_ascii_lowercase().replace(' ', "").contains("perday"))
                    })
                });
                if daily {
                    details.quota = Quota::Daily;
                }
            }
            _ => {}
        }
    }
    details
}

fn refused(reason: &str) -> LlmError {
    LlmError::provider(NAME, ProviderFailure::Refused, reason)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn retry_info_and_daily_quotas_are_read() {
        let body = br#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[
            {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}"#;
        let details = read_error(body);
        assert_eq!(details.quota, Quota::Daily);
        assert_eq!(details.retry_delay, Some(Duration::from_secs(37)));
        assert_eq!(details.message, "RESOURCE_EXHAUSTED: You exceeded your current quota.");

        let per_minute = br#"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[
            {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel"}]}]}}"#;
        assert_eq!(read_error(per_minute).quota, Quota::Transient);
    }
}
