//! Bot configs and persona texts kept by a warm function (issue 11): a change made
//! through the same store shows at once; one made through another function instance
//! shows once the kept copy is older than its TTL (`CONFIG_TTL`, 5 s, in production).

mod common;

use std::time::Duration;

use chrono::Utc;
use common::fresh_store;
use parley_aws::CONFIG_TTL;
use parley_core::persona::{PersonaDoc, PersonaKind};
use parley_core::ports::{BotStore, PersonaStore};
use parley_testkit as kit;

/// The TTL of these tests: under 5 s, and longer than the writes between a read and its check.
const TTL: Duration = Duration::from_secs(2);

#[test]
fn a_suspension_or_sharing_change_takes_effect_within_5_s() {
    assert!(CONFIG_TTL <= Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_made_elsewhere_shows_within_the_ttl_and_one_made_here_at_once() {
    // GIVEN a warm function that has read a bot, and another instance of the functions
    let warm = fresh_store().await.with_config_ttl(TTL);
    let elsewhere = warm.with_fresh_caches();
    let owner = kit::user();
    let mut bot = kit::bot(owner.as_str());
    BotStore::create(&warm, &bot).await.expect("create");
    assert_eq!(
        BotStore::get(&warm, &bot.chat_config_id).await.expect("get"),
        Some(bot.clone())
    );

    // WHEN the other instance suspends it
    let version = bot.version;
    bot.suspended = true;
    bot.version += 1;
    BotStore::update(&elsewhere, &bot, version).await.expect("suspend");

    // THEN the warm function may answer from its copy, but not once the copy is older
    // than the TTL (waiting for the clock is the behaviour under test here)
    let kept = BotStore::get(&warm, &bot.chat_config_id).await.expect("get");
    assert_eq!(
        kept.map(|b| b.suspended),
        Some(false),
        "the warm copy is used within the TTL"
    );
    tokio::time::sleep(TTL).await;
    let fresh = BotStore::get(&warm, &bot.chat_config_id).await.expect("get");
    assert_eq!(
        fresh.map(|b| b.suspended),
        Some(true),
        "the suspension shows after the TTL"
    );

    // AND a change made through the warm function itself shows at once
    let version = bot.version;
    bot.suspended = false;
    bot.version += 1;
    BotStore::update(&warm, &bot, version).await.expect("lift");
    let now = BotStore::get(&warm, &bot.chat_config_id).await.expect("get");
    assert_eq!(now.map(|b| b.suspended), Some(false));
    // AND a deleted bot is gone at once for the function that deleted it
    BotStore::delete(&warm, &bot.chat_config_id).await.expect("delete");
    assert_eq!(BotStore::get(&warm, &bot.chat_config_id).await.expect("get"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persona_edit_made_elsewhere_shows_within_the_ttl_and_one_made_here_at_once() {
    let warm = fresh_store().await.with_config_ttl(TTL);
    let elsewhere = warm.with_fresh_caches();
    let bot = kit::bot(kit::user().as_str());
    BotStore::create(&warm, &bot).await.expect("create");
    let id = &bot.chat_config_id;
    let doc = |text: &str| PersonaDoc {
        kind: PersonaKind::Style,
        text: text.to_owned(),
        original: None,
        updated_at: Utc::now(),
    };
    PersonaStore::put(&warm, id, &doc("terse")).await.expect("put");
    assert_eq!(
        warm.texts(id).await.expect("texts"),
        [(PersonaKind::Style, "terse".to_owned())]
    );

    PersonaStore::put(&elsewhere, id, &doc("chatty"))
        .await
        .expect("put elsewhere");
    assert_eq!(
        warm.texts(id).await.expect("texts")[0].1,
        "terse",
        "kept within the TTL"
    );
    tokio::time::sleep(TTL).await;
    assert_eq!(
        warm.texts(id).await.expect("texts")[0].1,
        "chatty",
        "read again after the TTL"
    );

    PersonaStore::put(&warm, id, &doc("formal")).await.expect("put here");
    assert_eq!(
        warm.texts(id).await.expect("texts")[0].1,
        "formal",
        "its own edit at once"
    );
    PersonaStore::delete(&warm, id, PersonaKind::Style)
        .await
        .expect("delete");
    assert!(warm.texts(id).await.expect("texts").is_empty());
}
