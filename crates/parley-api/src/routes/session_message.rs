//! The `session-message` function: send into a session or a room.

use axum::extract::State;
use axum::{Json, Router};
use parley_core::ids::{RoomId, SessionId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::ApiResult;
use crate::extract::{Body, Caller, ClientAddr, NotGuest, Path};
use crate::requests::{RoomSend, SessionSend};
use crate::views::{MessageView, Sent};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(to_session))
        .routes(routes!(to_room))
        .routes(routes!(stop_session_reply))
        .routes(routes!(stop_room_reply))
}

pub fn router(state: ApiState) -> Router {
    super::with_state(routes(), state)
}

/// Sends a message into a session and answers with the bot's reply. A retry with the
/// same `clientMessageId` answers the stored exchange.
#[utoipa::path(post, operation_id = "sendToSession", path = "/session-message", tag = "session-message", request_body = SessionSend,
    responses((status = 200, body = Sent)))]
async fn to_session(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    ClientAddr(from): ClientAddr,
    Body(body): Body<SessionSend>,
) -> ApiResult<Json<Sent>> {
    let id = SessionId::parse(&body.session_id)?;
    let outcome = state
        .app
        .send_to_session(&caller, &id, &body.message, body.client_message_id.as_deref(), from)
        .await?;
    Ok(Json(Sent {
        session_id: Some(id.to_string()),
        ..Sent::from(outcome)
    }))
}

/// Sends a message into a room (members); the bot answers per the room's reply mode.
#[utoipa::path(post, operation_id = "sendToRoom", path = "/room/{id}/messages", tag = "session-message", params(("id" = String, Path)),
    request_body = RoomSend, responses((status = 200, body = Sent)))]
async fn to_room(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    ClientAddr(from): ClientAddr,
    Path(id): Path<String>,
    Body(body): Body<RoomSend>,
) -> ApiResult<Json<Sent>> {
    let id = RoomId::parse(&id)?;
    let outcome = state
        .app
        .send_to_room(&caller, &id, &body.message, body.client_message_id.as_deref(), from)
        .await?;
    Ok(Json(Sent::from(outcome)))
}

/// Stops a session's reply being written (its participant): it keeps the text written
/// so far, as `stopped`. A reply that already ended is answered as it is.
#[utoipa::path(post, operation_id = "stopSessionReply", path = "/session/{id}/messages/{seq}/stop",
    tag = "session-message", params(("id" = String, Path), ("seq" = u64, Path)),
    responses((status = 200, body = MessageView)))]
async fn stop_session_reply(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path((id, seq)): Path<(String, u64)>,
) -> ApiResult<Json<MessageView>> {
    let reply = state
        .app
        .stop_session_reply(&caller, &SessionId::parse(&id)?, seq)
        .await?;
    Ok(Json(MessageView::new(reply, false)))
}

/// Stops a room's reply being written (the member whose message it answers).
#[utoipa::path(post, operation_id = "stopRoomReply", path = "/room/{id}/messages/{seq}/stop",
    tag = "session-message", params(("id" = String, Path), ("seq" = u64, Path)),
    responses((status = 200, body = MessageView)))]
async fn stop_room_reply(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, seq)): Path<(String, u64)>,
) -> ApiResult<Json<MessageView>> {
    let reply = state.app.stop_room_reply(&caller, &RoomId::parse(&id)?, seq).await?;
    Ok(Json(MessageView::new(reply, false)))
}
