//! From lambda_http's request context to `parley-api`: the principal layer's authorizer
//! context, and the client address the rate limits count by.

use std::net::IpAddr;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use parley_api::{AuthorizerContext, ClientAddr};
use parley_core::limits::ClientAddress;

/// Copies the Lambda authorizer's context (`requestContext.authorizer.lambda`) of an
/// HTTP API request into the extensions as [`AuthorizerContext`], where
/// `PrincipalSource::AuthorizerContext` reads it. A request without one (e.g. a route
/// without the authorizer, such as `GET /health`) is anonymous.
///
/// Also puts the client's address there as [`ClientAddr`]: API Gateway's `sourceIp`
/// (`requestContext.http.sourceIp` of an HTTP API, `requestContext.identity.sourceIp`
/// of a REST API), which API Gateway takes from the connection, not from a header the
/// client writes. Without one the request counts as [`ClientAddress::UNKNOWN`].
pub async fn authorizer_context(mut req: Request, next: Next) -> Response {
    let context = req.extensions().get::<RequestContext>();
    let fields = context
        .and_then(RequestContext::authorizer)
        .filter(|a| !a.fields.is_empty())
        .map(|a| a.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    let from = context
        .and_then(source_ip)
        .map_or(ClientAddress::UNKNOWN, ClientAddress::new);
    if let Some(fields) = fields {
        req.extensions_mut().insert(AuthorizerContext(fields));
    }
    req.extensions_mut().insert(ClientAddr(from));
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
}
