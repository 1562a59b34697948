//! Clients that hold connections open or send slowly cannot take the server down, and a
//! shutdown stays prompt while they do.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::{HEAVY, Server, allow_open_files, hold_unfinished_heads};

const HELD: usize = 1_100;
const HEAD_TIMEOUT: Duration = Duration::from_secs(3);
/// Time on top of a timeout for a loaded machine to act on it.
const MARGIN: Duration = Duration::from_secs(3);

/// Holds `HELD` unfinished heads on `server`, probes `/health` throughout, and returns
/// (the slowest `/health`, the probes, how long the last held connection stayed open,
/// how many closed before the head timeout).
async fn held_heads_run(server: &Server) -> (Duration, usize, Duration, usize) {
    let opened = Instant::now();
    let (mut closing, all_open) = hold_unfinished_heads(server.port, HELD).await;
    let mut slowest = Duration::ZERO;
    let mut probes = 0;
    let mut closed_at = Vec::with_capacity(HELD);
    let deadline = all_open + HEAD_TIMEOUT + MARGIN;
    while closed_at.len() < HELD {
        let asked = Instant::now();
        // THEN /health answers within 2 s throughout
        let answer = server.request(Duration::from_secs(2), "GET", "/health", &[], "").await;
        let took = asked.elapsed();
        assert!(
            answer.as_ref().is_some_and(|a| a.status == 200),
            "/health did not answer within 2 s with {} connections held ({:?} after the first was opened)\n{}",
            HELD - closed_at.len(),
            opened.elapsed(),
            server.output()
        );
        slowest = slowest.max(took);
        probes += 1;
        while let Some(done) = closing.try_join_next() {
            closed_at.push(done.expect("closing task"));
        }
        assert!(
            Instant::now() < deadline,
            "{} held connections still open {:?} after the last was opened (head timeout {HEAD_TIMEOUT:?})",
            HELD - closed_at.len(),
            all_open.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last = closed_at.iter().max().copied().unwrap_or(all_open);
    let early = closed_at.iter().filter(|t| **t < opened + HEAD_TIMEOUT).count();
    (slowest, probes, last.saturating_duration_since(opened), early)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_heads_under_a_1024_soft_limit_neither_block_health_nor_stay_open() {
    let _heavy = HEAVY.lock().await;
    allow_open_files(HELD as u64 + 200);
    // GIVEN the server started under a soft limit of 1,024 open files, head timeout 3 s
    let server = Server::start(Some("-Sn 1024"), &[("PARLEY_HEADER_TIMEOUT_MS", "3000")]);
    // WHEN a client holds 1,100 unfinished request heads
    let (slowest, probes, last_closed, _) = held_heads_run(&server).await;
    // THEN (checked throughout) /health answered, and every held connection was closed
    // within the head timeout and the margin
    println!(
        "soft limit 1024: {HELD} unfinished heads; /health slowest {slowest:?} over {probes} probes; \
         all held connections closed {last_closed:?} after the first was opened (head timeout {HEAD_TIMEOUT:?})"
    );
    let output = server.output();
    assert!(!output.to_lowercase().contains("too many open files"), "{output}");
    // AND the server raised its soft limit to the hard one it inherited, and said so
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("the open-files limit");
    assert!(
        output.contains(&format!("open_files={hard}")),
        "the soft limit was raised to {hard}: {output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_hard_limit_of_1024_the_cap_keeps_the_server_answering() {
    let _heavy = HEAVY.lock().await;
    allow_open_files(HELD as u64 + 200);
    // GIVEN the server under soft and hard limits of 1,024 (so it cannot raise them):
    // its cap is 1,024 minus the reserve, below the 1,100 connections to come
    let server = Server::start(Some("-n 1024"), &[("PARLEY_HEADER_TIMEOUT_MS", "3000")]);
    // WHEN a client holds 1,100 unfinished request heads
    let (slowest, probes, last_closed, early) = held_heads_run(&server).await;
    println!(
        "hard limit 1024: {HELD} unfinished heads; /health slowest {slowest:?} over {probes} probes; \
         {early} closed at the cap before the head timeout; all closed {last_closed:?} after the first was opened"
    );
    // THEN the ones beyond the cap were closed at once (the oldest waiting), /health kept
    // answering, accepting never ran out of descriptors, and the log said so once
    assert!(early >= HELD - 896, "only {early} connections were closed at the cap");
    let output = server.output();
    assert!(
        output.contains("open_files=1024") && output.contains("max_connections=896"),
        "{output}"
    );
    assert!(!output.to_lowercase().contains("too many open files"), "{output}");
    let cap_lines = output.matches("at the connection cap").count();
    assert!(
        (1..=2).contains(&cap_lines),
        "rate-limited: {cap_lines} lines\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_at_one_byte_per_second_is_cut_off_and_nothing_is_stored() {
    // GIVEN a signed-in user and a body timeout of 2 s
    let server = Server::start(None, &[("PARLEY_BODY_TIMEOUT_MS", "2000")]);
    let token = server.sign_in("alice@example.com").await;
    let body = r#"{"title":"Slow bot","systemPrompt":"You are slow."}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).await.expect("connect");
    let head = format!(
        "POST /create-chat HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        server.host(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let (reader, mut writer) = stream.into_split();
    let started = Instant::now();
    // WHEN the body trickles in at one byte per second (it would take a minute)
    let trickle = tokio::spawn(async move {
        for byte in body.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let answer = tokio::spawn(async move {
        let mut reader = reader;
        let mut raw = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut raw).await;
        String::from_utf8_lossy(&raw).into_owned()
    });
    // THEN the server answers and closes the connection soon after the body timeout
    let answer = tokio::time::timeout(Duration::from_secs(2) + MARGIN, answer)
        .await
        .expect("the connection was not closed within the body timeout and the margin")
        .expect("reader");
    let took = started.elapsed();
    trickle.abort();
    println!(
        "a body at 1 byte/s was cut off after {took:?}: {:?}",
        answer.lines().next()
    );
    assert!(
        took >= Duration::from_millis(1900),
        "cut off before the timeout: {took:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 4"), "a 4xx answer: {answer}");
    // AND nothing was stored
    let listed = server
        .request(
            Duration::from_secs(5),
            "GET",
            "/chat-configs",
            &[("authorization", &format!("Bearer {token}"))],
            "",
        )
        .await
        .expect("list answers");
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.json()["items"], serde_json::json!([]), "{listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_connections_are_held_exits_within_the_shutdown_timeout() {
    let _heavy = HEAVY.lock().await;
    allow_open_files(HELD as u64 + 200);
    // GIVEN the server under a soft limit of 1,024, a shutdown timeout of 2 s, 1,100
    // unfinished heads held open and one request in flight whose body never ends
    let mut server = Server::start(
        Some("-Sn 1024"),
        &[
            ("PARLEY_SHUTDOWN_TIMEOUT_MS", "2000"),
            ("PARLEY_HEADER_TIMEOUT_MS", "60000"),
        ],
    );
    let token = server.sign_in("alice@example.com").await;
    let (_held, _) = hold_unfinished_heads(server.port, HELD).await;
    let mut in_flight = TcpStream::connect(("127.0.0.1", server.port)).await.expect("connect");
    let head = format!(
        "POST /create-chat HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{",
        server.host()
    );
    in_flight.write_all(head.as_bytes()).await.expect("head");
    // (The log's shutdown line below shows that the request was in flight.)
    assert!(server.get("/health").await.is_some_and(|a| a.status == 200));
    // WHEN the process gets SIGTERM
    let signalled = Instant::now();
    server.signal("TERM");
    // THEN it exits, successfully, within the shutdown timeout and the margin
    let status = server.wait_exit(Duration::from_secs(2) + MARGIN).unwrap_or_else(|| {
        panic!(
            "still running {:?} after SIGTERM\n{}",
            signalled.elapsed(),
            server.output()
        )
    });
    let took = signalled.elapsed();
    println!("SIGTERM with {HELD} held connections and a request in flight: exited after {took:?} (bound 2 s)");
    assert!(status.success(), "{status:?}\n{}", server.output());
    let output = server.output();
    assert!(output.contains("stopped"), "{output}");
    assert!(output.contains("still running after the shutdown timeout"), "{output}");
}
