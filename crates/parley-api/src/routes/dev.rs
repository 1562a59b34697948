//! The local development identity provider's routes, mounted in local mode only:
//! `POST /dev/sign-in {email, groups?}` and `GET /.well-known/jwks.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use parley_auth::DevIdentityProvider;
use serde::Deserialize;
use serde_json::Value;

use super::to_json;
use crate::auth::unix_now;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;

pub fn router(idp: Arc<DevIdentityProvider>) -> Router {
    Router::new()
        .route("/dev/sign-in", post(sign_in))
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(idp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    #[serde(default)]
    groups: Vec<String>,
}

const MAX_GROUPS: usize = 10;

async fn sign_in(State(idp): State<Arc<DevIdentityProvider>>, Body(body): Body<SignIn>) -> ApiResult<Json<Value>> {
    let email = body.email.trim().to_lowercase();
    let valid_email = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid_email {
        return Err(ApiError::BadRequest("email: is not a valid email address".into()));
    }
    let valid_group = |g: &String| {
        (1..=64).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if body.groups.len() > MAX_GROUPS || !body.groups.iter().all(valid_group) {
        return Err(ApiError::BadRequest(
            "groups: at most 10 names of letters, digits, '-' or '_'".into(),
        ));
    }
    Ok(to_json(&idp.sign_in(&email, &body.groups, unix_now())))
}

async fn jwks(State(idp): State<Arc<DevIdentityProvider>>) -> Json<Value> {
    to_json(&idp.jwks())
}
