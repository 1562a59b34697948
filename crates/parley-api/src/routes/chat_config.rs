//! The `chat-config` function: read, change, share and suspend bots; list models; the
//! OpenAPI document. Its persona routes are in [`super::personas`].

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header::{self, HeaderName};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Json, Router};
use parley_core::CoreError;
use parley_core::bot::BotConfig;
use parley_core::ids::BotId;
use parley_core::usecases::page_request;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, NotGuest, Path, Query};
use crate::requests::{BotRequest, ListQuery};
use crate::views::{BotList, BotView, Models, PublicBot, ShareLinkView};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read, update, remove))
        .routes(routes!(rotate_share_link))
        .routes(routes!(suspend))
        .routes(routes!(unsuspend))
        .routes(routes!(shared))
        .routes(routes!(models))
        .routes(routes!(openapi_json))
        .merge(super::personas::routes())
}

pub fn router(state: ApiState) -> Router {
    super::with_state(routes(), state)
}

/// A bot with its `ETag` (`"v{version}"`), which `If-Match` names to change it.
type Tagged = ([(HeaderName, String); 1], Json<BotView>);

fn tagged(state: &ApiState, bot: &BotConfig, view: Option<BotView>) -> Tagged {
    let view = view.unwrap_or_else(|| BotView::new(bot, &state.app.settings().public_url));
    ([(header::ETAG, format!("\"v{}\"", bot.version))], Json(view))
}

/// The caller's bots (`scope=mine`), or every bot for an admin (`scope=all`).
#[utoipa::path(get, operation_id = "listBots", path = "/chat-configs", tag = "chat-config", params(ListQuery),
    responses((status = 200, body = BotList)))]
async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<BotList>> {
    let all = match q.scope.as_deref() {
        None | Some("mine") => false,
        Some("all") => true,
        Some(_) => return Err(ApiError::BadRequest("scope must be mine or all".into())),
    };
    let page = state
        .app
        .list_bots(&caller, all, &page_request(q.next, q.limit)?)
        .await?;
    let url = &state.app.settings().public_url;
    Ok(Json(BotList::map(page, |b| BotView::new(&b, url))))
}

/// A bot with today's usage, for its owner and admins.
#[utoipa::path(get, operation_id = "getBot", path = "/chat-config/{id}", tag = "chat-config", params(("id" = String, Path)),
    responses((status = 200, body = BotView, headers(("ETag" = String)))))]
async fn read(State(state): State<ApiState>, NotGuest(caller): NotGuest, Path(id): Path<String>) -> ApiResult<Tagged> {
    let bot = state.app.get_bot(&caller, &BotId::parse(&id)?).await?;
    let mut view = BotView::new(&bot, &state.app.settings().public_url);
    let (messages, tokens) = state.app.bot_usage_today(&bot).await?;
    view.messages_today = Some(messages);
    view.tokens_today = Some(tokens);
    Ok(tagged(&state, &bot, Some(view)))
}

/// Changes the fields the body holds. The version they were read at comes as
/// `If-Match: "v{version}"` or as the body's `version`; a stale one answers 412.
#[utoipa::path(put, operation_id = "updateBot", path = "/chat-config/{id}", tag = "chat-config", request_body = BotRequest,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = BotView, headers(("ETag" = String)))))]
async fn update(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body<BotRequest>,
) -> ApiResult<Tagged> {
    let id = BotId::parse(&id)?;
    let expected = match if_match(&headers)? {
        Some(v) => Some(v),
        None => body.version,
    };
    let bot = state.app.update_bot(&caller, &id, body.into(), expected).await?;
    Ok(tagged(&state, &bot, None))
}

/// Deletes the bot, its persona and its share link (owner or admin).
#[utoipa::path(delete, operation_id = "deleteBot", path = "/chat-config/{id}", tag = "chat-config", params(("id" = String, Path)),
    responses((status = 204)))]
async fn remove(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_bot(&caller, &BotId::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the share code: the old link stops working, and sessions opened by it may
/// read their history but not send.
#[utoipa::path(post, operation_id = "rotateShareLink", path = "/chat-config/{id}/share-link", tag = "chat-config", params(("id" = String, Path)),
    responses((status = 200, body = ShareLinkView)))]
async fn rotate_share_link(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Json<ShareLinkView>> {
    let bot = state.app.rotate_share_link(&caller, &BotId::parse(&id)?).await?;
    Ok(Json(ShareLinkView {
        shareable_url: bot.share_url(&state.app.settings().public_url),
        share_code: bot.share_code.as_str().to_owned(),
    }))
}

/// Suspends a bot (admins): nobody but its owner and admins may use it.
#[utoipa::path(post, operation_id = "suspendBot", path = "/chat-config/{id}/suspend", tag = "chat-config", params(("id" = String, Path)),
    responses((status = 200, body = BotView, headers(("ETag" = String)))))]
async fn suspend(state: State<ApiState>, caller: NotGuest, id: Path<String>) -> ApiResult<Tagged> {
    set_suspended(state, caller, id, true).await
}

/// Lifts a suspension (admins).
#[utoipa::path(post, operation_id = "unsuspendBot", path = "/chat-config/{id}/unsuspend", tag = "chat-config", params(("id" = String, Path)),
    responses((status = 200, body = BotView, headers(("ETag" = String)))))]
async fn unsuspend(state: State<ApiState>, caller: NotGuest, id: Path<String>) -> ApiResult<Tagged> {
    set_suspended(state, caller, id, false).await
}

async fn set_suspended(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    suspended: bool,
) -> ApiResult<Tagged> {
    let bot = state.app.set_suspended(&caller, &BotId::parse(&id)?, suspended).await?;
    Ok(tagged(&state, &bot, None))
}

/// The public view of a shared bot, by its share code, for whoever its sharing mode
/// admits (anonymous callers too for `anyone`).
#[utoipa::path(get, operation_id = "getSharedBot", path = "/share/{code}", tag = "chat-config", params(("code" = String, Path)),
    responses((status = 200, body = PublicBot)))]
async fn shared(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(code): Path<String>,
) -> ApiResult<Json<PublicBot>> {
    Ok(Json(state.app.get_shared_bot(&caller, &code).await?.into()))
}

/// The allowed models, which providers serve them, and the default for new bots.
#[utoipa::path(get, operation_id = "listModels", path = "/models", tag = "chat-config", responses((status = 200, body = Models)))]
async fn models(State(state): State<ApiState>, Caller(_): Caller) -> Json<Models> {
    Json(Models::new(state.app.catalog()))
}

/// This API's OpenAPI 3.1 document (`docs/openapi.json` in the repository).
#[utoipa::path(get, operation_id = "getOpenApi", path = "/openapi.json", tag = "chat-config",
    responses((status = 200, content_type = "application/json", description = "The OpenAPI document")))]
async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(crate::openapi::document_json);
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

/// `If-Match: "v3"` → `Some(3)`; `*` or no header → `None`. Any other value can never
/// match a version, so it is a failed precondition.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| CoreError::PreconditionFailed)?.trim();
    if value == "*" {
        return Ok(None);
    }
    let version = value
        .trim_start_matches("W/")
        .strip_prefix("\"v")
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or(CoreError::PreconditionFailed)?;
    Ok(Some(version))
}
