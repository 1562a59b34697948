//! The local development identity provider's routes, mounted in local mode only:
//! `POST /dev/sign-in {email, groups?}` and `GET /.well-known/jwks.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::{Json, Router};
use parley_auth::DevIdentityProvider;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::unix_now;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::requests::SignIn;
use crate::views::{Jwks, SignedIn};

pub fn routes() -> OpenApiRouter<Arc<DevIdentityProvider>> {
    OpenApiRouter::new().routes(routes!(sign_in)).routes(routes!(jwks))
}

pub fn router(idp: Arc<DevIdentityProvider>) -> Router {
    routes().with_state::<()>(idp).into()
}

const MAX_GROUPS: usize = 10;

/// Signs in as any email with any groups, and answers Cognito-shaped tokens. Served by
/// the local server only, while the development sign-in is on.
#[utoipa::path(post, operation_id = "devSignIn", path = "/dev/sign-in", tag = "local", request_body = SignIn,
    responses((status = 200, body = SignedIn)))]
async fn sign_in(State(idp): State<Arc<DevIdentityProvider>>, Body(body): Body<SignIn>) -> ApiResult<Json<SignedIn>> {
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
    Ok(Json(idp.sign_in(&email, &body.groups, unix_now()).into()))
}

/// The development sign-in's public keys (local server only).
#[utoipa::path(get, operation_id = "devJwks", path = "/.well-known/jwks.json", tag = "local", responses((status = 200, body = Jwks)))]
async fn jwks(State(idp): State<Arc<DevIdentityProvider>>) -> Json<Jwks> {
    Json(Jwks::from(idp.jwks()))
}
