//! From lambda_http's request context to `parley-api`: the principal layer's authorizer
//! context, and the client address the rate limits count by.

use std::net::IpAddr;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use parley_api::{AuthorizerContext, ClientAddr};
use parley_core::limits::ClientAddress;
use subtle::ConstantTimeEq;

/// How a function knows that a request came through the site's CloudFront distribution,
/// and so may believe the viewer's address CloudFront wrote. Behind CloudFront, API
/// Gateway's `sourceIp` is the CloudFront server that connected, which many clients
/// share; the distribution sends [`EDGE_KEY_HEADER`] with `PARLEY_EDGE_KEY` on every
/// request to the APIs, and its viewer-request function writes the viewer's address into
/// [`VIEWER_ADDRESS_HEADER`], over whatever the client sent there. A request to an API's
/// own endpoint has no key, so a client that writes the header itself gains nothing.
#[derive(Clone, Default)]
pub struct EdgeTrust {
    key: Option<std::sync::Arc<str>>,
}

/// The header that proves a request came through the distribution.
pub const EDGE_KEY_HEADER: &str = "x-parley-edge-key";
/// The viewer's address, as the distribution's viewer-request function writes it.
pub const VIEWER_ADDRESS_HEADER: &str = "x-parley-viewer-address";

impl EdgeTrust {
    /// Trusts requests that carry `key` (none: `sourceIp` is the client's address).
    pub fn new(key: Option<&str>) -> Self {
        Self {
            key: key.map(Into::into),
        }
    }

    /// The viewer's address, if the request proves it came through the distribution.
    fn viewer(&self, headers: &http::HeaderMap) -> Option<IpAddr> {
        let key = self.key.as_deref()?;
        let sent = headers.get(EDGE_KEY_HEADER)?.as_bytes();
        // In a time that does not depend on where the two differ.
        if !bool::from(sent.ct_eq(key.as_bytes())) {
            return None;
        }
        headers.get(VIEWER_ADDRESS_HEADER)?.to_str().ok()?.trim().parse().ok()
    }
}

/// Copies the Lambda authorizer's context into the extensions as [`AuthorizerContext`],
/// where `PrincipalSource::AuthorizerContext` reads it: `requestContext.authorizer.lambda`
/// of an HTTP API request, `requestContext.authorizer.<key>` of a REST API (v1) request
/// (lambda_http gives both as the authorizer's `fields`; the REST one also holds API
/// Gateway's `principalId` and `integrationLatency`, which the principal ignores). Every
/// value `auth-check` writes is a string, `groups` comma-joined, as the REST API requires.
/// A request without one (e.g. a route without the authorizer, such as `GET /health`)
/// is anonymous.
///
/// Also puts the client's address there as [`ClientAddr`]: the viewer's address when
/// `edge` vouches for the request, else API Gateway's `sourceIp`
/// (`requestContext.http.sourceIp` of an HTTP API, `requestContext.identity.sourceIp`
/// of a REST API), which API Gateway takes from the connection, not from a header the
/// client writes. Without one the request counts as [`ClientAddress::UNKNOWN`].
pub async fn authorizer_context(State(edge): State<EdgeTrust>, mut req: Request, next: Next) -> Response {
    let context = req.extensions().get::<RequestContext>();
    let fields = context
        .and_then(RequestContext::authorizer)
        .filter(|a| !a.fields.is_empty())
        .map(|a| a.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    let from = edge
        .viewer(req.headers())
        .or_else(|| context.and_then(source_ip))
        .map_or(ClientAddress::UNKNOWN, ClientAddress::new);
    if let Some(fields) = fields {
        req.extensions_mut().insert(AuthorizerContext(fields));
    }
    req.extensions_mut().insert(ClientAddr(from));
    next.run(req).await
}

/// `router`, routing every request by its path without the API's stage, which is the path
/// `auth-check` applied the route rules to. lambda_http puts a named stage in front of a
/// REST API (v1) request's path (`/prod/session/…`; a REST API's stage is always named),
/// so the event's own `path`, which has none, is taken instead. An HTTP API's raw path
/// starts with its stage when the stage is named (`/api/create-chat` on stage `api`, as
/// the deployment names it), so that prefix is dropped. The rewrite wraps the whole
/// router, since routing happens before a route's layers.
pub fn routed_by_event_path(router: Router) -> Router {
    Router::new()
        .fallback_service(router)
        .layer(axum::middleware::from_fn(event_path))
}

async fn event_path(mut req: Request, next: Next) -> Response {
    let path = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(_)) => Some(req.extensions().raw_http_path().to_owned()),
        Some(RequestContext::ApiGatewayV2(ctx)) => match ctx.stage.as_deref() {
            Some(stage) if stage != "$default" => req
                .uri()
                .path()
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(stage))
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                .map(|rest| {
                    if rest.is_empty() {
                        "/".to_owned()
                    } else {
                        rest.to_owned()
                    }
                }),
            _ => None,
        },
        _ => None,
    };
    if let Some(path) = path.filter(|p| p.starts_with('/')) {
        let target = match req.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        if let Ok(target) = target.parse::<PathAndQuery>() {
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = Some(target);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    next.run(req).await
}

/// API Gateway's `sourceIp`, if the request context has one that is an IP address.
fn source_ip(context: &RequestContext) -> Option<IpAddr> {
    let ip = match context {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref(),
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.as_deref(),
        _ => None,
    };
    ip.and_then(|ip| ip.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request context of an event, as lambda_http hands it to the router.
    fn context(event: &str) -> RequestContext {
        lambda_http::request::from_str(event)
            .expect("an API Gateway event")
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .expect("a request context")
    }

    fn rest_event(source_ip: &str) -> String {
        serde_json::json!({
            "resource": "/chat-session", "path": "/chat-session", "httpMethod": "POST",
            "headers": {}, "multiValueHeaders": {}, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "123456789012", "apiId": "abc", "stage": "prod", "requestId": "r",
                "resourcePath": "/chat-session", "httpMethod": "POST", "path": "/prod/chat-session",
                "identity": {"sourceIp": source_ip},
            },
        })
        .to_string()
    }

    #[test]
    fn the_source_ip_of_http_and_rest_apis_is_the_client_address() {
        // GIVEN an HTTP API (payload 2.0) event: requestContext.http.sourceIp.
        let v2 = context(include_str!("../fixtures/create-chat.json"));
        assert!(matches!(v2, RequestContext::ApiGatewayV2(_)));
        assert_eq!(source_ip(&v2), Some("192.0.2.1".parse().expect("ip")));
        // GIVEN a REST API (v1) event: requestContext.identity.sourceIp.
        let v1 = context(&rest_event("2001:db8::7"));
        assert!(matches!(v1, RequestContext::ApiGatewayV1(_)));
        assert_eq!(source_ip(&v1), Some("2001:db8::7".parse().expect("ip")));
        // A malformed source IP is no address (counted as `unknown`).
        assert_eq!(source_ip(&context(&rest_event("not-an-ip"))), None);
    }

    #[tokio::test]
    async fn an_http_api_request_on_a_named_stage_is_routed_without_the_stage() {
        use axum::routing::get;
        use tower::ServiceExt;

        let app = routed_by_event_path(axum::Router::new().route("/health", get(|| async { "ok" })));
        let on_stage = |stage: &str, raw_path: &str| {
            let mut event: serde_json::Value =
                serde_json::from_str(include_str!("../fixtures/health.json")).expect("the fixture is JSON");
            event["rawPath"] = raw_path.into();
            event["requestContext"]["http"]["path"] = raw_path.into();
            event["requestContext"]["stage"] = stage.into();
            lambda_http::request::from_str(&event.to_string()).expect("an HTTP API event")
        };
        let status = |request: lambda_http::Request| {
            let app = app.clone();
            async move { app.oneshot(request).await.expect("infallible").status().as_u16() }
        };
        // GIVEN the deployment's stage `api`: `/api/health` is the route `/health`.
        assert_eq!(status(on_stage("api", "/api/health")).await, 200);
        // The default stage adds nothing, so its paths are taken as they are.
        assert_eq!(status(on_stage("$default", "/health")).await, 200);
        assert_eq!(status(on_stage("$default", "/api/health")).await, 404);
        // Only a whole first segment is the stage: `/apihealth` is not `/health`.
        assert_eq!(status(on_stage("api", "/apihealth")).await, 404);
    }

    #[tokio::test]
    async fn the_viewers_address_counts_only_with_the_distributions_key() {
        use axum::routing::post;
        use tower::ServiceExt;

        const KEY: &str = "edge-key-0123456789abcdef0123456789";
        let address_seen = |trust: EdgeTrust, headers: &'static [(&'static str, &'static str)]| async move {
            let app = axum::Router::new()
                .route(
                    "/chat-session",
                    post(|axum::Extension(ClientAddr(a)): axum::Extension<ClientAddr>| async move { a.key() }),
                )
                .layer(axum::middleware::from_fn_with_state(trust, authorizer_context));
            let mut event: serde_json::Value =
                serde_json::from_str(include_str!("../fixtures/create-chat.json")).expect("JSON");
            event["rawPath"] = "/chat-session".into();
            event["requestContext"]["http"]["path"] = "/chat-session".into();
            for (name, value) in headers {
                event["headers"][*name] = (*value).into();
            }
            let request = lambda_http::request::from_str(&event.to_string()).expect("an event");
            let response = app.oneshot(request).await.expect("infallible");
            let body = axum::body::to_bytes(response.into_body(), 1024).await.expect("body");
            String::from_utf8_lossy(&body).into_owned()
        };
        let source = ClientAddress::new("192.0.2.1".parse().expect("ip")).key();
        let viewer = ClientAddress::new("2001:db8::9".parse().expect("ip")).key();
        let trusted = || EdgeTrust::new(Some(KEY));
        // GIVEN the distribution's key and the viewer's address THEN the viewer counts.
        let through_cloudfront = &[(EDGE_KEY_HEADER, KEY), (VIEWER_ADDRESS_HEADER, "2001:db8::9")];
        assert_eq!(address_seen(trusted(), through_cloudfront).await, viewer);
        // A client calling the API's own endpoint with a made-up address: sourceIp.
        let forged = &[
            (EDGE_KEY_HEADER, "edge-key-0123456789abcdef0123456780"),
            (VIEWER_ADDRESS_HEADER, "2001:db8::9"),
        ];
        assert_eq!(address_seen(trusted(), forged).await, source);
        assert_eq!(
            address_seen(trusted(), &[(VIEWER_ADDRESS_HEADER, "2001:db8::9")]).await,
            source
        );
        // Without a configured key, nothing a request says is believed.
        assert_eq!(address_seen(EdgeTrust::default(), through_cloudfront).await, source);
        // A key but no usable address: sourceIp.
        let garbled = &[(EDGE_KEY_HEADER, KEY), (VIEWER_ADDRESS_HEADER, "not-an-ip")];
        assert_eq!(address_seen(trusted(), garbled).await, source);
    }

    /// A REST API (v1) request to `session-stream` with the context `auth-check` wrote.
    const REST_AUTHORIZED: &str = include_str!("../../../functions/session-stream/tests/fixtures/resume-stream.json");

    /// The principal the principal layer hands to the handler of `event`, as
    /// `"{kind} {id} {groups}"`, or the refusal's status.
    async fn principal_of(event: &str) -> (u16, String) {
        use axum::routing::get;
        use parley_core::Principal;
        use tower::ServiceExt;

        let routes = axum::Router::new().route(
            "/session/{id}/messages/{seq}/stream",
            get(|axum::Extension(p): axum::Extension<Principal>| async move {
                match p {
                    Principal::User(u) => format!("user {} {}", u.id.as_str(), u.groups.join("|")),
                    Principal::Guest { session_id, .. } => format!("guest {}", session_id.as_str()),
                    Principal::Anonymous => "anonymous".to_owned(),
                }
            }),
        );
        let app = routed_by_event_path(
            parley_api::finish(routes, parley_api::PrincipalSource::AuthorizerContext).layer(
                axum::middleware::from_fn_with_state(EdgeTrust::default(), authorizer_context),
            ),
        );
        let request = lambda_http::request::from_str(event).expect("a REST API event");
        let response = app.oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("a body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_rest_apis_authorizer_context_is_the_principal() {
        // GIVEN a REST API event on stage `prod` whose `requestContext.authorizer` holds
        // auth-check's context beside API Gateway's own `principalId` and
        // `integrationLatency`; lambda_http makes its URI `/prod/session/…`.
        assert!(matches!(context(REST_AUTHORIZED), RequestContext::ApiGatewayV1(_)));
        let request = lambda_http::request::from_str(REST_AUTHORIZED).expect("an event");
        assert!(request.uri().path().starts_with("/prod/session/"), "{}", request.uri());
        // THEN the handler sees that user, with the comma-joined groups split.
        assert_eq!(
            principal_of(REST_AUTHORIZED).await,
            (
                200,
                "user f5d4a1b2-2e9c-4e4d-9d7c-6a0b5f1e3c45 admin|tier-pro".to_owned()
            )
        );
        // A refusal in the context is answered as the local server answers it.
        let refused = REST_AUTHORIZED.replace(
            r#""kind": "user","#,
            r#""kind": "refused", "refusal": "invalid_token","#,
        );
        let (status, body) = principal_of(&refused).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains(r#""code":"unauthorized""#), "{body}");
        // No authorizer (a route without one): anonymous, whatever the headers say.
        let mut none: serde_json::Value = serde_json::from_str(REST_AUTHORIZED).expect("JSON");
        none["requestContext"]
            .as_object_mut()
            .expect("a request context")
            .remove("authorizer");
        assert_eq!(principal_of(&none.to_string()).await, (200, "anonymous".to_owned()));
    }
}
