//! The HTTP API of Parley: one axum router per Lambda function over the core use cases,
//! problem+json errors, request limits and the principal layer.
//!
//! The local `parley` server merges these very routers; each Lambda function runs one.
//! Layout: [`routes`] (one module per function, plus the local-only dev sign-in),
//! [`access`] (which routes a principal may reach, and the status of a refusal),
//! [`auth`] (the token pipeline, the principal layer and its two sources), [`error`] (problem+json),
//! [`extract`] (extractors with problem+json rejections), [`requests`] and [`views`]
//! (the request and response types), [`openapi`] (the document derived from them),
//! [`log`] (one structured line per request), [`web`] (CORS and the headers browsers
//! read).

pub mod access;
pub mod auth;
pub mod error;
pub mod extract;
pub mod log;
pub mod openapi;
pub mod requests;
pub mod routes;
pub mod views;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use parley_auth::GuestTokens;
use parley_core::Parley;
use parley_core::ports::PdfTextExtractor;
use parley_core::values::limits::BODY_MAX_BYTES;

pub use auth::{AuthorizerContext, PrincipalSource, TokenAuthenticator};
pub use error::ApiError;
pub use extract::ClientAddr;
pub use web::CorsOrigins;

/// What every handler shares.
#[derive(Clone)]
pub struct ApiState {
    pub app: Parley,
    /// Signs the token a guest gets for their one session.
    pub guests: Arc<GuestTokens>,
    /// How long a guest token lives.
    pub guest_token_ttl_seconds: u64,
    /// Reads profile PDFs; only the binaries that serve persona uploads set one (without
    /// it a profile upload answers `503 service_unavailable`).
    pub pdf: Option<Arc<dyn PdfTextExtractor>>,
}

impl ApiState {
    pub fn new(app: Parley, guests: Arc<GuestTokens>) -> Self {
        Self {
            app,
            guests,
            guest_token_ttl_seconds: 30 * 24 * 3600,
            pdf: None,
        }
    }

    /// This state, reading profile PDFs with `pdf`.
    pub fn with_pdf_extractor(self, pdf: Arc<dyn PdfTextExtractor>) -> Self {
        Self { pdf: Some(pdf), ..self }
    }
}

/// The function names of the design, each with its router.
pub fn function_router(name: &str, state: ApiState) -> Option<Router> {
    let router = match name {
        "create-chat" => routes::create_chat::router(state),
        "chat-config" => routes::chat_config::router(state),
        "chat-session" => routes::chat_session::router(state),
        "chat-room" => routes::chat_room::router(state),
        "session-message" => routes::session_message::router(state),
        // The streaming routes, behind the REST API (see routes::session_stream).
        "session-stream" => routes::session_stream::router(state),
        _ => return None,
    };
    Some(router)
}

/// Every function's routes in one router, as the local server mounts them.
pub fn all_functions(state: ApiState) -> Router {
    routes::create_chat::router(state.clone())
        .merge(routes::chat_config::router(state.clone()))
        .merge(routes::chat_session::router(state.clone()))
        .merge(routes::chat_room::router(state.clone()))
        .merge(routes::session_message::router(state.clone()))
        .merge(routes::session_stream::router(state))
}

/// Adds what every deployed router has: `GET /health`, the body limit, the principal
/// layer, `nosniff`/`no-store` on every response and the request log; no CORS.
pub fn finish(router: Router, source: PrincipalSource) -> Router {
    finish_with(router, source, &CorsOrigins::none())
}

/// [`finish`] with CORS for `cors` (the binaries read `CORS_ORIGINS`). Preflights are
/// answered before the principal layer; the log sees every request.
pub fn finish_with(router: Router, source: PrincipalSource, cors: &CorsOrigins) -> Router {
    router
        .merge(routes::health_router())
        .fallback(|| async { ApiError::Core(parley_core::CoreError::NotFound) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(source, auth::principal_layer))
        .layer(DefaultBodyLimit::max(BODY_MAX_BYTES))
        .layer(axum::middleware::from_fn_with_state(cors.clone(), web::cors))
        .layer(axum::middleware::from_fn(web::security_headers))
        .layer(axum::middleware::from_fn(log::request_log))
}
