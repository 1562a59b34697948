//! The error type shared by every verifier in the crate.

use std::io;
use std::path::PathBuf;

/// Why a token was rejected, or why the crate could not do its work.
///
/// Every request-time variant means "401 Unauthorized" except [`AuthError::JwksUnavailable`]
/// and [`AuthError::StatusUnavailable`], which the API maps to 503: the token may be fine,
/// we just cannot check it right now.
/// [`AuthError::WeakGuestSecret`] and [`AuthError::KeyStore`] only arise at start-up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("token is not a well-formed JWT")]
    Malformed,
    #[error("token is signed with an algorithm that is not accepted")]
    UnsupportedAlgorithm,
    #[error("token is signed with an unknown key")]
    UnknownKey,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued by an unexpected issuer")]
    WrongIssuer,
    #[error("token was issued for another client")]
    WrongAudience,
    #[error("token has an unexpected token_use")]
    WrongTokenUse,
    /// A required claim (or the `kid` header parameter) is absent.
    #[error("token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    /// A claim (or the `kid` header parameter) has the wrong JSON type or an unusable value.
    #[error("token has an invalid `{0}` claim")]
    InvalidClaim(&'static str),
    #[error("the identity provider's signing keys are unavailable")]
    JwksUnavailable(#[from] JwksError),
    /// The identity provider could not say whether the user is still enabled.
    #[error("the user's status cannot be checked")]
    StatusUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The user is disabled, or the token was revoked (e.g. by a global sign-out).
    #[error("the user is disabled or signed out")]
    Inactive,
    #[error("the guest token secret must be at least {min} bytes long")]
    WeakGuestSecret { min: usize },
    #[error("the development signing key could not be loaded or created")]
    KeyStore(#[from] KeyStoreError),
}

impl AuthError {
    /// True when the failure is ours rather than the token's (HTTP 503, not 401).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AuthError::JwksUnavailable(_) | AuthError::StatusUnavailable(_))
    }
}

/// Why the JSON Web Key Set could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("JWKS request failed")]
    Request(#[source] reqwest::Error),
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    #[error("JWKS response is not a valid key set")]
    Decode(#[source] serde_json::Error),
    /// The last fetch failed recently; the next attempt waits for the refetch interval.
    #[error("JWKS fetch failed recently; not retrying yet")]
    CoolingDown,
}

/// Why the development identity provider's signing key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("cannot access {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the key is not a PKCS#8 PEM RSA private key")]
    Pkcs8(#[source] rsa::pkcs8::Error),
    #[error("the key cannot be re-encoded as PKCS#1")]
    Pkcs1(#[source] rsa::pkcs1::Error),
    #[error("RSA key generation failed")]
    Generate(#[source] rsa::Error),
    #[error("the key cannot sign RS256 tokens")]
    Unusable(#[source] jsonwebtoken::errors::Error),
}
