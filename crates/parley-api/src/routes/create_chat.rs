//! The `create-chat` function: `POST /create-chat`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::ApiResult;
use crate::extract::{Body, NotGuest};
use crate::requests::BotRequest;
use crate::views::BotView;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(create))
}

pub fn router(state: ApiState) -> Router {
    super::with_state(routes(), state)
}

/// Creates a bot owned by the caller (in the creators group, where one is set).
#[utoipa::path(post, operation_id = "createBot", path = "/create-chat", tag = "create-chat", request_body = BotRequest,
    responses((status = 201, body = BotView)))]
async fn create(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Body(fields): Body<BotRequest>,
) -> ApiResult<(StatusCode, Json<BotView>)> {
    let bot = state.app.create_bot(&caller, fields.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(BotView::new(&bot, &state.app.settings().public_url)),
    ))
}
