//! The `chat-room` function: create, list, read, join and leave rooms; history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use parley_core::ids::{RoomId, UserId};
use parley_core::usecases::{JoinRoom, NewRoom, page_request};
use serde_json::Value;

use super::{HistoryQuery, ListQuery, to_json};
use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, NotGuest, Path, Query};
use crate::views::{History, List, RoomView};

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/chat-room", post(create))
        .route("/chat-rooms", get(list))
        .route("/room/{id}", get(read).delete(remove))
        .route("/room/{id}/join", post(join))
        .route("/room/{id}/invite-link", post(rotate_invite))
        .route("/room/{id}/members/{user_id}", delete(remove_member))
        .route("/room/{id}/messages", get(history))
        .with_state(state)
}

fn is_creator(caller: &parley_core::Principal, room: &parley_core::room::Room) -> bool {
    caller.user().is_some_and(|u| u.id == room.creator_id)
}

async fn create(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Body(input): Body<NewRoom>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let room = state.app.create_room(&caller, input).await?;
    Ok((StatusCode::CREATED, to_json(&RoomView::new(&room, true, None))))
}

async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    if q.scope.is_some() {
        return Err(ApiError::BadRequest("scope is not a parameter of this listing".into()));
    }
    let page = state.app.list_rooms(&caller, &page_request(q.next, q.limit)?).await?;
    Ok(to_json(&List::map(page, |r| {
        RoomView::new(&r, is_creator(&caller, &r), None)
    })))
}

async fn read(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (room, members) = state.app.get_room(&caller, &RoomId::parse(&id)?).await?;
    Ok(to_json(&RoomView::new(
        &room,
        is_creator(&caller, &room),
        Some(members),
    )))
}

async fn remove(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_room(&caller, &RoomId::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    Body(input): Body<JoinRoom>,
) -> ApiResult<Json<Value>> {
    let room = state.app.join_room(&caller, &RoomId::parse(&id)?, input).await?;
    Ok(to_json(&RoomView::new(&room, is_creator(&caller, &room), None)))
}

async fn rotate_invite(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let room = state.app.rotate_invite(&caller, &RoomId::parse(&id)?).await?;
    Ok(to_json(&RoomView::new(&room, true, None)))
}

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

async fn history(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let page = state
        .app
        .room_history(&caller, &RoomId::parse(&id)?, q.before, q.after, q.limit)
        .await?;
    Ok(to_json(&History::from(page)))
}
