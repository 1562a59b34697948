//! SIGTERM while replies are being written: the server stops accepting, lets them finish
//! up to its shutdown bound, and stores the rest as failed. Nothing is left `pending` or
//! `streaming` (issue 15).

use std::time::Duration;

use parley_core::ids::SessionId;
use parley_core::message::{Conversation, MessageStatus};
use parley_core::ports::{MessageRange, MessageStore};
use parley_sqlite::SqliteStore;

use super::support::Server;

#[tokio::test]
async fn sigterm_mid_reply_leaves_nothing_pending_or_streaming() {
    // GIVEN a server whose shutdown bound (300 ms) is shorter than an offline reply (about
    // a second, a word every 30 ms), with four replies being written
    let mut server = Server::start(None, &[("PARLEY_SHUTDOWN_TIMEOUT_MS", "300")]);
    let token = server.sign_in("alice@example.com").await;
    let auth = format!("Bearer {token}");
    let json = [("content-type", "application/json"), ("authorization", auth.as_str())];
    let bot = server
        .request(
            Duration::from_secs(10),
            "POST",
            "/create-chat",
            &json,
            r#"{"title":"Slow"}"#,
        )
        .await
        .expect("create-chat answers")
        .json();
    let bot_id = bot["chatConfigId"].as_str().expect("a bot id").to_owned();
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let started = server
            .request(
                Duration::from_secs(10),
                "POST",
                "/chat-session",
                &json,
                &format!(r#"{{"chatConfigId":"{bot_id}"}}"#),
            )
            .await
            .expect("chat-session answers")
            .json();
        sessions.push(started["sessionId"].as_str().expect("a session id").to_owned());
    }
    let port = server.port;
    let mut streams = Vec::new();
    for session in &sessions {
        let body = format!(r#"{{"sessionId":"{session}","message":"tell me everything"}}"#);
        let head = format!(
            "POST /session-message/stream HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n\
             content-type: application/json\r\nauthorization: {auth}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        streams.push(tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
            stream.write_all(head.as_bytes()).await.ok()?;
            let mut raw = Vec::new();
            let _ = stream.read_to_end(&mut raw).await;
            Some(String::from_utf8_lossy(&raw).into_owned())
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;

    // WHEN it is told to stop
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(15)).expect("the server exits");
    assert!(status.success(), "{status:?}\n{}", server.output());
    for stream in streams {
        let _ = stream.await;
    }

    // THEN every message it held is settled: complete, or failed
    let store = SqliteStore::open(&server.data_dir().join("parley.sqlite3")).expect("the store opens");
    let mut seen = 0;
    for session in &sessions {
        let conversation = Conversation::Session(SessionId::from_trusted(session.as_str()));
        let range = MessageRange::Before {
            before: None,
            limit: 100,
        };
        let messages = store.list(&conversation, range).await.expect("messages");
        assert_eq!(messages.len(), 2, "{messages:?}");
        for m in &messages {
            assert!(
                matches!(m.status, MessageStatus::Complete | MessageStatus::Failed),
                "{:?} left {:?}\n{}",
                m.seq,
                m.status,
                server.output()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 8);
    assert!(
        server
            .output()
            .contains("replies still being written at shutdown were failed"),
        "{}",
        server.output()
    );
}
