//! Server-sent events: a small decoder for the `data:` payloads both providers stream,
//! and the driver that turns a response body into a [`ReplyStream`].

use std::collections::VecDeque;

use futures::StreamExt;
use futures::stream::BoxStream;
use parley_core::error::{LlmError, ProviderFailure};
use parley_core::message::Usage;
use parley_core::ports::{ReplyStream, StreamEvent};
use tokio::time::Instant;

/// Splits a byte stream into events and hands out their `data` (lines joined with
/// `\n`), as the WHATWG algorithm does; other fields and comments are ignored.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    line: Vec<u8>,
    data: Option<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the data of every event they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            if line.is_empty() {
                events.extend(self.data.take());
            } else if let Some(value) = line.strip_prefix("data") {
                let value = match value.strip_prefix(':') {
                    Some(v) => v.strip_prefix(' ').unwrap_or(v),
                    None if value.is_empty() => "",
                    None => continue,
                };
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
        }
        events
    }
}

/// What one `data:` payload meant to a provider.
pub(crate) enum Parsed {
    /// Reply text (possibly empty: role announcements, usage-only chunks).
    Text(String),
    /// The provider said the reply is complete.
    Finished(Usage),
}

/// A provider's reading of its stream.
pub(crate) trait ChunkParser: Send + 'static {
    fn on_data(&mut self, data: &str) -> Result<Parsed, LlmError>;
    /// The body ended without [`Parsed::Finished`]: the final usage, or the error of a
    /// reply cut short.
    fn on_end(&mut self) -> Result<Usage, LlmError>;
}

/// The deltas of `response`, ending with `Done` or an error. Each chunk must come within
/// `idle` of the previous one and the whole reply before `deadline`.
pub(crate) fn reply_stream(
    response: reqwest::Response,
    parser: impl ChunkParser,
    provider: &'static str,
    idle: std::time::Duration,
    deadline: Instant,
) -> ReplyStream {
    let state = State {
        body: response.bytes_stream().boxed(),
        decoder: SseDecoder::default(),
        queue: VecDeque::new(),
        parser,
        provider,
        idle,
        deadline,
        over: false,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let item = state.next_event().await?;
        Some((item, state))
    }))
}

struct State<P> {
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    decoder: SseDecoder,
    queue: VecDeque<String>,
    parser: P,
    provider: &'static str,
    idle: std::time::Duration,
    deadline: Instant,
    over: bool,
}

impl<P: ChunkParser> State<P> {
    async fn next_event(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        if self.over {
            return None;
        }
        loop {
            while let Some(data) = self.queue.pop_front() {
                match self.parser.on_data(&data) {
                    Ok(Parsed::Text(text)) if text.is_empty() => {}
                    Ok(Parsed::Text(text)) => return Some(Ok(StreamEvent::Delta(text))),
                    Ok(Parsed::Finished(usage)) => return self.finish(Ok(StreamEvent::Done(usage))),
                    Err(e) => return self.finish(Err(e)),
                }
            }
            let until = self.deadline.min(Instant::now() + self.idle);
            match tokio::time::timeout_at(until, self.body.next()).await {
                Err(_) => return self.finish(Err(LlmError::Timeout)),
                Ok(Some(Ok(bytes))) => self.queue.extend(self.decoder.push(&bytes)),
                Ok(Some(Err(e))) => {
                    let error =
                        LlmError::provider(self.provider, ProviderFailure::BrokeOff, e.without_url().to_string());
                    return self.finish(Err(error));
                }
                Ok(None) => {
                    let end = self.parser.on_end().map(StreamEvent::Done);
                    return self.finish(end);
                }
            }
        }
    }

    fn finish(&mut self, item: Result<StreamEvent, LlmError>) -> Option<Result<StreamEvent, LlmError>> {
        self.over = true;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_are_reassembled() {
        let wire = "data: {\"a\":1}\r\n\r\n: comment\n\nevent: x\ndata:two\ndata: lines\n\ndata: [DONE]\n\n";
        for split in 0..wire.len() {
            let mut decoder = SseDecoder::default();
            let mut events = decoder.push(&wire.as_bytes()[..split]);
            events.extend(decoder.push(&wire.as_bytes()[split..]));
            assert_eq!(events, vec!["{\"a\":1}", "two\nlines", "[DONE]"], "split at {split}");
        }
    }

    #[test]
    fn multibyte_text_split_between_chunks_survives() {
        let wire = "data: {\"t\":\"héllo ✓\"}\n\n".as_bytes();
        let mut decoder = SseDecoder::default();
        let mut events = decoder.push(&wire[..12]);
        events.extend(decoder.push(&wire[12..]));
        assert_eq!(events, vec!["{\"t\":\"héllo ✓\"}"]);
    }

    #[test]
    fn an_unterminated_event_is_not_delivered() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: {\"half\":").is_empty());
    }
}
