//! Extractors whose rejections are problem+json, so bad input never gets axum's
//! plain-text answers.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use parley_core::Principal;
use parley_core::limits::ClientAddress;
use parley_core::values::limits::BODY_MAX_BYTES;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::ApiError;

/// A JSON body: `application/json` (or `+json`) required, at most [`BODY_MAX_BYTES`].
/// Checked in this order: content type (415), size (413), JSON syntax (400
/// `invalid_json`), then the fields (400 `validation_failed`).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(BODY_MAX_BYTES)
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        // The whole body's syntax first: deserialising into `T` stops at the first field it
        // dislikes, so a truncated body could otherwise pass for a field error.
        if let Err(e) = serde_json::from_slice::<IgnoredAny>(&bytes) {
            return Err(ApiError::InvalidJson(e.to_string()));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json` or `application/*+json`, parameters (charset) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(e) => ApiError::InvalidJson(e.body_text()),
        JsonRejection::JsonDataError(e) => ApiError::BadRequest(e.body_text()),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(BODY_MAX_BYTES),
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// Deserialises an already parsed JSON value, with the failing field's path in the error.
/// For bodies read as a map first (e.g. to take out a member that `flatten` would hide
/// from the path in error messages).
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    let bytes = serde_json::to_vec(value).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    axum::Json::<T>::from_bytes(&bytes)
        .map(|axum::Json(v)| v)
        .map_err(|rejection| match rejection {
            // Positions would point into the re-serialised text, not the client's body.
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                ApiError::BadRequest(
                    text.rsplit_once(" at line ")
                        .map_or(text.clone(), |(head, _)| head.to_owned()),
                )
            }
            other => json_rejection(other),
        })
}

/// A path parameter (or a tuple of them); a value axum cannot take, e.g. one that is not
/// UTF-8 once percent-decoded, is a problem+json 400 rather than axum's plain text.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// Query parameters.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(e.body_text()))
    }
}

/// The caller, as the principal layer established it.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Without a principal layer nobody is signed in: fail closed.
        Ok(Caller(
            parts
                .extensions
                .get::<Principal>()
                .cloned()
                .unwrap_or(Principal::Anonymous),
        ))
    }
}

/// The caller, who must not be a guest: guest tokens are good for their session's
/// routes only.
pub struct NotGuest(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for NotGuest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await?.0 {
            // Unreachable behind the principal layer, which applies the guest-route table
            // first; a handler that takes `NotGuest` stays safe without it.
            Principal::Guest { .. } => Err(crate::access::Refusal::GuestOffRoute.into()),
            principal => Ok(NotGuest(principal)),
        }
    }
}

/// Where the request came from, for the rate limits: what the serving edge put in the
/// request's extensions. In Lambda the runtime's layer inserts [`ClientAddr`] from API
/// Gateway's request context (`sourceIp`); locally the server's `ConnectInfo` carries
/// the peer address. Headers such as `X-Forwarded-For` are never read: a client writes
/// them. A request with neither is [`ClientAddress::UNKNOWN`], and all such requests
/// share one set of limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub ClientAddress);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(addr) = parts.extensions.get::<ClientAddr>() {
            return Ok(*addr);
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| ClientAddress::new(addr.ip()));
        Ok(ClientAddr(peer.unwrap_or(ClientAddress::UNKNOWN)))
    }
}
