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

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

mod connection;

pub use connection::BodyTimedOut;
use connection::{Connection, Registry};

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
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

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
