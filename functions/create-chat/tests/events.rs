//! `create-chat` driven by API Gateway HTTP API events, against the local AWS emulator.

use parley_runtime::testing::{assert_health, call, emulator_functions, event};

const CREATE: &str = include_str!("fixtures/create-chat.json");
const CREATE_ANONYMOUS: &str = include_str!("fixtures/create-chat-anonymous.json");

#[tokio::test]
async fn answers_health_and_creates_a_bot_for_the_authorizers_user() {
    let [create_chat] = emulator_functions(["create-chat"]).await;
    assert_health(&create_chat).await;

    // GIVEN the authorizer's context for Alice WHEN she creates a bot THEN she owns it,
    // and it is stored (its share link resolves through the same store).
    let (status, bot) = call(&create_chat, event(CREATE, &[])).await;
    assert_eq!(status, 201, "{bot}");
    assert_eq!(bot["ownerId"], "7c1e4a52-0d4f-4c47-9b55-0f8c2f5d9a31");
    assert_eq!(bot["title"], "Pirate");
    let id = bot["chatConfigId"].as_str().expect("an id");
    assert_eq!(id.len(), 26, "{bot}");
    let url = bot["shareableUrl"].as_str().expect("a share link");
    assert!(url.starts_with("https://parley.example.com/s/"), "{url}");
}

#[tokio::test]
async fn an_anonymous_caller_cannot_create_a_bot() {
    let [create_chat] = emulator_functions(["create-chat"]).await;
    let (status, problem) = call(&create_chat, event(CREATE_ANONYMOUS, &[])).await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "unauthorized");
}

/// Protects the refusals `auth-check` hands over in its context (issue 7, item 13): the
/// function answers each with the status and problem+json the local server gives, and
/// creates nothing.
#[tokio::test]
async fn a_refusal_in_the_authorizer_context_is_answered_as_locally() {
    let [create_chat] = emulator_functions(["create-chat"]).await;
    for (refusal, status, code) in [
        ("invalid_token", 401, "unauthorized"),
        ("guest_off_route", 401, "unauthorized"),
        ("unavailable", 503, "service_unavailable"),
        ("something-new", 401, "unauthorized"),
    ] {
        let fixture = CREATE.replace(
            r#""kind": "user""#,
            &format!(r#""kind": "refused", "refusal": "{refusal}""#),
        );
        assert_ne!(fixture, CREATE, "the fixture names a user");
        let (got, problem) = call(&create_chat, event(&fixture, &[])).await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{refusal}: {problem}"
        );
    }
}
