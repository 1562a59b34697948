//! The [`BotStore`] contract.

use std::collections::BTreeSet;

use parley_core::StoreError;
use parley_core::bot::BotConfig;
use parley_core::ids::{BotId, ShareCode};
use parley_core::ports::{BotStore, IdSource, RandomIds};
use parley_core::values::Title;

use crate::fixtures::{bot, user};
use crate::paging::all_pages;

/// Protects what the bot use cases rely on: a bot reads back exactly as written; an
/// update applies only on the version that was read (a stale writer gets
/// `VersionMismatch` and changes nothing, as does updating a deleted bot); ids and
/// share codes are unique; a share link finds its bot, also after the code is rotated,
/// and stops working when the bot is deleted; deleting twice is fine; listings page
/// newest first without duplicates or omissions, and one owner never sees another's bots.
pub async fn bot_store_contract(store: &dyn BotStore) {
    create_get_update_delete(store).await;
    uniqueness(store).await;
    listings(store).await;
}

async fn create_get_update_delete(store: &dyn BotStore) {
    let owner = user();
    let original = bot(owner.as_str());
    let id = original.chat_config_id.clone();

    assert_eq!(
        store.get(&id).await.expect("get a missing bot"),
        None,
        "a new id must not exist yet"
    );
    store.create(&original).await.expect("create a new bot");
    assert_eq!(
        store.get(&id).await.expect("get the bot"),
        Some(original.clone()),
        "a bot must read back exactly as created"
    );

    // GIVEN a writer that read version 1 WHEN it updates THEN its change is stored.
    let mut updated = original.clone();
    updated.title = Title::parse("Renamed").expect("valid title");
    updated.share_code = ShareCode::parse(&RandomIds.new_secret()).expect("valid code");
    updated.version = 2;
    store.update(&updated, 1).await.expect("update on the current version");
    assert_eq!(
        store.get(&id).await.expect("get the bot"),
        Some(updated.clone()),
        "an update on the current version must replace the bot"
    );

    // GIVEN another writer that also read version 1 WHEN it updates THEN it is refused.
    let mut stale = original.clone();
    stale.title = Title::parse("Lost update").expect("valid title");
    stale.version = 2;
    assert!(
        matches!(store.update(&stale, 1).await, Err(StoreError::VersionMismatch)),
        "an update on a stale version must be VersionMismatch"
    );
    assert_eq!(
        store.get(&id).await.expect("get the bot"),
        Some(updated.clone()),
        "a refused update must change nothing"
    );

    // The share code moved with the update: the new one finds the bot, the old one nothing.
    assert_eq!(
        store
            .find_by_share_code(&updated.share_code)
            .await
            .expect("find by the new code"),
        Some(updated.clone()),
        "the rotated share code must find the bot"
    );
    assert_eq!(
        store
            .find_by_share_code(&original.share_code)
            .await
            .expect("find by the old code"),
        None,
        "the share code replaced by an update must stop working"
    );
    let unknown = ShareCode::parse(&RandomIds.new_secret()).expect("valid code");
    assert_eq!(
        store
            .find_by_share_code(&unknown)
            .await
            .expect("find by an unknown code"),
        None,
        "an unknown share code must find nothing"
    );

    store.delete(&id).await.expect("delete the bot");
    assert_eq!(
        store.get(&id).await.expect("get a deleted bot"),
        None,
        "a deleted bot must be gone"
    );
    assert_eq!(
        store
            .find_by_share_code(&updated.share_code)
            .await
            .expect("find a deleted bot"),
        None,
        "a deleted bot's share code must find nothing"
    );
    store.delete(&id).await.expect("deleting a missing bot is not an error");

    // A deleted bot cannot be updated back into existence.
    let mut ghost = updated.clone();
    ghost.version = 3;
    assert!(
        matches!(store.update(&ghost, 2).await, Err(StoreError::VersionMismatch)),
        "updating a missing bot must be VersionMismatch"
    );
    assert_eq!(
        store.get(&id).await.expect("get"),
        None,
        "an update must not recreate a deleted bot"
    );
}

async fn uniqueness(store: &dyn BotStore) {
    let owner = user();
    let first = bot(owner.as_str());
    store.create(&first).await.expect("create a new bot");

    let mut same_id = bot(owner.as_str());
    same_id.chat_config_id = first.chat_config_id.clone();
    assert!(
        matches!(store.create(&same_id).await, Err(StoreError::AlreadyExists)),
        "creating a bot with a taken id must be AlreadyExists"
    );

    let mut same_code = bot(owner.as_str());
    same_code.share_code = first.share_code.clone();
    assert!(
        matches!(store.create(&same_code).await, Err(StoreError::AlreadyExists)),
        "creating a bot with a taken share code must be AlreadyExists"
    );
    assert_eq!(
        store.get(&same_code.chat_config_id).await.expect("get"),
        None,
        "a refused create must store nothing"
    );
    assert_eq!(
        store.get(&first.chat_config_id).await.expect("get"),
        Some(first.clone()),
        "a refused create must not touch the existing bot"
    );
    assert_eq!(
        store.find_by_share_code(&first.share_code).await.expect("find"),
        Some(first),
        "the share code must still find the first bot"
    );
}

async fn listings(store: &dyn BotStore) {
    let owner = user();
    let other = user();
    let mut mine = BTreeSet::new();
    for _ in 0..25 {
        let b = bot(owner.as_str());
        store.create(&b).await.expect("create one of many bots");
        mine.insert(b.chat_config_id.as_str().to_owned());
    }
    let mut theirs = BTreeSet::new();
    for _ in 0..3 {
        let b = bot(other.as_str());
        store.create(&b).await.expect("create another owner's bot");
        theirs.insert(b.chat_config_id.as_str().to_owned());
    }

    let listed = all_pages(
        "bots by owner",
        10,
        |page| {
            let owner = &owner;
            async move { store.list_by_owner(owner, &page).await }
        },
        bot_id,
    )
    .await;
    assert!(
        listed.iter().all(|b| b.owner_id == owner),
        "an owner's listing must hold only that owner's bots"
    );
    let listed: BTreeSet<String> = listed.iter().map(bot_id).collect();
    assert_eq!(
        listed, mine,
        "paging through an owner's bots must return each exactly once"
    );

    let listed = all_pages(
        "bots of the other owner",
        10,
        |page| {
            let other = &other;
            async move { store.list_by_owner(other, &page).await }
        },
        bot_id,
    )
    .await;
    let listed: BTreeSet<String> = listed.iter().map(bot_id).collect();
    assert_eq!(
        listed, theirs,
        "another owner's listing must hold theirs and never mine"
    );

    // Other suites may share the store, so every bot of both owners must be present,
    // not necessarily alone.
    let everything: BTreeSet<String> = all_pages(
        "all bots",
        10,
        |page| async move { store.list_all(&page).await },
        bot_id,
    )
    .await
    .iter()
    .map(bot_id)
    .collect();
    assert!(
        mine.is_subset(&everything) && theirs.is_subset(&everything),
        "the admin listing must hold every bot"
    );
}

fn bot_id(bot: &BotConfig) -> String {
    BotId::as_str(&bot.chat_config_id).to_owned()
}
