//! What a streaming function (`session-stream`) needs around its router, under
//! `lambda_http::run_with_streaming_response`. That runtime writes each response as a
//! JSON prelude (`statusCode`, `headers`, `cookies`), eight NUL bytes, then the body as
//! it comes. Its prelude serializes a header that occurs once as a string but a repeated
//! one as an array of strings (and drops values that are not visible ASCII), while API
//! Gateway's REST API takes single-valued string headers only: [`streaming_app`] folds
//! each repeated header into one comma-separated value first (RFC 9110 §5.3), as
//! `Vary` is on a CORS preflight. `Set-Cookie`, which cannot be folded, is left to the
//! runtime, which moves it to the prelude's `cookies`.

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::header::{HeaderMap, HeaderValue, SET_COOKIE};

/// A function's router (from [`crate::function_app`], so routed by the event's path) as
/// a streaming function serves it: every response's headers single-valued.
pub fn streaming_app(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(single_valued_headers))
}

async fn single_valued_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    fold_repeated(response.headers_mut());
    response
}

/// Folds each repeated header (but `Set-Cookie`) into one comma-separated value, and
/// drops values the prelude could not carry as a string.
pub fn fold_repeated(headers: &mut HeaderMap) {
    let names: Vec<_> = headers.keys().filter(|n| **n != SET_COOKIE).cloned().collect();
    for name in names {
        let values: Vec<&str> = headers.get_all(&name).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.len() == 1 && headers.get_all(&name).iter().count() == 1 {
            continue;
        }
        let folded = HeaderValue::from_str(&values.join(", "));
        match folded {
            Ok(value) if !values.is_empty() => {
                headers.insert(&name, value);
            }
            _ => {
                headers.remove(&name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use http::header::VARY;
    use lambda_http::lambda_runtime::MetadataPrelude;
    use tower::ServiceExt;

    use super::*;

    /// The prelude lambda_http writes for `headers`, as JSON.
    fn prelude(headers: HeaderMap) -> serde_json::Value {
        let prelude = MetadataPrelude {
            status_code: http::StatusCode::OK,
            headers,
            cookies: Vec::new(),
        };
        serde_json::to_value(prelude).expect("JSON")
    }

    #[tokio::test]
    async fn repeated_headers_reach_the_prelude_as_one_string() {
        let router = Router::new().route(
            "/",
            get(|| async {
                let mut headers = HeaderMap::new();
                headers.append(VARY, HeaderValue::from_static("origin"));
                headers.append(VARY, HeaderValue::from_static("access-control-request-method"));
                headers.append(SET_COOKIE, HeaderValue::from_static("a=1"));
                headers.append(SET_COOKIE, HeaderValue::from_static("b=2"));
                headers.insert("x-binary", HeaderValue::from_bytes(b"caf\xe9").expect("obs-text"));
                headers.insert("content-type", HeaderValue::from_static("text/event-stream"));
                (headers, "data: x\n\n")
            }),
        );
        let request = || {
            http::Request::get("/")
                .body(axum::body::Body::empty())
                .expect("a request")
        };

        // Without the layer, the runtime would write an array and an empty array.
        let raw = router.clone().oneshot(request()).await.expect("infallible");
        let raw = prelude(raw.headers().clone());
        assert_eq!(
            raw["headers"]["vary"],
            serde_json::json!(["origin", "access-control-request-method"])
        );
        assert_eq!(raw["headers"]["x-binary"], serde_json::json!([]));

        let response = streaming_app(router).oneshot(request()).await.expect("infallible");
        assert_eq!(
            response.headers().get_all(SET_COOKIE).iter().count(),
            2,
            "cookies are the runtime's"
        );
        let mut headers = response.headers().clone();
        headers.remove(SET_COOKIE);
        let folded = prelude(headers);
        assert_eq!(folded["headers"]["vary"], "origin, access-control-request-method");
        assert_eq!(folded["headers"]["content-type"], "text/event-stream");
        assert!(folded["headers"].get("x-binary").is_none(), "{folded}");
        let headers = folded["headers"].as_object().expect("headers");
        assert!(headers.values().all(serde_json::Value::is_string), "{folded}");
    }
}
