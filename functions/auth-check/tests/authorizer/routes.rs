//! Anonymous callers, malformed headers and guest tokens, route by route.

use parley_auth::GuestTokens;
use parley_runtime::testing::TEST_GUEST_KEY;
use serde_json::json;

use crate::support::{Pool, assert_denied, assert_refused, authorize};

const SESSION: &str = "01JDQ0000000000000000000AA";
const BOT: &str = "01JDQ0000000000000000000BB";

fn guest_token(session: &str, ttl: u64) -> String {
    let guests = GuestTokens::new(TEST_GUEST_KEY.as_bytes()).expect("key");
    format!(
        "Bearer {}",
        guests.issue(session, BOT, parley_api::auth::unix_now(), ttl)
    )
}

#[tokio::test]
async fn a_request_without_a_token_is_anonymous_and_a_bad_header_is_refused() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);
    let response = authorize(&authorizer, "GET", "/share/abc", None).await;
    assert_eq!(
        response,
        json!({"isAuthorized": true, "context": {"kind": "anonymous"}})
    );
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token-without-scheme"] {
        assert_denied(&authorize(&authorizer, "GET", "/models", Some(header)).await, header);
    }
}

#[tokio::test]
async fn a_guest_token_opens_only_its_own_sessions_routes() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);
    let token = guest_token(SESSION, 3600);
    let own_session = format!("/session/{SESSION}");
    let own_messages = format!("/session/{SESSION}/messages");
    for (method, path) in [
        ("GET", own_session.as_str()),
        ("PUT", &own_session),
        ("GET", &own_messages),
        ("POST", "/session-message"),
    ] {
        let response = authorize(&authorizer, method, path, Some(&token)).await;
        assert_eq!(
            response,
            json!({"isAuthorized": true, "context": {"kind": "guest", "sessionId": SESSION, "botId": BOT}}),
            "{method} {path}"
        );
    }
    // The table itself is tested in `parley_api::access`; here, that auth-check uses it.
    let other_session = "/session/01JDQ0000000000000000000CC";
    let other_messages = format!("{other_session}/messages");
    let sneaky = format!("/session/{SESSION}/../01JDQ0000000000000000000CC");
    for (method, path) in [("GET", other_session), ("GET", other_messages.as_str())] {
        assert_refused(
            &authorize(&authorizer, method, path, Some(&token)).await,
            "other_session",
            &format!("{method} {path}"),
        );
    }
    for (method, path) in [
        ("GET", "/chat-configs"),
        ("POST", "/create-chat"),
        ("GET", "/share/abcdefghijklmnopqrstuv"),
        ("GET", "/session-message"),
        ("POST", "/room/01JDQ0000000000000000000DD/messages"),
        ("GET", sneaky.as_str()),
    ] {
        assert_refused(
            &authorize(&authorizer, method, path, Some(&token)).await,
            "guest_off_route",
            &format!("{method} {path}"),
        );
    }
}

/// A named stage's prefix is not part of the route the guest rules see.
#[tokio::test]
async fn guest_routes_are_matched_without_the_stage_prefix() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);
    let token = guest_token(SESSION, 3600);
    let mut event = crate::support::event("GET", &format!("/prod/session/{SESSION}"), Some(&token));
    event.payload["requestContext"]["stage"] = "prod".into();
    let response = parley_runtime::authorize(&authorizer, event).await.expect("a decision");
    assert_eq!(response["context"]["kind"], "guest", "{response}");
}

#[tokio::test]
async fn an_expired_or_foreign_guest_token_is_refused() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);
    let path = format!("/session/{SESSION}");
    let expired = {
        let guests = GuestTokens::new(TEST_GUEST_KEY.as_bytes()).expect("key");
        format!(
            "Bearer {}",
            guests.issue(SESSION, BOT, parley_api::auth::unix_now() - 7200, 3600)
        )
    };
    assert_denied(
        &authorize(&authorizer, "GET", &path, Some(&expired)).await,
        "expired guest token",
    );
    let foreign = {
        let guests = GuestTokens::new(b"another-platform-key-0123456789abcdef").expect("key");
        format!(
            "Bearer {}",
            guests.issue(SESSION, BOT, parley_api::auth::unix_now(), 3600)
        )
    };
    assert_denied(
        &authorize(&authorizer, "GET", &path, Some(&foreign)).await,
        "guest token of another key",
    );
}
