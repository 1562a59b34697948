//! Persona documents through the merged router: each kind's round trip, who may write
//! and read them, the refusals (and that a refused upload stores nothing), the sample
//! profile PDF's text, and the persona reaching the model.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::{Reply, TestApp};
use parley_core::ids::BotId;
use parley_core::ports::PersonaStore;
use parley_pdf::testing;
use serde_json::{Value, json};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/digital-twin");

fn sample(file: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLE}/{file}")).unwrap_or_else(|e| panic!("read sample {file}: {e}"))
}

/// `PUT` of a raw body with a content type (none when `content_type` is empty).
async fn put(t: &TestApp, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> Reply {
    let mut req = Request::builder().method("PUT").uri(path);
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if !content_type.is_empty() {
        req = req.header(header::CONTENT_TYPE, content_type);
    }
    t.send(req.body(Body::from(body)).expect("request")).await
}

/// A valid one-page PDF with `lines` of Helvetica text and an unused stream of
/// `padding` bytes.
fn make_pdf(lines: &[String], padding: usize) -> Vec<u8> {
    let mut content = String::from("BT /F1 10 Tf\n");
    for (i, line) in lines.iter().enumerate() {
        content.push_str(&format!("1 0 0 1 40 {} Tm ({line}) Tj\n", 780 - 12 * i as i64));
    }
    content.push_str("ET");
    testing::pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        testing::stream("", content.as_bytes()),
        testing::stream("", &vec![b' '; padding]),
    ])
}

/// Alice (owner), bob (signed in), carol (admin), a guest, and alice's bot with `extra` settings.
struct World {
    t: TestApp,
    alice: String,
    bob: String,
    admin: String,
    guest: String,
    bot: String,
}

impl World {
    async fn new(extra: Value) -> Self {
        let t = TestApp::new();
        let alice = t.token("alice@example.com", &[]);
        let bob = t.token("bob@example.com", &[]);
        let admin = t.token("carol@example.com", &["admin"]);
        let bot = t.create_bot(&alice, extra).await["chatConfigId"]
            .as_str()
            .expect("id")
            .to_owned();
        let (_, guest) = t.start_session(None, &bot).await;
        Self {
            t,
            alice,
            bob,
            admin,
            guest,
            bot,
        }
    }

    fn path(&self, kind: &str) -> String {
        format!("/chat-config/{}/persona/{kind}", self.bot)
    }

    async fn upload(&self, kind: &str, content_type: &str, body: Vec<u8>) -> Reply {
        put(&self.t, &self.path(kind), Some(&self.alice), content_type, body).await
    }

    async fn get(&self, kind: &str, token: Option<&str>) -> Reply {
        self.t.get(&self.path(kind), token).await
    }
}

// Protects the four round trips: what the owner uploads is what GET answers (facts as
// JSON, text unchanged, the profile's extracted text with the PDF's size), a second
// upload replaces the first, the listing names each kind with its sizes, DELETE removes.
#[tokio::test]
async fn each_kind_round_trips_and_the_listing_shows_it() {
    let w = World::new(json!({})).await;
    let facts: Value = serde_json::from_slice(&sample("facts.json")).expect("sample facts are JSON");
    w.upload("facts", "application/json", sample("facts.json"))
        .await
        .expect(200, None);
    w.upload("summary", "text/plain; charset=utf-8", "Première version".into())
        .await
        .expect(200, None);
    w.upload("summary", "text/plain", sample("summary.txt"))
        .await
        .expect(200, None);
    w.upload("style", "text/plain", sample("style.txt"))
        .await
        .expect(200, None);
    let pdf = sample("profile.pdf");
    let stored = w.upload("profile", "application/pdf", pdf.clone()).await;
    stored.expect(200, None);
    assert_eq!(stored.body["pdfBytes"], pdf.len());

    assert_eq!(w.get("facts", Some(&w.alice)).await.body["content"], facts);
    let summary = String::from_utf8(sample("summary.txt")).expect("utf-8");
    assert_eq!(w.get("summary", Some(&w.alice)).await.body["content"], summary.as_str());
    let profile = w.get("profile", Some(&w.alice)).await;
    profile.expect(200, None);
    let text = profile.str("content");
    for expected in [
        "Ada Park",
        "Tidewater Logistics",
        "University of Porto",
        "Spanish (working)",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not extracted from the sample PDF: {text}"
        );
    }
    assert_eq!(profile.body["pdfBytes"], pdf.len());

    let listed =
        w.t.get(&format!("/chat-config/{}/persona", w.bot), Some(&w.alice))
            .await;
    listed.expect(200, None);
    let kinds: Vec<_> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [json!("facts"), json!("summary"), json!("style"), json!("profile")]
    );
    assert_eq!(listed.body["items"][1]["textBytes"], summary.len());
    assert_eq!(listed.body["items"][3]["pdfBytes"], pdf.len());

    w.t.call("DELETE", &w.path("style"), Some(&w.alice), None)
        .await
        .expect(204, None);
    w.get("style", Some(&w.alice)).await.expect(404, Some("not_found"));
    w.t.call("DELETE", &w.path("style"), Some(&w.alice), None)
        .await
        .expect(404, Some("not_found"));
    w.get("resume", Some(&w.alice)).await.expect(404, Some("not_found"));
}

// Protects the actor table for personas: only the owner writes (admins, who see the
// bot, get 403; friends, who know it only by its link, 404; guests and anonymous
// callers 401); the owner and admins read and list by id; friends read the texts in
// the share view, and only with showPrompt.
#[tokio::test]
async fn only_the_owner_writes_and_friends_read_only_with_show_prompt() {
    let w = World::new(json!({})).await;
    w.upload("summary", "text/plain", "I sail.".into())
        .await
        .expect(200, None);
    let body = || b"Not mine.".to_vec();
    for (token, status, code) in [
        (Some(&w.bob), 404, "not_found"),
        (Some(&w.admin), 403, "forbidden"),
        (Some(&w.guest), 401, "unauthorized"),
        (None, 401, "unauthorized"),
    ] {
        put(
            &w.t,
            &w.path("summary"),
            token.map(String::as_str),
            "text/plain",
            body(),
        )
        .await
        .expect(status, Some(code));
        w.t.call("DELETE", &w.path("summary"), token.map(String::as_str), None)
            .await
            .expect(status, Some(code));
    }
    assert_eq!(
        w.get("summary", Some(&w.alice)).await.body["content"],
        "I sail.",
        "nothing was changed"
    );

    w.get("summary", Some(&w.admin)).await.expect(200, None);
    w.get("summary", Some(&w.bob)).await.expect(404, Some("not_found"));
    w.get("summary", None).await.expect(401, Some("unauthorized"));
    w.get("summary", Some(&w.guest)).await.expect(401, Some("unauthorized"));
    let list = format!("/chat-config/{}/persona", w.bot);
    w.t.get(&list, Some(&w.admin)).await.expect(200, None);
    w.t.get(&list, Some(&w.bob)).await.expect(404, Some("not_found"));
    let share = format!("/share/{}", w.t.share_code(&w.bot).await);
    let hidden = w.t.get(&share, Some(&w.bob)).await;
    assert!(hidden.body.get("persona").is_none(), "{}", hidden.body);

    // WHEN the owner shows the prompt THEN friends (signed in or not) read the persona.
    w.t.call(
        "PUT",
        &format!("/chat-config/{}", w.bot),
        Some(&w.alice),
        Some(json!({"sharing": {"showPrompt": true}})),
    )
    .await
    .expect(200, None);
    for token in [Some(w.bob.as_str()), None] {
        let shown = w.t.get(&share, token).await;
        assert_eq!(shown.body["persona"], json!([{"kind": "summary", "text": "I sail."}]));
    }
    w.get("summary", Some(&w.bob)).await.expect(404, Some("not_found"));
    w.t.get(&list, Some(&w.bob)).await.expect(404, Some("not_found"));

    // A private bot does not exist for bob, whatever he tries.
    let private =
        w.t.create_bot(&w.alice, json!({"sharing": {"mode": "private", "showPrompt": true}}))
            .await;
    let path = format!(
        "/chat-config/{}/persona/summary",
        private["chatConfigId"].as_str().expect("id")
    );
    put(&w.t, &path, Some(&w.alice), "text/plain", b"Hidden.".to_vec())
        .await
        .expect(200, None);
    w.t.get(&path, Some(&w.bob)).await.expect(404, Some("not_found"));
    put(&w.t, &path, Some(&w.bob), "text/plain", body())
        .await
        .expect(404, Some("not_found"));
    w.t.get(&path, Some(&w.admin)).await.expect(200, None);
}

// Protects the refusals: each bad upload answers problem+json with its code and leaves
// what was stored before untouched (or nothing, for a first upload).
#[tokio::test]
async fn bad_uploads_are_refused_and_store_nothing() {
    let w = World::new(json!({})).await;
    w.upload("facts", "application/json", br#"{"name": "Ada"}"#.to_vec())
        .await
        .expect(200, None);
    let html = b"<html><body>My CV</body></html>".to_vec();

    let broken = w
        .upload("facts", "application/json", br#"{"name": "Ada", "#.to_vec())
        .await;
    broken.expect(400, Some("validation_failed"));
    assert!(broken.str("detail").contains("not valid JSON"), "{}", broken.body);
    w.upload("facts", "text/plain", br#"{"a": 1}"#.to_vec())
        .await
        .expect(415, Some("unsupported_media_type"));
    assert_eq!(
        w.get("facts", Some(&w.alice)).await.body["content"],
        json!({"name": "Ada"}),
        "facts unchanged"
    );

    let not_pdf = w.upload("profile", "application/pdf", html.clone()).await;
    not_pdf.expect(400, Some("validation_failed"));
    assert!(not_pdf.str("detail").contains("not a PDF"), "{}", not_pdf.body);
    let garbage = [b"%PDF-1.7\n".as_slice(), &[0xff; 512]].concat();
    w.upload("profile", "application/pdf", garbage)
        .await
        .expect(400, Some("validation_failed"));
    let truncated = sample("profile.pdf")[..900].to_vec();
    w.upload("profile", "application/pdf", truncated)
        .await
        .expect(400, Some("validation_failed"));
    w.upload("profile", "text/html", html)
        .await
        .expect(415, Some("unsupported_media_type"));
    w.upload("profile", "", sample("profile.pdf"))
        .await
        .expect(415, Some("unsupported_media_type"));
    let oversize_pdf = make_pdf(&["Ada".into()], 5 * 1024 * 1024);
    w.upload("profile", "application/pdf", oversize_pdf)
        .await
        .expect(413, Some("payload_too_large"));
    w.get("profile", Some(&w.alice)).await.expect(404, Some("not_found"));

    w.upload("summary", "text/plain", vec![b'a'; 200 * 1024 + 1])
        .await
        .expect(413, Some("payload_too_large"));
    w.upload("summary", "text/plain", b"caf\xe9".to_vec())
        .await
        .expect(400, Some("validation_failed"));
    w.upload("style", "application/json", b"\"terse\"".to_vec())
        .await
        .expect(415, Some("unsupported_media_type"));
    for kind in ["summary", "style"] {
        w.get(kind, Some(&w.alice)).await.expect(404, Some("not_found"));
    }
    let listed =
        w.t.get(&format!("/chat-config/{}/persona", w.bot), Some(&w.alice))
            .await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "only the first facts are stored"
    );
}

// Protects the limits' boundaries: a PDF above the global 256 KiB request limit is
// accepted on this route, and a PDF whose text exceeds 100 KB is refused with 413.
#[tokio::test]
async fn a_large_pdf_is_accepted_but_too_much_text_is_refused() {
    let w = World::new(json!({})).await;
    let big = make_pdf(&["Ada Park, big file".into()], 2 * 1024 * 1024);
    let r = w.upload("profile", "application/pdf", big.clone()).await;
    r.expect(200, None);
    assert_eq!(r.body["pdfBytes"], big.len());

    let wordy: Vec<String> = (0..1_100).map(|i| format!("line {i:04} {}", "x".repeat(90))).collect();
    let r = w.upload("profile", "application/pdf", make_pdf(&wordy, 0)).await;
    r.expect(413, Some("payload_too_large"));
    assert!(r.str("detail").contains("text"), "{}", r.body);
    assert_eq!(
        w.get("profile", Some(&w.alice)).await.body["pdfBytes"],
        big.len(),
        "the earlier profile stays"
    );
}

// Protects the send path: the persona is in the system prompt the model receives, each
// section after the owner's prompt and in the documented order.
#[tokio::test]
async fn the_persona_reaches_the_model_in_order() {
    let w = World::new(json!({"systemPrompt": "OWNER-PROMPT"})).await;
    w.upload("profile", "application/pdf", sample("profile.pdf"))
        .await
        .expect(200, None);
    w.upload("style", "text/plain", "STYLE-TEXT".into())
        .await
        .expect(200, None);
    w.upload("facts", "application/json", br#"{"marker":"FACTS-JSON"}"#.to_vec())
        .await
        .expect(200, None);
    w.upload("summary", "text/plain", "SUMMARY-TEXT".into())
        .await
        .expect(200, None);
    let (session, _) = w.t.start_session(Some(&w.alice), &w.bot).await;
    w.t.say(&w.alice, &session, "Who are you?").await.expect(200, None);

    let seen =
        w.t.model
            .requests
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a model call");
    let prompt = &seen.system_prompt;
    let at = |needle: &str| {
        prompt
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {prompt}"))
    };
    let positions = [
        at("OWNER-PROMPT"),
        at("\"marker\": \"FACTS-JSON\""),
        at("SUMMARY-TEXT"),
        at("STYLE-TEXT"),
        at("Tidewater Logistics"),
        at("## Now"),
    ];
    assert!(prompt.starts_with(parley_core::prompt::GUARD_RULES));
    assert!(
        positions.windows(2).all(|p| p[0] < p[1]),
        "sections out of order: {prompt}"
    );
    assert_eq!(seen.messages.last().map(|m| m.content.as_str()), Some("Who are you?"));
}

// Protects the clean-up: deleting a bot deletes its persona documents from the store.
#[tokio::test]
async fn deleting_the_bot_deletes_its_persona() {
    let w = World::new(json!({})).await;
    w.upload("summary", "text/plain", "Gone soon.".into())
        .await
        .expect(200, None);
    w.upload("profile", "application/pdf", sample("profile.pdf"))
        .await
        .expect(200, None);
    let store = parley_sqlite::SqliteStore::open(&w.t.dir.path().join("parley.sqlite3")).expect("open the store");
    let id = BotId::parse(&w.bot).expect("id");
    assert_eq!(store.list(&id).await.expect("list").len(), 2);
    w.t.call("DELETE", &format!("/chat-config/{}", w.bot), Some(&w.alice), None)
        .await
        .expect(204, None);
    assert!(
        store.list(&id).await.expect("list").is_empty(),
        "persona documents outlived their bot"
    );
}
