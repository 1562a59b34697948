//! Share codes, invite codes and tokens never reach the log (issue 7, item 14): every
//! line the server writes during a share, join and chat flow is captured, at the most
//! verbose level and with span fields, and searched for them.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use common::TestApp;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

/// Everything written to the log, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("the log buffer")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("the log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Protects item 14's "codes never in logs". GIVEN a log that records everything (trace
/// level, span fields, errors with their `Debug` chains) WHEN a bot is shared, opened by
/// its code, chatted with as a guest, its link rotated and the old code tried, a room
/// created, joined by its invite and joined with a wrong code, and a model call fails
/// THEN no share code, invite code or token appears in any line.
#[tokio::test]
async fn share_join_and_chat_leave_no_code_or_token_in_the_log() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // The test runs on one thread (tokio's current-thread runtime), so the default
    // subscriber sees every line the router writes.
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = TestApp::new();
    let alice = t.token("alice@example.com", &[]);
    let bob = t.token("bob@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await;
    let bot_id = bot["chatConfigId"].as_str().expect("id").to_owned();
    let code = bot["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("a share link")
        .to_owned();

    t.get(&format!("/share/{code}"), None).await.expect(200, None);
    let started = t.post("/chat-session", None, json!({"shareCode": code})).await;
    started.expect(201, None);
    let guest = started.str("guestToken");
    let session = started.str("sessionId");
    t.say(&guest, &session, "hello").await.expect(200, None);
    // A failing model call goes down the error-logging path with its cause chain.
    t.model.fail.store(true, Ordering::SeqCst);
    t.say(&guest, &session, "again")
        .await
        .expect(502, Some("provider_error"));
    t.model.fail.store(false, Ordering::SeqCst);

    let rotated = t
        .post(&format!("/chat-config/{bot_id}/share-link"), Some(&alice), json!({}))
        .await;
    assert!(rotated.status.is_success(), "{rotated:?}");
    t.get(&format!("/share/{code}"), None)
        .await
        .expect(404, Some("not_found"));
    let new_code = rotated.body["shareableUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("a new share link")
        .to_owned();

    let (room, invite) = t.create_room(&alice, &bot_id, json!({})).await;
    t.post(&format!("/room/{room}/join"), Some(&bob), json!({"inviteCode": invite}))
        .await
        .expect(200, None);
    let wrong = format!("{}x", &invite[..invite.len() - 1]);
    t.post(&format!("/room/{room}/join"), Some(&bob), json!({"inviteCode": wrong}))
        .await
        .expect(404, Some("not_found"));

    let text = log.text();
    assert!(
        text.contains("/share/{code}") && text.contains("/room/{id}/join"),
        "the log recorded the requests by route template: {text}"
    );
    for (what, secret) in [
        ("share code", code.as_str()),
        ("rotated share code", new_code.as_str()),
        ("invite code", invite.as_str()),
        ("wrong invite code", wrong.as_str()),
        ("guest token", guest.as_str()),
        ("ID token", alice.as_str()),
    ] {
        assert!(!text.contains(secret), "the {what} is in the log:\n{text}");
    }
}
