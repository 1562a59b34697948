//! The principal layer: who is calling, established once per request, from one of two
//! sources. Locally the token pipeline runs here as middleware; in Lambda the API
//! Gateway authorizer (`auth-check`) has already run the very same pipeline and passed
//! its outcome in its context. Either way the same [`Principal`] (or the same refusal,
//! see [`crate::access`]) reaches the same handlers.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_auth::{AuthError, CognitoVerifier, GuestTokens, UserStatus, is_guest_token};
use parley_core::Principal;
use parley_core::ids::{BotId, SessionId, UserId};
use parley_core::principal::User;
use serde_json::Value;

use crate::access::{Refusal, admit};
use crate::error::ApiError;

/// Where the principal comes from.
#[derive(Clone)]
pub enum PrincipalSource {
    /// Run the token pipeline here (the local server, in either mode).
    Verifier(Arc<TokenAuthenticator>),
    /// Read the API Gateway authorizer context (Lambda mode); see [`AuthorizerContext`].
    AuthorizerContext,
}

/// The authorizer's context as the Lambda adapter found it in the request:
/// `{kind, sub, email, groups, sessionId, botId}`, or `{kind: "refused", refusal}`.
#[derive(Clone, Debug)]
pub struct AuthorizerContext(pub serde_json::Map<String, Value>);

/// The one principal pipeline: bearer token → verified claims → the user's status
/// (disabled? signed out? asked of the identity provider, cached at most a minute) →
/// [`Principal`] → the route rules of [`crate::access`]. The local server and
/// `auth-check` both run it.
pub struct TokenAuthenticator {
    users: CognitoVerifier,
    status: Arc<dyn UserStatus>,
    guests: Arc<GuestTokens>,
}

impl TokenAuthenticator {
    /// `status` is a `CachedUserStatus` in front of Cognito in the cloud, and
    /// `parley_auth::NoStatusCheck` for the development identity provider, which cannot
    /// disable anyone.
    pub fn new(users: CognitoVerifier, status: Arc<dyn UserStatus>, guests: Arc<GuestTokens>) -> Self {
        Self { users, status, guests }
    }

    /// The principal of a request with these headers, calling `method path`.
    pub async fn decide(&self, headers: &HeaderMap, method: &Method, path: &str) -> Result<Principal, Refusal> {
        let principal = match bearer(headers)? {
            None => Principal::Anonymous,
            Some(token) => self.authenticate(token, unix_now()).await?,
        };
        admit(&principal, method, path)?;
        Ok(principal)
    }

    /// Who `token` speaks for at `now_unix`, whatever the route.
    pub async fn authenticate(&self, token: &str, now_unix: u64) -> Result<Principal, Refusal> {
        if is_guest_token(token) {
            let claims = self.guests.verify(token, now_unix).map_err(|e| rejected(&e))?;
            return guest(&claims.session_id, &claims.bot_id);
        }
        let user = self.users.verify_at(token, now_unix).await.map_err(|e| rejected(&e))?;
        if !self.status.is_active(&user, token).await.map_err(|e| rejected(&e))? {
            return Err(rejected(&AuthError::Inactive));
        }
        let id = UserId::parse(&user.sub).map_err(|_| Refusal::InvalidToken)?;
        Ok(Principal::User(User {
            id,
            email: user.email,
            groups: user.groups,
        }))
    }
}

fn rejected(e: &AuthError) -> Refusal {
    if e.is_unavailable() {
        tracing::error!(error = %e, "cannot verify tokens now");
        Refusal::Unavailable
    } else {
        // The reason is worth a line; the token itself never is.
        tracing::info!(reason = %e, "token rejected");
        Refusal::InvalidToken
    }
}

fn guest(session_id: &str, bot_id: &str) -> Result<Principal, Refusal> {
    let session_id = SessionId::parse(session_id).map_err(|_| Refusal::InvalidToken)?;
    let bot_id = BotId::parse(bot_id).map_err(|_| Refusal::InvalidToken)?;
    Ok(Principal::Guest { session_id, bot_id })
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The middleware: puts the caller's [`Principal`] into the request's extensions, or
/// answers the refusal (see [`crate::access`]).
pub async fn principal_layer(State(source): State<PrincipalSource>, mut req: Request, next: Next) -> Response {
    let decided = match &source {
        PrincipalSource::Verifier(auth) => auth.decide(req.headers(), req.method(), req.uri().path()).await,
        PrincipalSource::AuthorizerContext => {
            let from_context = match req.extensions().get::<AuthorizerContext>() {
                None => Ok(Principal::Anonymous),
                Some(ctx) => principal_from_authorizer(&ctx.0),
            };
            // `auth-check` applied the route rules already; applying them again costs
            // nothing and keeps a function safe behind a misconfigured authorizer.
            from_context.and_then(|p| admit(&p, req.method(), req.uri().path()).map(|()| p))
        }
    };
    match decided {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(refusal) => ApiError::from(refusal).into_response(),
    }
}

/// The bearer token of the `Authorization` header; `None` without one, a refusal for a
/// header that is not `Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Refusal::InvalidToken)?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(Refusal::InvalidToken),
    }
}

/// Reads the principal that `auth-check` put in the authorizer context. `groups` may be
/// a JSON array or a comma-separated string (API Gateway flattens context values).
pub fn principal_from_authorizer(ctx: &serde_json::Map<String, Value>) -> Result<Principal, Refusal> {
    let text = |k: &str| ctx.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match text("kind") {
        None | Some("anonymous") => Ok(Principal::Anonymous),
        Some("refused") => Err(Refusal::parse(text("refusal").unwrap_or_default())),
        Some("guest") => guest(text("sessionId").unwrap_or_default(), text("botId").unwrap_or_default()),
        Some("user") => {
            let id = UserId::parse(text("sub").unwrap_or_default()).map_err(|_| Refusal::InvalidToken)?;
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
        Some(_) => Err(Refusal::InvalidToken),
    }
}

/// The context `auth-check` hands to the functions for a principal;
/// [`principal_from_authorizer`] reads it back.
pub fn authorizer_context(principal: &Principal) -> serde_json::Map<String, Value> {
    let mut ctx = serde_json::Map::new();
    match principal {
        Principal::Anonymous => {
            ctx.insert("kind".into(), "anonymous".into());
        }
        Principal::Guest { session_id, bot_id } => {
            ctx.insert("kind".into(), "guest".into());
            ctx.insert("sessionId".into(), session_id.as_str().into());
            ctx.insert("botId".into(), bot_id.as_str().into());
        }
        Principal::User(user) => {
            ctx.insert("kind".into(), "user".into());
            ctx.insert("sub".into(), user.id.as_str().into());
            if let Some(email) = &user.email {
                ctx.insert("email".into(), email.as_str().into());
            }
            ctx.insert("groups".into(), user.groups.join(",").into());
        }
    }
    ctx
}

/// The context `auth-check` hands to the functions for a refusal: the function answers
/// it as the local server does, with the same status and problem+json.
pub fn refusal_context(refusal: Refusal) -> serde_json::Map<String, Value> {
    let mut ctx = serde_json::Map::new();
    ctx.insert("kind".into(), "refused".into());
    ctx.insert("refusal".into(), refusal.as_str().into());
    ctx
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
    fn contexts_written_for_auth_check_read_back_as_the_same_principal_or_refusal() {
        let user = Principal::User(User {
            id: UserId::from_trusted("abc"),
            email: Some("a@x.io".into()),
            groups: vec!["admin".into(), "tier-pro".into()],
        });
        let guest = Principal::Guest {
            session_id: SessionId::from_trusted("01JDQ0000000000000000000AA"),
            bot_id: BotId::from_trusted("01JDQ0000000000000000000BB"),
        };
        for p in [Principal::Anonymous, user, guest] {
            assert_eq!(principal_from_authorizer(&authorizer_context(&p)), Ok(p));
        }
        for r in [Refusal::InvalidToken, Refusal::GuestOffRoute, Refusal::Unavailable] {
            assert_eq!(principal_from_authorizer(&refusal_context(r)), Err(r));
        }
    }

    #[test]
    fn authorizer_context_gives_guests_and_refuses_unknown_kinds() {
        let p = principal_from_authorizer(&ctx(
            json!({"kind":"guest","sessionId":"01JDQ0000000000000000000AA","botId":"01JDQ0000000000000000000BB"}),
        ));
        assert!(matches!(p, Ok(Principal::Guest { .. })));
        assert_eq!(
            principal_from_authorizer(&ctx(json!({"kind":"root","sub":"x"}))),
            Err(Refusal::InvalidToken)
        );
        assert!(principal_from_authorizer(&ctx(json!({"kind":"user"}))).is_err());
        assert!(matches!(
            principal_from_authorizer(&ctx(json!({}))),
            Ok(Principal::Anonymous)
        ));
    }
}
