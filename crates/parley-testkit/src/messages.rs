//! The [`MessageStore`] contract.

use parley_core::StoreError;
use parley_core::ids::{RoomId, SessionId};
use parley_core::message::{BOT_AUTHOR, Conversation, Message, MessageStatus, Role, Usage};
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds};
use parley_core::values::ClientMessageId;

use crate::fixtures::{new_message, user};

/// Protects what sending and reading messages rely on: appends are numbered 1, 2, 3…
/// per conversation and read back exactly; a session and a room never share a
/// numbering even when their ids are equal; both ranges return the right window
/// oldest first (`Before` for history and memory, `After` for polling); a reused
/// client message id is `AlreadyExists` for the same author only, and
/// `find_by_client_id` finds the right author's message; `set_status` sets the status
/// and the reply's seq, and can clear the latter.
pub async fn message_store_contract(store: &dyn MessageStore) {
    numbering_and_ranges(store).await;
    client_message_ids(store).await;
    status(store).await;
}

async fn numbering_and_ranges(store: &dyn MessageStore) {
    let raw = RandomIds.new_id();
    let session = Conversation::Session(SessionId::parse(&raw).expect("valid id"));
    let room = Conversation::Room(RoomId::parse(&raw).expect("valid id"));
    let author = user();

    let mut stored: Vec<Message> = Vec::new();
    for i in 1..=5u64 {
        let mut new = new_message(author.as_str(), &format!("message {i}"));
        if i == 5 {
            new.role = Role::Assistant;
            new.author_id = BOT_AUTHOR.to_owned();
            new.author_name = None;
            new.usage = Some(Usage {
                input_tokens: 12,
                output_tokens: 34,
            });
        }
        let message = store.append(&session, &new).await.expect("append");
        assert_eq!(
            message.seq, i,
            "appends must be numbered 1, 2, 3… in their conversation"
        );
        assert_eq!(
            (
                &message.role,
                &message.author_id,
                &message.author_name,
                &message.content
            ),
            (&new.role, &new.author_id, &new.author_name, &new.content),
            "an appended message must carry what was sent"
        );
        assert_eq!(
            (
                message.status,
                message.created_at,
                message.usage,
                &message.client_message_id,
                message.reply_seq
            ),
            (new.status, new.created_at, new.usage, &new.client_message_id, None),
            "an appended message must carry what was sent, and no reply yet"
        );
        assert_eq!(
            store.get(&session, i).await.expect("get"),
            Some(message.clone()),
            "a message must read back exactly as appended"
        );
        stored.push(message);
    }
    assert_eq!(
        store.get(&session, 6).await.expect("get"),
        None,
        "a seq not yet used must be absent"
    );
    assert_eq!(store.get(&session, 0).await.expect("get"), None, "seq 0 is never used");

    let first_in_room = store
        .append(&room, &new_message(author.as_str(), "in the room"))
        .await
        .expect("append to the room");
    assert_eq!(
        first_in_room.seq, 1,
        "a room with the same id as a session must have its own numbering"
    );
    assert_eq!(
        store
            .list(
                &room,
                MessageRange::Before {
                    before: None,
                    limit: 100
                }
            )
            .await
            .expect("list")
            .len(),
        1,
        "a room must not see the messages of a session with the same id"
    );

    let seqs = |messages: Vec<Message>| messages.iter().map(|m| m.seq).collect::<Vec<_>>();
    let cases = [
        (
            MessageRange::Before {
                before: None,
                limit: 100,
            },
            vec![1, 2, 3, 4, 5],
        ),
        (MessageRange::Before { before: None, limit: 3 }, vec![3, 4, 5]),
        (
            MessageRange::Before {
                before: Some(4),
                limit: 2,
            },
            vec![2, 3],
        ),
        (
            MessageRange::Before {
                before: Some(4),
                limit: 100,
            },
            vec![1, 2, 3],
        ),
        (
            MessageRange::Before {
                before: Some(1),
                limit: 100,
            },
            vec![],
        ),
        (MessageRange::After { after: 0, limit: 2 }, vec![1, 2]),
        (MessageRange::After { after: 3, limit: 100 }, vec![4, 5]),
        (MessageRange::After { after: 5, limit: 100 }, vec![]),
    ];
    for (range, expected) in cases {
        assert_eq!(
            seqs(store.list(&session, range).await.expect("list")),
            expected,
            "{range:?} must return that window, oldest first"
        );
    }
    assert_eq!(
        store
            .list(&session, MessageRange::After { after: 0, limit: 100 })
            .await
            .expect("list"),
        stored,
        "a listing must return the messages exactly as stored"
    );
}

async fn client_message_ids(store: &dyn MessageStore) {
    let conversation = Conversation::Session(SessionId::parse(&RandomIds.new_id()).expect("valid id"));
    let other_conversation = Conversation::Room(RoomId::parse(&RandomIds.new_id()).expect("valid id"));
    let alice = user();
    let bob = user();
    let carol = user();
    let cmid = ClientMessageId::parse(&format!("cmid-{}", RandomIds.new_id())).expect("valid client id");

    let with_id = |author: &str, content: &str| {
        let mut m = new_message(author, content);
        m.client_message_id = Some(cmid.clone());
        m
    };
    let first = store
        .append(&conversation, &with_id(alice.as_str(), "first"))
        .await
        .expect("append");
    assert_eq!(
        first.client_message_id.as_ref(),
        Some(&cmid),
        "the client id must be stored"
    );

    assert!(
        matches!(
            store.append(&conversation, &with_id(alice.as_str(), "retry")).await,
            Err(StoreError::AlreadyExists)
        ),
        "reusing a client id by the same author in the same conversation must be AlreadyExists"
    );
    let bobs = store
        .append(&conversation, &with_id(bob.as_str(), "bob's"))
        .await
        .expect("the same client id by another author is a different message");
    store
        .append(&other_conversation, &with_id(alice.as_str(), "elsewhere"))
        .await
        .expect("the same client id in another conversation is a different message");
    // Messages without a client id never collide with each other.
    for content in ["plain one", "plain two"] {
        store
            .append(&conversation, &new_message(alice.as_str(), content))
            .await
            .expect("messages without a client id never collide");
    }

    assert_eq!(
        store
            .find_by_client_id(&conversation, alice.as_str(), &cmid)
            .await
            .expect("find"),
        Some(first.clone()),
        "find_by_client_id must find the author's own message"
    );
    assert_eq!(
        store
            .find_by_client_id(&conversation, bob.as_str(), &cmid)
            .await
            .expect("find"),
        Some(bobs),
        "find_by_client_id must tell authors apart"
    );
    assert_eq!(
        store
            .find_by_client_id(&conversation, carol.as_str(), &cmid)
            .await
            .expect("find"),
        None,
        "an author who never used the client id must find nothing"
    );
    let unused = ClientMessageId::parse("never-used").expect("valid client id");
    assert_eq!(
        store
            .find_by_client_id(&conversation, alice.as_str(), &unused)
            .await
            .expect("find"),
        None,
        "an unused client id must find nothing"
    );
    assert_eq!(
        store
            .list(&conversation, MessageRange::After { after: 0, limit: 100 })
            .await
            .expect("list")
            .len(),
        4,
        "a refused append must store nothing"
    );
}

async fn status(store: &dyn MessageStore) {
    let conversation = Conversation::Room(RoomId::parse(&RandomIds.new_id()).expect("valid id"));
    let author = user();
    let mut pending = new_message(author.as_str(), "question");
    pending.status = MessageStatus::Pending;
    let question = store.append(&conversation, &pending).await.expect("append");
    assert_eq!(
        question.status,
        MessageStatus::Pending,
        "the status must be stored as sent"
    );

    store
        .set_status(&conversation, question.seq, MessageStatus::Failed, None)
        .await
        .expect("mark failed");
    let got = store
        .get(&conversation, question.seq)
        .await
        .expect("get")
        .expect("the message exists");
    assert_eq!(
        (got.status, got.reply_seq),
        (MessageStatus::Failed, None),
        "set_status must set the status"
    );

    let answer = store
        .append(&conversation, &new_message(BOT_AUTHOR, "answer"))
        .await
        .expect("append the reply");
    store
        .set_status(&conversation, question.seq, MessageStatus::Complete, Some(answer.seq))
        .await
        .expect("mark answered");
    let got = store
        .get(&conversation, question.seq)
        .await
        .expect("get")
        .expect("the message exists");
    assert_eq!(
        (got.status, got.reply_seq),
        (MessageStatus::Complete, Some(answer.seq)),
        "set_status must set the status and the reply's seq"
    );
    assert_eq!(
        (got.content.as_str(), got.created_at),
        ("question", question.created_at),
        "set_status must leave the rest of the message alone"
    );
    assert_eq!(
        store
            .find_by_client_id(
                &conversation,
                author.as_str(),
                &ClientMessageId::parse("x").expect("valid")
            )
            .await
            .expect("find"),
        None,
        "a message without a client id must not be found by one"
    );

    store
        .set_status(&conversation, question.seq, MessageStatus::Failed, None)
        .await
        .expect("mark failed again");
    let got = store
        .get(&conversation, question.seq)
        .await
        .expect("get")
        .expect("the message exists");
    assert_eq!(
        (got.status, got.reply_seq),
        (MessageStatus::Failed, None),
        "set_status with no reply must clear the reply's seq"
    );
    let untouched = store
        .get(&conversation, answer.seq)
        .await
        .expect("get")
        .expect("the reply exists");
    assert_eq!(untouched, answer, "set_status must touch only the message it names");
}
