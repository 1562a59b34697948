//! The `session-message` function: send into a session or a room.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use parley_core::ids::{RoomId, SessionId};
use serde::Deserialize;
use serde_json::Value;

use super::to_json;
use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, ClientAddr, NotGuest, Path};
use crate::views::Sent;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/session-message", post(to_session))
        .route("/room/{id}/messages", post(to_room))
        .with_state(state)
}

/// `POST /session-message`, in Parley's names or AI Maker's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionSend {
    #[serde(alias = "session_id")]
    session_id: String,
    message: String,
    #[serde(alias = "client_message_id")]
    client_message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomSend {
    message: String,
    #[serde(alias = "client_message_id")]
    client_message_id: Option<String>,
}

async fn to_session(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    ClientAddr(from): ClientAddr,
    Body(body): Body<SessionSend>,
) -> ApiResult<Json<Value>> {
    let id = SessionId::parse(&body.session_id)?;
    let outcome = state
        .app
        .send_to_session(&caller, &id, &body.message, body.client_message_id.as_deref(), from)
        .await?;
    let mut json = to_json(&Sent::from(outcome)).0;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("sessionId".into(), Value::String(id.to_string()));
    }
    Ok(Json(json))
}

async fn to_room(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    ClientAddr(from): ClientAddr,
    Path(id): Path<String>,
    Body(body): Body<RoomSend>,
) -> Result<Json<Value>, ApiError> {
    let id = RoomId::parse(&id)?;
    let outcome = state
        .app
        .send_to_room(&caller, &id, &body.message, body.client_message_id.as_deref(), from)
        .await?;
    Ok(to_json(&Sent::from(outcome)))
}
