//! Persona documents of a bot (part of the `chat-config` function):
//! `PUT/GET/DELETE /chat-config/{id}/persona/{kind}` and `GET /chat-config/{id}/persona`.
//!
//! Uploads are raw bodies, not JSON: `facts` as `application/json`, `summary` and
//! `style` as `text/plain`, `profile` as `application/pdf`. This module checks what
//! HTTP decides (media type, size) and extracts a PDF's text; the core checks the
//! content and who may do what.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use parley_core::PdfError;
use parley_core::ids::BotId;
use parley_core::persona::{self, PersonaKind, limits};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::NotGuest;
use crate::views::{PersonaInfoView, PersonaList, PersonaView};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(list)).routes(
        routes!(read, upload, remove)
            // Above the global request limit: a profile PDF may have 5 MB. The text
            // kinds' lower limit is checked per request.
            .layer(DefaultBodyLimit::max(limits::PDF_MAX_BYTES)),
    )
}

/// Uploads a document, replacing the one of that kind (the owner): `facts` as
/// `application/json`, `summary` and `style` as `text/plain`, `profile` as
/// `application/pdf`.
#[utoipa::path(put, operation_id = "putPersona", path = "/chat-config/{id}/persona/{kind}", tag = "chat-config",
    params(("id" = String, Path), ("kind" = crate::views::PersonaKind, Path)),
    request_body(content(
        (Object = "application/json"),
        (String = "text/plain"),
        (Vec<u8> = "application/pdf"),
    )),
    responses((status = 200, body = PersonaInfoView)))]
async fn upload(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, kind)): Path<(String, String)>,
    req: Request,
) -> Result<Json<PersonaInfoView>, ApiError> {
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
    Ok(Json(info.into()))
}

/// A document with its sizes and content: facts as JSON, the other kinds (a profile's
/// extracted text) as a string.
#[utoipa::path(get, operation_id = "getPersona", path = "/chat-config/{id}/persona/{kind}", tag = "chat-config",
    params(("id" = String, Path), ("kind" = crate::views::PersonaKind, Path)),
    responses((status = 200, body = PersonaView)))]
async fn read(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Json<PersonaView>, ApiError> {
    let id = BotId::parse(&id)?;
    let kind = PersonaKind::parse(&kind)?;
    let doc = state.app.get_persona(&caller, &id, kind).await?;
    Ok(Json(PersonaView::from(&doc)))
}

/// Which documents the bot has, for its owner and admins.
#[utoipa::path(get, operation_id = "listPersona", path = "/chat-config/{id}/persona", tag = "chat-config", params(("id" = String, Path)),
    responses((status = 200, body = PersonaList)))]
async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> Result<Json<PersonaList>, ApiError> {
    let items = state.app.list_persona(&caller, &BotId::parse(&id)?).await?;
    Ok(Json(PersonaList {
        items: items.into_iter().map(Into::into).collect(),
        next: None,
    }))
}

/// Removes a document (the owner).
#[utoipa::path(delete, operation_id = "deletePersona", path = "/chat-config/{id}/persona/{kind}", tag = "chat-config",
    params(("id" = String, Path), ("kind" = crate::views::PersonaKind, Path)),
    responses((status = 204)))]
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
