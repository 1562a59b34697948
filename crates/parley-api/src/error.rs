//! Errors as `application/problem+json` (RFC 9457) with a stable `code`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_core::error::{CoreError, LlmError, StoreError};
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
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Core(CoreError::Store(e))
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
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
            ApiError::Core(e) => match e {
                CoreError::Unauthorized => (S::UNAUTHORIZED, "unauthorized", "Unauthorized"),
                CoreError::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Forbidden"),
                CoreError::NotFound => (S::NOT_FOUND, "not_found", "Not found"),
                CoreError::Validation { .. } => (S::BAD_REQUEST, "validation_failed", "Invalid request"),
                CoreError::Conflict(_) => (S::CONFLICT, "conflict", "Conflict"),
                CoreError::PreconditionFailed => (S::PRECONDITION_FAILED, "precondition_failed", "Precondition failed"),
                CoreError::QuotaExceeded(_) => (S::TOO_MANY_REQUESTS, "quota_exceeded", "Quota exceeded"),
                CoreError::BotSuspended => (S::FORBIDDEN, "bot_suspended", "Bot suspended"),
                CoreError::Llm(LlmError::Timeout) => (S::GATEWAY_TIMEOUT, "provider_timeout", "Model timeout"),
                CoreError::Llm(LlmError::RateLimited { .. }) => (S::TOO_MANY_REQUESTS, "rate_limited", "Rate limited"),
                CoreError::Llm(LlmError::Provider { .. }) => (S::BAD_GATEWAY, "provider_error", "Model provider error"),
                CoreError::Llm(LlmError::NotConfigured(_)) => (
                    S::SERVICE_UNAVAILABLE,
                    "provider_not_configured",
                    "Model not configured",
                ),
                CoreError::Store(StoreError::Unavailable(_)) => {
                    (S::SERVICE_UNAVAILABLE, "service_unavailable", "Service unavailable")
                }
                CoreError::Store(_) => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.classify();
        let detail = match &self {
            // A model failure's `Display` names the provider and its status only; what
            // the provider said (its `Debug`) goes to the log.
            ApiError::Core(CoreError::Llm(e)) => {
                if status.is_server_error() {
                    tracing::warn!(error = ?e, code, "request failed");
                }
                e.to_string()
            }
            // The cause goes to the log, never to the client.
            _ if status.is_server_error() => {
                tracing::error!(error = ?self, code, "request failed");
                title.to_owned()
            }
            _ => self.to_string(),
        };
        let field = match &self {
            ApiError::Core(CoreError::Validation { field, .. }) => Some(*field),
            _ => None,
        };
        let problem = Problem {
            kind: format!("https://parley.dev/problems/{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            field,
        };
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
        if let ApiError::Core(CoreError::Llm(LlmError::RateLimited { retry_after })) = &self {
            let secs = retry_after.unwrap_or(Duration::from_secs(1)).as_secs().max(1);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
