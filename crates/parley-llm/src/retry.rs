//! Timeouts, retries and the overall deadline, shared by every HTTP provider.
//!
//! A provider describes its endpoint ([`Endpoint`]): its name, its key (so that no error
//! message can carry it) and how to read its error bodies. [`Transport::call`] does the
//! rest: one attempt at a time under the per-attempt timeout, jittered exponential
//! backoff or the server's own hint between attempts, and never a wait or an attempt
//! past the deadline.

use std::future::Future;
use std::time::Duration;

use parley_core::error::{LlmError, ProviderFailure};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::config::ApiKey;

/// How long to wait and how often to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// One attempt: sending the request and reading the whole answer (for a stream, its
    /// headers; later, the longest silence between two chunks).
    pub attempt_timeout: Duration,
    /// Every attempt and every wait together, and the whole of a streamed reply. Shorter
    /// than the function's own timeout, so the caller can still answer with a problem.
    pub deadline: Duration,
    /// The first backoff ceiling; it doubles with each retry up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_secs(25),
            deadline: Duration::from_secs(28),
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(8),
            max_retries: 3,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first): a uniform draw between half
    /// an exponentially growing ceiling and the ceiling ("equal jitter"), so that clients
    /// that failed together do not retry together, yet each waits a useful while.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(self.backoff_cap);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }
}

/// The HTTP client every provider shares (built once: connection pool, rustls) and the
/// retry policy it applies.
#[derive(Clone, Debug)]
pub struct Transport {
    pub(crate) client: reqwest::Client,
    pub(crate) policy: RetryPolicy,
}

impl Transport {
    pub fn new(policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(5).min(policy.attempt_timeout))
            .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// When the call that starts now must be over.
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.policy.deadline
    }

    /// Sends `build()` until it succeeds, fails for good, or time runs out. `accept`
    /// reads a successful answer within the attempt's timeout (the whole body, or just
    /// the response for a stream).
    pub(crate) async fn call<T, Fut>(
        &self,
        endpoint: &Endpoint<'_>,
        deadline: Instant,
        build: impl Fn() -> reqwest::RequestBuilder,
        accept: impl Fn(reqwest::Response) -> Fut,
    ) -> Result<T, LlmError>
    where
        Fut: Future<Output = Result<T, reqwest::Error>>,
    {
        let mut retry = 0;
        loop {
            let budget = self
                .policy
                .attempt_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            if budget.is_zero() {
                return Err(LlmError::Timeout);
            }
            let attempt = async {
                let response = build().send().await?;
                let status = response.status();
                if status.is_success() {
                    return Ok(Ok(accept(response).await?));
                }
                let headers = response.headers().clone();
                let body = response.bytes().await?;
                Ok(Err((status, headers, body)))
            };
            let failure = match tokio::time::timeout(budget, attempt).await {
                Ok(Ok(Ok(value))) => return Ok(value),
                Ok(Ok(Err((status, headers, body)))) => endpoint.classify(status, &headers, &body),
                Ok(Err(error)) => Failure::transport(endpoint, &error),
                Err(_) => Failure {
                    error: LlmError::Timeout,
                    retryable: true,
                    hint: None,
                },
            };
            if !failure.retryable || retry >= self.policy.max_retries {
                return Err(give_up(failure.error));
            }
            let wait = failure.hint.unwrap_or_else(|| self.policy.backoff(retry));
            if Instant::now() + wait >= deadline {
                return Err(give_up(failure.error));
            }
            tracing::warn!(
                provider = endpoint.provider,
                retry = retry + 1,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = ?failure.error,
                "model call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }
}

/// Logs the failure that ends a call, with what the provider said (keys already
/// scrubbed); the client will read only the error's `Display`.
fn give_up(error: LlmError) -> LlmError {
    tracing::warn!(error = ?error, "model call failed");
    error
}

/// One provider's API, as the retry loop needs to know it.
pub(crate) struct Endpoint<'a> {
    /// "OpenAI" or "Gemini", for messages.
    pub provider: &'static str,
    /// Scrubbed from every message that leaves this crate.
    pub key: Option<&'a ApiKey>,
    /// Reads the provider's error body.
    pub read_error: fn(&[u8]) -> ErrorDetails,
}

/// What a provider's error body says.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorDetails {
    pub message: String,
    /// A delay the body asks for (Gemini's `RetryInfo.retryDelay`).
    pub retry_delay: Option<Duration>,
    pub quota: Quota,
}

/// Which kind of 429 this is.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Quota {
    /// A short-term rate limit, worth waiting for.
    #[default]
    Transient,
    /// A per-day quota: waiting seconds will not help; answered as rate limited at once.
    Daily,
    /// No credit left on the account (OpenAI `insufficient_quota`): a provider failure.
    Exhausted,
}

struct Failure {
    error: LlmError,
    retryable: bool,
    hint: Option<Duration>,
}

impl Failure {
    fn transport(endpoint: &Endpoint<'_>, error: &reqwest::Error) -> Self {
        // The innermost cause says what happened ("Connection refused"); reqwest's own
        // message would carry the URL.
        let mut cause: &dyn std::error::Error = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        let message = endpoint.redact(&cause.to_string());
        Self {
            error: LlmError::provider(endpoint.provider, ProviderFailure::Unreachable, message),
            retryable: !error.is_builder(),
            hint: None,
        }
    }
}

impl Endpoint<'_> {
    fn classify(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Failure {
        let details = (self.read_error)(body);
        let hint = retry_after(headers).or(details.retry_delay);
        let mut message = self.redact(&details.message);
        if message.chars().count() > 300 {
            message = message.chars().take(300).chain(['…']).collect();
        }
        let provider_error =
            || LlmError::provider(self.provider, ProviderFailure::Status(status.as_u16()), message.clone());
        match status.as_u16() {
            429 => match details.quota {
                Quota::Transient => Failure {
                    error: LlmError::RateLimited { retry_after: hint },
                    retryable: true,
                    hint,
                },
                Quota::Daily => Failure {
                    error: LlmError::RateLimited { retry_after: hint },
                    retryable: false,
                    hint,
                },
                Quota::Exhausted => Failure {
                    error: provider_error(),
                    retryable: false,
                    hint: None,
                },
            },
            408 | 409 | 500..=599 => Failure {
                error: provider_error(),
                retryable: true,
                hint,
            },
            _ => Failure {
                error: provider_error(),
                retryable: false,
                hint: None,
            },
        }
    }

    /// Removes the key, and anything shaped like an OpenAI key (their 401 message quotes
    /// a masked one), from a text.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = match self.key {
            Some(key) if !key.expose().is_empty() => text.replace(key.expose(), "***"),
            _ => text.to_owned(),
        };
        while let Some(start) = out.find("sk-") {
            let end = out[start..]
                .find(|c: char| c.is_whitespace() || c == '.' || c == ',' || c == '"')
                .map_or(out.len(), |n| start + n);
            out.replace_range(start..end, "***");
        }
        out
    }
}

/// The delay a response's headers ask for: OpenAI's `retry-after-ms`, else
/// `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let millis = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok());
    if let Some(ms) = millis.filter(|ms| ms.is_finite() && *ms >= 0.0) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
}

/// Parses a protobuf JSON duration such as `"1.5s"` or `"37s"`.
pub(crate) fn parse_proto_duration(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        map
    }

    #[test]
    fn retry_after_reads_milliseconds_seconds_and_dates() {
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "150"), ("retry-after", "3")])),
            Some(Duration::from_millis(150)),
            "the finer OpenAI header wins"
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        let soon = chrono::Utc::now() + chrono::TimeDelta::seconds(30);
        let date = soon.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let parsed = retry_after(&headers(&[("retry-after", &date)])).expect("an HTTP date");
        assert!(
            parsed > Duration::from_secs(27) && parsed <= Duration::from_secs(30),
            "{parsed:?}"
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn proto_durations_parse() {
        assert_eq!(parse_proto_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_proto_duration("37s"), Some(Duration::from_secs(37)));
        assert_eq!(parse_proto_duration("37"), None);
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let policy = RetryPolicy::default();
        for retry in 0..3 {
            let ceiling = Duration::from_millis(250 * 2u64.pow(retry));
            let wait = policy.backoff(retry);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "retry {retry}: {wait:?}");
        }
        assert!(policy.backoff(30) <= Duration::from_secs(8));
        let draws: std::collections::HashSet<Duration> = (0..20).map(|_| policy.backoff(3)).collect();
        assert!(draws.len() > 1, "the waits are jittered");
    }

    #[test]
    fn redaction_removes_the_key_and_openai_shaped_keys() {
        let key = ApiKey::new("secret-123");
        let endpoint = Endpoint {
            provider: "OpenAI",
            key: Some(&key),
            read_error: |_| ErrorDetails::default(),
        };
        let out = endpoint.redact("bad key secret-123; Incorrect API key provided: sk-abc***xyz. See docs");
        assert_eq!(out, "bad key ***; Incorrect API key provided: ***. See docs");
    }
}
