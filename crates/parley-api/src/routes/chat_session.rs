//! The `chat-session` function: start, list, read, change and delete sessions; history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use parley_core::ids::SessionId;
use parley_core::usecases::page_request;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::unix_now;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, ClientAddr, NotGuest, Path, Query};
use crate::requests::{HistoryQuery, ListQuery, NewSessionRequest, SessionChangesRequest};
use crate::views::{History, SessionList, SessionView, StartedSession};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(list))
        .routes(routes!(read, update, remove))
        .routes(routes!(history))
}

pub fn router(state: ApiState) -> Router {
    super::with_state(routes(), state)
}

/// Starts a session on a bot: by share code for anyone its sharing mode admits, by id
/// for its owner. A caller without an account gets a guest token for this session.
#[utoipa::path(post, operation_id = "startSession", path = "/chat-session", tag = "chat-session", request_body = NewSessionRequest,
    responses((status = 201, body = StartedSession)))]
async fn start(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    ClientAddr(from): ClientAddr,
    Body(input): Body<NewSessionRequest>,
) -> ApiResult<(StatusCode, Json<StartedSession>)> {
    let started = state.app.start_session(&caller, input.into(), from).await?;
    let guest_token = started.needs_guest_token.then(|| {
        state.guests.issue(
            started.session.session_id.as_str(),
            started.bot.chat_config_id.as_str(),
            unix_now(),
            state.guest_token_ttl_seconds,
        )
    });
    let session = SessionView::new(started.session, Some(&started.bot));
    Ok((StatusCode::CREATED, Json(StartedSession { session, guest_token })))
}

/// The caller's sessions, newest first.
#[utoipa::path(get, operation_id = "listSessions", path = "/chat-sessions", tag = "chat-session", params(ListQuery),
    responses((status = 200, body = SessionList)))]
async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<SessionList>> {
    if q.scope.is_some() {
        return Err(ApiError::BadRequest("scope is not a parameter of this listing".into()));
    }
    let page = state
        .app
        .list_sessions(&caller, &page_request(q.next, q.limit)?)
        .await?;
    Ok(Json(SessionList::map(page, SessionView::listed)))
}

/// A session of the caller's, with its bot's public view and whether it may go on.
#[utoipa::path(get, operation_id = "getSession", path = "/session/{id}", tag = "chat-session", params(("id" = String, Path)),
    responses((status = 200, body = SessionView)))]
async fn read(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    let (session, bot) = state.app.get_session_with_bot(&caller, &SessionId::parse(&id)?).await?;
    Ok(Json(SessionView::new(session, bot.as_ref())))
}

/// Renames a session, or sets the overrides its bot allows.
#[utoipa::path(put, operation_id = "updateSession", path = "/session/{id}", tag = "chat-session", params(("id" = String, Path)),
    request_body = SessionChangesRequest, responses((status = 200, body = SessionView)))]
async fn update(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Body(changes): Body<SessionChangesRequest>,
) -> ApiResult<Json<SessionView>> {
    let session = state
        .app
        .update_session(&caller, &SessionId::parse(&id)?, changes.into())
        .await?;
    Ok(Json(SessionView::listed(session)))
}

/// Deletes a session and its messages.
#[utoipa::path(delete, operation_id = "deleteSession", path = "/session/{id}", tag = "chat-session", params(("id" = String, Path)),
    responses((status = 204)))]
async fn remove(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_session(&caller, &SessionId::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the session's messages, newest page first, oldest first within it.
#[utoipa::path(get, operation_id = "sessionHistory", path = "/session/{id}/messages", tag = "chat-session",
    params(("id" = String, Path), HistoryQuery), responses((status = 200, body = History)))]
async fn history(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<History>> {
    if q.after.is_some() {
        return Err(ApiError::BadRequest(
            "a session's history pages with before, not after".into(),
        ));
    }
    let page = state
        .app
        .session_history(&caller, &SessionId::parse(&id)?, q.before, q.limit)
        .await?;
    Ok(Json(History::from(page)))
}
