//! From lambda_http's request context to the principal layer of `parley-api`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use parley_api::AuthorizerContext;

/// Copies the Lambda authorizer's context (`requestContext.authorizer.lambda`) of an
/// HTTP API request into the extensions as [`AuthorizerContext`], where
/// `PrincipalSource::AuthorizerContext` reads it. A request without one (e.g. a route
/// without the authorizer, such as `GET /health`) is anonymous.
pub async fn authorizer_context(mut req: Request, next: Next) -> Response {
    let fields = req
        .extensions()
        .get::<RequestContext>()
        .and_then(RequestContext::authorizer)
        .filter(|a| !a.fields.is_empty())
        .map(|a| a.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    if let Some(fields) = fields {
        req.extensions_mut().insert(AuthorizerContext(fields));
    }
    next.run(req).await
}
