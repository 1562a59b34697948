//! The [`RoomStore`] contract.

use std::collections::BTreeSet;

use chrono::Utc;
use parley_core::StoreError;
use parley_core::ids::{BotId, InviteCode, RoomId};
use parley_core::message::Conversation;
use parley_core::ports::{IdSource, MessageRange, MessageStore, PageRequest, RandomIds, RoomStore};
use parley_core::room::{ReplyMode, Room, RoomMember};
use parley_core::values::Title;

use crate::fixtures::{member, new_message, room, user};
use crate::paging::all_pages;

/// Protects what the room use cases rely on: a room reads back exactly as written,
/// with its creator as first member; a taken room id is `AlreadyExists`; an update
/// replaces title, reply mode and invite code; joining twice is joining once (the first
/// membership stays as it was); leaving removes the member; a user's room listing pages
/// newest first and holds only rooms they are in; the room and a membership read
/// together are both, or `None` for a non-member or a missing room; deleting a room
/// deletes its members and messages, and nothing of other rooms; joining a deleted room
/// is `NotFound`.
pub async fn room_store_contract(rooms: &dyn RoomStore, messages: &dyn MessageStore) {
    let bot_id = BotId::parse(&RandomIds.new_id()).expect("valid bot id");
    let creator = user();
    let friend = user();
    let stranger = user();

    let created = room(&bot_id, creator.as_str());
    let id = created.room_id.clone();
    let creator_member = member(creator.as_str());
    assert_eq!(
        rooms.get(&id).await.expect("get a missing room"),
        None,
        "a new id must not exist yet"
    );
    rooms.create(&created, &creator_member).await.expect("create a room");
    assert_eq!(
        rooms.get(&id).await.expect("get the room"),
        Some(created.clone()),
        "a room must read back exactly as created"
    );
    assert_eq!(
        rooms.list_members(&id).await.expect("list members"),
        vec![creator_member.clone()],
        "a new room's only member must be its creator"
    );
    let mut same_id = room(&bot_id, stranger.as_str());
    same_id.room_id = id.clone();
    assert!(
        matches!(
            rooms.create(&same_id, &member(stranger.as_str())).await,
            Err(StoreError::AlreadyExists)
        ),
        "creating a room with a taken id must be AlreadyExists"
    );
    assert_eq!(
        rooms.get_member(&id, &stranger).await.expect("get member"),
        None,
        "a refused create must not add its creator to the existing room"
    );

    // WHEN the creator rotates the invite and changes title and mode THEN all are stored.
    let mut changed = created.clone();
    changed.title = Title::parse("Renamed room").expect("valid title");
    changed.reply_mode = ReplyMode::Always;
    changed.invite_code = InviteCode::parse(&RandomIds.new_secret()).expect("valid code");
    changed.updated_at = Utc::now();
    rooms.update(&changed).await.expect("update the room");
    assert_eq!(
        rooms.get(&id).await.expect("get the room"),
        Some(changed.clone()),
        "an update must replace title, reply mode and invite code"
    );

    // Joining twice is joining once, and the first membership stays as it was.
    let friend_member = member(friend.as_str());
    rooms.add_member(&id, &friend_member).await.expect("add a member");
    let mut again = member(friend.as_str());
    again.display_name = "a different name".to_owned();
    rooms.add_member(&id, &again).await.expect("add the same member again");
    assert_eq!(
        rooms.get_member(&id, &friend).await.expect("get member"),
        Some(friend_member.clone()),
        "adding an existing member must change nothing"
    );
    assert_eq!(
        sorted(rooms.list_members(&id).await.expect("list members")),
        sorted(vec![creator_member.clone(), friend_member.clone()]),
        "each member must be listed exactly once"
    );
    assert_eq!(
        rooms.get_member(&id, &stranger).await.expect("get member"),
        None,
        "a non-member must not be a member"
    );
    assert_eq!(
        rooms.get_with_member(&id, &friend).await.expect("get with member"),
        Some((changed.clone(), friend_member.clone())),
        "the room and a membership must read together as stored"
    );
    assert_eq!(
        rooms.get_with_member(&id, &stranger).await.expect("get with member"),
        None,
        "a non-member must not read the room as a member"
    );

    rooms.remove_member(&id, &friend).await.expect("remove a member");
    assert_eq!(
        rooms.get_member(&id, &friend).await.expect("get member"),
        None,
        "a removed member must be gone"
    );
    assert_eq!(
        rooms.list_members(&id).await.expect("list members"),
        vec![creator_member.clone()],
        "removing a member must leave the others"
    );

    list_by_member(rooms, &bot_id).await;

    // Deleting a room deletes its members and messages, and nothing of another room.
    let other_room = room(&bot_id, stranger.as_str());
    rooms
        .create(&other_room, &member(stranger.as_str()))
        .await
        .expect("create another room");
    rooms.add_member(&id, &friend_member).await.expect("re-add a member");
    let conversation = Conversation::Room(id.clone());
    let neighbour = Conversation::Room(other_room.room_id.clone());
    for i in 0..3 {
        let content = format!("room message {i}");
        messages
            .append(&conversation, &new_message(friend.as_str(), &content))
            .await
            .expect("append to the room");
        messages
            .append(&neighbour, &new_message(stranger.as_str(), &content))
            .await
            .expect("append to the other room");
    }
    rooms.delete(&id).await.expect("delete the room");
    assert_eq!(
        rooms.get(&id).await.expect("get a deleted room"),
        None,
        "a deleted room must be gone"
    );
    assert!(
        rooms.list_members(&id).await.expect("list members").is_empty(),
        "deleting a room must delete its members"
    );
    assert_eq!(
        rooms.get_member(&id, &creator).await.expect("get member"),
        None,
        "deleting a room must delete its creator's membership"
    );
    assert_eq!(
        rooms.get_with_member(&id, &creator).await.expect("get with member"),
        None,
        "a deleted room must not read as a member's"
    );
    // A join that lands after the delete is NotFound (a 404), and adds nobody.
    assert!(
        matches!(
            rooms.add_member(&id, &member(stranger.as_str())).await,
            Err(StoreError::NotFound)
        ),
        "joining a deleted room must be NotFound"
    );
    assert!(
        rooms.list_members(&id).await.expect("list members").is_empty(),
        "a join of a deleted room must add no member"
    );
    let listed = rooms
        .list_by_member(
            &friend,
            &PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .expect("list the friend's rooms");
    assert!(
        listed.items.iter().all(|r| r.room_id != id),
        "a deleted room must leave its members' listings"
    );
    let everything = MessageRange::Before {
        before: None,
        limit: 100,
    };
    assert!(
        messages.list(&conversation, everything).await.expect("list").is_empty(),
        "deleting a room must delete its messages"
    );
    assert_eq!(
        messages.list(&neighbour, everything).await.expect("list").len(),
        3,
        "deleting a room must not touch another room's messages"
    );
    assert_eq!(
        rooms
            .list_members(&other_room.room_id)
            .await
            .expect("list members")
            .len(),
        1,
        "deleting a room must not touch another room's members"
    );

    // An update racing a delete must not resurrect the room.
    let _ = rooms.update(&changed).await;
    assert_eq!(
        rooms.get(&id).await.expect("get"),
        None,
        "updating a deleted room must not create it again"
    );
    let missing = RoomId::parse(&RandomIds.new_id()).expect("valid id");
    assert_eq!(
        rooms.get(&missing).await.expect("get"),
        None,
        "an unknown room must be absent"
    );
}

/// A member of several rooms pages through exactly those, and not rooms they left or
/// were never in.
async fn list_by_member(rooms: &dyn RoomStore, bot_id: &BotId) {
    let me = user();
    let other = user();
    let mut mine = BTreeSet::new();
    for i in 0..7 {
        // Some I created, some I joined.
        let r = if i % 2 == 0 {
            let r = room(bot_id, me.as_str());
            rooms.create(&r, &member(me.as_str())).await.expect("create my room");
            r
        } else {
            let r = room(bot_id, other.as_str());
            rooms
                .create(&r, &member(other.as_str()))
                .await
                .expect("create their room");
            rooms
                .add_member(&r.room_id, &member(me.as_str()))
                .await
                .expect("join their room");
            r
        };
        mine.insert(r.room_id.as_str().to_owned());
    }
    let left = room(bot_id, other.as_str());
    rooms
        .create(&left, &member(other.as_str()))
        .await
        .expect("create a room");
    rooms
        .add_member(&left.room_id, &member(me.as_str()))
        .await
        .expect("join");
    rooms.remove_member(&left.room_id, &me).await.expect("leave");
    let never = room(bot_id, other.as_str());
    rooms
        .create(&never, &member(other.as_str()))
        .await
        .expect("create a room");

    let listed: BTreeSet<String> = all_pages(
        "rooms by member",
        3,
        |page| {
            let me = &me;
            async move { rooms.list_by_member(me, &page).await }
        },
        room_id,
    )
    .await
    .iter()
    .map(room_id)
    .collect();
    assert_eq!(
        listed, mine,
        "a member's listing must hold each of their rooms once, and no room they left or never joined"
    );
}

fn room_id(room: &Room) -> String {
    room.room_id.as_str().to_owned()
}

fn sorted(mut members: Vec<RoomMember>) -> Vec<RoomMember> {
    members.sort_by(|a, b| a.user_id.as_str().cmp(b.user_id.as_str()));
    members
}
