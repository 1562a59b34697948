//! The `chat-room` function: create, list, read, join and leave rooms; history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use parley_core::Principal;
use parley_core::ids::{RoomId, UserId};
use parley_core::room::Room;
use parley_core::usecases::page_request;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, NotGuest, Path, Query};
use crate::requests::{HistoryQuery, JoinRoomRequest, ListQuery, NewRoomRequest};
use crate::views::{History, RoomList, RoomView};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(list))
        .routes(routes!(read, remove))
        .routes(routes!(join))
        .routes(routes!(rotate_invite))
        .routes(routes!(remove_member))
        .routes(routes!(history))
}

pub fn router(state: ApiState) -> Router {
    super::with_state(routes(), state)
}

fn is_creator(caller: &Principal, room: &Room) -> bool {
    caller.user().is_some_and(|u| u.id == room.creator_id)
}

/// Opens a room on a bot (by share code, or by id for its owner); the creator is its
/// first member and gets the invite code.
#[utoipa::path(post, operation_id = "createRoom", path = "/chat-room", tag = "chat-room", request_body = NewRoomRequest,
    responses((status = 201, body = RoomView)))]
async fn create(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Body(input): Body<NewRoomRequest>,
) -> ApiResult<(StatusCode, Json<RoomView>)> {
    let room = state.app.create_room(&caller, input.into()).await?;
    Ok((StatusCode::CREATED, Json(RoomView::new(&room, true, None))))
}

/// The rooms the caller is a member of.
#[utoipa::path(get, operation_id = "listRooms", path = "/chat-rooms", tag = "chat-room", params(ListQuery),
    responses((status = 200, body = RoomList)))]
async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<RoomList>> {
    if q.scope.is_some() {
        return Err(ApiError::BadRequest("scope is not a parameter of this listing".into()));
    }
    let page = state.app.list_rooms(&caller, &page_request(q.next, q.limit)?).await?;
    Ok(Json(RoomList::map(page, |r| {
        RoomView::new(&r, is_creator(&caller, &r), None)
    })))
}

/// A room with its members (members only).
#[utoipa::path(get, operation_id = "getRoom", path = "/room/{id}", tag = "chat-room", params(("id" = String, Path)),
    responses((status = 200, body = RoomView)))]
async fn read(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Json<RoomView>> {
    let (room, members) = state.app.get_room(&caller, &RoomId::parse(&id)?).await?;
    Ok(Json(RoomView::new(&room, is_creator(&caller, &room), Some(members))))
}

/// Deletes a room and its messages (its creator).
#[utoipa::path(delete, operation_id = "deleteRoom", path = "/room/{id}", tag = "chat-room", params(("id" = String, Path)),
    responses((status = 204)))]
async fn remove(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_room(&caller, &RoomId::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a room with its invite code (signed-in users).
#[utoipa::path(post, operation_id = "joinRoom", path = "/room/{id}/join", tag = "chat-room", params(("id" = String, Path)),
    request_body = JoinRoomRequest, responses((status = 200, body = RoomView)))]
async fn join(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    Body(input): Body<JoinRoomRequest>,
) -> ApiResult<Json<RoomView>> {
    let room = state.app.join_room(&caller, &RoomId::parse(&id)?, input.into()).await?;
    Ok(Json(RoomView::new(&room, is_creator(&caller, &room), None)))
}

/// Replaces the invite code (its creator): the old one stops admitting.
#[utoipa::path(post, operation_id = "rotateInvite", path = "/room/{id}/invite-link", tag = "chat-room", params(("id" = String, Path)),
    responses((status = 200, body = RoomView)))]
async fn rotate_invite(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Json<RoomView>> {
    let room = state.app.rotate_invite(&caller, &RoomId::parse(&id)?).await?;
    Ok(Json(RoomView::new(&room, true, None)))
}

/// Removes a member (its creator), or leaves (the member themself).
#[utoipa::path(delete, operation_id = "removeMember", path = "/room/{id}/members/{userId}", tag = "chat-room",
    params(("id" = String, Path), ("userId" = String, Path)), responses((status = 204)))]
async fn remove_member(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .app
        .remove_member(&caller, &RoomId::parse(&id)?, &UserId::parse(&user_id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the room's messages (members only): `before` pages back, `after` polls for
/// new ones.
#[utoipa::path(get, operation_id = "roomHistory", path = "/room/{id}/messages", tag = "chat-room",
    params(("id" = String, Path), HistoryQuery), responses((status = 200, body = History)))]
async fn history(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<History>> {
    let page = state
        .app
        .room_history(&caller, &RoomId::parse(&id)?, q.before, q.after, q.limit)
        .await?;
    Ok(Json(History::from(page)))
}
