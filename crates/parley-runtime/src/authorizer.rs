//! `auth-check`: the Lambda authorizer of both APIs, from one binary. It answers the HTTP
//! API's authorizer events (payload format 2.0) with simple responses, and the REST API's
//! (v1) REQUEST-authorizer events, in front of the streaming routes (`session-stream`),
//! with an IAM policy for the event's `methodArn`. [`AuthorizerEvent::from_value`] tells
//! them apart by shape: `"version": "2.0"` is the HTTP API's, `"type": "REQUEST"` with a
//! `methodArn` the REST API's.
//!
//! Both run the one principal pipeline of `parley-api` ([`TokenAuthenticator`]): bearer
//! token → verified claims (Cognito's JWKS by the DESIGN checklist, or the platform's
//! guest key) → the user's status (disabled? signed out? asked of Cognito, cached for at
//! most `PARLEY_USER_STATUS_TTL_SECONDS`) → principal → the route rules of
//! `parley_api::access` (a guest token opens its own session's routes only), on the
//! request's method and path (without the stage). The local server runs the same
//! pipeline as middleware, so all three answer alike.
//!
//! Every decision is handed to the function in the authorizer context, refusals
//! included: `{kind: "refused", refusal}` makes the function answer the problem+json
//! the local server answers (401, 404 or 503), where API Gateway's own denial could only
//! say 403 without a body. A function reads an unknown or refused context as a refusal,
//! so nothing is served on a refused token. The REST API's policy therefore allows the
//! method for refusals too; it denies only when there is no decision to carry (never, in
//! this pipeline: see [`rest_response`]). No `Authorization` header is
//! `{kind: "anonymous"}`: several routes serve anonymous callers, and the functions
//! decide what they may do. Both authorizers therefore have no identity source and no
//! result cache (TTL 0), so no answer is ever reused for another token or route.
//!
//! The context of a principal is `{kind, sub, email, groups, sessionId, botId}`, every
//! value a string, `groups` comma-separated: the REST API's context takes strings,
//! numbers and booleans only (`parley_api::auth::principal_from_authorizer` reads it).

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayV2CustomAuthorizerSimpleResponse,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use parley_api::TokenAuthenticator;
use parley_api::access::Refusal;
use parley_api::auth::{authorizer_context, refusal_context};
use parley_core::Principal;
use serde::Serialize;
use serde_json::{Map, Value};

/// Runs the principal pipeline on authorizer events.
pub struct Authorizer {
    tokens: TokenAuthenticator,
}

/// What the pipeline decided for one request.
pub type Decision = Result<Principal, Refusal>;

/// An authorizer event of either API.
#[derive(Debug)]
pub enum AuthorizerEvent {
    /// The HTTP API's (payload format 2.0).
    Http(Box<ApiGatewayV2CustomAuthorizerV2Request>),
    /// The REST API's REQUEST authorizer (v1).
    Rest(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
}

/// An event that is neither API's authorizer event (e.g. a REST `TOKEN` authorizer's).
#[derive(Debug, thiserror::Error)]
#[error("not an authorizer event auth-check answers: {0}")]
pub struct UnknownEvent(String);

impl AuthorizerEvent {
    /// The event, by its shape.
    pub fn from_value(event: Value) -> Result<Self, UnknownEvent> {
        let text = |k: &str| event.get(k).and_then(Value::as_str);
        if text("version") == Some("2.0") {
            // The parser's message is left out: it could quote a header value.
            let event = serde_json::from_value(event).map_err(|_| UnknownEvent("a malformed HTTP API event".into()))?;
            Ok(Self::Http(Box::new(event)))
        } else if text("type") == Some("REQUEST") && text("methodArn").is_some() {
            let event = serde_json::from_value(event).map_err(|_| UnknownEvent("a malformed REST API event".into()))?;
            Ok(Self::Rest(Box::new(event)))
        } else {
            Err(UnknownEvent(format!(
                "type {:?}, version {:?}",
                text("type").unwrap_or_default(),
                text("version").unwrap_or_default()
            )))
        }
    }
}

/// The answer to an event: the simple response for the HTTP API, the IAM policy response
/// for the REST API.
pub fn respond(event: &AuthorizerEvent, decision: &Decision) -> Value {
    let answer = match event {
        AuthorizerEvent::Http(_) => serde_json::to_value(into_response(decision)),
        AuthorizerEvent::Rest(event) => serde_json::to_value(rest_response(event, decision)),
    };
    answer.unwrap_or_default()
}

/// The context carrying `decision` to the function.
fn context(decision: &Decision) -> Map<String, Value> {
    match decision {
        Ok(principal) => authorizer_context(principal),
        Err(refusal) => {
            tracing::info!(refusal = refusal.as_str(), "request refused");
            refusal_context(*refusal)
        }
    }
}

/// The simple response carrying `decision` to the function.
pub fn into_response(decision: &Decision) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = true;
    response.context = Value::Object(context(decision));
    response
}

/// The REST API's authorizer response, as API Gateway documents its output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    pub context: Map<String, Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub action: &'static str,
    pub effect: &'static str,
    pub resource: String,
}

/// The policy carrying `decision` to the function: `execute-api:Invoke` on exactly the
/// event's `methodArn` (nothing wider, so even a cached answer could open no other
/// route), allowed for principals and refusals alike (the function answers a refusal's
/// problem+json; see the module documentation), and denied only for an event without a
/// method ARN, which names nothing to allow. `principalId` is the user's `sub`, the
/// guest's session, or the kind (`anonymous`, `refused`): never a token.
pub fn rest_response(event: &ApiGatewayCustomAuthorizerRequestTypeRequest, decision: &Decision) -> RestResponse {
    let principal_id = match decision {
        Ok(Principal::User(user)) => user.id.as_str().to_owned(),
        Ok(Principal::Guest { session_id, .. }) => format!("guest:{}", session_id.as_str()),
        Ok(Principal::Anonymous) => "anonymous".to_owned(),
        Err(_) => "refused".to_owned(),
    };
    let arn = event.method_arn.as_deref().unwrap_or_default();
    RestResponse {
        principal_id,
        policy_document: PolicyDocument {
            version: "2012-10-17",
            statement: vec![Statement {
                action: "execute-api:Invoke",
                effect: if arn.is_empty() { "Deny" } else { "Allow" },
                resource: if arn.is_empty() { "*".to_owned() } else { arn.to_owned() },
            }],
        },
        context: context(decision),
    }
}

impl Authorizer {
    pub fn new(tokens: TokenAuthenticator) -> Self {
        Self { tokens }
    }

    /// The decision for one authorizer event of either API.
    pub async fn decide(&self, event: &AuthorizerEvent) -> Decision {
        match event {
            AuthorizerEvent::Http(event) => self.decide_http(event).await,
            AuthorizerEvent::Rest(event) => self.decide_rest(event).await,
        }
    }

    /// The decision for one HTTP API authorizer event.
    #[tracing::instrument(skip_all, fields(route = event.route_key.as_deref().unwrap_or_default()))]
    pub async fn decide_http(&self, event: &ApiGatewayV2CustomAuthorizerV2Request) -> Decision {
        let method = &event.request_context.http.method;
        self.tokens.decide(&event.headers, method, route_path(event)).await
    }

    /// The decision for one REST API REQUEST-authorizer event: its `httpMethod` and
    /// `path` (the path without the stage; `requestContext.path` has it).
    #[tracing::instrument(skip_all, fields(route = event.resource.as_deref().unwrap_or_default()))]
    pub async fn decide_rest(&self, event: &ApiGatewayCustomAuthorizerRequestTypeRequest) -> Decision {
        let method = event
            .http_method
            .clone()
            .or_else(|| event.request_context.http_method.clone())
            // No method matches no route rule (API Gateway always sends one).
            .unwrap_or_else(|| http::Method::from_bytes(b"UNKNOWN").unwrap_or_default());
        let path = event.path.as_deref().unwrap_or_default();
        self.tokens.decide(&event.headers, &method, path).await
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

    fn rest(method_arn: &str) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
        serde_json::from_value(json!({
            "type": "REQUEST", "methodArn": method_arn, "resource": "/models", "path": "/models",
            "httpMethod": "GET", "headers": {}, "requestContext": {"stage": "prod"},
        }))
        .expect("a REST authorizer event")
    }

    #[test]
    fn events_are_told_apart_by_their_shape() {
        let http = json!({"version": "2.0", "type": "REQUEST", "rawPath": "/models", "headers": {},
            "requestContext": {"http": {"method": "GET"}, "timeEpoch": 0}});
        assert!(matches!(
            AuthorizerEvent::from_value(http),
            Ok(AuthorizerEvent::Http(_))
        ));
        let rest = json!({"type": "REQUEST", "methodArn": "arn:x", "path": "/models", "httpMethod": "GET",
            "requestContext": {}});
        assert!(matches!(
            AuthorizerEvent::from_value(rest),
            Ok(AuthorizerEvent::Rest(_))
        ));
        // A REQUEST event without a method ARN, a TOKEN event, or no event at all: neither.
        for other in [
            json!({"type": "REQUEST", "path": "/models", "requestContext": {}}),
            json!({"type": "TOKEN", "methodArn": "arn:x", "authorizationToken": "t"}),
            json!("x"),
        ] {
            assert!(AuthorizerEvent::from_value(other).is_err());
        }
    }

    #[test]
    fn the_rest_policy_names_exactly_the_method_arn_and_carries_refusals_in_the_context() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/models";
        let refused = serde_json::to_value(rest_response(&rest(arn), &Err(Refusal::Unavailable))).expect("JSON");
        assert_eq!(
            refused,
            json!({
                "principalId": "refused",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}]},
                "context": {"kind": "refused", "refusal": "unavailable"},
            })
        );
        // With no method ARN there is nothing to allow.
        let nothing = serde_json::to_value(rest_response(&rest(""), &Ok(Principal::Anonymous))).expect("JSON");
        assert_eq!(nothing["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(nothing["policyDocument"]["Statement"][0]["Resource"], "*");
    }
}
