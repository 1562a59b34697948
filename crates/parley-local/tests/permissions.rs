//! Every route through the merged router, for every actor of the design's table:
//! owner, another signed-in user, the guest of this session, the guest of another
//! session, an admin, and an anonymous caller. Another tenant's object is a 404.

mod common;

use common::TestApp;
use serde_json::{Value, json};

/// The cast, and the objects alice owns.
struct World {
    t: TestApp,
    alice: String,
    bob: String,
    admin: String,
    bot: String,
    share_code: String,
    alice_session: String,
    guest_session: String,
    guest: String,
    other_guest_session: String,
    other_guest: String,
}

async fn world() -> World {
    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bob = t.token("bob@example.com", &[]);
    let admin = t.token("carol@example.com", &["admin"]);
    let bot = t.create_bot(&alice, json!({})).await;
    let share_code = bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("a share url")
        .to_owned();
    let bot = bot["chatConfigId"].as_str().expect("an id").to_owned();
    let (alice_session, _) = t.start_session(Some(&alice), &bot).await;
    let (guest_session, guest) = t.start_session(None, &bot).await;
    let (other_guest_session, other_guest) = t.start_session(None, &bot).await;
    World {
        t,
        alice,
        bob,
        admin,
        bot,
        share_code,
        alice_session,
        guest_session,
        guest,
        other_guest_session,
        other_guest,
    }
}

/// The ids in a listing: `key` names the id field of its items.
fn ids_of(list: &Value, key: &str) -> Vec<String> {
    let items = list["items"].as_array().expect("a listing");
    items.iter().map(|i| i[key].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn create_chat_needs_a_signed_in_user() {
    let w = world().await;
    let body = json!({"title": "Mine"});
    for (who, token, status) in [
        ("owner", Some(&w.alice), 201),
        ("other", Some(&w.bob), 201),
        ("admin", Some(&w.admin), 201),
    ] {
        assert_eq!(
            w.t.post("/create-chat", token.map(String::as_str), body.clone())
                .await
                .status,
            status,
            "{who}"
        );
    }
    w.t.post("/create-chat", Some(&w.guest), body.clone())
        .await
        .expect(401, Some("unauthorized"));
    w.t.post("/create-chat", None, body)
        .await
        .expect(401, Some("unauthorized"));
}

#[tokio::test]
async fn creators_group_limits_who_creates_bots() {
    let t = TestApp::with_config(|c| c.creators_group = Some("creators".into()));
    let plain = t.token("plain@example.com", &[]);
    let creator = t.token("maker@example.com", &["creators"]);
    t.post("/create-chat", Some(&plain), json!({"title": "x"}))
        .await
        .expect(403, Some("forbidden"));
    t.post("/create-chat", Some(&creator), json!({"title": "x"}))
        .await
        .expect(201, None);
}

#[tokio::test]
async fn bot_listings_show_mine_and_admins_alone_see_all() {
    let w = world().await;
    assert!(ids_of(&w.t.get("/chat-configs", Some(&w.alice)).await.body, "chatConfigId").contains(&w.bot));
    assert!(
        !ids_of(&w.t.get("/chat-configs", Some(&w.bob)).await.body, "chatConfigId").contains(&w.bot),
        "bob must not list alice's bot"
    );
    assert!(
        ids_of(
            &w.t.get("/chat-configs?scope=all", Some(&w.admin)).await.body,
            "chatConfigId"
        )
        .contains(&w.bot)
    );
    w.t.get("/chat-configs?scope=all", Some(&w.bob))
        .await
        .expect(403, Some("forbidden"));
    w.t.get("/chat-configs", Some(&w.guest))
        .await
        .expect(401, Some("unauthorized"));
    w.t.get("/chat-configs", None).await.expect(401, Some("unauthorized"));
}

// Protects the rule that a bot's id is a capability of its owner and admins alone:
// friends, guests and strangers reach a bot through its share code only, so its id
// names nothing for them (404), and callers without a token are told to sign in (401)
// whether or not the id exists.
#[tokio::test]
async fn a_bot_reads_in_full_for_owner_and_admin_and_is_not_found_by_id_for_everyone_else() {
    let w = world().await;
    let path = format!("/chat-config/{}", w.bot);
    for token in [&w.alice, &w.admin] {
        let r = w.t.get(&path, Some(token)).await;
        r.expect(200, None);
        assert_eq!(r.body["systemPrompt"], "You are a test.");
        assert!(r.body["shareableUrl"].as_str().is_some_and(|u| u.contains("/s/")));
        assert_eq!(r.headers["etag"], "\"v1\"");
    }
    w.t.get(&path, Some(&w.bob)).await.expect(404, Some("not_found"));
    w.t.get(&path, None).await.expect(401, Some("unauthorized"));
    w.t.get(&path, Some(&w.guest)).await.expect(401, Some("unauthorized"));
    // The public view, by share code, carries neither the id nor the owner.
    let shared = w.t.get(&format!("/share/{}", w.share_code), Some(&w.bob)).await;
    shared.expect(200, None);
    assert_eq!(shared.body["title"], "Test bot");
    for hidden in ["chatConfigId", "systemPrompt", "shareCode", "ownerId"] {
        assert!(shared.body.get(hidden).is_none(), "{hidden} in {}", shared.body);
    }
}

#[tokio::test]
async fn show_prompt_reveals_the_prompt_to_friends() {
    let w = world().await;
    let bot = w.t.create_bot(&w.alice, json!({"sharing": {"showPrompt": true}})).await;
    let code = bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("code");
    let r = w.t.get(&format!("/share/{code}"), Some(&w.bob)).await;
    assert_eq!(r.body["systemPrompt"], "You are a test.");
}

#[tokio::test]
async fn a_private_bot_is_invisible_to_everyone_but_its_owner_and_admins() {
    let w = world().await;
    let bot = w.t.create_bot(&w.alice, json!({"sharing": {"mode": "private"}})).await;
    let id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let code = bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("code")
        .to_owned();
    let path = format!("/chat-config/{id}");
    w.t.get(&path, Some(&w.bob)).await.expect(404, Some("not_found"));
    w.t.get(&path, None).await.expect(401, Some("unauthorized"));
    w.t.get(&path, Some(&w.admin)).await.expect(200, None);
    w.t.get(&format!("/share/{code}"), Some(&w.bob))
        .await
        .expect(404, Some("not_found"));
    w.t.call("PUT", &path, Some(&w.bob), Some(json!({"title": "mine now"})))
        .await
        .expect(404, Some("not_found"));
    w.t.call("DELETE", &path, Some(&w.bob), None)
        .await
        .expect(404, Some("not_found"));
    for body in [
        json!({"chatConfigId": id}),
        json!({"shareCode": code}),
        json!({"chatConfigId": code}),
    ] {
        w.t.post("/chat-session", Some(&w.bob), body.clone())
            .await
            .expect(404, Some("not_found"));
        // Admins moderate private bots; they do not chat on them.
        w.t.post("/chat-session", Some(&w.admin), body.clone())
            .await
            .expect(404, Some("not_found"));
        w.t.post("/chat-room", Some(&w.admin), body)
            .await
            .expect(404, Some("not_found"));
    }
    w.t.post("/chat-session", Some(&w.alice), json!({"chatConfigId": id}))
        .await
        .expect(201, None);
}

#[tokio::test]
async fn a_signed_in_only_bot_asks_anonymous_link_holders_to_sign_in() {
    let w = world().await;
    let bot =
        w.t.create_bot(&w.alice, json!({"sharing": {"mode": "signed_in"}}))
            .await;
    let code = bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("code");
    w.t.post("/chat-session", None, json!({"shareCode": code}))
        .await
        .expect(401, Some("unauthorized"));
    w.t.get(&format!("/share/{code}"), None)
        .await
        .expect(401, Some("unauthorized"));
    w.t.post("/chat-session", Some(&w.bob), json!({"shareCode": code}))
        .await
        .expect(201, None);
    // Sharing rules apply to admins who chat, as to anyone.
    w.t.post("/chat-session", Some(&w.admin), json!({"shareCode": code}))
        .await
        .expect(201, None);
}

// Protects "authenticate before loading": without a token, writes to a bot answer the
// same 401 whether the bot exists (private or shared) or not, so ids cannot be probed.
#[tokio::test]
async fn anonymous_writes_answer_401_whether_or_not_the_bot_exists() {
    let w = world().await;
    let private = w.t.create_bot(&w.alice, json!({"sharing": {"mode": "private"}})).await;
    let private = private["chatConfigId"].as_str().expect("id").to_owned();
    for id in [private.as_str(), w.bot.as_str(), "01JDQ0000000000000000000ZZ"] {
        let path = format!("/chat-config/{id}");
        for (method, path, body) in [
            ("PUT", path.clone(), Some(json!({"title": "x"}))),
            ("DELETE", path.clone(), None),
            ("GET", path.clone(), None),
            ("POST", format!("{path}/share-link"), Some(json!({}))),
            ("GET", format!("{path}/persona"), None),
            ("GET", format!("{path}/persona/summary"), None),
            ("DELETE", format!("{path}/persona/summary"), None),
        ] {
            for token in [None, Some(w.guest.as_str())] {
                let r = w.t.call(method, &path, token, body.clone()).await;
                assert_eq!(r.status.as_u16(), 401, "{method} {path} by {token:?}: {}", r.body);
            }
        }
    }
}

#[tokio::test]
async fn only_the_owner_changes_deletes_or_rotates_a_bot() {
    let w = world().await;
    let path = format!("/chat-config/{}", w.bot);
    let change = json!({"title": "Renamed"});
    w.t.call("PUT", &path, Some(&w.bob), Some(change.clone()))
        .await
        .expect(404, Some("not_found"));
    w.t.call("PUT", &path, Some(&w.admin), Some(change.clone()))
        .await
        .expect(403, Some("forbidden"));
    w.t.call("PUT", &path, None, Some(change.clone()))
        .await
        .expect(401, Some("unauthorized"));
    w.t.call("PUT", &path, Some(&w.guest), Some(change.clone()))
        .await
        .expect(401, Some("unauthorized"));
    w.t.post(&format!("{path}/share-link"), Some(&w.bob), json!({}))
        .await
        .expect(404, Some("not_found"));
    w.t.call("DELETE", &path, Some(&w.bob), None)
        .await
        .expect(404, Some("not_found"));
    let r = w.t.call("PUT", &path, Some(&w.alice), Some(change)).await;
    r.expect(200, None);
    assert_eq!(r.body["title"], "Renamed");
    assert_eq!(r.body["version"], 2);
    w.t.call("DELETE", &path, Some(&w.alice), None).await.expect(204, None);
    w.t.get(&path, Some(&w.alice)).await.expect(404, Some("not_found"));
}

#[tokio::test]
async fn only_admins_suspend_and_unsuspend() {
    let w = world().await;
    let suspend = format!("/chat-config/{}/suspend", w.bot);
    w.t.post(&suspend, Some(&w.alice), json!({}))
        .await
        .expect(403, Some("forbidden"));
    w.t.post(&suspend, Some(&w.bob), json!({}))
        .await
        .expect(403, Some("forbidden"));
    w.t.post(&suspend, None, json!({}))
        .await
        .expect(401, Some("unauthorized"));
    w.t.post(&suspend, Some(&w.guest), json!({}))
        .await
        .expect(401, Some("unauthorized"));
    let r = w.t.post(&suspend, Some(&w.admin), json!({})).await;
    r.expect(200, None);
    assert_eq!(r.body["suspended"], true);
    let r =
        w.t.post(&format!("/chat-config/{}/unsuspend", w.bot), Some(&w.admin), json!({}))
            .await;
    assert_eq!(r.body["suspended"], false);
}

#[tokio::test]
async fn models_and_health_answer_everyone() {
    let w = world().await;
    for token in [Some(w.alice.as_str()), Some(w.guest.as_str()), None] {
        let r = w.t.get("/models", token).await;
        r.expect(200, None);
        let models = r.body["items"].as_array().expect("items");
        assert!(
            models
                .iter()
                .any(|m| m["id"] == "parley-offline" && m["configured"] == true),
            "{}",
            r.body
        );
        w.t.get("/health", token).await.expect(200, None);
    }
}

#[tokio::test]
async fn sessions_start_per_sharing_and_guests_get_a_token() {
    let w = world().await;
    // AI Maker clients send the share code as chatConfigId.
    let anon =
        w.t.post("/chat-session", None, json!({"chatConfigId": w.share_code}))
            .await;
    anon.expect(201, None);
    // The bot's id opens nothing for anyone but its owner.
    w.t.post("/chat-session", None, json!({"chatConfigId": w.bot}))
        .await
        .expect(404, Some("not_found"));
    w.t.post("/chat-session", Some(&w.bob), json!({"chatConfigId": w.bot}))
        .await
        .expect(404, Some("not_found"));
    w.t.post("/chat-room", Some(&w.bob), json!({"chatConfigId": w.bot}))
        .await
        .expect(404, Some("not_found"));
    assert!(anon.body["guestToken"].as_str().is_some_and(|t| !t.is_empty()));
    let bob =
        w.t.post("/chat-session", Some(&w.bob), json!({"shareCode": w.share_code}))
            .await;
    bob.expect(201, None);
    assert!(bob.body["guestToken"].is_null(), "signed-in users need no guest token");
    assert_eq!(bob.body["bot"]["title"], "Test bot");
    w.t.post("/chat-session", Some(&w.guest), json!({"shareCode": w.share_code}))
        .await
        .expect(401, Some("unauthorized"));
}

#[tokio::test]
async fn a_session_is_visible_to_its_participant_alone() {
    let w = world().await;
    let alices = format!("/session/{}", w.alice_session);
    w.t.get(&alices, Some(&w.alice)).await.expect(200, None);
    for (who, token) in [
        ("bob", Some(&w.bob)),
        ("admin", Some(&w.admin)),
        ("a guest", Some(&w.guest)),
        ("anonymous", None),
    ] {
        let token = token.map(String::as_str);
        assert_eq!(w.t.get(&alices, token).await.status, 404, "{who} reads alice's session");
        assert_eq!(
            w.t.get(&format!("{alices}/messages"), token).await.status,
            404,
            "{who} reads alice's history"
        );
        assert_eq!(
            w.t.call("PUT", &alices, token, Some(json!({"title": "x"})))
                .await
                .status,
            404,
            "{who} renames"
        );
        assert_eq!(
            w.t.call("DELETE", &alices, token, None).await.status,
            404,
            "{who} deletes"
        );
        assert_eq!(
            w.t.say(token.unwrap_or("x"), &w.alice_session, "hi")
                .await
                .status
                .as_u16()
                / 100,
            4,
            "{who} sends"
        );
    }
    let guests = format!("/session/{}", w.guest_session);
    w.t.get(&guests, Some(&w.guest)).await.expect(200, None);
    w.t.get(&guests, Some(&w.other_guest))
        .await
        .expect(404, Some("not_found"));
    w.t.get(&format!("{guests}/messages"), Some(&w.other_guest))
        .await
        .expect(404, Some("not_found"));
    w.t.say(&w.other_guest, &w.guest_session, "hi")
        .await
        .expect(404, Some("not_found"));
    w.t.say(&w.guest, &w.guest_session, "hi").await.expect(200, None);
    w.t.say(&w.other_guest, &w.other_guest_session, "hi")
        .await
        .expect(200, None);
    w.t.get(&guests, Some(&w.alice)).await.expect(404, Some("not_found"));
}

#[tokio::test]
async fn session_listing_holds_only_mine() {
    let w = world().await;
    let (bobs, _) = w.t.start_session(Some(&w.bob), &w.bot).await;
    let alice = ids_of(&w.t.get("/chat-sessions", Some(&w.alice)).await.body, "sessionId");
    assert_eq!(alice, vec![w.alice_session.clone()]);
    assert_eq!(
        ids_of(&w.t.get("/chat-sessions", Some(&w.bob)).await.body, "sessionId"),
        vec![bobs]
    );
    w.t.get("/chat-sessions", Some(&w.guest))
        .await
        .expect(401, Some("unauthorized"));
    w.t.get("/chat-sessions", None).await.expect(401, Some("unauthorized"));
}

#[tokio::test]
async fn participants_rename_and_delete_their_sessions() {
    let w = world().await;
    let path = format!("/session/{}", w.guest_session);
    let r =
        w.t.call(
            "PUT",
            &path,
            Some(&w.guest),
            Some(json!({"title": "Chat with a pirate"})),
        )
        .await;
    r.expect(200, None);
    assert_eq!(r.body["title"], "Chat with a pirate");
    // Overrides are refused while the bot does not allow them.
    w.t.call("PUT", &path, Some(&w.guest), Some(json!({"temperature": 1.5})))
        .await
        .expect(403, Some("forbidden"));
    w.t.call("DELETE", &path, Some(&w.guest), None).await.expect(204, None);
    w.t.get(&path, Some(&w.guest)).await.expect(404, Some("not_found"));
}

#[tokio::test]
async fn rooms_are_for_members_and_the_creator_manages_them() {
    let w = world().await;
    let (room, invite) = w.t.create_room(&w.alice, &w.bot, json!({"title": "Crew"})).await;
    let path = format!("/room/{room}");
    w.t.post("/chat-room", Some(&w.guest), json!({"chatConfigId": w.bot}))
        .await
        .expect(401, Some("unauthorized"));
    w.t.post("/chat-room", None, json!({"chatConfigId": w.bot}))
        .await
        .expect(401, Some("unauthorized"));
    // Before joining, bob sees nothing of the room.
    w.t.get(&path, Some(&w.bob)).await.expect(404, Some("not_found"));
    w.t.get(&format!("{path}/messages"), Some(&w.bob))
        .await
        .expect(404, Some("not_found"));
    w.t.post(&format!("{path}/messages"), Some(&w.bob), json!({"message": "hi"}))
        .await
        .expect(404, Some("not_found"));
    w.t.get(&path, Some(&w.admin)).await.expect(404, Some("not_found"));
    assert!(!ids_of(&w.t.get("/chat-rooms", Some(&w.bob)).await.body, "roomId").contains(&room));
    // A wrong invite code is a 404; the right one lets bob in.
    let wrong = "A".repeat(32);
    w.t.post(&format!("{path}/join"), Some(&w.bob), json!({"inviteCode": wrong}))
        .await
        .expect(404, Some("not_found"));
    w.t.post(&format!("{path}/join"), None, json!({"inviteCode": invite}))
        .await
        .expect(401, Some("unauthorized"));
    w.t.post(&format!("{path}/join"), Some(&w.guest), json!({"inviteCode": invite}))
        .await
        .expect(401, Some("unauthorized"));
    w.t.post(&format!("{path}/join"), Some(&w.bob), json!({"inviteCode": invite}))
        .await
        .expect(200, None);
    let seen = w.t.get(&path, Some(&w.bob)).await;
    seen.expect(200, None);
    assert!(
        seen.body.get("inviteCode").is_none(),
        "only the creator sees the invite code"
    );
    assert_eq!(seen.body["members"].as_array().map(Vec::len), Some(2));
    assert!(ids_of(&w.t.get("/chat-rooms", Some(&w.bob)).await.body, "roomId").contains(&room));
    w.t.post(&format!("{path}/messages"), Some(&w.bob), json!({"message": "hi all"}))
        .await
        .expect(200, None);
    let history = w.t.get(&format!("{path}/messages"), Some(&w.alice)).await;
    assert_eq!(history.body["messages"][0]["authorName"], "bob", "{}", history.body);
    // Only the creator rotates the invite, removes others, deletes the room.
    w.t.post(&format!("{path}/invite-link"), Some(&w.bob), json!({}))
        .await
        .expect(403, Some("forbidden"));
    let alice_id = seen.body["creatorId"].as_str().expect("creator").to_owned();
    w.t.call("DELETE", &format!("{path}/members/{alice_id}"), Some(&w.bob), None)
        .await
        .expect(403, Some("forbidden"));
    w.t.call("DELETE", &path, Some(&w.bob), None)
        .await
        .expect(403, Some("forbidden"));
    let rotated =
        w.t.post(&format!("{path}/invite-link"), Some(&w.alice), json!({}))
            .await;
    rotated.expect(200, None);
    let carol = w.t.token("dave@example.com", &[]);
    w.t.post(&format!("{path}/join"), Some(&carol), json!({"inviteCode": invite}))
        .await
        .expect(404, Some("not_found"));
    let new_invite = rotated.str("inviteCode");
    w.t.post(&format!("{path}/join"), Some(&carol), json!({"inviteCode": new_invite}))
        .await
        .expect(200, None);
    // A member leaves by removing themselves; the creator removes others.
    let bob_id = w.t.get(&path, Some(&w.alice)).await.body["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["displayName"] == "bob"))
        .and_then(|m| m["userId"].as_str())
        .expect("bob is a member")
        .to_owned();
    w.t.call("DELETE", &format!("{path}/members/{bob_id}"), Some(&w.bob), None)
        .await
        .expect(204, None);
    w.t.get(&path, Some(&w.bob)).await.expect(404, Some("not_found"));
    w.t.call("DELETE", &path, Some(&w.alice), None).await.expect(204, None);
    w.t.get(&path, Some(&w.alice)).await.expect(404, Some("not_found"));
}

#[tokio::test]
async fn a_mention_only_room_stays_silent_until_called() {
    let w = world().await;
    let (room, _) = w.t.create_room(&w.alice, &w.bot, json!({"replyMode": "mention"})).await;
    let path = format!("/room/{room}/messages");
    let quiet =
        w.t.post(&path, Some(&w.alice), json!({"message": "just us humans"}))
            .await;
    quiet.expect(200, None);
    assert!(
        quiet.body["reply"].is_null() && quiet.body["message"].is_null(),
        "{}",
        quiet.body
    );
    let calls = w.t.calls();
    let called =
        w.t.post(&path, Some(&w.alice), json!({"message": "@bot what do you think?"}))
            .await;
    assert!(called.body["reply"]["content"].as_str().is_some(), "{}", called.body);
    assert_eq!(w.t.calls(), calls + 1);
}
