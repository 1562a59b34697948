//! What a warm function keeps between requests so that a send does not ask AWS again:
//! bot configs and persona texts for at most [`CONFIG_TTL`], and the last message number
//! it stored in each conversation (a hint, checked by the write itself).
//!
//! Staleness is bounded: an entry is used only while it is younger than the TTL, so a
//! change made through another function instance (a suspension, a rotated or revoked
//! share link, a persona edit) takes effect within [`CONFIG_TTL`]; a change made through
//! this store drops the entry at once. Reads that decide a write (`BotStore::update`,
//! `delete`) and listings never use the cache.
//!
//! The sequence hint needs no bound: every message write is conditional on its key being
//! free, so a stale hint costs one refused write and a fresh read, never a wrong number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cached bot config or persona text is used (issue 11: a suspension or
/// sharing change takes effect within 5 s).
pub const CONFIG_TTL: Duration = Duration::from_secs(5);

/// Entries a map keeps before it starts again from empty (a warm function serves a
/// bounded working set; this only stops unbounded growth).
const MAX_ENTRIES: usize = 10_000;

/// A map whose entries are used for `ttl` after they were stored. Clones share it.
#[derive(Debug)]
pub(crate) struct TtlMap<V> {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, (Instant, V)>>>,
}

impl<V> Clone for TtlMap<V> {
    fn clone(&self) -> Self {
        Self {
            ttl: self.ttl,
            entries: self.entries.clone(),
        }
    }
}

impl<V: Clone> TtlMap<V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The value stored under `key` less than the TTL ago.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Stores `value` under `key`, read at `read_at` (taken before the read began, so that
    /// the TTL counts from the moment the value could already have been stale).
    pub(crate) fn put(&self, key: &str, value: V, read_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key.to_owned(), (read_at, value));
    }

    pub(crate) fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

/// The last message number this store wrote in each conversation (by partition key).
#[derive(Clone, Debug, Default)]
pub(crate) struct SeqHints(Arc<Mutex<HashMap<String, u64>>>);

impl SeqHints {
    /// The number to try first for the next message of `pk`, if this store wrote one.
    pub(crate) fn next(&self, pk: &str) -> Option<u64> {
        let hints = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        hints.get(pk).map(|seq| seq + 1)
    }

    pub(crate) fn stored(&self, pk: &str, seq: u64) {
        let mut hints = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if hints.len() >= MAX_ENTRIES && !hints.contains_key(pk) {
            hints.clear();
        }
        let hint = hints.entry(pk.to_owned()).or_default();
        *hint = (*hint).max(seq);
    }

    pub(crate) fn forget(&self, pk: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(pk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_only_within_its_ttl() {
        let map = TtlMap::new(Duration::from_secs(5));
        map.put("fresh", 1, Instant::now());
        map.put("old", 2, Instant::now() - Duration::from_secs(6));
        assert_eq!(map.get("fresh"), Some(1));
        assert_eq!(map.get("old"), None, "an entry older than the TTL is not used");
        map.forget("fresh");
        assert_eq!(map.get("fresh"), None);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let map = TtlMap::new(Duration::ZERO);
        map.put("k", 1, Instant::now());
        assert_eq!(map.get("k"), None);
    }

    #[test]
    fn a_hint_never_goes_back() {
        let hints = SeqHints::default();
        assert_eq!(hints.next("c"), None);
        hints.stored("c", 7);
        hints.stored("c", 5);
        assert_eq!(hints.next("c"), Some(8));
    }
}
