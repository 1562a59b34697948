//! The [`SessionStore`] contract.

use std::collections::BTreeSet;

use chrono::Utc;
use parley_core::ids::{BotId, SessionId};
use parley_core::message::Conversation;
use parley_core::ports::{IdSource, MessageRange, MessageStore, RandomIds, SessionStore};
use parley_core::session::Session;
use parley_core::values::{ModelId, Temperature, Title};

use crate::fixtures::{guest_session, new_message, session, user};
use crate::paging::all_pages;

/// Protects what the session use cases rely on: a session reads back exactly as
/// written; an update replaces title and overrides; an update never brings a deleted
/// session back; a user's listing pages newest first and holds only that user's
/// sessions (never another user's, never guests'); deleting a session deletes its
/// messages and no other conversation's.
pub async fn session_store_contract(sessions: &dyn SessionStore, messages: &dyn MessageStore) {
    let bot_id = BotId::parse(&RandomIds.new_id()).expect("valid bot id");
    let me = user();
    let other = user();

    let mine = session(&bot_id, me.as_str());
    let id = mine.session_id.clone();
    assert_eq!(
        sessions.get(&id).await.expect("get a missing session"),
        None,
        "a new id must not exist yet"
    );
    sessions.create(&mine).await.expect("create a session");
    assert_eq!(
        sessions.get(&id).await.expect("get the session"),
        Some(mine.clone()),
        "a session must read back exactly as created"
    );
    let guest = guest_session(&bot_id);
    sessions.create(&guest).await.expect("create a guest session");
    assert_eq!(
        sessions.get(&guest.session_id).await.expect("get the guest session"),
        Some(guest.clone()),
        "a guest session must read back exactly as created"
    );

    // WHEN the owner renames the session and sets overrides THEN both are stored.
    let mut renamed = mine.clone();
    renamed.title = Title::parse("Renamed session").expect("valid title");
    renamed.overrides.model = Some(ModelId::parse("gpt-4o-mini").expect("valid model"));
    renamed.overrides.temperature = Some(Temperature::parse(1.5).expect("valid temperature"));
    renamed.updated_at = Utc::now();
    sessions.update(&renamed).await.expect("update the session");
    assert_eq!(
        sessions.get(&id).await.expect("get the session"),
        Some(renamed.clone()),
        "an update must replace title and overrides"
    );

    // Listing: three more of mine, one of another user's; the guest session is nobody's.
    let mut my_ids = BTreeSet::from([id.as_str().to_owned()]);
    for _ in 0..3 {
        let s = session(&bot_id, me.as_str());
        sessions.create(&s).await.expect("create one of my sessions");
        my_ids.insert(s.session_id.as_str().to_owned());
    }
    let theirs = session(&bot_id, other.as_str());
    sessions.create(&theirs).await.expect("create another user's session");
    let listed = all_pages(
        "sessions by user",
        2,
        |page| {
            let me = &me;
            async move { sessions.list_by_user(me, &page).await }
        },
        session_id,
    )
    .await;
    assert!(
        listed.iter().all(|s| s.user_id() == Some(&me)),
        "a user's listing must hold only that user's sessions"
    );
    let listed: BTreeSet<String> = listed.iter().map(session_id).collect();
    assert_eq!(
        listed, my_ids,
        "a user's listing must hold each of their sessions exactly once"
    );

    // Deleting a session deletes its messages, and only its own.
    let conversation = Conversation::Session(id.clone());
    let neighbour = Conversation::Session(theirs.session_id.clone());
    for i in 0..3 {
        let content = format!("message {i}");
        messages
            .append(&conversation, &new_message(me.as_str(), &content))
            .await
            .expect("append to the session");
        messages
            .append(&neighbour, &new_message(other.as_str(), &content))
            .await
            .expect("append to the other session");
    }
    sessions.delete(&id).await.expect("delete the session");
    assert_eq!(
        sessions.get(&id).await.expect("get a deleted session"),
        None,
        "a deleted session must be gone"
    );
    let everything = MessageRange::Before {
        before: None,
        limit: 100,
    };
    assert!(
        messages.list(&conversation, everything).await.expect("list").is_empty(),
        "deleting a session must delete its messages"
    );
    assert_eq!(
        messages.list(&neighbour, everything).await.expect("list").len(),
        3,
        "deleting a session must not touch another session's messages"
    );
    let listed = sessions
        .list_by_user(
            &me,
            &parley_core::ports::PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .expect("list my sessions");
    assert!(
        listed.items.iter().all(|s| s.session_id != id),
        "a deleted session must leave the user's listing"
    );

    // An update racing a delete must not resurrect the session.
    let _ = sessions.update(&renamed).await;
    assert_eq!(
        sessions.get(&id).await.expect("get a deleted session"),
        None,
        "updating a deleted session must not create it again"
    );
    let missing = SessionId::parse(&RandomIds.new_id()).expect("valid id");
    assert_eq!(
        sessions.get(&missing).await.expect("get"),
        None,
        "an unknown session must be absent"
    );
}

fn session_id(session: &Session) -> String {
    session.session_id.as_str().to_owned()
}
