//! The OpenAPI document, the routes each function serves, the committed
//! `docs/openapi.json` and the authorizer's guest-route table agree: the deployment maps
//! routes to functions by the document's tags, and the web app's client types are
//! generated from the committed file, so a disagreement would be a broken deployment or
//! a client calling a route that is not there.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use parley_api::access::GUEST_ROUTES;
use parley_api::openapi::{FUNCTIONS, LOCAL_ONLY, document, document_json, route_table};
use parley_api::{ApiState, function_router};
use parley_auth::GuestTokens;
use serde_json::Value;
use tower::ServiceExt;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    std::fs::read_to_string(path).expect("docs/openapi.json is committed")
}

/// A concrete path for a templated one: every `{param}` becomes a well-formed id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{kind}" => "facts",
            s if s.starts_with('{') => "01JDQ0000000000000000000AA",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `router` has a route for `method path`: axum's own answer to a route it does
/// not have is a 404 or 405 without a body, while every handler here answers (even to a
/// request without principal) with JSON or problem+json.
async fn serves(router: &axum::Router, method: &str, path: &str) -> bool {
    let req = Request::builder()
        .method(method)
        .uri(concrete(path))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .expect("request");
    let response = router.clone().oneshot(req).await.expect("infallible");
    let unrouted = matches!(
        response.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) && response.headers().get(header::CONTENT_TYPE).is_none();
    !unrouted
}

fn state(app: &TestApp) -> ApiState {
    let guests = GuestTokens::new(b"a-guest-secret-of-at-least-32-bytes!").expect("guest secret");
    ApiState::new(app.app.parley.clone(), Arc::new(guests))
}

#[test]
fn the_committed_document_is_the_one_the_code_derives() {
    // GIVEN the document derived from the handlers and types
    // THEN docs/openapi.json holds exactly it (`make openapi` rewrites the file).
    assert!(
        committed() == document_json(),
        "docs/openapi.json is stale: run `make openapi` and commit it"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_unique_operation_ids_and_known_tags() {
    let doc: Value = serde_json::from_str(&document_json()).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for (method, path, tag) in route_table(&document()) {
        assert!(
            FUNCTIONS.contains(&tag.as_str()) || tag == LOCAL_ONLY,
            "{method} {path} has tag {tag}, which no function serves"
        );
        let op = &doc["paths"][&path][method.to_lowercase()];
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{method} {path} has no operationId");
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        for (status, response) in op["responses"].as_object().expect("responses") {
            assert!(
                response["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
        }
    }
    assert!(ids.len() > 30, "only {} operations", ids.len());
}

#[tokio::test]
async fn each_function_serves_exactly_the_operations_its_tag_names() {
    // GIVEN every function's router, as its Lambda binary builds it
    let app = TestApp::new();
    let table = route_table(&document());
    for function in FUNCTIONS {
        let router = function_router(function, state(&app)).expect("a function of the design");
        for (method, path, tag) in &table {
            // Every function answers its health check.
            if tag == LOCAL_ONLY || path == "/health" {
                continue;
            }
            let mine = tag == function;
            // A room's history (chat-room) and sending into it (session-message) share a
            // path; each function must still serve its own method and not the other's.
            assert_eq!(
                serves(&router, method, path).await,
                mine,
                "{function} {} {method} {path} (tagged {tag})",
                if mine { "does not serve" } else { "also serves" }
            );
        }
    }
    // The health check is in every deployed router (added by `finish`).
    let finished = parley_api::finish(
        function_router("create-chat", state(&app)).expect("create-chat"),
        parley_api::PrincipalSource::AuthorizerContext,
    );
    assert!(serves(&finished, "GET", "/health").await);
}

#[test]
fn the_authorizer_s_guest_routes_are_the_operations_marked_for_guests() {
    let doc: Value = serde_json::from_str(&document_json()).expect("JSON");
    let marked: BTreeSet<(String, String)> = route_table(&document())
        .into_iter()
        .filter(|(method, path, _)| doc["paths"][path][method.to_lowercase()]["x-parley-guest"] == true)
        .map(|(method, path, _)| (method, path))
        .collect();
    let table: BTreeSet<(String, String)> = GUEST_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        marked, table,
        "every guest route must be a documented operation, marked"
    );
}

#[tokio::test]
async fn the_server_serves_the_document_to_anyone() {
    let app = TestApp::new();
    let reply = app.get("/openapi.json", None).await;
    reply.expect(200, None);
    assert_eq!(reply.body, serde_json::from_str::<Value>(&committed()).expect("JSON"));
}
