//! The REST API's (v1) REQUEST-authorizer events, in front of `session-stream`: the same
//! pipeline and route rules as the HTTP API's, answered with an IAM policy for exactly
//! the event's `methodArn` and the same context, every value a string.

use parley_api::auth::principal_from_authorizer;
use parley_auth::GuestTokens;
use parley_runtime::lambda_runtime::{Context, LambdaEvent};
use parley_runtime::testing::TEST_GUEST_KEY;
use serde_json::{Value, json};

use crate::support::{Pool, assert_refused, authorize, authorize_rest, claims};

const SESSION: &str = "01JDQ0000000000000000000AA";
const BOT: &str = "01JDQ0000000000000000000BB";
const ARN_PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/";

fn guest_token(session: &str) -> String {
    let guests = GuestTokens::new(TEST_GUEST_KEY.as_bytes()).expect("key");
    format!(
        "Bearer {}",
        guests.issue(session, BOT, parley_api::auth::unix_now(), 3600)
    )
}

/// Asserts the policy allows `execute-api:Invoke` on exactly `method path` of the stage,
/// and that the context holds no array or object (the REST API refuses them).
fn assert_allows_only(response: &Value, method: &str, path: &str) {
    assert_eq!(
        response["policyDocument"],
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": "Allow",
                "Resource": format!("{ARN_PREFIX}{method}{path}"),
            }],
        }),
        "{response}"
    );
    let context = response["context"].as_object().expect("a context");
    assert!(
        context
            .values()
            .all(|v| v.is_string() || v.is_number() || v.is_boolean()),
        "a REST authorizer context takes strings, numbers and booleans only: {response}"
    );
}

#[tokio::test]
async fn a_signed_in_user_gets_a_policy_for_the_method_and_the_http_apis_context() {
    // GIVEN a user of the pool in the admin group, signed in.
    let pool = Pool::new().await;
    let user = pool.user(&["admin"]).await;
    let authorizer = pool.authorizer(60);
    let sub = claims(&user.id_token)["sub"].as_str().expect("sub").to_owned();
    let bearer = format!("Bearer {}", user.id_token);
    let path = format!("/session/{SESSION}/messages/3/stream");

    // WHEN the REST API asks about their streaming request.
    let response = authorize_rest(
        &authorizer,
        "GET",
        "/session/{id}/messages/{seq}/stream",
        &path,
        Some(&bearer),
    )
    .await;

    // THEN the method is allowed, for the user's sub, with the HTTP API's very context.
    assert_allows_only(&response, "GET", &path);
    assert_eq!(response["principalId"], sub.as_str(), "{response}");
    let http = authorize(&authorizer, "GET", &path, Some(&bearer)).await;
    assert_eq!(response["context"], http["context"], "both APIs carry one context");
    assert_eq!(
        response["context"],
        json!({"kind": "user", "sub": sub, "email": format!("{}@example.com", user.username), "groups": "admin"})
    );
    let principal = principal_from_authorizer(response["context"].as_object().expect("ctx")).expect("a principal");
    assert!(principal.is_admin(), "{principal:?}");
}

#[tokio::test]
async fn no_token_is_anonymous_and_a_bad_token_is_a_refusal_the_function_answers() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);

    let anonymous = authorize_rest(
        &authorizer,
        "POST",
        "/session-message/stream",
        "/session-message/stream",
        None,
    )
    .await;
    assert_allows_only(&anonymous, "POST", "/session-message/stream");
    assert_eq!(anonymous["principalId"], "anonymous");
    assert_eq!(anonymous["context"], json!({"kind": "anonymous"}));

    // A refusal is allowed through with the refusal in the context, as on the HTTP API:
    // the function answers its problem+json (401 here) instead of API Gateway's bare 403.
    for header in ["Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer"] {
        let refused = authorize_rest(
            &authorizer,
            "POST",
            "/session-message/stream",
            "/session-message/stream",
            Some(header),
        )
        .await;
        assert_allows_only(&refused, "POST", "/session-message/stream");
        assert_eq!(refused["principalId"], "refused", "{header}");
        assert_refused(&refused, "invalid_token", header);
    }
}

#[tokio::test]
async fn a_guest_token_opens_its_own_session_only_by_the_events_path() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);
    let token = guest_token(SESSION);

    // Own session: the guest principal (the event's `path` has no stage prefix, while
    // `requestContext.path` has `/prod`).
    let own = format!("/session/{SESSION}/messages");
    let response = authorize_rest(&authorizer, "GET", "/session/{id}/messages", &own, Some(&token)).await;
    assert_allows_only(&response, "GET", &own);
    assert_eq!(response["principalId"], format!("guest:{SESSION}"));
    assert_eq!(
        response["context"],
        json!({"kind": "guest", "sessionId": SESSION, "botId": BOT})
    );

    // Another session's route: refused as `other_session` (the function answers 404).
    let other = "/session/01JDQ0000000000000000000CC/messages";
    let response = authorize_rest(&authorizer, "GET", "/session/{id}/messages", other, Some(&token)).await;
    assert_refused(&response, "other_session", other);

    // A route that is no guest's, by method or path: `guest_off_route`.
    for (method, resource, path) in [
        ("GET", "/chat-configs", "/chat-configs"),
        ("DELETE", "/session-message", "/session-message"),
        (
            "POST",
            "/room/{id}/messages",
            "/room/01JDQ0000000000000000000DD/messages",
        ),
    ] {
        let response = authorize_rest(&authorizer, method, resource, path, Some(&token)).await;
        assert_refused(&response, "guest_off_route", &format!("{method} {path}"));
    }
}

#[tokio::test]
async fn an_event_of_neither_api_is_an_error_not_an_answer() {
    let pool = Pool::new().await;
    let authorizer = pool.authorizer(60);
    // A TOKEN authorizer's event: auth-check is never configured as one.
    let token_event = json!({
        "type": "TOKEN",
        "authorizationToken": "Bearer x",
        "methodArn": format!("{ARN_PREFIX}GET/models"),
    });
    let answer = parley_runtime::authorize(&authorizer, LambdaEvent::new(token_event, Context::default())).await;
    let error = answer.expect_err("no answer to a TOKEN event").to_string();
    assert!(error.contains("not an authorizer event"), "{error}");
    assert!(!error.contains("Bearer"), "the error never quotes a token: {error}");
}
