//! One connection of the serving loop: hyper's HTTP/1 connection with the head timeout,
//! the body deadline, the idle timeout, and what the accept loop needs to know about it
//! (requests in flight, how long it has waited) to close it when the server is full or
//! shutting down.

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
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use super::{ServeConfig, millis};

/// One connection: its router, limits, and its entry in the registry.
pub(super) struct Connection {
    pub(super) router: Router,
    pub(super) config: ServeConfig,
    pub(super) peer: SocketAddr,
    pub(super) shared: Arc<ConnShared>,
    pub(super) registry: Registry,
    pub(super) closing: watch::Receiver<bool>,
    pub(super) _permit: OwnedSemaphorePermit,
}

impl Connection {
    pub(super) async fn serve(mut self, stream: TcpStream) {
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
pub(super) struct ConnShared {
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
pub(super) struct Registry {
    next_id: Arc<AtomicU64>,
    connections: Arc<Mutex<HashMap<u64, Arc<ConnShared>>>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnShared>>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn add(&self) -> Arc<ConnShared> {
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
    pub(super) fn evict_longest_waiting(&self) -> bool {
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
