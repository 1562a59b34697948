//! Test support for the functions' tests (feature `testing`): the local AWS emulator,
//! a fresh table and bucket per test, API Gateway event fixtures, one call through
//! a function's router exactly as `lambda_http` would make it, and a loopback Lambda
//! Runtime API to run a function's binary against ([`LoopbackRuntime`]).

use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::to_bytes;
use lambda_http::Request;
use parley_aws::AwsSettings;
use serde_json::Value;
use tower::ServiceExt;

use crate::{FunctionConfig, api_state, function_app};

/// The `GET /health` event of an HTTP API (payload 2.0), as API Gateway sends it.
pub const HEALTH_EVENT: &str = include_str!("../fixtures/health.json");

/// A guest key for tests; the functions and `auth-check` must share one.
pub const TEST_GUEST_KEY: &str = "parley-test-guest-key-0123456789abcdef";

/// `AWS_ENDPOINT_URL` of the emulator, or a panic that says how to run the tests.
pub fn emulator_endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: these tests run against the local AWS emulator; \
             run them as `scripts/aws-emulator.sh cargo test -p <package>` (make test does)"
        ),
    }
}

/// The SDK configuration for the emulator.
pub async fn emulator_sdk() -> aws_config::SdkConfig {
    emulator_endpoint();
    parley_aws::sdk_config().await
}

/// A name no other test in this run uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// A fresh table and bucket on the emulator, and the function configuration over them.
pub async fn emulator_config() -> (aws_config::SdkConfig, FunctionConfig) {
    let sdk = emulator_sdk().await;
    let config = config_on(&sdk).await;
    (sdk, config)
}

/// A fresh table and bucket on the AWS that `sdk` reaches, and the function configuration
/// over them.
pub async fn config_on(sdk: &aws_config::SdkConfig) -> FunctionConfig {
    let aws = AwsSettings {
        table: unique_name("parley-fn"),
        bucket: unique_name("parley-fn"),
    };
    parley_aws::bootstrap::ensure_table(sdk, &aws.table)
        .await
        .expect("create the table on the emulator");
    parley_aws::bootstrap::ensure_bucket(sdk, &aws.bucket)
        .await
        .expect("create the bucket on the emulator");
    FunctionConfig {
        aws,
        public_url: "https://parley.example.com".into(),
        guest_key: TEST_GUEST_KEY.into(),
        models: "offline:parley-offline".into(),
        creators_group: None,
        cors_origins: parley_api::CorsOrigins::none(),
        rate_limits: parley_core::limits::RateLimits::default(),
        providers: parley_llm::ProvidersConfig::default(),
        edge_key: None,
    }
}

/// The routers of the named functions over one fresh table and bucket, as each Lambda
/// builds its own.
pub async fn emulator_functions<const N: usize>(names: [&str; N]) -> [Router; N] {
    emulator_functions_and_config(names).await.0
}

/// [`emulator_functions`], with the configuration they share (for a function binary to
/// be started over the same table and bucket).
pub async fn emulator_functions_and_config<const N: usize>(names: [&str; N]) -> ([Router; N], FunctionConfig) {
    let (sdk, config) = emulator_config().await;
    let routers = names.map(|name| {
        function_app(name, api_state(&config, &sdk).expect("API state"), &config).expect("function router")
    });
    (routers, config)
}

/// An event fixture with `{{placeholders}}` filled in, converted to the request
/// `lambda_http` hands to the router.
pub fn event(fixture: &str, values: &[(&str, &str)]) -> Request {
    let mut text = fixture.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(!text.contains("{{"), "a placeholder is left in the fixture: {text}");
    lambda_http::request::from_str(&text).expect("an API Gateway HTTP API event")
}

/// Sends `request` through `router`; the status and the JSON body (null when empty).
pub async fn call(router: &Router, request: Request) -> (u16, Value) {
    let response = router.clone().oneshot(request).await.expect("the router is infallible");
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("the body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, body)
}

/// The `POST /create-chat` event that tests use to make a bot for user `sub`.
pub const CREATE_CHAT_EVENT: &str = include_str!("../fixtures/create-chat.json");

/// A bot of user `sub`, created through the `create-chat` router; its JSON, with
/// `shareCode` added (taken from `shareableUrl`).
pub async fn create_bot(create_chat: &Router, sub: &str) -> Value {
    let (status, mut bot) = call(create_chat, event(CREATE_CHAT_EVENT, &[("sub", sub)])).await;
    assert_eq!(status, 201, "{bot}");
    let code = bot["shareableUrl"]
        .as_str()
        .and_then(|url| url.rsplit_once("/s/"))
        .map(|(_, code)| code.to_owned())
        .expect("a share link");
    bot["shareCode"] = Value::String(code);
    bot
}

/// `GET /health` through `router` answers 200 `{"status":"ok"}`.
pub async fn assert_health(router: &Router) {
    let (status, body) = call(router, event(HEALTH_EVENT, &[])).await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
}

/// One answer a function posted to the [`LoopbackRuntime`].
#[derive(Debug)]
pub struct Answered {
    /// When the whole answer had arrived.
    pub at: std::time::Instant,
    /// The invocation it answers (`loopback-1`, `loopback-2`, … in event order).
    pub request_id: String,
    /// The headers of the runtime's POST (`lambda-runtime-function-response-mode:
    /// streaming` for a streamed answer).
    pub headers: axum::http::HeaderMap,
    /// The body as posted: the JSON answer, or for a streamed one the prelude, eight NUL
    /// bytes and the response body.
    pub body: bytes::Bytes,
}

/// The Lambda Runtime API played by a loopback server: it hands out `events` in order
/// (then makes the next poll wait for ever) and passes every posted answer on.
#[derive(Debug)]
pub struct LoopbackRuntime {
    /// What `AWS_LAMBDA_RUNTIME_API` names.
    pub addr: std::net::SocketAddr,
    answers: tokio::sync::mpsc::UnboundedReceiver<Answered>,
}

#[derive(Clone)]
struct RuntimeState {
    function: String,
    events: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    handed_out: std::sync::Arc<std::sync::atomic::AtomicU32>,
    answers: tokio::sync::mpsc::UnboundedSender<Answered>,
}

impl LoopbackRuntime {
    /// Serves `events` for function `function` on a free loopback port.
    pub async fn start(function: &str, events: Vec<String>) -> Self {
        use axum::routing::{get, post};
        let (tx, answers) = tokio::sync::mpsc::unbounded_channel();
        let state = RuntimeState {
            function: function.to_owned(),
            events: std::sync::Arc::new(std::sync::Mutex::new(events.into())),
            handed_out: std::sync::Arc::default(),
            answers: tx,
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(answered))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, answers }
    }

    /// The next answer, or `None` once the server is gone.
    pub async fn answer(&mut self) -> Option<Answered> {
        self.answers.recv().await
    }

    /// The next answer of `child`, a function process started against this runtime; an
    /// error saying why when the process exits first, the server is gone, or no answer
    /// came `within`.
    pub async fn answer_from(
        &mut self,
        child: &mut tokio::process::Child,
        within: std::time::Duration,
    ) -> Result<Answered, String> {
        tokio::select! {
            answer = self.answer() => answer.ok_or_else(|| "the runtime stopped".to_owned()),
            status = child.wait() => Err(format!("the function exited before answering: {status:?}")),
            () = tokio::time::sleep(within) => Err(format!("no answer within {within:?}")),
        }
    }

    /// `bin` set up as Lambda starts function `function` against this runtime: the
    /// Lambda variables, test credentials, `AWS_ENDPOINT_URL` on a closed port (so any
    /// AWS call fails) and the variables every HTTP function reads.
    pub fn command(&self, bin: &str, function: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(bin);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "loopback")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            // Port 9 (discard) is closed here: any AWS call would fail.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("PARLEY_TABLE", "parley")
            .env("PARLEY_BUCKET", "parley")
            .env("PARLEY_PUBLIC_URL", "https://parley.example.com")
            .env("PARLEY_GUEST_KEY", TEST_GUEST_KEY)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        command
    }
}

async fn next_event(
    axum::extract::State(state): axum::extract::State<RuntimeState>,
) -> (axum::http::HeaderMap, String) {
    let event = state.events.lock().expect("lock").pop_front();
    let Some(event) = event else {
        // No more events: the runtime waits here until the test ends the process.
        return std::future::pending().await;
    };
    let n = state.handed_out.fetch_add(1, Ordering::SeqCst) + 1;
    let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{}", state.function);
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", format!("loopback-{n}")),
        ("lambda-runtime-deadline-ms", "4102444800000".to_owned()),
        ("lambda-runtime-invoked-function-arn", arn),
        (
            "lambda-runtime-trace-id",
            "Root=1-65f1a2b3-0123456789abcdef01234567".to_owned(),
        ),
    ] {
        headers.insert(name, value.parse().expect("a header value"));
    }
    (headers, event)
}

async fn answered(
    axum::extract::State(state): axum::extract::State<RuntimeState>,
    axum::extract::Path(request_id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
) -> axum::http::StatusCode {
    let at = std::time::Instant::now();
    let _ = state.answers.send(Answered {
        at,
        request_id,
        headers,
        body,
    });
    axum::http::StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (payload 2.0) event for `method path` with a JSON `body`, and
/// `authorizer` as the Lambda authorizer's context (`{kind, sub, …}`), converted to the
/// request `lambda_http` hands to the router.
pub fn api_event(method: &str, path: &str, body: &Value, authorizer: Value) -> Request {
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "x-forwarded-for": "192.0.2.1",
            "x-forwarded-proto": "https"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test"},
            "requestId": "test",
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "time": "12/Mar/2024:19:03:58 +0000",
            "timeEpoch": 1_710_270_238_390_u64,
            "authorizer": {"lambda": authorizer}
        },
        "isBase64Encoded": false,
        "body": body.to_string()
    });
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway HTTP API event")
}

/// The authorizer context `auth-check` gives a signed-in user.
pub fn user_context(sub: &str) -> Value {
    serde_json::json!({"kind": "user", "sub": sub, "email": format!("{sub}@example.com"), "groups": "",
        "sessionId": "", "botId": ""})
}

/// A local AWS emulator of this test's own that counts the requests it serves by
/// operation (`scripts/moto_serial.py` with `PARLEY_EMULATOR_COUNT_REQUESTS=1`), started
/// from `PARLEY_EMULATOR_BIN` (which `scripts/aws-emulator.sh` sets). Stopped on drop.
#[derive(Debug)]
pub struct CountingEmulator {
    /// Its endpoint URL.
    pub url: String,
    _child: tokio::process::Child,
}

impl CountingEmulator {
    /// Starts one on a free loopback port and waits until it answers.
    pub async fn start() -> Self {
        let bin = std::env::var("PARLEY_EMULATOR_BIN").unwrap_or_else(|_| {
            panic!("PARLEY_EMULATOR_BIN is not set: run this as `scripts/aws-emulator.sh cargo test -p <package>`")
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = tokio::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PARLEY_EMULATOR_COUNT_REQUESTS", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the emulator");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http.get(format!("{url}/_parley/requests")).send().await.is_ok() {
                return Self { url, _child: child };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the counting emulator exited: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the counting emulator did not start within 30 s");
    }

    /// The SDK configuration for this emulator.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await
    }

    /// The requests served since the last call, by operation; starts again from zero.
    pub async fn take(&self) -> std::collections::BTreeMap<String, u64> {
        reqwest::Client::new()
            .delete(format!("{}/_parley/requests", self.url))
            .send()
            .await
            .expect("the emulator's counts")
            .json()
            .await
            .expect("counts as JSON")
    }
}
