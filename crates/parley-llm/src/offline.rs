//! A model that runs nowhere: it answers from the request alone.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use parley_core::error::LlmError;
use parley_core::message::Usage;
use parley_core::ports::{ChatReply, ChatRequest, LlmProvider, ReplyStream, StreamEvent};
use parley_core::prompt::estimate_tokens;

/// Answers every request the same way for the same input, with no network: an echo of
/// the last user message and what the request carried, prefixed with a plain statement
/// that this is Parley's offline model.
#[derive(Debug, Default, Clone, Copy)]
pub struct OfflineModel;

/// How every offline reply starts, so nobody mistakes it for a real model.
pub const OFFLINE_PREFIX: &str = "[offline model] I am Parley's built-in offline model, not a real AI";

const ECHO_MAX_CHARS: usize = 280;

/// The pause between two words of a streamed offline reply, so that a client sees the
/// reply arrive in pieces as it would from a real model.
pub const OFFLINE_WORD_PAUSE: Duration = Duration::from_millis(30);

#[async_trait]
impl LlmProvider for OfflineModel {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let last = request.messages.last().map(|t| t.content.as_str()).unwrap_or_default();
        let mut echo: String = last.chars().take(ECHO_MAX_CHARS).collect();
        if last.chars().count() > ECHO_MAX_CHARS {
            echo.push('…');
        }
        let text = format!(
            "{OFFLINE_PREFIX} (set OPENAI_API_KEY or GEMINI_API_KEY for one). You said: \"{echo}\". \
             I see {turns} message(s) of this conversation; model {model}, temperature {temp:.1}.",
            turns = request.messages.len(),
            model = request.model,
            temp = request.temperature,
        );
        let input_tokens = estimate_tokens(&request.system_prompt)
            + request
                .messages
                .iter()
                .map(|t| estimate_tokens(&t.content))
                .sum::<u32>();
        let output_tokens = estimate_tokens(&text).min(request.max_output_tokens);
        Ok(ChatReply {
            text,
            usage: Usage {
                input_tokens,
                output_tokens,
            },
        })
    }

    /// The same reply, word by word (each delta a word and the space after it), one
    /// every [`OFFLINE_WORD_PAUSE`].
    async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, LlmError> {
        let reply = self.complete(request).await?;
        let words: Vec<String> = reply.text.split_inclusive(' ').map(str::to_owned).collect();
        let deltas = futures::stream::iter(words).then(|word| async move {
            tokio::time::sleep(OFFLINE_WORD_PAUSE).await;
            Ok(StreamEvent::Delta(word))
        });
        let done = futures::stream::once(async move { Ok(StreamEvent::Done(reply.usage)) });
        Ok(Box::pin(deltas.chain(done)))
    }
}

#[cfg(test)]
mod tests {
    use parley_core::message::Role;
    use parley_core::ports::ChatTurn;

    use super::*;

    fn request(text: &str) -> ChatRequest {
        ChatRequest {
            model: "parley-offline".into(),
            system_prompt: "rules".into(),
            messages: vec![ChatTurn {
                role: Role::User,
                content: text.into(),
            }],
            temperature: 0.7,
            max_output_tokens: 1024,
        }
    }

    #[tokio::test]
    async fn streams_the_same_reply_word_by_word() {
        let whole = OfflineModel
            .complete(&request("one two"))
            .await
            .expect("offline never fails");
        let events: Vec<_> = OfflineModel
            .stream(&request("one two"))
            .await
            .expect("offline never fails")
            .collect()
            .await;
        let deltas: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Ok(StreamEvent::Delta(d)) => Some(d.clone()),
                _ => None,
            })
            .collect();
        assert!(deltas.len() > 10, "a word per delta, got {deltas:?}");
        assert!(deltas.iter().all(|d| d.trim().split(' ').count() == 1), "{deltas:?}");
        assert_eq!(deltas.concat(), whole.text);
        assert!(matches!(events.last(), Some(Ok(StreamEvent::Done(u))) if *u == whole.usage));
    }

    #[tokio::test]
    async fn says_it_is_offline_and_echoes_the_user() {
        let reply = OfflineModel
            .complete(&request("hello there"))
            .await
            .expect("offline never fails");
        assert!(reply.text.starts_with(OFFLINE_PREFIX));
        assert!(reply.text.contains("You said: \"hello there\""));
        assert!(reply.usage.input_tokens > 0 && reply.usage.output_tokens > 0);
    }

    #[tokio::test]
    async fn is_deterministic_and_bounds_its_echo() {
        let long = "x".repeat(5_000);
        let a = OfflineModel.complete(&request(&long)).await.expect("reply");
        let b = OfflineModel.complete(&request(&long)).await.expect("reply");
        assert_eq!(a, b);
        assert!(a.text.len() < 1_000, "the echo is cut: {} bytes", a.text.len());
    }
}
