//! Token verification, guest tokens and the local development identity provider.
//!
//! Parley accepts two kinds of bearer token (see DESIGN.md, "Authentication"):
//!
//! - **Cognito ID and access tokens** (RS256), checked by [`CognitoVerifier`] after
//!   awslabs/aws-jwt-verify: exact `alg`, known `kid`, signature, `iss`, `token_use`,
//!   `aud`/`client_id`, `exp` and `nbf` with a small leeway. Time claims (`exp`, `nbf`,
//!   `iat`) must be JSON integers: a string, float, array or null is refused. Keys come
//!   from a [`JwksSource`]: [`HttpJwks`] in the cloud, [`StaticJwks`] in local mode.
//! - **Guest tokens** (HS256 with the platform's secret), issued and checked by
//!   [`GuestTokens`], each bound to one session of one bot.
//!
//! In local mode [`DevIdentityProvider`] signs Cognito-shaped tokens with a key kept in the
//! data directory, so the local server verifies exactly as the cloud does.
//!
//! Layout: `error` (the [`AuthError`] type), `jwt` (raw header/claims parsing shared by
//! both verifiers), `jwks` (key sources and the rate-limited key cache), `verifier`,
//! `guest`, `status` (is a verified user still enabled and signed in? with its cache)
//! and `dev_idp`. Nothing here reads the environment or depends on other Parley crates.

mod dev_idp;
mod error;
mod guest;
mod jwks;
mod jwt;
mod status;
mod verifier;

pub use dev_idp::{DEV_SIGNING_KEY_FILE, DEV_TOKEN_TTL_SECONDS, DevIdentityProvider, DevTokens, dev_sub};
pub use error::{AuthError, JwksError, KeyStoreError};
pub use guest::{GUEST_KEY_ID, GuestClaims, GuestTokens, MIN_GUEST_SECRET_LEN, generate_guest_secret, is_guest_token};
pub use jsonwebtoken::jwk::JwkSet;
pub use jwks::{HttpJwks, JWKS_REFETCH_INTERVAL_SECONDS, JwksSource, StaticJwks};
pub use status::{CachedUserStatus, MAX_USER_STATUS_TTL, NoStatusCheck, UserStatus};
pub use verifier::{CognitoVerifier, MAX_LEEWAY_SECONDS, TokenUse, VerifiedUser, VerifierConfig};
