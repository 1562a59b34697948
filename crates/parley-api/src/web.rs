//! What browsers see: `X-Content-Type-Options: nosniff` and `Cache-Control: no-store` on
//! every response (answers are per caller and must not be sniffed or cached), and CORS
//! for the origins the deployment lists (`CORS_ORIGINS`, read by the binaries).
//!
//! CORS rules: only a listed origin gets CORS headers, its own origin echoed back (never
//! `*`); preflights from it are answered here with `204`, before authentication. The
//! API authenticates with the `Authorization` header, not cookies, so it never sends
//! `Access-Control-Allow-Credentials`. With no origins listed there are no CORS headers
//! at all, and a preflight is treated as any other `OPTIONS` request.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_core::CoreError;

use crate::error::ApiError;

/// Methods and request headers a listed origin may use.
const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE";
const ALLOW_HEADERS: &str = "authorization, content-type, if-match";
/// Response headers the web app may read besides the CORS-safelisted ones.
const EXPOSE_HEADERS: &str = "etag, retry-after";
/// How long a browser may reuse a preflight answer, in seconds.
const MAX_AGE_SECONDS: &str = "600";

/// The browser origins allowed to call the API (`CORS_ORIGINS`, comma-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsOrigins(Arc<Vec<String>>);

impl CorsOrigins {
    /// No origin: no CORS headers.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses `scheme://host[:port]` entries separated by commas (blank entries ignored).
    /// A wildcard, `null`, a path or a non-http(s) scheme is refused, with the entry named.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let lower = entry.trim_end_matches('/').to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"))
                .ok_or_else(|| format!("{entry:?} is not an http(s) origin such as https://app.example.com"))?;
            if rest.is_empty() || rest.contains(['/', '*', '?', '#', '@', ' ']) {
                return Err(format!(
                    "{entry:?} is not an origin (scheme://host[:port], no wildcard, no path)"
                ));
            }
            origins.push(lower);
        }
        Ok(Self(Arc::new(origins)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request's `Origin` is listed (scheme and host compared case-insensitively).
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// `nosniff` and `no-store` on every response (a handler's own `Cache-Control` stays).
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// CORS for the listed origins; see the module documentation.
pub(crate) async fn cors(State(origins): State<CorsOrigins>, request: Request, next: Next) -> Response {
    if origins.is_empty() {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .filter(|o| origins.allows(o))
        .and(origin.clone());
    let preflight = request.method() == Method::OPTIONS
        && origin.is_some()
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match (preflight, &allowed) {
        (true, Some(_)) => StatusCode::NO_CONTENT.into_response(),
        (true, None) => {
            ApiError::Core(CoreError::Forbidden("this origin is not allowed to call the API")).into_response()
        }
        (false, _) => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if preflight {
            headers.append(
                header::VARY,
                HeaderValue::from_static("access-control-request-method, access-control-request-headers"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECONDS),
            );
        } else {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::HeaderMap;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::PrincipalSource;

    const APP: &str = "https://app.example.com";

    fn app(origins: &str) -> Router {
        let routes = Router::new().route("/thing", get(|| async { axum::Json(serde_json::json!({"ok": true})) }));
        crate::finish_with(
            routes,
            PrincipalSource::AuthorizerContext,
            &CorsOrigins::parse(origins).expect("origins"),
        )
    }

    async fn send(router: Router, method: Method, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap) {
        let mut request = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = router
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        (response.status(), response.headers().clone())
    }

    fn cors_headers(headers: &HeaderMap) -> Vec<&str> {
        headers
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.starts_with("access-control-"))
            .collect()
    }

    #[tokio::test]
    async fn json_and_problem_responses_are_neither_sniffed_nor_stored() {
        // GIVEN the finished router without CORS
        for (path, status) in [("/thing", StatusCode::OK), ("/nowhere", StatusCode::NOT_FOUND)] {
            // WHEN a JSON answer and a problem+json answer come back
            let (got, headers) = send(app(""), Method::GET, path, &[]).await;
            // THEN both carry nosniff and no-store
            assert_eq!(got, status);
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
            assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{path}");
        }
    }

    #[tokio::test]
    async fn without_cors_origins_there_are_no_cors_headers() {
        let (status, headers) = send(app(""), Method::GET, "/thing", &[("origin", APP)]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(cors_headers(&headers).is_empty(), "{headers:?}");
        let (status, headers) = send(
            app(""),
            Method::OPTIONS,
            "/thing",
            &[("origin", APP), ("access-control-request-method", "POST")],
        )
        .await;
        assert_ne!(status, StatusCode::NO_CONTENT, "no preflight is answered");
        assert!(cors_headers(&headers).is_empty(), "{headers:?}");
    }

    #[tokio::test]
    async fn a_listed_origin_gets_its_own_origin_back_and_its_preflight_answered() {
        let router = app("https://other.example, https://APP.example.com");
        let (status, headers) = send(router.clone(), Method::GET, "/thing", &[("origin", APP)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], APP);
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        let (status, headers) = send(
            router,
            Method::OPTIONS,
            "/thing",
            &[
                ("origin", APP),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "authorization, if-match"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], APP);
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .is_ok_and(|m| m.contains("PUT"))
        );
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .is_ok_and(|h| h.contains("authorization"))
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[tokio::test]
    async fn an_unlisted_origin_gets_no_cors_headers_and_its_preflight_is_refused() {
        let router = app(APP);
        let evil = "https://evil.example";
        let (status, headers) = send(router.clone(), Method::GET, "/thing", &[("origin", evil)]).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the browser, not the server, withholds the answer"
        );
        assert!(cors_headers(&headers).is_empty(), "{headers:?}");
        let (status, headers) = send(
            router,
            Method::OPTIONS,
            "/thing",
            &[("origin", evil), ("access-control-request-method", "POST")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert!(cors_headers(&headers).is_empty(), "{headers:?}");
    }

    #[test]
    fn wildcards_paths_and_other_schemes_are_refused() {
        for bad in [
            "*",
            "https://*.example.com",
            "null",
            "https://app.example.com/path",
            "ftp://x.example",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad} accepted");
        }
        let origins = CorsOrigins::parse(" https://a.example ,, http://localhost:5173/ ").expect("two origins");
        assert!(origins.allows("https://a.example") && origins.allows("http://localhost:5173"));
        assert!(!origins.allows("https://a.example:8443"));
        assert!(CorsOrigins::parse("").expect("none").is_empty());
    }
}
