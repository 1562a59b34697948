//! Persona documents of a bot (part of the `chat-config` function):
//! `PUT/GET/DELETE /chat-config/{id}/persona/{kind}` and `GET /chat-config/{id}/persona`.
//!
//! Uploads are raw bodies, not JSON: `facts` as `application/json`, `summary` and
//! `style` as `text/plain`, `profile` as `application/pdf`. This module checks what
//! HTTP decides (media type, size) and extracts a PDF's text; the core checks the
//! content and who may do what.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use parley_core::PdfError;
use parley_core::ids::BotId;
use parley_core::persona::{self, PersonaDoc, PersonaKind, limits};
use serde_json::{Value, json};

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::NotGuest;

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
) -> Result<Json<Value>, ApiError> {
    let id = BotId::parse(&id)?;
    let kind = PersonaKind::parse(&kind)?;
    // Who may write comes first, so nobody else gets a PDF parsed on their behalf.
    state.app.check_persona_writer(&caller, &id).await?;
    if !has_media_type(req.headers(), kind.media_type()) {
        return Err(ApiError::UnsupportedMediaType.with_detail(format!("send {kind} as {}", kind.media_type())));
    }
    let max = kind.max_upload_bytes();
    let too_large = || ApiError::PayloadTooLarge(max).with_detail(format!("{kind} may have at most {max} bytes"));
    if content_length(req.headers()).is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let body = Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    if body.len() > max {
        return Err(too_large());
    }
    let extracted = if kind == PersonaKind::Profile {
        persona::check_pdf(&body)?;
        Some(extract_pdf_text(&state, body.clone()).await?)
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
) -> Result<Json<Value>, ApiError> {
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
) -> Result<Json<Value>, ApiError> {
    let items = state.app.list_persona(&caller, &BotId::parse(&id)?).await?;
    Ok(Json(json!({"items": items, "next": null})))
}

/// `DELETE`: the owner removes a document.
async fn remove(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, kind)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
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

/// The text of a PDF, tidied, or a refusal a client can act on. The extractor (a port:
/// its adapter bounds memory, time, output and how many run at once) does the reading.
async fn extract_pdf_text(state: &ApiState, pdf: Bytes) -> Result<String, ApiError> {
    let Some(extractor) = &state.pdf else {
        return Err(PdfError::Unavailable("no PDF extractor is configured".into()).into());
    };
    let started = Instant::now();
    let pdf_bytes = pdf.len();
    let outcome = extractor.extract_text(pdf.to_vec()).await;
    let elapsed_ms = started.elapsed().as_millis();
    let raw = match outcome {
        Ok(raw) => raw,
        Err(e) => {
            tracing::info!(pdf_bytes, elapsed_ms, error = %e, "profile PDF refused");
            return Err(e.into());
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
        return Err(
            ApiError::PayloadTooLarge(limits::EXTRACTED_TEXT_MAX_BYTES).with_detail(format!(
                "the text of this PDF has {} bytes, more than the {} a profile may have",
                text.len(),
                limits::EXTRACTED_TEXT_MAX_BYTES
            )),
        );
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
