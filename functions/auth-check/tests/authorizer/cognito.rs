//! Tokens the emulator's Cognito really issued: accepted, and refused once the user is
//! disabled or signed out; groups from `cognito:groups`.

use parley_api::auth::principal_from_authorizer;

use crate::support::{Pool, assert_denied, assert_user, bearer, claims};

#[tokio::test]
async fn id_and_access_tokens_from_cognito_are_accepted() {
    let pool = Pool::new().await;
    let user = pool.user(&[]).await;
    let authorizer = pool.authorizer(60);
    let sub = claims(&user.id_token)["sub"].as_str().expect("sub").to_owned();

    let by_id = bearer(&authorizer, &user.id_token).await;
    assert_user(&by_id, &sub);
    assert_eq!(by_id["context"]["email"], format!("{}@example.com", user.username));
    assert_eq!(by_id["context"]["groups"], "");
    assert_user(&bearer(&authorizer, &user.access_token).await, &sub);
}

#[tokio::test]
async fn admin_group_membership_comes_from_cognito_groups() {
    let pool = Pool::new().await;
    let admin = pool.user(&["admin"]).await;
    let plain = pool.user(&[]).await;
    let authorizer = pool.authorizer(60);

    let response = bearer(&authorizer, &admin.id_token).await;
    assert_eq!(response["context"]["groups"], "admin", "{response}");
    // What the functions make of that context: an admin principal.
    let context = response["context"].as_object().expect("a context");
    let principal = principal_from_authorizer(context).expect("a principal");
    assert!(principal.is_admin(), "{principal:?}");

    let response = bearer(&authorizer, &plain.id_token).await;
    let principal = principal_from_authorizer(response["context"].as_object().expect("ctx")).expect("a principal");
    assert!(!principal.is_admin(), "{principal:?}");
}

#[tokio::test]
async fn a_disabled_user_is_refused_once_the_status_cache_expires() {
    let pool = Pool::new().await;
    let user = pool.user(&[]).await;
    // A zero TTL stands for "a minute later": every decision asks Cognito afresh.
    let authorizer = pool.authorizer(0);
    let sub = claims(&user.id_token)["sub"].as_str().expect("sub").to_owned();
    assert_user(&bearer(&authorizer, &user.id_token).await, &sub);
    assert_user(&bearer(&authorizer, &user.access_token).await, &sub);

    pool.cognito
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username(&user.username)
        .send()
        .await
        .expect("AdminDisableUser");

    assert_denied(
        &bearer(&authorizer, &user.id_token).await,
        "ID token of a disabled user",
    );
    assert_denied(
        &bearer(&authorizer, &user.access_token).await,
        "access token of a disabled user",
    );
}

#[tokio::test]
async fn within_the_cache_ttl_the_remembered_status_is_used() {
    let pool = Pool::new().await;
    let user = pool.user(&[]).await;
    let authorizer = pool.authorizer(60);
    let sub = claims(&user.id_token)["sub"].as_str().expect("sub").to_owned();
    assert_user(&bearer(&authorizer, &user.id_token).await, &sub);
    pool.cognito
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username(&user.username)
        .send()
        .await
        .expect("AdminDisableUser");
    // Bounded staleness, as designed: the answer of a moment ago stands for up to 60 s,
    // while a token not seen before is checked at once.
    assert_user(&bearer(&authorizer, &user.id_token).await, &sub);
    assert_denied(&bearer(&authorizer, &user.access_token).await, "a fresh access token");
}

#[tokio::test]
async fn an_access_token_is_refused_after_global_sign_out() {
    let pool = Pool::new().await;
    let user = pool.user(&[]).await;
    let authorizer = pool.authorizer(0);
    let sub = claims(&user.access_token)["sub"].as_str().expect("sub").to_owned();
    assert_user(&bearer(&authorizer, &user.access_token).await, &sub);

    pool.cognito
        .global_sign_out()
        .access_token(&user.access_token)
        .send()
        .await
        .expect("GlobalSignOut");

    assert_denied(
        &bearer(&authorizer, &user.access_token).await,
        "access token after GlobalSignOut",
    );
    // Signing in again gives tokens that work.
    let again = pool.sign_in(&user.username).await;
    assert_user(&bearer(&authorizer, &again.access_token).await, &sub);
}
