//! Errors as `application/problem+json` (RFC 9457) with a stable `code`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_core::error::{CoreError, LlmError, PdfError, StoreError};
use serde::Serialize;

/// Every error a route can answer. 4xx carry a useful `detail`; 5xx a bare message,
/// while their cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the token is missing, invalid or expired")]
    InvalidToken,
    #[error("a guest token opens only its own session's routes; sign in for more")]
    GuestOffRoute,
    #[error("the sign-in service is unavailable")]
    AuthUnavailable,
    #[error("this route does not take that method")]
    MethodNotAllowed,
    /// A profile PDF the extractor refused (or could not read now).
    #[error("profile: {0}")]
    Pdf(#[from] PdfError),
    /// `error`, with a detail that names the rule the request broke (the generic
    /// details speak of JSON bodies): same status, code and headers.
    #[error("{detail}")]
    Detailed { error: Box<ApiError>, detail: String },
}

impl ApiError {
    /// `self` answered with `detail` instead of its generic one.
    pub fn with_detail(self, detail: impl Into<String>) -> Self {
        Self::Detailed {
            error: Box::new(self),
            detail: detail.into(),
        }
    }

    /// The error whose status and code this one answers with.
    fn inner(&self) -> &ApiError {
        match self {
            ApiError::Detailed { error, .. } => error.inner(),
            other => other,
        }
    }

    /// How long a client should wait before trying again, for the errors that say.
    fn retry_after(&self) -> Option<Duration> {
        match self.inner() {
            ApiError::Core(CoreError::Llm(LlmError::RateLimited { retry_after })) => {
                Some(retry_after.unwrap_or(Duration::from_secs(1)))
            }
            ApiError::Pdf(PdfError::Busy { retry_after }) => Some(*retry_after),
            ApiError::Core(CoreError::RateLimited { retry_after, .. }) => Some(*retry_after),
            _ => None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Core(CoreError::Store(e))
    }
}

/// The body of every error answer (`application/problem+json`, RFC 9457).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://parley.dev/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    /// What went wrong, for a person; never a secret or an internal cause.
    pub detail: String,
    /// Stable, for programs: `validation_failed`, `not_found`, `quota_exceeded`, …
    pub code: &'static str,
    /// The request field that failed validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    /// The status, stable code and title of this error.
    pub fn classify(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::InvalidJson(_) => (S::BAD_REQUEST, "invalid_json", "Malformed JSON"),
            ApiError::BadRequest(_) => (S::BAD_REQUEST, "validation_failed", "Invalid request"),
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            ApiError::PayloadTooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large"),
            ApiError::InvalidToken | ApiError::GuestOffRoute => (S::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::AuthUnavailable => (S::SERVICE_UNAVAILABLE, "service_unavailable", "Service unavailable"),
            ApiError::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
            ApiError::Detailed { error, .. } => error.classify(),
            ApiError::Pdf(e) => match e {
                PdfError::Unreadable(_) | PdfError::TimedOut => {
                    (S::BAD_REQUEST, "validation_failed", "Invalid request")
                }
                PdfError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large"),
                PdfError::Busy { .. } | PdfError::Unavailable(_) => {
                    (S::SERVICE_UNAVAILABLE, "service_unavailable", "Service unavailable")
                }
            },
            ApiError::Core(e) => match e {
                CoreError::Unauthorized => (S::UNAUTHORIZED, "unauthorized", "Unauthorized"),
                CoreError::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Forbidden"),
                CoreError::NotFound => (S::NOT_FOUND, "not_found", "Not found"),
                CoreError::Validation { .. } => (S::BAD_REQUEST, "validation_failed", "Invalid request"),
                CoreError::Conflict(_) => (S::CONFLICT, "conflict", "Conflict"),
                CoreError::PreconditionFailed => (S::PRECONDITION_FAILED, "precondition_failed", "Precondition failed"),
                CoreError::QuotaExceeded(_) => (S::TOO_MANY_REQUESTS, "quota_exceeded", "Quota exceeded"),
                CoreError::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited", "Rate limited"),
                CoreError::BotSuspended => (S::FORBIDDEN, "bot_suspended", "Bot suspended"),
                CoreError::Llm(LlmError::Timeout) => (S::GATEWAY_TIMEOUT, "provider_timeout", "Model timeout"),
                CoreError::Llm(LlmError::RateLimited { .. }) => (S::TOO_MANY_REQUESTS, "rate_limited", "Rate limited"),
                CoreError::Llm(LlmError::Provider { .. }) => (S::BAD_GATEWAY, "provider_error", "Model provider error"),
                CoreError::Llm(LlmError::NotConfigured(_)) => (
                    S::SERVICE_UNAVAILABLE,
                    "provider_not_configured",
                    "Model not configured",
                ),
                // What a write depended on went away meanwhile: as if it had never been.
                CoreError::Store(StoreError::NotFound) => (S::NOT_FOUND, "not_found", "Not found"),
                CoreError::Store(StoreError::Unavailable(_)) => {
                    (S::SERVICE_UNAVAILABLE, "service_unavailable", "Service unavailable")
                }
                CoreError::Store(_) => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
            },
        }
    }
}

impl ApiError {
    /// The problem this error answers with (its cause logged, for a server error): the
    /// body of an error response, or of a stream's `error` event.
    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.classify();
        let detail = match self.inner() {
            // A model failure's `Display` names the provider and its status only; what
            // the provider said (its `Debug`) goes to the log.
            ApiError::Core(CoreError::Llm(e)) => {
                if status.is_server_error() {
                    tracing::warn!(error = ?e, code, "request failed");
                }
                self.to_string()
            }
            ApiError::Pdf(PdfError::Busy { .. }) => self.to_string(),
            // The cause goes to the log, never to the client.
            _ if status.is_server_error() => {
                tracing::error!(error = ?self, code, "request failed");
                title.to_owned()
            }
            _ => self.to_string(),
        };
        let field = match self.inner() {
            ApiError::Core(CoreError::Validation { field, .. }) => Some(*field),
            ApiError::Pdf(PdfError::Unreadable(_) | PdfError::TimedOut) => Some("profile"),
            _ => None,
        };
        Problem {
            kind: format!("https://parley.dev/problems/{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(retry_after) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(retry_after)));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Retry-After` in whole seconds, rounded up (a client that waits that long is past the
/// window), and at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Status, headers and the problem body of `e` as a client gets them.
    async fn render(e: ApiError) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = e.into_response();
        let status = response.status();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
        (status, retry, serde_json::from_slice(&body).expect("problem json"))
    }

    // One renderer: an error with a custom detail keeps its status and code; the PDF
    // refusals map to 413 / 400 (naming the field) / 503 with Retry-After, and the
    // extractor's own failure shows no cause.
    #[tokio::test]
    async fn custom_details_and_pdf_refusals_render_as_problems() {
        let (status, _, body) =
            render(ApiError::PayloadTooLarge(10).with_detail("profile may have at most 10 bytes")).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "payload_too_large");
        assert_eq!(body["detail"], "profile may have at most 10 bytes");

        let (status, _, body) = render(PdfError::TooLarge("its streams expand too far".into()).into()).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::PAYLOAD_TOO_LARGE, &"payload_too_large".into())
        );
        assert_eq!(body["detail"], "profile: its streams expand too far");

        let (status, _, body) = render(PdfError::TimedOut.into()).await;
        assert_eq!((status, &body["field"]), (StatusCode::BAD_REQUEST, &"profile".into()));

        let busy = PdfError::Busy {
            retry_after: Duration::from_secs(7),
        };
        let (status, retry, body) = render(busy.into()).await;
        assert_eq!((status, retry.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("7")));
        assert_eq!(body["code"], "service_unavailable");

        let (status, _, body) = render(PdfError::Unavailable("cannot start /secret/path".into()).into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["detail"], "Service unavailable");
    }

    #[test]
    fn a_rate_limit_is_429_rate_limited_with_retry_after_rounded_up() {
        let error = ApiError::Core(CoreError::RateLimited {
            scope: "sessions started from your network address per minute",
            retry_after: Duration::from_millis(41_200),
        });
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(whole_seconds(Duration::from_millis(10)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
