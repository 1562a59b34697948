//! "The emulator stopped mid-test": every store call answers `Unavailable` promptly (the
//! API turns that into a 503) and nothing panics; when the emulator is back, the same
//! store works again. The test runs its own emulator on a port of its own, so that
//! stopping it disturbs no other test. Also: a server that accepts connections but never
//! answers is `Unavailable` within the timeouts, not a hang.

mod common;

use std::future::Future;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use common::unique_settings;
use parley_aws::{AwsSettings, AwsStore, bootstrap};
use parley_core::StoreError;
use parley_core::message::Conversation;
use parley_core::ports::{BotStore, MessageRange, MessageStore, QuotaStore, SessionStore};
use parley_core::quota::{QuotaCharge, QuotaOutcome};
use parley_testkit as kit;

/// How long a call against a dead endpoint may take, with the short test timeouts.
const PROMPT: Duration = Duration::from_secs(5);

/// Our own emulator process, stopped when dropped (also when the test fails).
struct Emulator {
    child: Option<Child>,
    port: u16,
}

impl Emulator {
    fn start(port: u16) -> Self {
        let bin = std::env::var("PARLEY_EMULATOR_BIN").unwrap_or_else(|_| {
            panic!(
                "PARLEY_EMULATOR_BIN is not set: run the parley-aws tests with `make test` \
                 or `scripts/aws-emulator.sh cargo test -p parley-aws`"
            )
        });
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let mut emulator = Self {
            child: Some(child),
            port,
        };
        emulator.wait_until_up();
        emulator
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls until the emulator answers HTTP, for at most 30 s.
    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("poll the emulator"))
            {
                panic!("the emulator exited at start-up: {status}");
            }
            let answered = std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok_and(|mut s| {
                use std::io::{Read, Write};
                s.set_read_timeout(Some(Duration::from_secs(1))).ok();
                let mut buf = [0u8; 12];
                s.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n").is_ok()
                    && s.read(&mut buf).is_ok_and(|n| n > 0 && buf.starts_with(b"HTTP/"))
            });
            if answered {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the emulator did not answer within 30 s");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("stop the emulator");
            child.wait().expect("reap the emulator");
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// SDK settings for `endpoint` with short timeouts and one quick retry, as a test can
/// afford; production keeps the defaults of `parley_aws::sdk_config`.
async fn sdk_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region("us-east-1")
        .timeout_config(parley_aws::timeouts(
            Duration::from_millis(500),
            Duration::from_secs(1),
            Duration::from_secs(3),
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .load()
        .await
}

async fn bootstrap_all(sdk: &aws_config::SdkConfig, settings: &AwsSettings) {
    bootstrap::ensure_table(sdk, &settings.table)
        .await
        .expect("bootstrap the table");
    bootstrap::ensure_bucket(sdk, &settings.bucket)
        .await
        .expect("bootstrap the bucket");
}

/// Runs `call` on its own task (so a panic would surface as such) and asserts that it
/// ends promptly with `Unavailable`.
async fn assert_unavailable<T, F>(what: &str, call: F)
where
    F: Future<Output = Result<T, StoreError>> + Send + 'static,
    T: std::fmt::Debug + Send + 'static,
{
    let started = Instant::now();
    let result = tokio::spawn(call)
        .await
        .unwrap_or_else(|e| panic!("{what} panicked while the emulator was down: {e}"));
    let took = started.elapsed();
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{what} must be Unavailable while the emulator is down, got {result:?}"
    );
    assert!(took < PROMPT, "{what} took {took:?} to fail, more than {PROMPT:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_as_unavailable_while_the_emulator_is_down_and_work_when_it_is_back() {
    common::endpoint();
    let mut emulator = Emulator::start(free_port());
    let sdk = sdk_for(&emulator.url()).await;
    let settings = unique_settings();
    bootstrap_all(&sdk, &settings).await;
    let store = AwsStore::new(&sdk, settings.clone());

    let owner = kit::user();
    let bot = kit::bot(owner.as_str());
    let session = kit::session(&bot.chat_config_id, owner.as_str());
    let conversation = Conversation::Session(session.session_id.clone());
    BotStore::create(&store, &bot).await.expect("create a bot");
    SessionStore::create(&store, &session).await.expect("create a session");
    store
        .append(&conversation, &kit::new_message(owner.as_str(), "before"))
        .await
        .expect("append");

    // WHEN the emulator stops mid-test
    emulator.stop();

    // THEN every kind of call fails promptly as Unavailable, without a panic.
    let charge = QuotaCharge {
        key: "outage#counter".to_owned(),
        limit: 5,
        expires_at: None,
        scope: "test",
    };
    let (s, id) = (store.clone(), bot.chat_config_id.clone());
    assert_unavailable("reading a bot (S3)", async move { BotStore::get(&s, &id).await }).await;
    let (s, b) = (store.clone(), kit::bot(owner.as_str()));
    assert_unavailable("creating a bot", async move { BotStore::create(&s, &b).await }).await;
    let (s, id) = (store.clone(), session.session_id.clone());
    assert_unavailable("reading a session", async move { SessionStore::get(&s, &id).await }).await;
    let (s, c, m) = (
        store.clone(),
        conversation.clone(),
        kit::new_message(owner.as_str(), "during"),
    );
    assert_unavailable("appending a message", async move { s.append(&c, &m).await }).await;
    let (s, c) = (store.clone(), conversation.clone());
    let everything = MessageRange::Before {
        before: None,
        limit: 50,
    };
    assert_unavailable("listing messages", async move { s.list(&c, everything).await }).await;
    let (s, ch) = (store.clone(), charge.clone());
    assert_unavailable("charging a quota", async move { s.try_consume(&[ch]).await }).await;

    // WHEN it is back on the same port (empty: moto keeps everything in memory)
    let _emulator = Emulator::start(emulator.port);
    bootstrap_all(&sdk, &settings).await;

    // THEN the very same store works again.
    BotStore::create(&store, &bot)
        .await
        .expect("create a bot after the restart");
    assert_eq!(
        BotStore::get(&store, &bot.chat_config_id).await.expect("get"),
        Some(bot)
    );
    SessionStore::create(&store, &session).await.expect("create a session");
    let message = store
        .append(&conversation, &kit::new_message(owner.as_str(), "after"))
        .await
        .expect("append after the restart");
    assert_eq!(message.seq, 1, "the restarted emulator starts empty");
    assert_eq!(
        store.try_consume(&[charge]).await.expect("charge"),
        QuotaOutcome::Granted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_unavailable_within_the_timeouts() {
    common::endpoint();
    // Accepts connections (the kernel does, into the backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("address"));
    let sdk = sdk_for(&url).await;
    let store = AwsStore::new(&sdk, unique_settings());
    let s = store.clone();
    let id = kit::bot(kit::user().as_str()).chat_config_id;
    assert_unavailable(
        "reading a bot from a silent S3",
        async move { BotStore::get(&s, &id).await },
    )
    .await;
    let s = store.clone();
    assert_unavailable(
        "reading a counter from a silent DynamoDB",
        async move { s.used("k").await },
    )
    .await;
}
