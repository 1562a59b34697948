//! One structured line per request: method, route, status, latency. Never bodies,
//! tokens or query strings.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn request_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The route template (`/session/{id}`), not the path, so ids stay out of the log.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    tracing::info!(target: "parley::request", %method, route, status = response.status().as_u16(), latency_ms, "request");
    response
}
