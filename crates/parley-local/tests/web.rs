//! The web app beside the API: `parley` serves the built files, SPA routes fall back to
//! `index.html` with the security headers, `/config.json` says "local", and every API
//! path answers exactly as without the web app.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use parley_local::web::{CONTENT_SECURITY_POLICY, WebConfig, attach};
use parley_local::{LocalConfig, build};
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

const INDEX: &str = "<!doctype html><title>Parley</title><script type=\"module\" src=\"/assets/app-1.js\"></script>";

struct Site {
    router: Router,
    _data: TempDir,
    _dist: TempDir,
}

/// The local app with a built web app of `index.html` and one asset.
fn site() -> Site {
    let data = tempfile::tempdir().expect("data dir");
    let dist = tempfile::tempdir().expect("dist dir");
    std::fs::write(dist.path().join("index.html"), INDEX).expect("index");
    std::fs::create_dir(dist.path().join("assets")).expect("assets");
    std::fs::write(dist.path().join("assets/app-1.js"), "console.log(1)").expect("asset");
    std::fs::write(data.path().join("secret.txt"), "not for the web").expect("secret");
    let app = build(&LocalConfig::for_data_dir(data.path()), None).expect("app");
    let router = attach(
        app.router,
        &WebConfig {
            dir: dist.path().to_owned(),
        },
    );
    Site {
        router,
        _data: data,
        _dist: dist,
    }
}

async fn get(router: &Router, path: &str, accept: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn spa_routes_fall_back_to_index_html_with_security_headers() {
    // GIVEN a built web app
    let site = site();
    for path in ["/", "/s/some-code", "/chat/abc", "/bots/new", "/rooms/r1"] {
        // WHEN a browser opens one of the app's routes
        let (status, headers, body) = get(&site.router, path, BROWSER).await;
        // THEN it gets index.html, with a CSP that allows no inline script, no framing
        // and no referrer
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, INDEX, "{path}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert_eq!(csp, CONTENT_SECURITY_POLICY);
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !csp.split(';')
                .any(|d| d.contains("script-src") && d.contains("unsafe-inline"))
        );
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

#[tokio::test]
async fn built_files_are_served_and_hashed_assets_cached() {
    let site = site();
    let (status, headers, body) = get(&site.router, "/assets/app-1.js", "*/*").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "console.log(1)");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    // A missing asset is a 404, not index.html (a script tag must never get HTML).
    let (status, _, _) = get(&site.router, "/assets/gone.js", "*/*").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nothing_outside_the_web_directory_is_served() {
    let site = site();
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/../../secret.txt",
        "/.parley-stamp",
    ] {
        let (status, _, body) = get(&site.router, path, "*/*").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("not for the web"), "{path}");
    }
}

#[tokio::test]
async fn config_json_tells_the_app_it_runs_locally_on_this_origin() {
    let site = site();
    let (status, headers, body) = get(&site.router, "/config.json", "application/json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let config: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(config["mode"], "local");
    assert_eq!(config["apiBase"], "");
    assert_eq!(config["streamBase"], "");
}

#[tokio::test]
async fn api_paths_answer_as_without_the_web_app() {
    // GIVEN the same app with and without the web app
    let site = site();
    let data = tempfile::tempdir().expect("data");
    let bare = build(&LocalConfig::for_data_dir(data.path()), None)
        .expect("app")
        .router;
    for (path, accept) in [
        ("/health", BROWSER),
        ("/models", BROWSER),
        ("/share/unknown-code", BROWSER),
        ("/session/nope", BROWSER),
        ("/no-such-api-path", "application/json"),
        ("/openapi.json", BROWSER),
    ] {
        // WHEN an API path is asked for, even by a browser
        let with_web = get(&site.router, path, accept).await;
        let without = get(&bare, path, accept).await;
        // THEN the answer is the API's, unchanged
        assert_eq!(with_web.0, without.0, "{path}");
        assert_eq!(
            with_web.1.get(header::CONTENT_TYPE),
            without.1.get(header::CONTENT_TYPE),
            "{path}"
        );
        assert_ne!(with_web.2, INDEX, "{path}");
    }
    // A POST to an unknown path stays the API's problem+json 404.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/s/x")
        .header(header::ACCEPT, BROWSER)
        .body(Body::empty())
        .unwrap();
    let response = site.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
}

#[tokio::test]
async fn without_a_built_app_the_router_is_unchanged() {
    let data = tempfile::tempdir().expect("data");
    let empty = tempfile::tempdir().expect("empty dist");
    let config = WebConfig {
        dir: empty.path().to_owned(),
    };
    assert!(!config.available());
    let router = attach(
        build(&LocalConfig::for_data_dir(data.path()), None).unwrap().router,
        &config,
    );
    let (status, headers, _) = get(&router, "/s/code", BROWSER).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
}
