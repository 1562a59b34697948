//! Is the user behind a verified token still allowed in? A signature proves who issued a
//! token, not that the account is still enabled or that the user has not signed out
//! everywhere since. [`UserStatus`] asks the identity provider; [`CachedUserStatus`]
//! remembers each answer for at most [`MAX_USER_STATUS_TTL`], so an admin's action in
//! the console takes effect within a minute without one call per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{AuthError, TokenUse, VerifiedUser};

/// The longest a user's status may be remembered (DESIGN.md: "rejected within 60 s").
pub const MAX_USER_STATUS_TTL: Duration = Duration::from_secs(60);

/// Entries beyond this count are pruned (expired ones first, then everything), so a flood
/// of distinct users cannot grow the cache without bound.
const MAX_ENTRIES: usize = 10_000;

/// Asks the identity provider whether a verified user may still use the platform.
#[async_trait]
pub trait UserStatus: Send + Sync {
    /// `Ok(false)` for a disabled user or a revoked token; `Err` only when the provider
    /// cannot be asked (the caller answers 503, not 401). `token` is the bearer token the
    /// user was verified from: access tokens can be checked with the token itself.
    async fn is_active(&self, user: &VerifiedUser, token: &str) -> Result<bool, AuthError>;
}

/// For an identity provider that cannot disable anyone or sign anyone out (the local
/// development one): every verified user is active.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStatusCheck;

#[async_trait]
impl UserStatus for NoStatusCheck {
    async fn is_active(&self, _: &VerifiedUser, _: &str) -> Result<bool, AuthError> {
        Ok(true)
    }
}

/// Remembers [`UserStatus`] answers per user and kind of token for a bounded time.
///
/// The key includes the token for access tokens, because a global sign-out revokes the
/// old access tokens while a new sign-in's tokens are good: one user's answer must not
/// stand for another token of theirs. Errors are never cached.
pub struct CachedUserStatus {
    inner: Arc<dyn UserStatus>,
    ttl: Duration,
    entries: Mutex<HashMap<String, (bool, Instant)>>,
}

impl std::fmt::Debug for CachedUserStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedUserStatus")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl CachedUserStatus {
    /// `ttl` is capped at [`MAX_USER_STATUS_TTL`]; zero disables the cache.
    pub fn new(inner: Arc<dyn UserStatus>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl: ttl.min(MAX_USER_STATUS_TTL),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn key(user: &VerifiedUser, token: &str) -> String {
        match user.token_use {
            TokenUse::Id => format!("id:{}", user.sub),
            // A digest would do as well; the key never leaves this process.
            TokenUse::Access => format!("access:{}:{token}", user.sub),
        }
    }
}

#[async_trait]
impl UserStatus for CachedUserStatus {
    async fn is_active(&self, user: &VerifiedUser, token: &str) -> Result<bool, AuthError> {
        let key = Self::key(user, token);
        let now = Instant::now();
        {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((active, at)) = entries.get(&key)
                && now.duration_since(*at) < self.ttl
            {
                return Ok(*active);
            }
        }
        let active = self.inner.is_active(user, token).await?;
        if !self.ttl.is_zero() {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.len() >= MAX_ENTRIES {
                let ttl = self.ttl;
                entries.retain(|_, (_, at)| now.duration_since(*at) < ttl);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, (active, now));
        }
        Ok(active)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    struct Scripted {
        active: AtomicBool,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl UserStatus for Scripted {
        async fn is_active(&self, _: &VerifiedUser, _: &str) -> Result<bool, AuthError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(self.active.load(Ordering::SeqCst))
        }
    }

    fn user(token_use: TokenUse) -> VerifiedUser {
        VerifiedUser {
            sub: "u-1".into(),
            email: None,
            username: Some("alice".into()),
            groups: vec![],
            token_use,
        }
    }

    fn scripted() -> Arc<Scripted> {
        Arc::new(Scripted {
            active: AtomicBool::new(true),
            calls: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn answers_are_remembered_within_the_ttl() {
        let inner = scripted();
        let cache = CachedUserStatus::new(inner.clone(), Duration::from_secs(60));
        assert!(cache.is_active(&user(TokenUse::Id), "t1").await.expect("status"));
        inner.active.store(false, Ordering::SeqCst);
        // GIVEN a remembered answer WHEN the user is disabled THEN the cache still answers
        // from memory, which is the bounded staleness the design allows.
        assert!(cache.is_active(&user(TokenUse::Id), "t2").await.expect("status"));
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        // A different access token of the same user is asked about on its own.
        assert!(!cache.is_active(&user(TokenUse::Access), "t3").await.expect("status"));
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_zero_ttl_asks_every_time_and_the_ttl_is_capped() {
        let inner = scripted();
        let cache = CachedUserStatus::new(inner.clone(), Duration::ZERO);
        assert!(cache.is_active(&user(TokenUse::Id), "t").await.expect("status"));
        inner.active.store(false, Ordering::SeqCst);
        assert!(!cache.is_active(&user(TokenUse::Id), "t").await.expect("status"));
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        let capped = CachedUserStatus::new(inner, Duration::from_secs(3600));
        assert_eq!(capped.ttl(), MAX_USER_STATUS_TTL);
    }
}
