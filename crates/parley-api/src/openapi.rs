//! The OpenAPI 3.1 document of the API, derived from the handlers' annotations and the
//! request and response types, so that it cannot drift from the routes: each function's
//! router is built from the very [`OpenApiRouter`]s whose operations this collects.
//!
//! Each operation's tag names the function that serves it (`local` for the development
//! sign-in, which is never deployed); guest-token routes carry `x-parley-guest: true`
//! (the table [`crate::access::GUEST_ROUTES`] the authorizer uses). The document is
//! committed as `docs/openapi.json` (`make openapi` writes it), served at
//! `GET /openapi.json`, read by the deployment for its route table and by the web app
//! for its client types. A test fails when any two of these disagree.

use utoipa::OpenApi;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};
use utoipa_axum::router::OpenApiRouter;

use crate::ApiState;
use crate::access::GUEST_ROUTES;
use crate::error::Problem;
use crate::routes;

/// The functions of the design that serve HTTP routes, as the document's tags name them.
pub const FUNCTIONS: &[&str] = &[
    "create-chat",
    "chat-config",
    "chat-session",
    "chat-room",
    "session-message",
    "session-stream",
];

/// The tag of the routes only the local server mounts.
pub const LOCAL_ONLY: &str = "local";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parley API",
        version = "1",
        description = "Shareable AI bots: create a bot, share its link, chat with it alone or in rooms. \
            Every error is application/problem+json with a stable `code`. Send `Authorization: Bearer` \
            with a Cognito ID token, or a guest token from `POST /chat-session`; some routes answer \
            anonymous callers too."
    ),
    components(schemas(Problem)),
    tags(
        (name = "create-chat", description = "Create bots"),
        (name = "chat-config", description = "Bots, their persona and share links; models; health"),
        (name = "chat-session", description = "One person's sessions with a bot"),
        (name = "chat-room", description = "Rooms where a group talks with a bot"),
        (name = "session-message", description = "Sending messages; stopping a reply"),
        (name = "session-stream", description = "Sending with the reply streamed as server-sent events; \
            following a reply (behind the REST API in the cloud)"),
        (name = "local", description = "The local server's development sign-in (never deployed)"),
    )
)]
struct Base;

/// Every route's operation, from the routers the functions serve.
fn collected() -> Document {
    let mut api = OpenApiRouter::<ApiState>::with_openapi(Base::openapi())
        .merge(routes::create_chat::routes())
        .merge(routes::chat_config::routes())
        .merge(routes::chat_session::routes())
        .merge(routes::chat_room::routes())
        .merge(routes::session_message::routes())
        .merge(routes::session_stream::routes())
        .into_openapi();
    api.merge(routes::health_routes().into_openapi());
    api.merge(routes::dev::routes().into_openapi());
    api
}

/// The document: the collected operations, each with the problem answers, the bearer
/// scheme, and the guest mark.
pub fn document() -> Document {
    let mut api = collected();
    let problem = Content::new(Some(Ref::from_schema_name("Problem")));
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = describe(status).into();
                }
            }
            for (status, description) in [("4XX", "The request was refused"), ("5XX", "The server failed")] {
                op.responses.responses.entry(status.into()).or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(description)
                        .content("application/problem+json", problem.clone())
                        .into()
                });
            }
            if GUEST_ROUTES.contains(&(method, path.as_str())) {
                let guest = ExtensionsBuilder::new().add("x-parley-guest", true).build();
                match &mut op.extensions {
                    Some(e) => e.merge(guest),
                    None => op.extensions = Some(guest),
                }
            }
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    api.security = Some(vec![
        utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
        utoipa::openapi::security::SecurityRequirement::default(),
    ]);
    api
}

/// What a success status means, for responses the annotations leave undescribed (the
/// document requires a description on every response).
fn describe(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "Done; no content",
        _ => "Answer",
    }
}

/// [`document`] as the pretty JSON committed in `docs/openapi.json`.
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// The operations of a path item with their methods, in a fixed order.
fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("PATCH", &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
    .collect()
}

/// Every `(method, path, tag)` of the document.
pub fn route_table(api: &Document) -> Vec<(String, String, String)> {
    let mut table = Vec::new();
    for (path, item) in &api.paths.paths {
        let mut item = item.clone();
        for (method, op) in operations(&mut item) {
            for tag in op.tags.clone().unwrap_or_default() {
                table.push((method.to_owned(), path.clone(), tag));
            }
        }
    }
    table
}
