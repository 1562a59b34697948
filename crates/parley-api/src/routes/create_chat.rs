//! The `create-chat` function: `POST /create-chat`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use parley_core::usecases::BotFields;
use serde_json::Value;

use super::to_json;
use crate::ApiState;
use crate::error::ApiResult;
use crate::extract::{Body, NotGuest};
use crate::views::FullBot;

pub fn router(state: ApiState) -> Router {
    Router::new().route("/create-chat", post(create)).with_state(state)
}

async fn create(
    State(state): State<ApiState>,
    NotGuest(caller): NotGuest,
    Body(fields): Body<BotFields>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let bot = state.app.create_bot(&caller, fields).await?;
    Ok((
        StatusCode::CREATED,
        to_json(&FullBot::new(&bot, &state.app.settings().public_url)),
    ))
}
