//! Only the server's own names in `Host`. A web page can point a DNS name of its own at
//! 127.0.0.1 (DNS rebinding) and then call the local server as if it were its origin,
//! development sign-in included; the browser still sends the page's name in `Host`, so
//! refusing names other than the server's own stops it.
//!
//! Accepted: `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` and the host of
//! `PARLEY_PUBLIC_URL` (with or without its default port). Anything else, or no `Host`
//! at all, is a problem+json `403`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_api::ApiError;
use parley_core::CoreError;

/// The `Host` values the server answers to.
#[derive(Clone, Debug)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// The loopback names with `port`, and the authority of `public_url`.
    pub fn new(port: u16, public_url: &str) -> Self {
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        let lower = public_url.trim().to_ascii_lowercase();
        let (default_port, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (443, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (80, rest)
        } else {
            (0, "")
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        if !authority.is_empty() {
            hosts.push(authority.to_owned());
            if !has_port(authority) {
                hosts.push(format!("{authority}:{default_port}"));
            } else if let Some(bare) = authority.strip_suffix(&format!(":{default_port}")) {
                hosts.push(bare.to_owned());
            }
        }
        hosts.dedup();
        Self(Arc::new(hosts))
    }

    pub fn allows(&self, host: &str) -> bool {
        self.0.iter().any(|h| h.eq_ignore_ascii_case(host.trim()))
    }
}

fn has_port(authority: &str) -> bool {
    match authority.rsplit_once(':') {
        // An IPv6 literal without a port ends with `]`.
        Some((_, port)) => !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// `router` answering only requests whose `Host` is one of `hosts`.
pub fn guard(router: Router, hosts: AllowedHosts) -> Router {
    router.layer(axum::middleware::from_fn_with_state(hosts, check))
}

async fn check(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|h| hosts.allows(h)) {
        return next.run(request).await;
    }
    tracing::debug!("refused a request for another host name");
    let mut response = ApiError::Core(CoreError::Forbidden(
        "this server answers only to its own host name (127.0.0.1, localhost or [::1] with its port, \
         or the host of PARLEY_PUBLIC_URL), so that web pages cannot reach it",
    ))
    .into_response();
    // The API's own answers get these from `parley_api::finish_with`; this one never
    // reaches it.
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_the_port_and_the_public_host_are_allowed() {
        let hosts = AllowedHosts::new(8787, "https://parley.example.com/app");
        for ok in [
            "127.0.0.1:8787",
            "LOCALHOST:8787",
            "[::1]:8787",
            "parley.example.com",
            "parley.example.com:443",
        ] {
            assert!(hosts.allows(ok), "{ok} refused");
        }
        for bad in [
            "evil.example",
            "127.0.0.1",
            "localhost:8788",
            "127.0.0.1:8787.evil.example",
            "parley.example.com:8787",
            "",
        ] {
            assert!(!hosts.allows(bad), "{bad} allowed");
        }
        let hosts = AllowedHosts::new(9000, "http://192.168.1.5:9000");
        assert!(hosts.allows("192.168.1.5:9000") && !hosts.allows("192.168.1.5"));
    }
}
