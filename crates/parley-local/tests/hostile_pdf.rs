//! Hostile profile PDFs against the real `parley` server process (issue 7, item 1): a
//! ~1 MB decompression bomb, 150 pages sharing one 100 MB content stream, and a PDF that
//! keeps the reader busy are each refused with problem+json 4xx within a bound; the
//! server's peak memory stays bounded, `/health` answers throughout, no extraction
//! worker outlives its upload, a second upload past the slots gets 503 with
//! `Retry-After`, and SIGTERM right after still stops the server promptly.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parley_pdf::testing;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The server's deadline for one extraction: short, so the slow PDF costs little, but
/// long enough for a refusal by the bounds on a busy machine (a debug build shares two
/// cores with other work).
const DEADLINE: Duration = Duration::from_secs(8);

struct Server {
    child: Child,
    pid: u32,
    url: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .env("PORT", "0")
        .env("PARLEY_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .env("PARLEY_PDF_MAX_CONCURRENT", "1")
        .env("PARLEY_PDF_QUEUE_WAIT_MS", "300")
        .env("PARLEY_PDF_DEADLINE_MS", DEADLINE.as_millis().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the parley binary starts");
    let pid = child.id().expect("running");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = loop {
        let line = lines.next_line().await.expect("stdout").expect("the banner");
        if let Some(rest) = line.split("Parley is running at ").nth(1) {
            break rest.split_whitespace().next().expect("an address").to_owned();
        }
    };
    // Keep reading its output so that logging never blocks the server.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        child,
        pid,
        url,
        _dir: dir,
    }
}

/// The peak resident set of `pid` so far, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

struct Upload {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: Value,
    took: Duration,
}

async fn upload(http: &reqwest::Client, url: &str, token: &str, pdf: Vec<u8>) -> Upload {
    let started = Instant::now();
    let r = http
        .put(url)
        .bearer_auth(token)
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .expect("an answer");
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, content_type, retry_after) = (r.status().as_u16(), header("content-type"), header("retry-after"));
    let body = r.json().await.unwrap_or(Value::Null);
    Upload {
        status,
        content_type: content_type.unwrap_or_default(),
        retry_after,
        body,
        took: started.elapsed(),
    }
}

fn assert_refused(u: &Upload, status: u16, code: &str, what: &str, within: Duration) {
    assert_eq!(u.status, status, "{what}: {}", u.body);
    assert_eq!(u.content_type, "application/problem+json", "{what}");
    assert_eq!(u.body["code"], code, "{what}: {}", u.body);
    assert!(
        u.body["detail"].as_str().is_some_and(|d| d.starts_with("profile: ")),
        "{what}: {}",
        u.body
    );
    assert!(u.took < within, "{what} took {:?}", u.took);
}

#[tokio::test]
async fn hostile_pdfs_are_refused_and_the_server_stays_up() {
    let mut server = start().await;
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{}/dev/sign-in", server.url))
        .json(&json!({"email": "alice@example.com"}))
        .send()
        .await
        .expect("sign-in")
        .json::<Value>()
        .await
        .expect("json")["idToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let bot: Value = http
        .post(format!("{}/create-chat", server.url))
        .bearer_auth(&token)
        .json(&json!({"title": "Ada", "systemPrompt": "You are Ada."}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let profile = format!(
        "{}/chat-config/{}/persona/profile",
        server.url,
        bot["chatConfigId"].as_str().expect("an id")
    );

    // A real profile goes through a real worker of this very binary.
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/digital-twin/profile.pdf"
    ))
    .expect("the sample profile");
    let ok = upload(&http, &profile, &token, sample.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let rss_before = peak_rss_kib(server.pid);

    // /health is asked every 100 ms while the hostile uploads go on.
    let stop = Arc::new(AtomicBool::new(false));
    let health = tokio::spawn({
        let (http, url, stop) = (http.clone(), format!("{}/health", server.url), stop.clone());
        async move {
            let mut slowest = Duration::ZERO;
            let mut answered = 0;
            let mut every = tokio::time::interval(Duration::from_millis(100));
            while !stop.load(Ordering::SeqCst) {
                every.tick().await;
                let started = Instant::now();
                let r = http.get(&url).timeout(Duration::from_secs(5)).send().await;
                assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(200), "/health must answer");
                slowest = slowest.max(started.elapsed());
                answered += 1;
            }
            (answered, slowest)
        }
    });

    // 1. ~1 MB holding one Flate stream of 1 GiB of spaces.
    let bomb = testing::flate_bomb(1024);
    assert!(bomb.len() < 1_200_000, "{} bytes", bomb.len());
    let u = upload(&http, &profile, &token, bomb).await;
    assert_refused(&u, 413, "payload_too_large", "the flate bomb", DEADLINE);
    assert!(
        testing::live_children(server.pid).is_empty(),
        "a worker outlived the bomb"
    );
    let bomb_took = u.took;

    // 2. 150 pages sharing one content stream of 100 MiB, in about 120 KB.
    let shared = testing::shared_content(150, 100);
    assert!(shared.len() < 200_000, "{} bytes", shared.len());
    let u = upload(&http, &profile, &token, shared).await;
    assert_refused(&u, 413, "payload_too_large", "the shared stream", DEADLINE);
    assert!(
        testing::live_children(server.pid).is_empty(),
        "a worker outlived the shared stream"
    );
    let shared_took = u.took;

    // 3. A form drawn 200,000 times: small, but the reader would take minutes. Meanwhile
    // (once its worker runs, so the one slot is taken) another upload is turned away.
    let slow = tokio::spawn({
        let (http, profile, token) = (http.clone(), profile.clone(), token.clone());
        async move { upload(&http, &profile, &token, testing::slow_forms(200_000, 256)).await }
    });
    while testing::live_children(server.pid).is_empty() && !slow.is_finished() {
        tokio::task::yield_now().await;
    }
    let busy = upload(&http, &profile, &token, sample.clone()).await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.body["code"], "service_unavailable");
    assert_eq!(busy.retry_after.as_deref(), Some("8"), "Retry-After");
    let u = slow.await.expect("the slow upload");
    assert_refused(
        &u,
        400,
        "validation_failed",
        "the slow PDF",
        DEADLINE + Duration::from_secs(3),
    );
    assert!(
        u.body["detail"].as_str().is_some_and(|d| d.contains("too long")),
        "{}",
        u.body
    );
    assert!(
        testing::live_children(server.pid).is_empty(),
        "a worker outlived its deadline"
    );
    let slow_took = u.took;

    stop.store(true, Ordering::SeqCst);
    let (answered, slowest) = health.await.expect("the health poller");
    let rss_after = peak_rss_kib(server.pid);
    // The earlier profile stays.
    let kept: Value = http
        .get(&profile)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(kept["pdfBytes"], sample.len(), "{kept}");

    // SIGTERM right after: the server stops promptly.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &server.pid.to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let stopping = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), server.child.wait())
        .await
        .expect("the server stops within 5 s of SIGTERM")
        .expect("status");
    let stop_took = stopping.elapsed();
    assert!(status.success(), "{status:?}");

    eprintln!(
        "refused: bomb in {bomb_took:?}, shared stream in {shared_took:?}, slow PDF in {slow_took:?}; \
         peak RSS {rss_before} KiB before, {rss_after} KiB after; /health answered {answered} times, \
         slowest {slowest:?}; stopped {stop_took:?} after SIGTERM"
    );
    assert!(
        rss_after < rss_before + 64 * 1024,
        "peak RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    assert!(slowest < Duration::from_secs(2), "/health took {slowest:?}");
}
