//! The `chat-session` function: start, list, read, change and delete sessions; history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use parley_core::ids::SessionId;
use parley_core::usecases::{NewSession, SessionChanges, page_request};
use serde_json::{Value, json};

use super::{HistoryQuery, ListQuery, to_json};
use crate::ApiState;
use crate::auth::unix_now;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, ClientAddr, NotGuest, Path, Query};
use crate::views::{History, List, SessionView};

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/chat-session", post(start))
        .route("/chat-sessions", get(list))
        .route("/session/{id}", get(read).put(update).delete(remove))
        .route("/session/{id}/messages", get(history))
        .with_state(state)
}

async fn start(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    ClientAddr(from): ClientAddr,
    Body(input): Body<NewSession>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let started = state.app.start_session(&caller, input, from).await?;
    let session_id = started.session.session_id.clone();
    let guest_token = started.needs_guest_token.then(|| {
        state.guests.issue(
            session_id.as_str(),
            started.bot.chat_config_id.as_str(),
            unix_now(),
            state.guest_token_ttl_seconds,
        )
    });
    let view = SessionView::new(started.session, Some(&started.bot));
    let mut body = to_json(&view).0;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("guestToken".into(), json!(guest_token));
    }
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    if q.scope.is_some() {
        return Err(ApiError::BadRequest("scope is not a parameter of this listing".into()));
    }
    let page = state
        .app
        .list_sessions(&caller, &page_request(q.next, q.limit)?)
        .await?;
    Ok(to_json(&List::map(page, SessionView::listed)))
}

async fn read(State(state): State<ApiState>, Caller(caller): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (session, bot) = state.app.get_session_with_bot(&caller, &SessionId::parse(&id)?).await?;
    Ok(to_json(&SessionView::new(session, bot.as_ref())))
}

async fn update(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Body(changes): Body<SessionChanges>,
) -> ApiResult<Json<Value>> {
    let session = state
        .app
        .update_session(&caller, &SessionId::parse(&id)?, changes)
        .await?;
    Ok(to_json(&SessionView::listed(session)))
}

async fn remove(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_session(&caller, &SessionId::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    if q.after.is_some() {
        return Err(ApiError::BadRequest(
            "a session's history pages with before, not after".into(),
        ));
    }
    let page = state
        .app
        .session_history(&caller, &SessionId::parse(&id)?, q.before, q.limit)
        .await?;
    Ok(to_json(&History::from(page)))
}
