//! One module per Lambda function, each exporting `routes()` (its handlers with their
//! OpenAPI operations) and `router(state)`, plus the local-only development sign-in.
//! Handlers return typed JSON: the request and response types are in
//! [`crate::requests`] and [`crate::views`].

pub mod chat_config;
pub mod chat_room;
pub mod chat_session;
pub mod create_chat;
pub mod dev;
pub mod personas;
pub mod session_message;
pub mod session_stream;

use axum::{Json, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::views::Health;

/// `GET /health`: answers without touching any dependency.
#[utoipa::path(get, operation_id = "health", path = "/health", tag = "chat-config", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// The health route, with its operation; every function answers it.
pub fn health_routes() -> OpenApiRouter {
    OpenApiRouter::new().routes(routes!(health))
}

/// `GET /health` as every deployed router mounts it.
pub fn health_router() -> Router {
    health_routes().into()
}

/// `routes` with `state`, as axum serves it.
fn with_state(routes: OpenApiRouter<crate::ApiState>, state: crate::ApiState) -> Router {
    routes.with_state::<()>(state).into()
}
