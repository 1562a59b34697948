//! What every API test shares: the local app on a temporary data directory, driven
//! through its merged router with `oneshot`, and a model that counts its calls.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use parley_core::error::LlmError;
use parley_core::error::ProviderFailure;
use parley_core::limits::RateLimits;
use parley_core::ports::{ChatReply, ChatRequest, Clock, LlmProvider, ReplyStream, StreamEvent};
use parley_llm::OfflineModel;
use parley_local::{LocalApp, LocalConfig, build_with_clock};
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

/// The offline model, counting calls and failing on demand. Streamed, its reply comes
/// a word per delta, each after `stream_pause_ms`; with `stream_fail_after` = n > 0 the
/// stream breaks off with a provider error after n deltas.
#[derive(Default)]
pub struct CountingModel {
    pub calls: AtomicUsize,
    pub fail: AtomicBool,
    pub requests: std::sync::Mutex<Vec<ChatRequest>>,
    pub stream_pause_ms: AtomicU64,
    /// A pause before a whole (JSON-route) reply.
    pub complete_pause_ms: AtomicU64,
    pub stream_fail_after: AtomicUsize,
    /// How many model streams have been dropped: read to their end, or cut off.
    pub streams_dropped: Arc<AtomicUsize>,
}

/// Counts a model stream as dropped when it goes.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl LlmProvider for CountingModel {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut seen) = self.requests.lock() {
            seen.push(request.clone());
        }
        let pause = self.complete_pause_ms.load(Ordering::SeqCst);
        if pause > 0 {
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(LlmError::provider(
                "test",
                parley_core::error::ProviderFailure::Status(500),
                "the test asked this call to fail",
            ));
        }
        OfflineModel.complete(request).await
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, LlmError> {
        let reply = self.complete(request).await?;
        // (`complete` counted the call and paused as asked.)
        let words: Vec<String> = reply.text.split_inclusive(' ').map(str::to_owned).collect();
        let pause = Duration::from_millis(self.stream_pause_ms.load(Ordering::SeqCst));
        let fail_after = self.stream_fail_after.load(Ordering::SeqCst);
        let guard = DropCounter(self.streams_dropped.clone());
        let state = (words.into_iter(), 0usize, Some(reply.usage), guard);
        Ok(Box::pin(futures::stream::unfold(
            state,
            move |(mut words, sent, usage, guard)| async move {
                if fail_after > 0 && sent == fail_after {
                    let e = LlmError::provider("test", ProviderFailure::BrokeOff, "the test broke the stream off");
                    return Some((Err(e), (Vec::new().into_iter(), sent + 1, None, guard)));
                }
                match words.next() {
                    Some(word) => {
                        tokio::time::sleep(pause).await;
                        Some((Ok(StreamEvent::Delta(word)), (words, sent + 1, usage, guard)))
                    }
                    None => usage.map(|u| (Ok(StreamEvent::Done(u)), (words, sent, None, guard))),
                }
            },
        )))
    }
}

pub struct TestApp {
    pub app: LocalApp,
    pub model: Arc<CountingModel>,
    pub dir: TempDir,
}

/// A response, with its body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn is_problem(&self) -> bool {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) == Some("application/problem+json")
    }

    /// Asserts the status and, for errors, a problem+json body with this code.
    #[track_caller]
    pub fn expect(&self, status: u16, code: Option<&str>) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        if let Some(code) = code {
            assert!(self.is_problem(), "not problem+json: {:?}", self.headers);
            assert_eq!(self.code(), code, "body: {}", self.body);
        }
        self
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {}", self.body))
            .to_owned()
    }
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    /// The app with `change` applied to the test configuration. The rate limits per
    /// address start out of the way (every test request comes from one address), so
    /// tests of other things are not throttled; `tests/abuse.rs` sets the shipped ones.
    pub fn with_config(change: impl FnOnce(&mut LocalConfig)) -> Self {
        Self::with_config_and_clock(change, None)
    }

    /// [`TestApp::with_config`] with the use cases' clock replaced.
    pub fn with_config_and_clock(change: impl FnOnce(&mut LocalConfig), clock: Option<Arc<dyn Clock>>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = LocalConfig::for_data_dir(dir.path());
        // A test binary cannot serve as the PDF worker: the server binary does.
        config.pdf_worker = Some(env!("CARGO_BIN_EXE_parley").into());
        config.rate_limits = RateLimits {
            session_starts_per_minute: 1_000_000,
            sends_per_minute: 1_000_000,
            guest_sessions_per_bot_per_hour: 1_000_000,
        };
        change(&mut config);
        let model = Arc::new(CountingModel::default());
        let app = build_with_clock(&config, Some(model.clone()), clock).expect("the local app builds");
        Self { app, model, dir }
    }

    pub fn calls(&self) -> usize {
        self.model.calls.load(Ordering::SeqCst)
    }

    /// An ID token from the development identity provider.
    pub fn token(&self, email: &str, groups: &[&str]) -> String {
        let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        self.app.idp.sign_in(email, &groups, now()).id_token
    }

    /// Sends a request from [`PEER`], as the server's `ConnectInfo` would say.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        self.send_from(Some(PEER), req).await
    }

    /// Sends a request from `peer`, or without a peer address (as a serving loop that
    /// did not record one).
    pub async fn send_from(&self, peer: Option<SocketAddr>, mut req: Request<Body>) -> Reply {
        if let Some(peer) = peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = self
            .app
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("a body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body }
    }

    /// A JSON request, with a bearer token when given.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.send(json_request(method, path, token, body)).await
    }

    /// `POST` with a JSON body from the peer address `peer` (`None`: no address).
    pub async fn post_from(&self, peer: Option<SocketAddr>, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send_from(peer, json_request("POST", path, token, Some(body)))
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call("POST", path, token, Some(body)).await
    }

    /// Creates a bot; extra fields are merged into a minimal body.
    pub async fn create_bot(&self, token: &str, extra: Value) -> Value {
        let mut body = json!({"title": "Test bot", "systemPrompt": "You are a test."});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.post("/create-chat", Some(token), body).await;
        r.expect(201, None);
        r.body
    }

    /// The bot's current share code, as its owner's page shows it (read here as an
    /// admin, who may read any bot).
    pub async fn share_code(&self, bot_id: &str) -> String {
        let admin = self.token("share-code-reader@example.com", &["admin"]);
        let r = self.get(&format!("/chat-config/{bot_id}"), Some(&admin)).await;
        r.expect(200, None);
        r.str("shareableUrl")
            .rsplit('/')
            .next()
            .expect("a share url")
            .to_owned()
    }

    /// How a caller names the bot to open a conversation on it: its owner by its id,
    /// anyone else by its current share code (which they would have from the link).
    async fn opening_body(&self, token: Option<&str>, bot_id: &str) -> Value {
        let owner = match token {
            Some(t) => self.get(&format!("/chat-config/{bot_id}"), Some(t)).await.body["ownerId"].clone(),
            None => Value::Null,
        };
        let caller = token.map(subject_of);
        if owner.is_string() && owner.as_str() == caller.as_deref() {
            json!({"chatConfigId": bot_id})
        } else {
            json!({"shareCode": self.share_code(bot_id).await})
        }
    }

    /// Starts a session on a bot, as its owner by id or as anyone else by its share
    /// code; returns `(sessionId, guestToken or the caller's token)`.
    pub async fn start_session(&self, token: Option<&str>, bot_id: &str) -> (String, String) {
        let body = self.opening_body(token, bot_id).await;
        let r = self.post("/chat-session", token, body).await;
        r.expect(201, None);
        let session = r.str("sessionId");
        let bearer = match token {
            Some(t) => t.to_owned(),
            None => r.str("guestToken"),
        };
        (session, bearer)
    }

    pub async fn say(&self, token: &str, session: &str, text: &str) -> Reply {
        self.post(
            "/session-message",
            Some(token),
            json!({"sessionId": session, "message": text}),
        )
        .await
    }

    /// Creates a room on a bot (by id for its owner, by share code for anyone else);
    /// returns `(roomId, inviteCode)`.
    pub async fn create_room(&self, token: &str, bot_id: &str, extra: Value) -> (String, String) {
        let mut body = self.opening_body(Some(token), bot_id).await;
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.post("/chat-room", Some(token), body).await;
        r.expect(201, None);
        (r.str("roomId"), r.str("inviteCode"))
    }
}

/// The `sub` claim of a token (read, not verified: the token is the test's own).
pub fn subject_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("a base64url payload");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    claims["sub"].as_str().expect("a sub claim").to_owned()
}

/// A clock a test moves forward.
pub struct AdjustableClock(pub std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl AdjustableClock {
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.lock().map(|n| *n).unwrap_or_default()
    }
}

/// A clock that stands still.
pub struct FixedClock(pub chrono::DateTime<chrono::Utc>);

impl Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// The peer address of every test request unless a test picks another.
pub const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);

/// A JSON request, with a bearer token when given.
pub fn json_request(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request")
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
