//! PLACEHOLDER, the lead's to replace wholesale: the `session-stream` function's routes
//! (the streaming sends and resumes of issue 8, answering `text/event-stream`). Until
//! they land, this serves one route so that the `session-stream` binary can be tested
//! end to end on Lambda's streaming runtime: `GET /session/{id}/messages/{seq}/stream`
//! answers two fixed SSE events and reads nothing. It is mounted by
//! [`crate::function_router`] only, not by the local server, and has no OpenAPI
//! operation.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::ApiState;

/// The two events the placeholder answers.
pub const PLACEHOLDER_EVENTS: &str = "id: 5\nevent: delta\ndata: {\"text\":\"Hello\"}\n\n\
    event: done\ndata: {\"status\":\"complete\"}\n\n";

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/session/{id}/messages/{seq}/stream", get(resume))
        .with_state(state)
}

async fn resume() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/event-stream")], PLACEHOLDER_EVENTS)
}
