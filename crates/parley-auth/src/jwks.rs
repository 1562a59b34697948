//! Where the Cognito verifier gets its public keys, and the cache in front of them.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};

use crate::{AuthError, JwksError};

/// Minimum time between two JWKS fetches, so tokens with made-up `kid`s cannot make us
/// hammer the identity provider (aws-jwt-verify uses the same rule).
pub const JWKS_REFETCH_INTERVAL_SECONDS: u64 = 10;

/// A source of the identity provider's JSON Web Key Set.
///
/// Both implementations feed the same [`crate::CognitoVerifier`], so the local server
/// verifies tokens exactly as the cloud does.
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// Fetches the current key set; failures are [`AuthError::JwksUnavailable`].
    async fn fetch(&self) -> Result<JwkSet, AuthError>;
}

/// Fetches a JWKS document over HTTP, e.g. `https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json`.
#[derive(Debug, Clone)]
pub struct HttpJwks {
    url: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl HttpJwks {
    /// Default per-request timeout: a slow identity provider must not hold requests for long.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    pub fn new(url: impl Into<String>, client: reqwest::Client) -> Self {
        HttpJwks {
            url: url.into(),
            client,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

#[async_trait]
impl JwksSource for HttpJwks {
    #[tracing::instrument(skip(self), fields(url = %self.url))]
    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        let response = self
            .client
            .get(&self.url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(JwksError::Request)?;
        let status = response.status();
        if !status.is_success() {
            return Err(JwksError::Status(status.as_u16()).into());
        }
        let body = response.bytes().await.map_err(JwksError::Request)?;
        Ok(serde_json::from_slice(&body).map_err(JwksError::Decode)?)
    }
}

/// A key set held in memory: the development identity provider's keys in local mode.
#[derive(Debug, Clone)]
pub struct StaticJwks(JwkSet);

impl StaticJwks {
    pub fn new(keys: JwkSet) -> Self {
        StaticJwks(keys)
    }
}

#[async_trait]
impl JwksSource for StaticJwks {
    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        Ok(self.0.clone())
    }
}

/// Signature keys by `kid`, fetched lazily and refetched on an unknown `kid` at most once
/// per refetch interval.
pub(crate) struct KeyCache {
    source: Arc<dyn JwksSource>,
    /// `None` until the first successful fetch. Never held across an `.await`.
    keys: RwLock<Option<HashMap<String, DecodingKey>>>,
    /// Time of the last fetch attempt; the async lock also makes concurrent misses share one fetch.
    last_fetch: tokio::sync::Mutex<Option<u64>>,
    refetch_interval: u64,
}

impl KeyCache {
    pub fn new(source: Arc<dyn JwksSource>, refetch_interval: u64) -> Self {
        KeyCache {
            source,
            keys: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
            refetch_interval,
        }
    }

    /// The key for `kid`, fetching the key set if it is unknown and the interval allows.
    pub async fn key_for(&self, kid: &str, now: u64) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have refreshed the keys while this one waited for the lock.
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        // A clock that went backwards does not block refetching.
        let cooling_down = matches!(*last_fetch, Some(at) if now >= at && now - at < self.refetch_interval);
        if cooling_down {
            return Err(if self.is_loaded() {
                AuthError::UnknownKey
            } else {
                JwksError::CoolingDown.into()
            });
        }
        *last_fetch = Some(now);
        tracing::debug!(kid, "fetching JWKS");
        let set = self.source.fetch().await?;
        let keys = index_keys(&set);
        let found = keys.get(kid).cloned();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Some(keys);
        found.ok_or(AuthError::UnknownKey)
    }

    fn lookup(&self, kid: &str) -> Option<DecodingKey> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.as_ref()?.get(kid).cloned()
    }

    fn is_loaded(&self) -> bool {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).is_some()
    }
}

/// Keeps only RSA signature keys that have a `kid` and are not marked for another algorithm.
fn index_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let usable = matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
            && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256))
            && matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature));
        let Some(kid) = jwk.common.key_id.as_ref().filter(|_| usable) else {
            tracing::debug!(kid = ?jwk.common.key_id, "skipping JWK that is not an RS256 signing key");
            continue;
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => {
                keys.insert(kid.clone(), key);
            }
            Err(error) => tracing::warn!(kid, %error, "skipping malformed JWK"),
        }
    }
    keys
}
