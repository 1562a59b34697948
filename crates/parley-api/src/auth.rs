//! The principal layer: who is calling, established once per request, from one of two
//! sources. Locally the token verifier runs here as middleware; in Lambda the API
//! Gateway authorizer (`auth-check`) has already verified the token and passed the
//! principal in its context. Either way the same [`Principal`] reaches the same handlers.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_auth::{AuthError, CognitoVerifier, GuestTokens, is_guest_token};
use parley_core::Principal;
use parley_core::ids::{BotId, SessionId, UserId};
use parley_core::principal::User;
use serde_json::Value;

use crate::error::ApiError;

/// Where the principal comes from.
#[derive(Clone)]
pub enum PrincipalSource {
    /// Verify the bearer token here (local mode).
    Verifier(Arc<TokenAuthenticator>),
    /// Read the API Gateway authorizer context (Lambda mode); see [`AuthorizerContext`].
    AuthorizerContext,
}

/// The authorizer's context as the Lambda adapter found it in the request:
/// `{kind, sub, email, groups, sessionId, botId}`.
#[derive(Clone, Debug)]
pub struct AuthorizerContext(pub serde_json::Map<String, Value>);

/// Verifies Cognito-shaped and guest bearer tokens.
pub struct TokenAuthenticator {
    users: CognitoVerifier,
    guests: Arc<GuestTokens>,
}

impl TokenAuthenticator {
    pub fn new(users: CognitoVerifier, guests: Arc<GuestTokens>) -> Self {
        Self { users, guests }
    }

    pub async fn authenticate(&self, token: &str) -> Result<Principal, ApiError> {
        if is_guest_token(token) {
            let claims = self.guests.verify(token, unix_now()).map_err(|e| rejected(&e))?;
            return guest(&claims.session_id, &claims.bot_id);
        }
        let user = self.users.verify(token).await.map_err(|e| rejected(&e))?;
        let id = UserId::parse(&user.sub).map_err(|_| ApiError::InvalidToken)?;
        Ok(Principal::User(User {
            id,
            email: user.email,
            groups: user.groups,
        }))
    }
}

fn rejected(e: &AuthError) -> ApiError {
    if e.is_unavailable() {
        tracing::error!(error = %e, "token keys unavailable");
        ApiError::AuthUnavailable
    } else {
        // The reason is worth a debug line; the token itself never is.
        tracing::debug!(reason = %e, "token rejected");
        ApiError::InvalidToken
    }
}

fn guest(session_id: &str, bot_id: &str) -> Result<Principal, ApiError> {
    let session_id = SessionId::parse(session_id).map_err(|_| ApiError::InvalidToken)?;
    let bot_id = BotId::parse(bot_id).map_err(|_| ApiError::InvalidToken)?;
    Ok(Principal::Guest { session_id, bot_id })
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The middleware: puts the caller's [`Principal`] into the request's extensions, or
/// answers 401 for a token that does not verify.
pub async fn principal_layer(State(source): State<PrincipalSource>, mut req: Request, next: Next) -> Response {
    let principal = match &source {
        PrincipalSource::Verifier(auth) => match bearer(&req) {
            Ok(None) => Principal::Anonymous,
            Ok(Some(token)) => match auth.authenticate(token).await {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            },
            Err(e) => return e.into_response(),
        },
        PrincipalSource::AuthorizerContext => match req.extensions().get::<AuthorizerContext>() {
            None => Principal::Anonymous,
            Some(ctx) => match principal_from_authorizer(&ctx.0) {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            },
        },
    };
    req.extensions_mut().insert(principal);
    next.run(req).await
}

fn bearer(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::InvalidToken),
    }
}

/// Reads the principal that `auth-check` put in the authorizer context. `groups` may be
/// a JSON array or a comma-separated string (API Gateway flattens context values).
pub fn principal_from_authorizer(ctx: &serde_json::Map<String, Value>) -> Result<Principal, ApiError> {
    let text = |k: &str| ctx.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match text("kind") {
        None | Some("anonymous") => Ok(Principal::Anonymous),
        Some("guest") => guest(text("sessionId").unwrap_or_default(), text("botId").unwrap_or_default()),
        Some("user") => {
            let id = UserId::parse(text("sub").unwrap_or_default()).map_err(|_| ApiError::InvalidToken)?;
            let groups = match ctx.get("groups") {
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Some(Value::String(s)) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Principal::User(User {
                id,
                email: text("email").map(str::to_owned),
                groups,
            }))
        }
        Some(_) => Err(ApiError::InvalidToken),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn authorizer_context_gives_users_with_groups_in_either_shape() {
        let p = principal_from_authorizer(&ctx(
            json!({"kind":"user","sub":"abc","email":"a@x.io","groups":"admin, tier-pro"}),
        ));
        let Ok(Principal::User(u)) = p else {
            panic!("expected a user, got {p:?}")
        };
        assert!(u.is_admin() && u.in_group("tier-pro"));
        let p = principal_from_authorizer(&ctx(json!({"kind":"user","sub":"abc","groups":["admin"]})));
        assert!(p.is_ok_and(|p| p.is_admin()));
    }

    #[test]
    fn authorizer_context_gives_guests_and_refuses_unknown_kinds() {
        let p = principal_from_authorizer(&ctx(
            json!({"kind":"guest","sessionId":"01JDQ0000000000000000000AA","botId":"01JDQ0000000000000000000BB"}),
        ));
        assert!(matches!(p, Ok(Principal::Guest { .. })));
        assert!(principal_from_authorizer(&ctx(json!({"kind":"root","sub":"x"}))).is_err());
        assert!(principal_from_authorizer(&ctx(json!({"kind":"user"}))).is_err());
        assert!(matches!(
            principal_from_authorizer(&ctx(json!({}))),
            Ok(Principal::Anonymous)
        ));
    }
}
