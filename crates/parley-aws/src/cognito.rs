//! Cognito: whether a verified user may still come in ([`CognitoUserStatus`], the
//! `parley_auth::UserStatus` port), and the idempotent creation of the user pool, its app
//! client and the `admin` group that `parley bootstrap` performs.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::SdkError;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use aws_sdk_cognitoidentityprovider::operation::get_user::GetUserError;
use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, UserStatusType};
use parley_auth::{AuthError, TokenUse, UserStatus, VerifiedUser};

/// The group whose members are platform admins (DESIGN.md, "Actors and permissions").
pub const ADMIN_GROUP: &str = "admin";

/// Asks Cognito whether a user is still enabled and their token still good.
///
/// - Access tokens: `GetUser` with the token itself. Cognito refuses it once the user is
///   disabled or signed out everywhere (`GlobalSignOut`, `AdminUserGlobalSignOut`) or the
///   token was revoked, which is exactly the question.
/// - ID tokens cannot be presented to Cognito, so `AdminGetUser` tells whether the account
///   is enabled and in a usable state. A global sign-out is not visible this way; ID
///   tokens live at most an hour (Cognito's default) and their refresh tokens are revoked.
///
/// Wrap it in `parley_auth::CachedUserStatus` so that this runs at most once a minute per user.
#[derive(Debug, Clone)]
pub struct CognitoUserStatus {
    client: Client,
    user_pool_id: String,
}

impl CognitoUserStatus {
    pub fn new(client: Client, user_pool_id: impl Into<String>) -> Self {
        Self {
            client,
            user_pool_id: user_pool_id.into(),
        }
    }
}

#[async_trait]
impl UserStatus for CognitoUserStatus {
    #[tracing::instrument(skip_all, fields(sub = %user.sub, token_use = ?user.token_use))]
    async fn is_active(&self, user: &VerifiedUser, token: &str) -> Result<bool, AuthError> {
        match user.token_use {
            TokenUse::Access => match self.client.get_user().access_token(token).send().await {
                Ok(_) => Ok(true),
                Err(SdkError::ServiceError(e))
                    if matches!(
                        e.err(),
                        GetUserError::NotAuthorizedException(_) | GetUserError::UserNotFoundException(_)
                    ) =>
                {
                    Ok(false)
                }
                Err(e) => Err(unavailable(e)),
            },
            TokenUse::Id => {
                // `cognito:username` is what AdminGetUser takes; the sub works in pools
                // whose usernames are the sub (e.g. email sign-in pools).
                let username = user.username.as_deref().unwrap_or(&user.sub);
                let found = self
                    .client
                    .admin_get_user()
                    .user_pool_id(&self.user_pool_id)
                    .username(username)
                    .send()
                    .await;
                match found {
                    Ok(out) => Ok(out.enabled()
                        && !matches!(
                            out.user_status(),
                            Some(UserStatusType::Archived | UserStatusType::Compromised)
                        )),
                    Err(SdkError::ServiceError(e))
                        if matches!(e.err(), AdminGetUserError::UserNotFoundException(_)) =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(unavailable(e)),
                }
            }
        }
    }
}

fn unavailable<E, R>(e: SdkError<E, R>) -> AuthError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    tracing::error!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "Cognito user status check failed");
    AuthError::StatusUnavailable(Box::new(e))
}

/// Why a Cognito bootstrap step failed.
#[derive(Debug, thiserror::Error)]
pub enum CognitoBootstrapError {
    #[error("Cognito request failed: {operation}")]
    Request {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("Cognito answered {operation} without an id")]
    MissingId { operation: &'static str },
}

fn request_failed<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> CognitoBootstrapError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| CognitoBootstrapError::Request {
        operation,
        source: Box::new(e),
    }
}

/// The user pool named `name`, created if no pool has that name. Returns its id.
pub async fn ensure_user_pool(client: &Client, name: &str) -> Result<String, CognitoBootstrapError> {
    let mut pages = client.list_user_pools().max_results(60).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(request_failed("ListUserPools"))?;
        if let Some(id) = page
            .user_pools()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.id())
        {
            return Ok(id.to_owned());
        }
    }
    let created = client
        .create_user_pool()
        .pool_name(name)
        .send()
        .await
        .map_err(request_failed("CreateUserPool"))?;
    created
        .user_pool()
        .and_then(|p| p.id())
        .map(str::to_owned)
        .ok_or(CognitoBootstrapError::MissingId {
            operation: "CreateUserPool",
        })
}

/// The app client named `name` in `user_pool_id`, created if absent: no secret (the web
/// app is a public client) and password, SRP and refresh-token sign-in. Returns its id.
pub async fn ensure_app_client(
    client: &Client,
    user_pool_id: &str,
    name: &str,
) -> Result<String, CognitoBootstrapError> {
    let mut pages = client
        .list_user_pool_clients()
        .user_pool_id(user_pool_id)
        .max_results(60)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(request_failed("ListUserPoolClients"))?;
        if let Some(id) = page
            .user_pool_clients()
            .iter()
            .find(|c| c.client_name() == Some(name))
            .and_then(|c| c.client_id())
        {
            return Ok(id.to_owned());
        }
    }
    let created = client
        .create_user_pool_client()
        .user_pool_id(user_pool_id)
        .client_name(name)
        .generate_secret(false)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        // Parley reads the email from ID tokens; the emulator puts only readable
        // attributes in them (as AWS does when a client lists its read attributes).
        .read_attributes("email")
        .read_attributes("email_verified")
        .send()
        .await
        .map_err(request_failed("CreateUserPoolClient"))?;
    created
        .user_pool_client()
        .and_then(|c| c.client_id())
        .map(str::to_owned)
        .ok_or(CognitoBootstrapError::MissingId {
            operation: "CreateUserPoolClient",
        })
}

/// The group `name` in `user_pool_id`, created if absent.
pub async fn ensure_group(client: &Client, user_pool_id: &str, name: &str) -> Result<(), CognitoBootstrapError> {
    let mut pages = client
        .list_groups()
        .user_pool_id(user_pool_id)
        .limit(60)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(request_failed("ListGroups"))?;
        if page.groups().iter().any(|g| g.group_name() == Some(name)) {
            return Ok(());
        }
    }
    client
        .create_group()
        .user_pool_id(user_pool_id)
        .group_name(name)
        .description("Parley platform administrators")
        .send()
        .await
        .map_err(request_failed("CreateGroup"))?;
    Ok(())
}

/// The ids `parley bootstrap` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoIds {
    pub user_pool_id: String,
    pub client_id: String,
}

/// The user pool (`existing_pool_id`, else the one named `pool_name`, created if absent),
/// its app client named `client_name` and the `admin` group, each created if absent.
pub async fn ensure_cognito(
    sdk: &aws_config::SdkConfig,
    existing_pool_id: Option<&str>,
    pool_name: &str,
    client_name: &str,
) -> Result<CognitoIds, CognitoBootstrapError> {
    let client = Client::new(sdk);
    let user_pool_id = match existing_pool_id {
        Some(id) => id.to_owned(),
        None => ensure_user_pool(&client, pool_name).await?,
    };
    let client_id = ensure_app_client(&client, &user_pool_id, client_name).await?;
    ensure_group(&client, &user_pool_id, ADMIN_GROUP).await?;
    Ok(CognitoIds {
        user_pool_id,
        client_id,
    })
}
