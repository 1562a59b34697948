//! What the provider tests share: a fast retry policy, a request with history, and a
//! way to read a whole stream.
#![allow(dead_code)]

use std::time::Duration;

use futures::StreamExt;
use parley_core::error::LlmError;
use parley_core::message::Role;
use parley_core::ports::{ChatRequest, ChatTurn, ReplyStream, StreamEvent};
use parley_llm::{RetryPolicy, Transport};
use wiremock::MockServer;

/// Millisecond backoffs and short timeouts, so the retry paths run in a blink.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        attempt_timeout: Duration::from_millis(300),
        deadline: Duration::from_secs(3),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        max_retries: 3,
    }
}

pub fn transport(policy: RetryPolicy) -> Transport {
    Transport::new(policy).expect("the HTTP client builds")
}

/// A conversation with a system prompt, one earlier exchange and a new user message.
pub fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        system_prompt: "You are a pirate.".into(),
        messages: vec![
            ChatTurn {
                role: Role::User,
                content: "Hi".into(),
            },
            ChatTurn {
                role: Role::Assistant,
                content: "Arr!".into(),
            },
            ChatTurn {
                role: Role::User,
                content: "Where is the treasure?".into(),
            },
        ],
        temperature: 0.3,
        max_output_tokens: 200,
    }
}

/// Every item of a stream, in order.
pub async fn collect(stream: ReplyStream) -> Vec<Result<StreamEvent, LlmError>> {
    stream.collect().await
}

pub async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// An SSE body of these `data:` payloads.
pub fn sse(payloads: &[&str]) -> String {
    payloads.iter().map(|p| format!("data: {p}\n\n")).collect()
}
