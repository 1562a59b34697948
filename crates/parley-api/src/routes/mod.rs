//! One module per Lambda function, each exporting `router(state)`, plus the local-only
//! development sign-in.

pub mod chat_config;
pub mod chat_room;
pub mod chat_session;
pub mod create_chat;
pub mod dev;
pub mod personas;
pub mod session_message;

use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// `GET /health`: answers without touching any dependency.
pub fn health() -> Router {
    Router::new().route("/health", get(|| async { Json(json!({"status": "ok"})) }))
}

/// `?next=&limit=` of listings.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub next: Option<String>,
    pub limit: Option<i64>,
    pub scope: Option<String>,
}

/// `?before=&after=&limit=` of histories.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    pub before: Option<u64>,
    pub after: Option<u64>,
    pub limit: Option<i64>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}
