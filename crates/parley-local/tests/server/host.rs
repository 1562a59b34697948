//! A web page cannot reach the local server through a name of its own (DNS rebinding),
//! the development sign-in announces itself and can be turned off, and CORS and the
//! response headers reach the wire.

use std::time::Duration;

use crate::support::Server;

const NOTICE: &str = "anyone who can reach this server can sign in as anyone";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_servers_own_host_names_are_answered() {
    let server = Server::start(None, &[("PARLEY_PUBLIC_URL", "http://parley.test:9999")]);
    let sign_in = |host: String| {
        let server = &server;
        async move {
            server
                .request(
                    Duration::from_secs(10),
                    "POST",
                    "/dev/sign-in",
                    &[("host", &host), ("content-type", "application/json")],
                    r#"{"email":"mallory@example.com"}"#,
                )
                .await
                .expect("an answer")
        }
    };
    // GIVEN a page on evil.example whose name now points at 127.0.0.1
    // WHEN it calls the development sign-in under its own name
    let refused = sign_in("evil.example".into()).await;
    // THEN it is refused with a problem+json 403 and no token
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.header("content-type"), Some("application/problem+json"));
    assert_eq!(refused.header("x-content-type-options"), Some("nosniff"));
    assert!(
        refused.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("host name")),
        "{refused:?}"
    );
    assert!(!refused.body.contains("idToken"));
    // AND the loopback names with the port, and the public URL's host, are answered
    let port = server.port;
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "parley.test:9999".into(),
    ] {
        let answer = sign_in(host.clone()).await;
        assert_eq!(answer.status, 200, "{host}: {answer:?}");
    }
    for host in [
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".into(),
        format!("evil.example:{port}"),
    ] {
        let answer = sign_in(host.clone()).await;
        assert_eq!(answer.status, 403, "{host}: {answer:?}");
    }
    // AND the start-up notice says what the development sign-in means
    assert!(server.output().contains(NOTICE), "{}", server.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_sign_in_can_be_turned_off() {
    // GIVEN the server started with PARLEY_DEV_SIGN_IN=off
    let server = Server::start(None, &[("PARLEY_DEV_SIGN_IN", "off")]);
    // WHEN someone tries to sign in
    let answer = server
        .request(
            Duration::from_secs(10),
            "POST",
            "/dev/sign-in",
            &[("content-type", "application/json")],
            r#"{"email":"alice@example.com"}"#,
        )
        .await
        .expect("an answer");
    // THEN there is no such route, no notice, and the banner offers no sign-in
    assert_eq!(answer.status, 404, "{answer:?}");
    assert_eq!(answer.json()["code"], "not_found");
    assert!(server.get("/health").await.is_some_and(|a| a.status == 200));
    assert!(!server.output().contains(NOTICE), "{}", server.output());
    assert!(!server.output().contains("/dev/sign-in"), "{}", server.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origins_and_the_browser_headers_reach_the_wire() {
    // GIVEN the server with one allowed browser origin
    let app = "http://localhost:5173";
    let server = Server::start(None, &[("CORS_ORIGINS", app)]);
    // WHEN that origin sends a preflight
    let preflight = server
        .request(
            Duration::from_secs(10),
            "OPTIONS",
            "/create-chat",
            &[
                ("origin", app),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization, content-type"),
            ],
            "",
        )
        .await
        .expect("an answer");
    // THEN it is answered for that origin only
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(preflight.header("access-control-allow-origin"), Some(app));
    let other = server
        .request(
            Duration::from_secs(10),
            "GET",
            "/models",
            &[("origin", "https://evil.example")],
            "",
        )
        .await
        .expect("an answer");
    assert_eq!(other.status, 200);
    assert!(!other.head.contains("access-control-"), "{other:?}");
    // AND JSON and problem+json answers are neither sniffed nor stored
    let missing = server.get("/session/nothing-here").await.expect("an answer");
    for answer in [&other, &missing] {
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{answer:?}");
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{answer:?}");
    }
}
