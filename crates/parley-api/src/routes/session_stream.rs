//! The `session-stream` function: sends whose reply streams as server-sent events, and
//! following a reply as it is written. In the cloud these routes sit behind a REST API
//! with response streaming (HTTP APIs cannot stream); locally beside the others.
//!
//! A stream answers `text/event-stream`: a `:` comment first (and every 15 s of
//! silence), `event: user` with the stored user message, `event: delta` with `{text}`
//! and `id:` the reply's length so far in characters, then `event: done` with
//! `{reply}` — or `event: error` with a problem. A failure before the first event is a
//! plain problem+json answer. A client that goes away does not stop the reply; it can
//! come back to `GET …/messages/{seq}/stream` with `Last-Event-ID` (or `?after=`).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use futures::stream::{self, BoxStream, StreamExt};
use parley_core::ids::{RoomId, SessionId};
use parley_core::usecases::{ReplyEvent, ReplyEvents};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, ClientAddr, NotGuest, Path, Query};
use crate::requests::{RoomSend, SessionSend};
use crate::views::{MessageView, StreamDelta, StreamDone};

/// The longest silence on a stream: a comment goes out after it, so that proxies and
/// clients know the connection lives.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(send_to_session))
        .routes(routes!(send_to_room))
        .routes(routes!(follow_session_reply))
        .routes(routes!(follow_room_reply))
}

pub fn router(state: ApiState) -> Router {
    super::with_state(routes(), state)
}

/// A stream of server-sent events.
pub type EventStream = Sse<KeepAliveStream<BoxStream<'static, Result<Event, Infallible>>>>;

/// Sends into a session; the reply streams as it is written.
#[utoipa::path(post, operation_id = "streamToSession", path = "/session-message/stream", tag = "session-stream",
    request_body = SessionSend,
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "Events `user` (MessageView), `delta` (StreamDelta), `done` (StreamDone) or `error` (Problem)")))]
async fn send_to_session(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    ClientAddr(from): ClientAddr,
    Body(body): Body<SessionSend>,
) -> ApiResult<EventStream> {
    let id = SessionId::parse(&body.session_id)?;
    let sent = state
        .app
        .stream_to_session(&caller, &id, &body.message, body.client_message_id.as_deref(), from)
        .await?;
    let user = event("user", &MessageView::new(sent.user_message, sent.owner_view));
    Ok(sse(Some(user), sent.reply, 0, sent.owner_view))
}

/// Sends into a room; the reply (if the bot answers) streams as it is written.
#[utoipa::path(post, operation_id = "streamToRoom", path = "/room/{id}/messages/stream", tag = "session-stream",
    params(("id" = String, Path)), request_body = RoomSend,
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "Events `user`, `delta`, `done` (reply null when the bot stays silent) or `error`")))]
async fn send_to_room(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    ClientAddr(from): ClientAddr,
    Path(id): Path<String>,
    Body(body): Body<RoomSend>,
) -> ApiResult<EventStream> {
    let id = RoomId::parse(&id)?;
    let sent = state
        .app
        .stream_to_room(&caller, &id, &body.message, body.client_message_id.as_deref(), from)
        .await?;
    let user = event("user", &MessageView::new(sent.user_message, sent.owner_view));
    Ok(sse(Some(user), sent.reply, 0, sent.owner_view))
}

/// `?after=`: the characters of the reply the client already has.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowQuery {
    /// Instead of the `Last-Event-ID` header: the id of the last `delta` seen.
    pub after: Option<usize>,
}

/// A session's reply from the character after `Last-Event-ID` (or `?after=`), then as
/// it is written, until `done`.
#[utoipa::path(get, operation_id = "followSessionReply", path = "/session/{id}/messages/{seq}/stream",
    tag = "session-stream", params(("id" = String, Path), ("seq" = u64, Path), FollowQuery,
        ("Last-Event-ID" = Option<String>, Header)),
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "Events `delta`, then `done` or `error`")))]
async fn follow_session_reply(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path((id, seq)): Path<(String, u64)>,
    Query(q): Query<FollowQuery>,
    headers: HeaderMap,
) -> ApiResult<EventStream> {
    let after = resume_point(&headers, q.after)?;
    let events = state
        .app
        .follow_session_reply(&caller, &SessionId::parse(&id)?, seq, after)
        .await?;
    Ok(sse(None, Some(events), after, false))
}

/// A room's reply, for members, as [`follow_session_reply`].
#[utoipa::path(get, operation_id = "followRoomReply", path = "/room/{id}/messages/{seq}/stream",
    tag = "session-stream", params(("id" = String, Path), ("seq" = u64, Path), FollowQuery,
        ("Last-Event-ID" = Option<String>, Header)),
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "Events `delta`, then `done` or `error`")))]
async fn follow_room_reply(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path((id, seq)): Path<(String, u64)>,
    Query(q): Query<FollowQuery>,
    headers: HeaderMap,
) -> ApiResult<EventStream> {
    let after = resume_point(&headers, q.after)?;
    let events = state
        .app
        .follow_room_reply(&caller, &RoomId::parse(&id)?, seq, after)
        .await?;
    Ok(sse(None, Some(events), after, false))
}

/// Where to resume: `Last-Event-ID`, else `?after=`, else the start.
fn resume_point(headers: &HeaderMap, after: Option<usize>) -> Result<usize, ApiError> {
    match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| ApiError::BadRequest("Last-Event-ID: must be the id of a delta event".into())),
        None => Ok(after.unwrap_or(0)),
    }
}

/// The events of a stream: a comment, `first`, then the reply's (`done` with a null
/// reply when there is none). Delta ids count characters from `chars`.
fn sse(first: Option<Event>, reply: Option<ReplyEvents>, chars: usize, owner_view: bool) -> EventStream {
    let head = stream::iter([Some(Event::default().comment("")), first].into_iter().flatten());
    let rest: BoxStream<'static, Event> = match reply {
        None => stream::iter([event("done", &StreamDone { reply: None })]).boxed(),
        Some(events) => events
            .scan(chars, move |chars, e| {
                let event = match e {
                    ReplyEvent::Delta(text) => {
                        *chars += text.chars().count();
                        event("delta", &StreamDelta { text }).id(chars.to_string())
                    }
                    ReplyEvent::Done(reply) => event(
                        "done",
                        &StreamDone {
                            reply: Some(MessageView::new(reply, owner_view)),
                        },
                    ),
                    ReplyEvent::Failed { error, .. } => event("error", &ApiError::from(error).problem()),
                };
                futures::future::ready(Some(event))
            })
            .boxed(),
    };
    Sse::new(head.chain(rest).map(Ok).boxed()).keep_alive(KeepAlive::new().interval(HEARTBEAT))
}

/// An event named `name` with `data` as JSON.
fn event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_else(|_| "null".into()))
}
