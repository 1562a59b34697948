//! The serving loop of the local server: HTTP/1.1 connections with timeouts on what
//! clients send, a cap on concurrent connections derived from the open-files limit, and
//! a shutdown that is bounded while clients hold connections open.
//!
//! `axum::serve` has none of these knobs, so this loop drives hyper's own HTTP/1
//! connection builder (`hyper::server::conn::http1`, the one hyper-util's `auto` builder
//! delegates to) with hyper-util's Tokio IO and timer: the same stack `axum::serve` runs
//! on, with no new crate in the build. It provides the request-head timeout and
//! per-connection graceful shutdown; the body deadline, the idle timeout, the cap and the
//! shutdown bound are ours, below.
//!
//! Every request carries `ConnectInfo<SocketAddr>` (the peer address) in its extensions,
//! exactly as `into_make_service_with_connect_info::<SocketAddr>()` puts it there.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// File descriptors kept out of the connection cap: the SQLite files, the log, outgoing
/// connections to model providers and whatever else the process opens.
pub const RESERVED_FDS: u64 = 128;

/// The cap when the open-files limit is unlimited or huge.
const MAX_CAP: u64 = 1 << 20;

/// The serving limits (see the README's configuration table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// `PARLEY_HEADER_TIMEOUT_MS`: time to deliver a complete request head, counted from
    /// the connection's opening or the end of the previous response.
    pub header_timeout: Duration,
    /// `PARLEY_BODY_TIMEOUT_MS`: time to deliver the whole request body, counted from
    /// the end of its head. A slower body is cut off and the connection closed.
    pub body_timeout: Duration,
    /// `PARLEY_IDLE_TIMEOUT_MS`: how long a keep-alive connection may wait between
    /// requests (at most the head timeout, whose timer also runs then).
    pub idle_timeout: Duration,
    /// `PARLEY_MAX_CONNECTIONS`: the cap on concurrent connections; `None` derives it
    /// from the open-files limit. Never more than that limit allows.
    pub max_connections: Option<usize>,
    /// `PARLEY_SHUTDOWN_TIMEOUT_MS`: how long requests in flight may still run after a
    /// shutdown signal; connections waiting for a request close at once.
    pub shutdown_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(5),
            max_connections: None,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServeConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |k: &str| lookup(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let millis = |k: &str, default: Duration| -> anyhow::Result<Duration> {
            match var(k) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(ms) if (1..=3_600_000).contains(&ms) => Ok(Duration::from_millis(ms)),
                    _ => anyhow::bail!("{k} must be a whole number of milliseconds from 1 to 3600000, not {v:?}"),
                },
            }
        };
        let defaults = Self::default();
        let max_connections = match var("PARLEY_MAX_CONNECTIONS") {
            None => None,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => anyhow::bail!("PARLEY_MAX_CONNECTIONS must be a whole number of at least 1, not {v:?}"),
            },
        };
        let header_timeout = millis("PARLEY_HEADER_TIMEOUT_MS", defaults.header_timeout)?;
        Ok(Self {
            header_timeout,
            body_timeout: millis("PARLEY_BODY_TIMEOUT_MS", defaults.body_timeout)?,
            idle_timeout: millis("PARLEY_IDLE_TIMEOUT_MS", defaults.idle_timeout)?.min(header_timeout),
            max_connections,
            shutdown_timeout: millis("PARLEY_SHUTDOWN_TIMEOUT_MS", defaults.shutdown_timeout)?,
        })
    }
}

/// Raises the soft open-files limit to the hard one and returns the soft limit the
/// process then runs with.
pub fn raise_open_files_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => soft,
        Err(e) => {
            let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft);
            tracing::warn!(error = %e, soft, "cannot raise the open-files limit");
            soft
        }
    }
}

/// The connection cap for an open-files limit: what the limit leaves after
/// [`RESERVED_FDS`], or the configured cap when it is lower.
pub fn connection_cap(open_files: u64, configured: Option<usize>) -> usize {
    // An unlimited open-files limit still gets a finite cap.
    let room = usize::try_from(open_files.saturating_sub(RESERVED_FDS).min(MAX_CAP))
        .unwrap_or(usize::MAX)
        .max(16);
    configured.map_or(room, |c| c.min(room))
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, closes
/// the connections waiting for a request, and lets requests in flight finish for at most
/// [`ServeConfig::shutdown_timeout`] before closing what is left.
pub async fn run(
    listener: TcpListener,
    router: Router,
    config: &ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let open_files = raise_open_files_limit();
    let cap = connection_cap(open_files, config.max_connections);
    if config.max_connections.is_some_and(|c| c > cap) {
        tracing::warn!(
            configured = config.max_connections,
            cap,
            "PARLEY_MAX_CONNECTIONS is above what the open-files limit allows; using the lower cap"
        );
    }
    tracing::info!(
        open_files,
        max_connections = cap,
        header_timeout_ms = millis(config.header_timeout),
        body_timeout_ms = millis(config.body_timeout),
        idle_timeout_ms = millis(config.idle_timeout),
        shutdown_timeout_ms = millis(config.shutdown_timeout),
        "serving limits"
    );

    let permits = Arc::new(Semaphore::new(cap));
    let registry = Registry::default();
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut at_cap_log = RateLimitedLog::new(Duration::from_secs(10));
    let mut accept_error_log = RateLimitedLog::new(Duration::from_secs(10));
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    if let Some(suppressed) = accept_error_log.allow() {
                        tracing::error!(error = %e, suppressed, "cannot accept a connection");
                    }
                    // Accepting fails again at once while the cause lasts (no descriptor
                    // left): give the connections that hold them time to end.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                // Full: make room by closing the connection that has waited longest for a
                // request, so that held-open connections cannot lock everyone else out.
                let evicted = registry.evict_longest_waiting();
                let permit = if evicted {
                    tokio::time::timeout(Duration::from_secs(1), permits.clone().acquire_owned())
                        .await
                        .ok()
                        .and_then(Result::ok)
                } else {
                    None
                };
                if let Some(suppressed) = at_cap_log.allow() {
                    tracing::warn!(
                        max_connections = cap,
                        closed = if permit.is_some() {
                            "the connection waiting longest for a request"
                        } else {
                            "the new connection"
                        },
                        suppressed,
                        "at the connection cap"
                    );
                }
                permit
            }
        };
        let Some(permit) = permit else {
            drop(stream);
            continue;
        };
        let connection = Connection {
            router: router.clone(),
            config: config.clone(),
            peer,
            shared: registry.add(),
            registry: registry.clone(),
            closing: closing_rx.clone(),
            _permit: permit,
        };
        tasks.spawn(connection.serve(stream));
    }

    drop(listener);
    let _ = closing_tx.send(true);
    let open = tasks.len();
    let drained = tokio::time::timeout(config.shutdown_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            still_open = tasks.len(),
            of = open,
            "requests still running after the shutdown timeout; closing their connections"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One connection: its router, limits, and its entry in the registry.
struct Connection {
    router: Router,
    config: ServeConfig,
    peer: SocketAddr,
    shared: Arc<ConnShared>,
    registry: Registry,
    closing: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream) {
        let shared = self.shared.clone();
        let (router, peer, body_timeout) = (self.router.clone(), self.peer, self.config.body_timeout);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            let router = router.clone();
            let guard = RequestGuard::start(shared.clone());
            request.extensions_mut().insert(ConnectInfo(peer));
            let request = request.map(|body| Body::new(DeadlineBody::new(body, body_timeout, shared.clone())));
            async move {
                let response = router.oneshot(request).await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| Body::new(GuardedBody { body, _guard: guard })))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.config.header_timeout)
            .keep_alive(true);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);

        // A connection without a request in flight is simply dropped when it must close
        // (hyper's graceful shutdown would wait for a half-sent head); one with a request
        // in flight finishes its response first.
        let mut shutting_down = false;
        loop {
            let idle_deadline = self.shared.idle_deadline(self.config.idle_timeout);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended");
                    }
                    break;
                }
                changed = self.closing.changed(), if !shutting_down => {
                    if changed.is_err() || *self.closing.borrow() {
                        if self.shared.idle() {
                            break;
                        }
                        shutting_down = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
                () = self.shared.wake.notified() => {
                    if self.shared.evicted() && self.shared.idle() {
                        break;
                    }
                    if self.shared.must_close() && !shutting_down {
                        shutting_down = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
                () = sleep_until_opt(idle_deadline), if !shutting_down => {
                    if self.shared.idle_deadline(self.config.idle_timeout).is_some_and(|d| d <= Instant::now()) {
                        break;
                    }
                }
            }
        }
        self.registry.remove(self.shared.id);
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// What the accept loop and a connection's requests know about a connection.
struct ConnShared {
    id: u64,
    state: Mutex<ConnState>,
    wake: Notify,
}

#[derive(Default)]
struct ConnState {
    in_flight: usize,
    /// When the connection last had no request in flight (`None` while it has one).
    waiting_since: Option<Instant>,
    /// Whether the connection has answered a request (then its wait is keep-alive idle).
    answered: bool,
    evicted: bool,
    close: bool,
}

impl ConnShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When an idle keep-alive connection is due to close.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        let state = self.lock();
        match (state.in_flight, state.answered, state.waiting_since) {
            (0, true, Some(since)) => Some(since + idle),
            _ => None,
        }
    }

    fn must_close(&self) -> bool {
        let state = self.lock();
        state.close || state.evicted
    }

    fn evicted(&self) -> bool {
        self.lock().evicted
    }

    /// No request in flight.
    fn idle(&self) -> bool {
        self.lock().in_flight == 0
    }

    fn close_after_response(&self) {
        self.lock().close = true;
        self.wake.notify_one();
    }
}

/// Every open connection, so that a full server can close the one that has waited
/// longest for a request.
#[derive(Clone, Default)]
struct Registry {
    next_id: Arc<AtomicU64>,
    connections: Arc<Mutex<HashMap<u64, Arc<ConnShared>>>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnShared>>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(&self) -> Arc<ConnShared> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(ConnShared {
            id,
            state: Mutex::new(ConnState {
                waiting_since: Some(Instant::now()),
                ..ConnState::default()
            }),
            wake: Notify::new(),
        });
        self.lock().insert(id, shared.clone());
        shared
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Marks the connection that has waited longest for a request (never one with a
    /// request in flight) for closing; false when every connection is busy.
    fn evict_longest_waiting(&self) -> bool {
        let connections = self.lock();
        let oldest = connections
            .values()
            .filter_map(|c| {
                let state = c.lock();
                (state.in_flight == 0 && !state.evicted)
                    .then_some(state.waiting_since)
                    .flatten()
                    .map(|since| (since, c))
            })
            .min_by_key(|(since, _)| *since);
        match oldest {
            Some((_, conn)) => {
                conn.lock().evicted = true;
                conn.wake.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Counts a request in flight on its connection from its head until its response body
/// is dropped (sent or abandoned).
struct RequestGuard(Arc<ConnShared>);

impl RequestGuard {
    fn start(shared: Arc<ConnShared>) -> Self {
        {
            let mut state = shared.lock();
            state.in_flight += 1;
            state.waiting_since = None;
        }
        Self(shared)
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        {
            let mut state = self.0.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            state.answered = true;
            if state.in_flight == 0 {
                state.waiting_since = Some(Instant::now());
            }
        }
        self.0.wake.notify_one();
    }
}

/// A response body that holds its request's [`RequestGuard`].
struct GuardedBody {
    body: Body,
    _guard: RequestGuard,
}

impl http_body::Body for GuardedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The request body did not arrive within the body timeout.
#[derive(Debug)]
pub struct BodyTimedOut(pub Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {} ms", millis(self.0))
    }
}

impl std::error::Error for BodyTimedOut {}

/// A request body with a deadline for all of it: a body trickling in (one byte a second
/// keeps any per-read timeout happy) fails at the deadline, and its connection closes.
struct DeadlineBody {
    body: Incoming,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    shared: Arc<ConnShared>,
    timed_out: bool,
}

impl DeadlineBody {
    fn new(body: Incoming, timeout: Duration, shared: Arc<ConnShared>) -> Self {
        Self {
            body,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            shared,
            timed_out: false,
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.timed_out {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.timed_out = true;
            self.shared.close_after_response();
            tracing::info!(
                timeout_ms = millis(self.timeout),
                "request body too slow; closing the connection"
            );
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.timed_out || self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Lets one line through per period and counts the ones it held back.
struct RateLimitedLog {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn new(period: Duration) -> Self {
        Self {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(lines held back since the last one)` when a line may be written now.
    fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < self.period) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serves a router whose `/peer` answers with the `ConnectInfo` it finds; the sender
    /// stops the server.
    async fn serve_peer_route(config: ServeConfig) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let router = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            run(listener, router, &config, async {
                let _ = stopped.await;
            })
            .await
        });
        (addr, stop)
    }

    /// Reads one response with a `content-length` body, leaving the connection open.
    async fn read_response(stream: &mut TcpStream) -> String {
        let mut raw = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(
                n > 0,
                "closed before a whole response: {}",
                String::from_utf8_lossy(&raw)
            );
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .expect("content-length");
                if body.len() >= length {
                    return text;
                }
            }
        }
    }

    #[tokio::test]
    async fn every_request_carries_the_peer_address_as_connect_info() {
        // GIVEN the serving loop over a route that reads ConnectInfo<SocketAddr>
        let (addr, _stop) = serve_peer_route(ServeConfig::default()).await;
        // WHEN two requests come over one keep-alive connection
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let me = stream.local_addr().expect("local address");
        for _ in 0..2 {
            stream
                .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .expect("write");
            // THEN each finds the client's own address there
            let response = read_response(&mut stream).await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            assert!(response.ends_with(&me.to_string()), "{response}");
        }
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
        // GIVEN an idle timeout of 300 ms, far below the head timeout
        let config = ServeConfig {
            idle_timeout: Duration::from_millis(300),
            header_timeout: Duration::from_secs(30),
            ..ServeConfig::default()
        };
        let (addr, _stop) = serve_peer_route(config).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("write");
        read_response(&mut stream).await;
        // WHEN the client then sends nothing
        let answered = Instant::now();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("closed by the idle timeout, not the head timeout")
            .unwrap_or(0);
        // THEN the server closes it once the idle timeout has passed
        assert_eq!(n, 0);
        assert!(
            answered.elapsed() >= Duration::from_millis(250),
            "{:?}",
            answered.elapsed()
        );
    }

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn defaults_are_safe_and_values_are_checked() {
        let config = ServeConfig::from_lookup(vars(&[])).expect("defaults");
        assert_eq!(config, ServeConfig::default());
        assert_eq!(config.header_timeout, Duration::from_secs(10));
        let config = ServeConfig::from_lookup(vars(&[
            ("PARLEY_HEADER_TIMEOUT_MS", "2000"),
            ("PARLEY_IDLE_TIMEOUT_MS", "9000"),
            ("PARLEY_MAX_CONNECTIONS", "50"),
        ]))
        .expect("set");
        assert_eq!(config.header_timeout, Duration::from_secs(2));
        assert_eq!(
            config.idle_timeout,
            Duration::from_secs(2),
            "idle never outlasts the head timeout"
        );
        assert_eq!(config.max_connections, Some(50));
        for bad in [
            ("PARLEY_BODY_TIMEOUT_MS", "0"),
            ("PARLEY_BODY_TIMEOUT_MS", "soon"),
            ("PARLEY_MAX_CONNECTIONS", "0"),
        ] {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([bad]));
            let err = ServeConfig::from_lookup(vars(pairs)).expect_err("refused");
            assert!(err.to_string().starts_with(bad.0), "{err}");
        }
    }

    #[test]
    fn the_cap_leaves_room_for_other_files() {
        assert_eq!(connection_cap(1024, None), 1024 - RESERVED_FDS as usize);
        assert_eq!(connection_cap(1024, Some(100)), 100);
        assert_eq!(
            connection_cap(1024, Some(5000)),
            896,
            "never above the open-files limit"
        );
        assert_eq!(connection_cap(64, None), 16);
        assert_eq!(connection_cap(u64::MAX, None), 1 << 20, "unlimited still gets a cap");
    }

    #[test]
    fn the_rate_limited_log_holds_back_lines_within_its_period() {
        let mut log = RateLimitedLog::new(Duration::from_secs(60));
        assert_eq!(log.allow(), Some(0));
        assert_eq!(log.allow(), None);
        assert_eq!(log.allow(), None);
        log.last = Some(Instant::now() - Duration::from_secs(61));
        assert_eq!(log.allow(), Some(2));
    }
}
