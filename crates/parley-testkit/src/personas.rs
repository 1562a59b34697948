//! The [`PersonaStore`] contract.

use chrono::{Duration, Utc};
use parley_core::ids::BotId;
use parley_core::persona::{PersonaDoc, PersonaKind};
use parley_core::ports::{IdSource, PersonaStore, RandomIds};

/// A fresh bot id; persona documents do not need the bot to be stored.
fn bot_id() -> BotId {
    BotId::parse(&RandomIds.new_id()).expect("a ULID is a valid bot id")
}

fn doc(kind: PersonaKind, text: &str, original: Option<&[u8]>) -> PersonaDoc {
    PersonaDoc {
        kind,
        text: text.to_owned(),
        original: original.map(<[u8]>::to_vec),
        updated_at: Utc::now(),
    }
}

/// Protects what the persona use cases and the send path rely on: a document reads
/// back exactly as written, the PDF bytes included; a second upload of a kind replaces
/// the first; one bot never sees another's documents; listings and texts come in prompt
/// order with the right sizes and without the PDF; deleting says whether there was
/// something to delete; deleting a bot's documents removes them all and only them.
pub async fn persona_store_contract(store: &dyn PersonaStore) {
    round_trip_and_replace(store).await;
    listing_texts_and_isolation(store).await;
    deleting(store).await;
}

async fn round_trip_and_replace(store: &dyn PersonaStore) {
    let bot = bot_id();
    assert_eq!(
        store
            .get(&bot, PersonaKind::Facts)
            .await
            .expect("get a missing document"),
        None,
        "a new bot has no persona"
    );
    let pdf: &[u8] = b"%PDF-1.4\n\x00\xff binary bytes survive\n%%EOF\n";
    let profile = doc(PersonaKind::Profile, "Ada Park\nStaff engineer", Some(pdf));
    store.put(&bot, &profile).await.expect("put a profile");
    assert_eq!(
        store.get(&bot, PersonaKind::Profile).await.expect("get"),
        Some(profile.clone()),
        "a document (text, PDF bytes, time) must read back exactly as written"
    );

    let mut replaced = doc(PersonaKind::Profile, "Ada Park\nPrincipal engineer", Some(b"%PDF-2.0"));
    replaced.updated_at = profile.updated_at + Duration::seconds(1);
    store.put(&bot, &replaced).await.expect("replace the profile");
    assert_eq!(
        store.get(&bot, PersonaKind::Profile).await.expect("get"),
        Some(replaced),
        "a second upload of a kind must replace the first"
    );
    assert_eq!(
        store.list(&bot).await.expect("list").len(),
        1,
        "replacing must not add a document"
    );
}

async fn listing_texts_and_isolation(store: &dyn PersonaStore) {
    let (bot, other) = (bot_id(), bot_id());
    // Written in reverse prompt order, to show that the store orders them.
    store
        .put(&bot, &doc(PersonaKind::Profile, "profé", Some(&[b'%'; 300])))
        .await
        .expect("put profile");
    store
        .put(&bot, &doc(PersonaKind::Style, "short and warm", None))
        .await
        .expect("put style");
    store
        .put(&bot, &doc(PersonaKind::Facts, r#"{"name":"Ada"}"#, None))
        .await
        .expect("put facts");
    store
        .put(&other, &doc(PersonaKind::Summary, "someone else", None))
        .await
        .expect("put another bot's summary");

    let listed = store.list(&bot).await.expect("list");
    let kinds: Vec<_> = listed.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [PersonaKind::Facts, PersonaKind::Style, PersonaKind::Profile],
        "a listing must hold the bot's own kinds, in prompt order"
    );
    let profile = &listed[2];
    assert_eq!(
        (profile.text_bytes, profile.original_bytes),
        (6, Some(300)),
        "sizes are of the text in bytes and of the original file"
    );
    assert_eq!(listed[0].original_bytes, None, "text kinds have no original file");

    let texts = store.texts(&bot).await.expect("texts");
    assert_eq!(
        texts,
        vec![
            (PersonaKind::Facts, r#"{"name":"Ada"}"#.to_owned()),
            (PersonaKind::Style, "short and warm".to_owned()),
            (PersonaKind::Profile, "profé".to_owned()),
        ],
        "texts must hold each document's text, in prompt order"
    );
    assert_eq!(
        store.texts(&other).await.expect("texts").len(),
        1,
        "one bot must never see another's documents"
    );
    assert_eq!(store.get(&other, PersonaKind::Facts).await.expect("get"), None);
}

async fn deleting(store: &dyn PersonaStore) {
    let (bot, other) = (bot_id(), bot_id());
    for kind in PersonaKind::ALL {
        store.put(&bot, &doc(kind, "x", None)).await.expect("put");
    }
    store
        .put(&other, &doc(PersonaKind::Style, "kept", None))
        .await
        .expect("put");

    assert!(
        store.delete(&bot, PersonaKind::Summary).await.expect("delete"),
        "deleting a stored document must say so"
    );
    assert!(
        !store.delete(&bot, PersonaKind::Summary).await.expect("delete again"),
        "deleting a missing document must say there was none"
    );
    assert_eq!(store.get(&bot, PersonaKind::Summary).await.expect("get"), None);
    assert_eq!(store.list(&bot).await.expect("list").len(), 3);

    store.delete_all(&bot).await.expect("delete all");
    assert!(
        store.list(&bot).await.expect("list").is_empty(),
        "delete_all must remove every document"
    );
    assert!(store.texts(&bot).await.expect("texts").is_empty());
    store.delete_all(&bot).await.expect("deleting nothing is not an error");
    assert_eq!(
        store.texts(&other).await.expect("texts"),
        vec![(PersonaKind::Style, "kept".to_owned())],
        "deleting one bot's documents must leave another's"
    );
}
