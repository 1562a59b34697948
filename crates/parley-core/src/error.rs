//! The errors of the domain and of its ports.

use std::time::Duration;

/// What a use case can fail with. The HTTP layer maps each variant to one status and one
/// stable problem `code`.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("sign-in required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("the object changed since it was read")]
    PreconditionFailed,
    #[error("quota exceeded: {0}")]
    QuotaExceeded(&'static str),
    /// A rate limit (per client address, or a bot's new guest sessions) is reached
    /// until its window ends, `retry_after` from now.
    #[error("too many requests: {scope}")]
    RateLimited { scope: &'static str, retry_after: Duration },
    #[error("this bot is suspended")]
    BotSuspended,
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CoreError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }
}

/// What a storage adapter can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A create collided with an existing key (id, share code, client message id).
    #[error("already exists")]
    AlreadyExists,
    /// A conditional write found another version than the one expected.
    #[error("version mismatch")]
    VersionMismatch,
    /// The object a write depends on is gone (a room deleted while someone joins it).
    #[error("not found")]
    NotFound,
    /// The backing service cannot be reached or refused to work; worth a retry later.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or corrupt data. Never shown to a client.
    #[error("store failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a PDF's text could not be extracted. Every message is safe to show the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// Not a PDF the extractor can read (broken, encrypted, or it crashed on it).
    #[error("could not be read as a PDF: {0}")]
    Unreadable(String),
    /// Decompressed streams or extracted text past a limit (a decompression bomb, or a
    /// document far larger than a profile).
    #[error("{0}")]
    TooLarge(String),
    /// Extraction took longer than its deadline (or its CPU time limit).
    #[error("took too long to read; try a simpler PDF")]
    TimedOut,
    /// As many extractions as allowed are running; worth a retry after `retry_after`.
    #[error("too many PDFs are being read right now; try again shortly")]
    Busy { retry_after: Duration },
    /// The extractor could not be started. Never shown to a client.
    #[error("the PDF extractor is unavailable: {0}")]
    Unavailable(String),
}

/// What a model provider can fail with.
///
/// The `Display` text is what a client may read: which provider failed and how (its HTTP
/// status, at most), never what the provider said. The provider's own words stay in
/// `message`, for the log only (keys are scrubbed before they get there).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model provider did not answer in time")]
    Timeout,
    #[error("the model provider is rate limiting")]
    RateLimited { retry_after: Option<Duration> },
    #[error("{}", describe(provider, *failure))]
    Provider {
        /// The provider's name, e.g. `OpenAI`.
        provider: &'static str,
        failure: ProviderFailure,
        /// What the provider (or the transport) said; for the log, never for a client.
        message: String,
    },
    #[error("no provider is configured for model {0}")]
    NotConfigured(String),
}

impl LlmError {
    pub fn provider(provider: &'static str, failure: ProviderFailure, message: impl Into<String>) -> Self {
        Self::Provider {
            provider,
            failure,
            message: message.into(),
        }
    }
}

/// How a provider failed, as far as a client may know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderFailure {
    /// It answered with this HTTP error status.
    Status(u16),
    /// It could not be reached, or the connection broke.
    Unreachable,
    /// Its answer was not what its API documents.
    Malformed,
    /// It reported an error in the middle of a reply, or ended one early.
    BrokeOff,
    /// The model declined to answer (a safety or content filter).
    Refused,
    /// The model answered nothing.
    Empty,
}

fn describe(provider: &str, failure: ProviderFailure) -> String {
    match failure {
        ProviderFailure::Status(status) => format!("{provider} answered {status}"),
        ProviderFailure::Unreachable => format!("{provider} could not be reached"),
        ProviderFailure::Malformed => format!("{provider} sent an answer that cannot be read"),
        ProviderFailure::BrokeOff => format!("{provider} broke off the reply"),
        ProviderFailure::Refused => "the model refused to answer".to_owned(),
        ProviderFailure::Empty => format!("{provider} returned an empty answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_error_shows_its_provider_and_status_but_not_its_message() {
        let e = LlmError::provider("OpenAI", ProviderFailure::Status(500), "internal: db-7 is down");
        assert_eq!(e.to_string(), "OpenAI answered 500");
        assert!(format!("{e:?}").contains("db-7 is down"), "the log keeps the message");
    }
}
