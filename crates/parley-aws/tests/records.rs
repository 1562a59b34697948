//! The store reads and writes only through `parley-records`, in S3 and DynamoDB alike:
//! items written before schema versions existed keep reading, and items of a newer
//! version are refused.

mod common;

use std::error::Error as _;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use common::fresh_store;
use parley_aws::AwsStore;
use parley_aws::keys::{self, BOTS_PK, PK, ROOM_SK, SESSION_SK, SK};
use parley_core::StoreError;
use parley_core::ids::BotId;
use parley_core::message::Conversation;
use parley_core::ports::{BotStore, MessageRange, MessageStore, PageRequest, RoomStore, SessionStore};
use parley_records::RecordError;
use parley_testkit as kit;

const V1: &str = "{\"schemaVersion\":1,";

async fn s3() -> aws_sdk_s3::Client {
    let sdk = parley_aws::sdk_config().await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build())
}

/// Rewrites the string attribute `attr` of the item `(pk, sk)` with `change`, behind the
/// store's back.
async fn rewrite(store: &AwsStore, pk: String, sk: String, attr: &str, change: impl Fn(&str) -> String) {
    let key = [
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk)),
    ];
    let mut item = store
        .dynamodb()
        .get_item()
        .table_name(store.table())
        .set_key(Some(key.into_iter().collect()))
        .consistent_read(true)
        .send()
        .await
        .expect("get the item")
        .item
        .expect("the item exists");
    let Some(AttributeValue::S(body)) = item.get(attr) else {
        panic!("the item has the string attribute {attr}");
    };
    let changed = change(body);
    item.insert(attr.to_owned(), AttributeValue::S(changed));
    store
        .dynamodb()
        .put_item()
        .table_name(store.table())
        .set_item(Some(item))
        .send()
        .await
        .expect("put the item back");
}

/// Rewrites the S3 config of bot `id` with `change`.
async fn rewrite_config(store: &AwsStore, id: &BotId, change: impl Fn(&str) -> String) {
    let s3 = s3().await;
    let key = format!("bots/{id}/config.json");
    let out = s3
        .get_object()
        .bucket(store.bucket())
        .key(&key)
        .send()
        .await
        .expect("get the config");
    let bytes = out.body.collect().await.expect("read the config").into_bytes();
    let body = std::str::from_utf8(&bytes).expect("UTF-8");
    s3.put_object()
        .bucket(store.bucket())
        .key(&key)
        .body(ByteStream::from(change(body).into_bytes()))
        .send()
        .await
        .expect("put the config back");
}

/// A body as a build before schema versions wrote it; fails unless it has version 1.
fn unversioned(body: &str) -> String {
    assert!(body.starts_with(V1), "written with version 1: {body}");
    body.replacen(V1, "{", 1)
}

/// A body as a newer build would write it.
fn version_2(body: &str) -> String {
    let fields = body
        .strip_prefix(V1)
        .or_else(|| body.strip_prefix('{'))
        .expect("a JSON object");
    format!("{{\"schemaVersion\":2,{fields}")
}

fn newer(err: &StoreError) -> Option<u64> {
    match err.source().and_then(|s| s.downcast_ref::<RecordError>()) {
        Some(RecordError::Newer { version, .. }) => Some(*version),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_a_version_read_and_items_of_a_newer_one_are_refused() {
    // Items are rewritten behind the store's back, as another build would: no cache.
    let store = fresh_store().await.with_config_ttl(std::time::Duration::ZERO);
    let owner = kit::user();
    let bot = kit::bot(owner.as_str());
    BotStore::create(&store, &bot).await.expect("create a bot");
    let session = kit::session(&bot.chat_config_id, owner.as_str());
    SessionStore::create(&store, &session).await.expect("create a session");
    let room = kit::room(&bot.chat_config_id, owner.as_str());
    let creator = kit::member(owner.as_str());
    RoomStore::create(&store, &room, &creator).await.expect("create a room");
    let conversation = Conversation::Session(session.session_id.clone());
    let message = store
        .append(&conversation, &kit::new_message(owner.as_str(), "hi"))
        .await
        .expect("append");

    // GIVEN every body as a build before schema versions wrote it (each was written with
    // version 1, or `unversioned` fails).
    let id = &bot.chat_config_id;
    rewrite_config(&store, id, unversioned).await;
    rewrite(&store, BOTS_PK.into(), keys::bot_sk(id), "config", unversioned).await;
    rewrite(
        &store,
        keys::session_pk(&session.session_id),
        SESSION_SK.into(),
        "body",
        unversioned,
    )
    .await;
    rewrite(
        &store,
        keys::room_pk(&room.room_id),
        ROOM_SK.into(),
        "body",
        unversioned,
    )
    .await;
    let member_sk = keys::member_sk(&creator.user_id);
    rewrite(&store, keys::room_pk(&room.room_id), member_sk, "body", unversioned).await;
    let message_sk = keys::message_sk(message.seq);
    rewrite(
        &store,
        keys::conversation_pk(&conversation),
        message_sk,
        "body",
        unversioned,
    )
    .await;

    // THEN everything reads as it was written.
    assert_eq!(BotStore::get(&store, id).await.expect("read"), Some(bot.clone()));
    let page = PageRequest { after: None, limit: 10 };
    let listed = store.list_by_owner(&owner, &page).await.expect("list");
    assert_eq!(listed.items, vec![bot.clone()]);
    assert_eq!(
        SessionStore::get(&store, &session.session_id).await.expect("read"),
        Some(session.clone())
    );
    assert_eq!(
        RoomStore::get(&store, &room.room_id).await.expect("read"),
        Some(room.clone())
    );
    assert_eq!(store.list_members(&room.room_id).await.expect("read"), vec![creator]);
    let messages = store
        .list(&conversation, MessageRange::After { after: 0, limit: 10 })
        .await
        .expect("read");
    assert_eq!(messages, vec![message]);
    // An update writes the version again.
    SessionStore::update(&store, &session).await.expect("update");
    rewrite(
        &store,
        keys::session_pk(&session.session_id),
        SESSION_SK.into(),
        "body",
        |b| {
            assert!(b.starts_with(V1), "rewritten with version 1: {b}");
            b.to_owned()
        },
    )
    .await;

    // GIVEN a bot config and a room written by a newer build.
    rewrite_config(&store, id, version_2).await;
    rewrite(&store, keys::room_pk(&room.room_id), ROOM_SK.into(), "body", version_2).await;
    // THEN they are refused rather than misread, and an update cannot overwrite them.
    let err = BotStore::get(&store, id).await.expect_err("newer");
    assert_eq!(newer(&err), Some(2), "{err:?}");
    let err = RoomStore::get(&store, &room.room_id).await.expect_err("newer");
    assert_eq!(newer(&err), Some(2), "{err:?}");
    let err = RoomStore::update(&store, &room).await.expect_err("newer");
    assert_eq!(newer(&err), Some(2), "{err:?}");
}
