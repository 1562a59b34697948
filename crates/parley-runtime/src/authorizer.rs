//! `auth-check`: the HTTP API Lambda authorizer (payload format 2.0, simple responses).
//!
//! Decisions, in order:
//! - No `Authorization` header: authorized as `{kind: "anonymous"}`. Several routes serve
//!   anonymous callers (`GET /share/{code}`, `POST /chat-session`, `GET /models`,
//!   `GET /chat-config/{id}` of a bot shared with anyone); the functions decide what an
//!   anonymous caller may do, exactly as the local server does. The API's authorizer
//!   therefore has no identity source (API Gateway would answer 401 itself for a
//!   missing header) and no result cache (TTL 0), so no answer is ever reused for
//!   another token or another route.
//! - A header that is not `Bearer <token>`, or a token that does not verify: refused
//!   (API Gateway answers 403).
//! - A guest token: verified with `PARLEY_GUEST_KEY`, then allowed only on its own
//!   session's routes: `/session/{itsId}`, `/session/{itsId}/messages` and
//!   `POST /session-message` (whose body, invisible here, session-message checks).
//! - A Cognito ID or access token: verified against the pool's JWKS by the DESIGN
//!   checklist, then the user's status (disabled? signed out?) is checked, cached for at
//!   most `PARLEY_USER_STATUS_TTL_SECONDS`.
//! - When the keys or the user's status cannot be had, the handler fails, and API Gateway
//!   answers 500: the token may be good, so a 403 would be a lie.
//!
//! The context handed to the functions is `{kind, sub, email, groups, sessionId, botId}`
//! with `groups` comma-separated (`parley_api::principal_from_authorizer` reads it).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use parley_auth::{AuthError, CognitoVerifier, GuestClaims, GuestTokens, UserStatus, is_guest_token};
use serde_json::{Map, Value, json};

/// Verifies the bearer token of one request.
pub struct Authorizer {
    users: CognitoVerifier,
    status: Arc<dyn UserStatus>,
    guests: GuestTokens,
}

/// What the authorizer decided, before it becomes an API Gateway response.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Allow(Map<String, Value>),
    Deny(&'static str),
}

impl Decision {
    pub fn into_response(self) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        match self {
            Decision::Allow(context) => {
                response.is_authorized = true;
                response.context = Value::Object(context);
            }
            Decision::Deny(_) => {
                response.is_authorized = false;
                response.context = json!({});
            }
        }
        response
    }
}

impl Authorizer {
    /// `status` should be a `CachedUserStatus` in front of Cognito.
    pub fn new(users: CognitoVerifier, status: Arc<dyn UserStatus>, guests: GuestTokens) -> Self {
        Self { users, status, guests }
    }

    /// The decision for one authorizer event. `Err` only when the token cannot be checked
    /// right now (keys or user status unavailable).
    #[tracing::instrument(skip_all, fields(route = event.route_key.as_deref().unwrap_or_default()))]
    pub async fn decide(&self, event: &ApiGatewayV2CustomAuthorizerV2Request) -> Result<Decision, AuthError> {
        let token = match bearer(event) {
            Bearer::Absent => return Ok(Decision::Allow(context("anonymous"))),
            Bearer::Malformed => return Ok(deny("the Authorization header is not a bearer token")),
            Bearer::Token(token) => token,
        };
        let now = parley_api::auth::unix_now();
        if is_guest_token(token) {
            return Ok(match self.guests.verify(token, now) {
                Ok(claims) if guest_may_call(&claims, event) => {
                    let mut ctx = context("guest");
                    ctx.insert("sessionId".into(), claims.session_id.into());
                    ctx.insert("botId".into(), claims.bot_id.into());
                    Decision::Allow(ctx)
                }
                Ok(_) => deny("a guest token is good only for its own session's routes"),
                Err(e) => rejected(e)?,
            });
        }
        let user = match self.users.verify_at(token, now).await {
            Ok(user) => user,
            Err(e) => return rejected(e),
        };
        if !self.status.is_active(&user, token).await? {
            return Ok(deny("the user is disabled or signed out"));
        }
        let mut ctx = context("user");
        ctx.insert("sub".into(), user.sub.into());
        if let Some(email) = user.email {
            ctx.insert("email".into(), email.into());
        }
        ctx.insert("groups".into(), user.groups.join(",").into());
        Ok(Decision::Allow(ctx))
    }
}

fn context(kind: &str) -> Map<String, Value> {
    let mut ctx = Map::new();
    ctx.insert("kind".into(), kind.into());
    ctx
}

fn deny(reason: &'static str) -> Decision {
    // The reason is worth a line; the token never is.
    tracing::info!(reason, "request refused");
    Decision::Deny(reason)
}

fn rejected(e: AuthError) -> Result<Decision, AuthError> {
    if e.is_unavailable() {
        tracing::error!(error = %e, "cannot verify tokens now");
        return Err(e);
    }
    tracing::info!(reason = %e, "token rejected");
    Ok(Decision::Deny("the token does not verify"))
}

enum Bearer<'a> {
    Absent,
    Malformed,
    Token(&'a str),
}

fn bearer(event: &ApiGatewayV2CustomAuthorizerV2Request) -> Bearer<'_> {
    let Some(value) = event.headers.get(http::header::AUTHORIZATION) else {
        return Bearer::Absent;
    };
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Bearer::Token(token.trim())
        }
        _ => Bearer::Malformed,
    }
}

/// The request's path without the stage prefix that named (non-`$default`) stages add.
fn route_path(event: &ApiGatewayV2CustomAuthorizerV2Request) -> &str {
    let path = event
        .raw_path
        .as_deref()
        .or(event.request_context.http.path.as_deref())
        .unwrap_or_default();
    match event.request_context.stage.as_deref() {
        Some(stage) if stage != "$default" => path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(stage))
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(path),
        _ => path,
    }
}

fn guest_may_call(claims: &GuestClaims, event: &ApiGatewayV2CustomAuthorizerV2Request) -> bool {
    let path = route_path(event);
    if path == "/session-message" {
        return event.request_context.http.method == http::Method::POST;
    }
    match path.strip_prefix("/session/") {
        Some(rest) => {
            let rest = rest.trim_end_matches('/');
            rest == claims.session_id || rest.strip_suffix("/messages") == Some(claims.session_id.as_str())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(method: &str, raw_path: &str, stage: &str) -> ApiGatewayV2CustomAuthorizerV2Request {
        serde_json::from_value(json!({
            "version": "2.0",
            "type": "REQUEST",
            "rawPath": raw_path,
            "headers": {},
            "requestContext": {"http": {"method": method, "path": raw_path}, "stage": stage, "timeEpoch": 0},
        }))
        .expect("an authorizer event")
    }

    fn claims() -> GuestClaims {
        GuestClaims {
            session_id: "S1".into(),
            bot_id: "B1".into(),
            expires_at: 0,
        }
    }

    #[test]
    fn a_named_stage_prefix_is_not_part_of_the_route() {
        assert!(guest_may_call(&claims(), &event("GET", "/prod/session/S1", "prod")));
        assert!(guest_may_call(
            &claims(),
            &event("POST", "/prod/session-message", "prod")
        ));
        assert!(!guest_may_call(&claims(), &event("GET", "/prod/session/S2", "prod")));
        // Without a named stage, a path that merely starts like one is taken as it is.
        assert!(!guest_may_call(
            &claims(),
            &event("GET", "/prod/session/S1", "$default")
        ));
        assert!(guest_may_call(
            &claims(),
            &event("GET", "/session/S1/messages/", "$default")
        ));
        assert!(!guest_may_call(
            &claims(),
            &event("GET", "/session/S1/messages/x", "$default")
        ));
    }
}
