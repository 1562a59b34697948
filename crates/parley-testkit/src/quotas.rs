//! The [`QuotaStore`] contract.

use chrono::{Duration, Utc};
use parley_core::ports::{IdSource, QuotaStore, RandomIds};
use parley_core::quota::{QuotaCharge, QuotaOutcome};

/// Protects the limits: a counter counts up to its limit and then refuses; a refusal
/// names the full counter and charges none of the others (all or nothing); a limit of
/// zero refuses at once; a counter whose expiry has passed counts as zero, both for
/// `used` and for the next charge, which starts it over.
pub async fn quota_store_contract(store: &dyn QuotaStore) {
    let tomorrow = Some(Utc::now() + Duration::days(1));
    let daily = key("daily");
    assert_eq!(
        store.used(&daily).await.expect("used"),
        0,
        "an absent counter must be 0"
    );

    let charge = |key: &str, limit: u32, expires_at| QuotaCharge {
        key: key.to_owned(),
        limit,
        expires_at,
        scope: "test",
    };
    for expected in 1..=2 {
        assert_eq!(
            store
                .try_consume(&[charge(&daily, 2, tomorrow)])
                .await
                .expect("consume"),
            QuotaOutcome::Granted,
            "a counter under its limit must grant"
        );
        assert_eq!(
            store.used(&daily).await.expect("used"),
            expected,
            "a grant must count one"
        );
    }
    assert_eq!(
        store
            .try_consume(&[charge(&daily, 2, tomorrow)])
            .await
            .expect("consume"),
        QuotaOutcome::Denied { key: daily.clone() },
        "a counter at its limit must refuse"
    );
    assert_eq!(store.used(&daily).await.expect("used"), 2, "a refusal must not count");

    // All or nothing: the second counter is full, so the first must not move.
    let other = key("other");
    assert_eq!(
        store
            .try_consume(&[charge(&other, 10, tomorrow), charge(&daily, 2, tomorrow)])
            .await
            .expect("consume"),
        QuotaOutcome::Denied { key: daily.clone() },
        "a refusal must name the full counter"
    );
    assert_eq!(
        store.used(&other).await.expect("used"),
        0,
        "a refused charge must charge no counter"
    );
    assert_eq!(
        store
            .try_consume(&[charge(&other, 10, None), charge(&key("fresh"), 5, tomorrow)])
            .await
            .expect("consume"),
        QuotaOutcome::Granted,
        "counters under their limits must grant together"
    );
    assert_eq!(
        store.used(&other).await.expect("used"),
        1,
        "a grant must count every counter"
    );

    let closed = key("closed");
    assert_eq!(
        store.try_consume(&[charge(&closed, 0, None)]).await.expect("consume"),
        QuotaOutcome::Denied { key: closed.clone() },
        "a limit of zero must refuse at once"
    );

    // GIVEN a counter whose expiry has passed THEN it counts as zero and starts over.
    let yesterday = Some(Utc::now() - Duration::days(1));
    let expired = key("expired");
    assert_eq!(
        store
            .try_consume(&[charge(&expired, 1, yesterday)])
            .await
            .expect("consume"),
        QuotaOutcome::Granted,
        "an absent counter must grant"
    );
    assert_eq!(
        store.used(&expired).await.expect("used"),
        0,
        "an expired counter must count as 0"
    );
    assert_eq!(
        store
            .try_consume(&[charge(&expired, 1, tomorrow)])
            .await
            .expect("consume"),
        QuotaOutcome::Granted,
        "an expired counter at its limit must grant again"
    );
    assert_eq!(
        store.used(&expired).await.expect("used"),
        1,
        "a charge on an expired counter must start it over at 1 with the new expiry"
    );
    assert_eq!(
        store
            .try_consume(&[charge(&expired, 1, tomorrow)])
            .await
            .expect("consume"),
        QuotaOutcome::Denied { key: expired },
        "a restarted counter must count towards its limit again"
    );
}

/// A fresh counter key, so that suites sharing a store never meet.
pub(crate) fn key(what: &str) -> String {
    format!("contract#{what}#{}", RandomIds.new_id())
}

/// Protects token counting: `add` creates a counter, adds to it, and an expired counter
/// starts over from the amount added.
pub async fn quota_add_contract(store: &dyn QuotaStore) {
    let tomorrow = Some(Utc::now() + Duration::days(1));
    let tokens = key("tokens");
    store.add(&tokens, 120, tomorrow).await.expect("add");
    store.add(&tokens, 30, tomorrow).await.expect("add");
    assert_eq!(store.used(&tokens).await.expect("used"), 150, "amounts add up");

    let stale = key("stale-tokens");
    store
        .add(&stale, 500, Some(Utc::now() - Duration::seconds(1)))
        .await
        .expect("add");
    assert_eq!(store.used(&stale).await.expect("used"), 0, "an expired counter reads 0");
    store.add(&stale, 7, tomorrow).await.expect("add");
    assert_eq!(
        store.used(&stale).await.expect("used"),
        7,
        "an expired counter starts over"
    );
}
