//! `auth-check`: the HTTP API Lambda authorizer (payload format 2.0, simple responses).
//!
//! It runs the one principal pipeline of `parley-api` ([`TokenAuthenticator`]): bearer
//! token → verified claims (Cognito's JWKS by the DESIGN checklist, or the platform's
//! guest key) → the user's status (disabled? signed out? asked of Cognito, cached for at
//! most `PARLEY_USER_STATUS_TTL_SECONDS`) → principal → the route rules of
//! `parley_api::access` (a guest token opens its own session's routes only). The local
//! server runs the same pipeline as middleware, so both answer alike.
//!
//! Every decision is handed to the function in the authorizer context, refusals
//! included: `{kind: "refused", refusal}` makes the function answer the problem+json
//! the local server answers (401, 404 or 503), where API Gateway's own denial could only
//! say 403 without a body. A function reads an unknown or refused context as a refusal,
//! so nothing is served on a refused token. No `Authorization` header is
//! `{kind: "anonymous"}`: several routes serve anonymous callers, and the functions
//! decide what they may do. The API's authorizer therefore has no identity source and
//! no result cache (TTL 0), so no answer is ever reused for another token or route.
//!
//! The context of a principal is `{kind, sub, email, groups, sessionId, botId}` with
//! `groups` comma-separated (`parley_api::auth::principal_from_authorizer` reads it).

use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use parley_api::TokenAuthenticator;
use parley_api::access::Refusal;
use parley_api::auth::{authorizer_context, refusal_context};
use parley_core::Principal;
use serde_json::Value;

/// Runs the principal pipeline on authorizer events.
pub struct Authorizer {
    tokens: TokenAuthenticator,
}

/// What the pipeline decided for one request.
pub type Decision = Result<Principal, Refusal>;

/// The simple response carrying `decision` to the function.
pub fn into_response(decision: &Decision) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    let context = match decision {
        Ok(principal) => authorizer_context(principal),
        Err(refusal) => {
            tracing::info!(refusal = refusal.as_str(), "request refused");
            refusal_context(*refusal)
        }
    };
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = true;
    response.context = Value::Object(context);
    response
}

impl Authorizer {
    pub fn new(tokens: TokenAuthenticator) -> Self {
        Self { tokens }
    }

    /// The decision for one authorizer event.
    #[tracing::instrument(skip_all, fields(route = event.route_key.as_deref().unwrap_or_default()))]
    pub async fn decide(&self, event: &ApiGatewayV2CustomAuthorizerV2Request) -> Decision {
        let method = &event.request_context.http.method;
        self.tokens.decide(&event.headers, method, route_path(event)).await
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(raw_path: &str, stage: &str) -> ApiGatewayV2CustomAuthorizerV2Request {
        serde_json::from_value(json!({
            "version": "2.0",
            "type": "REQUEST",
            "rawPath": raw_path,
            "headers": {},
            "requestContext": {"http": {"method": "GET", "path": raw_path}, "stage": stage, "timeEpoch": 0},
        }))
        .expect("an authorizer event")
    }

    #[test]
    fn a_named_stage_prefix_is_not_part_of_the_route() {
        assert_eq!(route_path(&event("/prod/session/S1", "prod")), "/session/S1");
        assert_eq!(route_path(&event("/prod/session-message", "prod")), "/session-message");
        // Without a named stage, a path that merely starts like one is taken as it is.
        assert_eq!(route_path(&event("/prod/session/S1", "$default")), "/prod/session/S1");
        assert_eq!(route_path(&event("/production/x", "prod")), "/production/x");
    }
}
