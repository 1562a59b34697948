//! Persona documents of a bot (part of the `chat-config` function):
//! `PUT/GET/DELETE /chat-config/{id}/persona/{kind}` and `GET /chat-config/{id}/persona`.
//!
//! Uploads are raw bodies, not JSON: `facts` as `application/json`, `summary` and
//! `style` as `text/plain`, `profile` as `application/pdf`. This module checks what
//! HTTP decides (media type, size) and extracts a PDF's text; the core checks the
//! content and who may do what.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use parley_core::CoreError;
use parley_core::ids::BotId;
use parley_core::persona::{self, PersonaDoc, PersonaKind, limits};
use serde_json::{Value, json};

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::NotGuest;

/// How long a PDF's text extraction may take before the upload is refused.
const EXTRACTION_TIMEOUT: Duration = Duration::from_secs(20);

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/chat-config/{id}/persona", get(list))
        .route(
            "/chat-config/{id}/persona/{kind}",
            get(read)
                .put(upload)
                .delete(remove)
                // Above the global request limit: a profile PDF may have 5 MB. The text
                // kinds' lower limit is checked per request.
                .layer(DefaultBodyLimit::max(limits::PDF_MAX_BYTES)),
        )
        .with_state(state)
}

/// `PUT`: the owner uploads a document, replacing the one of that kind.
async fn upload(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, kind)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, PersonaError> {
    let id = BotId::parse(&id)?;
    let kind = PersonaKind::parse(&kind)?;
    // Who may write comes first, so nobody else gets a PDF parsed on their behalf.
    state.app.check_persona_writer(&caller, &id).await?;
    if !has_media_type(req.headers(), kind.media_type()) {
        return Err(PersonaError::Refused(
            ApiError::UnsupportedMediaType,
            format!("send {kind} as {}", kind.media_type()),
        ));
    }
    let max = kind.max_upload_bytes();
    let too_large = || {
        PersonaError::Refused(
            ApiError::PayloadTooLarge(max),
            format!("{kind} may have at most {max} bytes"),
        )
    };
    if content_length(req.headers()).is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let body = Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::BadRequest(e.body_text()).into()
        }
    })?;
    if body.len() > max {
        return Err(too_large());
    }
    let extracted = if kind == PersonaKind::Profile {
        persona::check_pdf(&body)?;
        Some(extract_pdf_text(body.clone()).await?)
    } else {
        None
    };
    let info = state
        .app
        .put_persona(&caller, &id, kind, body.to_vec(), extracted)
        .await?;
    Ok(Json(serde_json::to_value(info).unwrap_or(Value::Null)))
}

/// `GET`: the document's content with its sizes; a profile's content is its text.
async fn read(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Json<Value>, PersonaError> {
    let id = BotId::parse(&id)?;
    let kind = PersonaKind::parse(&kind)?;
    let doc = state.app.get_persona(&caller, &id, kind).await?;
    Ok(Json(view(&doc)))
}

/// `GET /chat-config/{id}/persona`: which documents the bot has, for its owner and admins.
async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> Result<Json<Value>, PersonaError> {
    let items = state.app.list_persona(&caller, &BotId::parse(&id)?).await?;
    Ok(Json(json!({"items": items, "next": null})))
}

/// `DELETE`: the owner removes a document.
async fn remove(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, kind)): Path<(String, String)>,
) -> Result<StatusCode, PersonaError> {
    let id = BotId::parse(&id)?;
    let kind = PersonaKind::parse(&kind)?;
    state.app.delete_persona(&caller, &id, kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A document as `GET` answers it: its info plus `content` (facts as JSON, the rest as
/// text).
fn view(doc: &PersonaDoc) -> Value {
    let content = match doc.kind {
        PersonaKind::Facts => serde_json::from_str(&doc.text).unwrap_or_else(|_| Value::String(doc.text.clone())),
        _ => Value::String(doc.text.clone()),
    };
    let mut view = serde_json::to_value(doc.info()).unwrap_or_else(|_| json!({}));
    if let Some(fields) = view.as_object_mut() {
        fields.insert("content".into(), content);
    }
    view
}

/// The text of a PDF, tidied, or a refusal a client can act on. Extraction runs on the
/// blocking pool, under a deadline, and a panic of the extractor on a malformed file is
/// caught and becomes a refusal. (That needs unwinding: a build with `panic = "abort"`
/// would lose the process instead.)
async fn extract_pdf_text(pdf: Bytes) -> Result<String, PersonaError> {
    let started = Instant::now();
    let pdf_bytes = pdf.len();
    let task = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pdf_extract::extract_text_from_mem(&pdf)
        }))
    });
    let unreadable = |why: String| PersonaError::from(CoreError::validation("profile", why));
    let outcome = tokio::time::timeout(EXTRACTION_TIMEOUT, task).await;
    let elapsed_ms = started.elapsed().as_millis();
    let raw = match outcome {
        Ok(Ok(Ok(Ok(text)))) => text,
        Ok(Ok(Ok(Err(e)))) => {
            tracing::info!(pdf_bytes, elapsed_ms, error = %e, "profile PDF refused");
            return Err(unreadable(format!("could not be read as a PDF: {e}")));
        }
        Ok(Ok(Err(_))) | Ok(Err(_)) => {
            tracing::warn!(pdf_bytes, elapsed_ms, "the PDF extractor panicked on an upload");
            return Err(unreadable("could not be read as a PDF".into()));
        }
        Err(_) => {
            tracing::warn!(pdf_bytes, elapsed_ms, "PDF extraction timed out");
            return Err(unreadable("took too long to read; try a simpler PDF".into()));
        }
    };
    let text = persona::tidy_extracted_text(&raw);
    tracing::info!(
        pdf_bytes,
        text_bytes = text.len(),
        elapsed_ms,
        "profile PDF text extracted"
    );
    if text.len() > limits::EXTRACTED_TEXT_MAX_BYTES {
        return Err(PersonaError::Refused(
            ApiError::PayloadTooLarge(limits::EXTRACTED_TEXT_MAX_BYTES),
            format!(
                "the text of this PDF has {} bytes, more than the {} a profile may have",
                text.len(),
                limits::EXTRACTED_TEXT_MAX_BYTES
            ),
        ));
    }
    Ok(text)
}

/// Whether `Content-Type` is `expected`, parameters (charset) allowed.
fn has_media_type(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// An error of these routes: any [`ApiError`], or one whose detail names the persona
/// rule that was broken (the generic details speak of JSON bodies).
enum PersonaError {
    Api(ApiError),
    Refused(ApiError, String),
}

impl From<ApiError> for PersonaError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<CoreError> for PersonaError {
    fn from(e: CoreError) -> Self {
        Self::Api(ApiError::Core(e))
    }
}

impl IntoResponse for PersonaError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Refused(e, detail) => {
                let (status, code, title) = e.classify();
                let problem = json!({
                    "type": format!("https://parley.dev/problems/{code}"),
                    "title": title,
                    "status": status.as_u16(),
                    "detail": detail,
                    "code": code,
                });
                let mut response = (status, problem.to_string()).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                );
                response
            }
        }
    }
}
