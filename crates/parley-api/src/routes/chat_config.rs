//! The `chat-config` function: read, change, share and suspend bots; list models. Its
//! persona routes are in [`super::personas`].

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parley_core::CoreError;
use parley_core::bot::BotConfig;
use parley_core::ids::BotId;
use parley_core::usecases::{BotFields, page_request};
use serde_json::{Value, json};

use super::{ListQuery, to_json};
use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, NotGuest, Path, Query, from_value};
use crate::views::{FullBot, List};

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/chat-configs", get(list))
        .route("/chat-config/{id}", get(read).put(update).delete(remove))
        .route("/chat-config/{id}/share-link", post(rotate_share_link))
        .route("/chat-config/{id}/suspend", post(suspend))
        .route("/chat-config/{id}/unsuspend", post(unsuspend))
        .route("/share/{code}", get(shared))
        .route("/models", get(models))
        .with_state(state.clone())
        .merge(super::personas::router(state))
}

async fn list(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
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
    Ok(to_json(&List::map(page, |b| to_json(&FullBot::new(&b, url)).0)))
}

async fn read(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let bot = state.app.get_bot(&caller, &BotId::parse(&id)?).await?;
    let mut view = FullBot::new(&bot, &state.app.settings().public_url);
    let (messages, tokens) = state.app.bot_usage_today(&bot).await?;
    view.messages_today = Some(messages);
    view.tokens_today = Some(tokens);
    Ok(with_etag(&bot, to_json(&view)))
}

/// `PUT /chat-config/{id}`: the body holds the fields to change and, instead of an
/// `If-Match` header, the `version` they were read at. `version` is taken out by hand
/// rather than by `#[serde(flatten)]`, which would hide the failing field's name from
/// the error.
async fn update(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(mut body): Body<serde_json::Map<String, Value>>,
) -> ApiResult<Response> {
    let id = BotId::parse(&id)?;
    let version = match body.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| ApiError::BadRequest("version: must be a non-negative integer".into()))?,
        ),
    };
    let fields: BotFields = from_value(&Value::Object(body))?;
    let expected = match if_match(&headers)? {
        Some(v) => Some(v),
        None => version,
    };
    let bot = state.app.update_bot(&caller, &id, fields, expected).await?;
    Ok(with_etag(
        &bot,
        to_json(&FullBot::new(&bot, &state.app.settings().public_url)),
    ))
}

async fn remove(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_bot(&caller, &BotId::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_share_link(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let bot = state.app.rotate_share_link(&caller, &BotId::parse(&id)?).await?;
    let url = bot.share_url(&state.app.settings().public_url);
    Ok(Json(json!({"shareCode": bot.share_code, "shareableUrl": url})))
}

async fn suspend(state: State<ApiState>, caller: NotGuest, id: Path<String>) -> ApiResult<Response> {
    set_suspended(state, caller, id, true).await
}

async fn unsuspend(state: State<ApiState>, caller: NotGuest, id: Path<String>) -> ApiResult<Response> {
    set_suspended(state, caller, id, false).await
}

async fn set_suspended(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(id): Path<String>,
    suspended: bool,
) -> ApiResult<Response> {
    let bot = state.app.set_suspended(&caller, &BotId::parse(&id)?, suspended).await?;
    Ok(with_etag(
        &bot,
        to_json(&FullBot::new(&bot, &state.app.settings().public_url)),
    ))
}

async fn shared(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(to_json(&state.app.get_shared_bot(&caller, &code).await?))
}

async fn models(State(state): State<ApiState>, Caller(_): Caller) -> Json<Value> {
    Json(json!({"items": state.app.catalog().models(), "default": state.app.catalog().default_model()}))
}

fn with_etag(bot: &BotConfig, body: Json<Value>) -> Response {
    let mut response = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"v{}\"", bot.version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
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
