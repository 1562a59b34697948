//! The web app beside the API: the built files of `web/dist` at `/`, the SPA's routes
//! falling back to `index.html`, and `/config.json` telling the app it runs locally.
//!
//! Only what no API route matches reaches this: it replaces the API's not-found fallback,
//! and answers exactly as that fallback did (a problem+json `404`) for anything that is
//! not a `GET`/`HEAD` of a file or of a page a browser asks for (`Accept: text/html`).
//! A missing directory means no web app: [`attach`] then leaves the router as it is.
//!
//! HTML carries a Content-Security-Policy without inline scripts, `frame-ancestors
//! 'none'` and `Referrer-Policy: no-referrer`; every answer carries `nosniff`. Files
//! under `assets/` (content-hashed names) may be cached for good; everything else is
//! `no-cache`.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_api::ApiError;
use parley_core::CoreError;

/// The policy on every HTML page. Styles may be inline (the toast library and React's
/// `style` attributes set them); scripts come only from this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Where the built web app is: `PARLEY_WEB_DIR`, or the repository's `web/dist`.
#[derive(Clone, Debug)]
pub struct WebConfig {
    pub dir: PathBuf,
}

impl WebConfig {
    pub fn from_env() -> Self {
        match std::env::var("PARLEY_WEB_DIR") {
            Ok(dir) if !dir.trim().is_empty() => Self { dir: dir.trim().into() },
            _ => Self {
                dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist"),
            },
        }
    }

    /// Whether there is a built app to serve (its `index.html`).
    pub fn available(&self) -> bool {
        self.dir.join("index.html").is_file()
    }
}

/// `router` with the web app as its fallback when `config` points at a built app;
/// otherwise `router` unchanged.
pub fn attach(router: Router, config: &WebConfig) -> Router {
    if !config.available() {
        tracing::info!(dir = %config.dir.display(), "no web app built: serving the API only");
        return router;
    }
    let dir = config.dir.canonicalize().unwrap_or_else(|_| config.dir.clone());
    let web = Router::new()
        .fallback(serve)
        .with_state(dir)
        .layer(axum::middleware::from_fn(parley_api::log::request_log));
    router.fallback_service(web)
}

async fn serve(State(dir): State<PathBuf>, request: Request) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        return not_found();
    }
    let path = request.uri().path().to_owned();
    if path == "/config.json" {
        return config_json();
    }
    if let Some(relative) = file_path(&path) {
        let file = dir.join(&relative);
        if file.is_file() {
            // The directory is ours; a symlink leading out of it is not served.
            let inside = file.canonicalize().is_ok_and(|f| f.starts_with(&dir));
            if inside && let Ok(bytes) = tokio::fs::read(&file).await {
                let immutable = relative.starts_with("assets/");
                return file_response(&relative, bytes, immutable, &method);
            }
        }
    }
    if accepts_html(request.headers()) {
        return match tokio::fs::read(dir.join("index.html")).await {
            Ok(bytes) => file_response("index.html", bytes, false, &method),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the web app's index.html");
                not_found()
            }
        };
    }
    not_found()
}

/// The API's answer to a path it does not have.
fn not_found() -> Response {
    let mut response = ApiError::Core(CoreError::NotFound).into_response();
    // As the API's own answers: never stored.
    plain_headers(response.headers_mut(), "no-store");
    response
}

/// `{"mode":"local","apiBase":"","streamBase":""}`: the API and the streams are on the
/// page's own origin (an empty base).
fn config_json() -> Response {
    let body = r#"{"mode":"local","apiBase":"","streamBase":""}"#;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    plain_headers(headers, "no-cache");
    response
}

/// The relative file path `path` names, when every segment is a plain name (letters,
/// digits, `-`, `_`, `.`, not starting with a dot): never `..`, never hidden files.
fn file_path(path: &str) -> Option<String> {
    let relative = path.strip_prefix('/')?;
    if relative.is_empty() {
        return None;
    }
    let plain = relative.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    plain.then(|| relative.to_owned())
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn file_response(path: &str, bytes: Vec<u8>, immutable: bool, method: &Method) -> Response {
    let kind = content_type(path);
    let length = bytes.len();
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    plain_headers(
        headers,
        if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        },
    );
    if kind.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

fn plain_headers(headers: &mut HeaderMap, cache: &'static str) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_become_file_paths() {
        assert_eq!(
            file_path("/assets/index-abc.js").as_deref(),
            Some("assets/index-abc.js")
        );
        assert_eq!(file_path("/favicon.svg").as_deref(), Some("favicon.svg"));
        for hostile in [
            "/",
            "/../secret",
            "/assets/../../x",
            "/.env",
            "/a//b",
            "/a%2e%2e/b",
            "/a\\b",
        ] {
            assert_eq!(file_path(hostile), None, "{hostile}");
        }
    }
}
