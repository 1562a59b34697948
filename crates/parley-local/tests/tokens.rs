//! Bearer tokens through the merged router: the development identity provider's ID and
//! access tokens pass; every forged, expired, misaddressed or malformed token is a 401
//! `unauthorized` with `WWW-Authenticate: Bearer`; guest tokens open their own session
//! and nothing else.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Reply, TestApp, now};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use parley_auth::{DEV_SIGNING_KEY_FILE, GuestTokens, dev_sub};
use parley_local::DEV_CLIENT_ID;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// The guest secret the guest-token tests configure, so they can sign with it too.
const GUEST_KEY: &str = "a-test-guest-secret-of-more-than-32-bytes";

/// The PKCS#8 PEM signing key `build` created in the app's data directory.
fn signing_pem(t: &TestApp) -> String {
    std::fs::read_to_string(t.dir.path().join(DEV_SIGNING_KEY_FILE)).expect("the dev signing key")
}

/// Signs `claims` with `key` under a header with this algorithm and kid.
fn sign_with(key: &EncodingKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("a signed token")
}

/// Signs `claims` with the app's own key and kid, as the identity provider would.
fn sign(t: &TestApp, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(signing_pem(t).as_bytes()).expect("an RSA key");
    sign_with(&key, Algorithm::RS256, Some(t.app.idp.kid()), claims)
}

/// The claims of a Cognito-shaped ID token for alice, valid for an hour.
fn id_claims(t: &TestApp) -> Value {
    let now = now();
    let sub = dev_sub("alice@example.com");
    json!({
        "sub": sub,
        "email": "alice@example.com",
        "cognito:username": sub,
        "iss": t.app.idp.issuer(),
        "aud": DEV_CLIENT_ID,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    })
}

/// The claims of a Cognito-shaped access token for alice, valid for an hour.
fn access_claims(t: &TestApp) -> Value {
    let now = now();
    let sub = dev_sub("alice@example.com");
    json!({
        "sub": sub,
        "username": sub,
        "iss": t.app.idp.issuer(),
        "client_id": DEV_CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    if let (Some(c), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    claims
}

fn segment(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A request with this exact `Authorization` header value (or none).
async fn get_with(t: &TestApp, path: &str, authorization: Option<&str>) -> Reply {
    let mut req = Request::builder().method("GET").uri(path);
    if let Some(value) = authorization {
        req = req.header(header::AUTHORIZATION, value);
    }
    t.send(req.body(Body::empty()).expect("a request")).await
}

/// Asserts a 401 `unauthorized` problem that asks for a bearer token.
#[track_caller]
fn assert_unauthorized(case: &str, r: &Reply) {
    assert_eq!(r.status, 401, "{case}: status; body {}", r.body);
    assert!(r.is_problem(), "{case}: not problem+json: {:?}", r.headers);
    assert_eq!(r.code(), "unauthorized", "{case}: code; body {}", r.body);
    assert_eq!(r.body["status"], 401, "{case}: `status` member; body {}", r.body);
    let challenge = r.headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok());
    assert_eq!(challenge, Some("Bearer"), "{case}: WWW-Authenticate");
}

/// Guards the token factory of this file: what it signs correctly is accepted, so the
/// rejections below are about the one thing each case breaks.
#[tokio::test]
async fn valid_id_and_access_tokens_are_accepted() {
    let t = TestApp::new();
    let issued = t
        .post("/dev/sign-in", None, json!({"email": "alice@example.com"}))
        .await;
    issued.expect(200, None);
    let crafted_id = sign(&t, &id_claims(&t));
    let crafted_access = sign(&t, &access_claims(&t));
    for (case, token) in [
        ("the provider's ID token", issued.str("idToken")),
        ("the provider's access token", issued.str("accessToken")),
        ("a crafted ID token", crafted_id),
        ("a crafted access token", crafted_access),
        (
            "an ID token with aud as an array",
            sign(&t, &with(id_claims(&t), json!({"aud": ["x", DEV_CLIENT_ID]}))),
        ),
        (
            "an ID token expired 30 s ago, within the leeway",
            sign(&t, &with(id_claims(&t), json!({"exp": now() - 30}))),
        ),
    ] {
        let r = t.get("/chat-configs", Some(&token)).await;
        assert_eq!(r.status, 200, "{case}: body {}", r.body);
        assert!(r.body["items"].is_array(), "{case}: body {}", r.body);
    }
    // Both kinds of token speak for the same user: what one creates, the other lists.
    let bot = t
        .create_bot(&issued.str("accessToken"), json!({"title": "Via access"}))
        .await;
    let mine = t.get("/chat-configs", Some(&issued.str("idToken"))).await;
    assert_eq!(
        mine.body["items"][0]["chatConfigId"], bot["chatConfigId"],
        "{}",
        mine.body
    );
}

/// Every forged, expired, misaddressed or malformed Cognito-shaped token is a 401.
#[tokio::test]
async fn bad_tokens_are_401_with_a_bearer_challenge() {
    let t = TestApp::new();
    let other = TestApp::new(); // another key pair, for foreign signatures
    let pem = signing_pem(&t);
    let kid = t.app.idp.kid().to_owned();
    let id = id_claims(&t);
    let access = access_claims(&t);
    let now = now();

    let valid = sign(&t, &id);
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered = |claims: &Value| format!("{}.{}.{}", parts[0], segment(claims), parts[2]);
    let as_admin = with(id.clone(), json!({"cognito:groups": ["admin"]}));
    let as_bob = with(
        id.clone(),
        json!({"sub": dev_sub("bob@example.com"), "email": "bob@example.com"}),
    );

    let private = RsaPrivateKey::from_pkcs8_pem(&pem).expect("a PKCS#8 RSA key");
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("a public key PEM");
    let public_pkcs1 = {
        use rsa::pkcs1::EncodeRsaPublicKey;
        private
            .to_public_key()
            .to_pkcs1_pem(LineEnding::LF)
            .expect("a PKCS#1 public key PEM")
    };
    let hs256 = |secret: &[u8]| sign_with(&EncodingKey::from_secret(secret), Algorithm::HS256, Some(&kid), &id);
    let rsa_key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA key");
    let foreign_key = EncodingKey::from_rsa_pem(signing_pem(&other).as_bytes()).expect("another RSA key");
    let none_header = json!({"alg": "none", "kid": kid, "typ": "JWT"});

    let cases: Vec<(&str, String)> = vec![
        (
            "expired an hour ago",
            sign(&t, &with(id.clone(), json!({"exp": now - 3600}))),
        ),
        (
            "expired just beyond the leeway",
            sign(&t, &with(id.clone(), json!({"exp": now - 61}))),
        ),
        (
            "an expired access token",
            sign(&t, &with(access.clone(), json!({"exp": now - 3600}))),
        ),
        (
            "not valid before an hour from now",
            sign(&t, &with(id.clone(), json!({"nbf": now + 3600}))),
        ),
        ("tampered payload: admin group added", tampered(&as_admin)),
        ("tampered payload: another user", tampered(&as_bob)),
        (
            "tampered payload: exp extended",
            tampered(&with(id.clone(), json!({"exp": now + 999_999}))),
        ),
        ("signature removed", format!("{}.{}.", parts[0], parts[1])),
        (
            "wrong issuer",
            sign(&t, &with(id.clone(), json!({"iss": "https://evil.example.com"}))),
        ),
        (
            "issuer with a trailing slash",
            sign(
                &t,
                &with(id.clone(), json!({"iss": format!("{}/", t.app.idp.issuer())})),
            ),
        ),
        ("no issuer", sign(&t, &with(id.clone(), json!({"iss": null})))),
        (
            "wrong audience",
            sign(&t, &with(id.clone(), json!({"aud": "another-client"}))),
        ),
        ("no audience", sign(&t, &with(id.clone(), json!({"aud": null})))),
        (
            "access token for another client",
            sign(&t, &with(access.clone(), json!({"client_id": "another-client"}))),
        ),
        (
            "alg none, no signature",
            format!("{}.{}.", segment(&none_header), segment(&id)),
        ),
        (
            "alg none, the original signature",
            format!("{}.{}.{}", segment(&none_header), segment(&id), parts[2]),
        ),
        ("HS256 with the public key PEM (SPKI)", hs256(public_pem.as_bytes())),
        ("HS256 with the public key PEM (PKCS#1)", hs256(public_pkcs1.as_bytes())),
        (
            "RS512 with the right key",
            sign_with(&rsa_key, Algorithm::RS512, Some(&kid), &id),
        ),
        (
            "unknown kid",
            sign_with(&rsa_key, Algorithm::RS256, Some("not-a-known-kid"), &id),
        ),
        ("no kid", sign_with(&rsa_key, Algorithm::RS256, None, &id)),
        (
            "another key under the real kid",
            sign_with(&foreign_key, Algorithm::RS256, Some(&kid), &id),
        ),
        (
            "another key under its own kid",
            sign_with(&foreign_key, Algorithm::RS256, Some(other.app.idp.kid()), &id),
        ),
        (
            "ID claims labelled access",
            sign(&t, &with(id.clone(), json!({"token_use": "access"}))),
        ),
        (
            "access claims labelled id",
            sign(&t, &with(access.clone(), json!({"token_use": "id"}))),
        ),
        (
            "token_use guest",
            sign(&t, &with(id.clone(), json!({"token_use": "guest"}))),
        ),
        (
            "token_use refresh",
            sign(&t, &with(id.clone(), json!({"token_use": "refresh"}))),
        ),
        ("no token_use", sign(&t, &with(id.clone(), json!({"token_use": null})))),
        (
            "string exp",
            sign(&t, &with(id.clone(), json!({"exp": (now + 3600).to_string()}))),
        ),
        ("no exp", sign(&t, &with(id.clone(), json!({"exp": null})))),
        ("no sub", sign(&t, &with(id.clone(), json!({"sub": null})))),
        (
            "groups not a list",
            sign(&t, &with(id.clone(), json!({"cognito:groups": "admin"}))),
        ),
        ("garbage", "garbage".to_owned()),
        ("three dots", "a.b.c".to_owned()),
        ("empty segments", "..".to_owned()),
        ("a valid token with junk appended", format!("{valid}x")),
        ("a valid token with a fourth segment", format!("{valid}.{}", parts[2])),
        (
            "an oversize token",
            format!("{}.{}.{}", parts[0], "A".repeat(20_000), parts[2]),
        ),
    ];
    for (case, token) in &cases {
        let r = t.get("/chat-configs", Some(token)).await;
        assert_unauthorized(case, &r);
    }
    for (case, authorization) in [
        ("`Bearer ` with nothing", "Bearer "),
        ("`Bearer` alone", "Bearer"),
        ("Basic credentials", "Basic xyz"),
        ("Basic credentials, base64", "Basic YWxpY2U6c2VjcmV0"),
        ("a bare token without scheme", valid.as_str()),
        ("an unknown scheme", "Token abc"),
    ] {
        let r = get_with(&t, "/chat-configs", Some(authorization)).await;
        assert_unauthorized(case, &r);
    }
    // The same valid token, in a bearer header, still passes after all that.
    get_with(&t, "/chat-configs", Some(&format!("Bearer {valid}")))
        .await
        .expect(200, None);
}

/// A refused token writes nothing: a create with a tampered token adds no bot.
#[tokio::test]
async fn a_refused_token_writes_nothing() {
    let t = TestApp::new();
    let valid = sign(&t, &id_claims(&t));
    let parts: Vec<&str> = valid.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        segment(&with(id_claims(&t), json!({"email": "x@y.z"}))),
        parts[2]
    );
    let r = t.post("/create-chat", Some(&forged), json!({"title": "Forged"})).await;
    assert_unauthorized("create with a tampered token", &r);
    let mine = t.get("/chat-configs", Some(&valid)).await;
    mine.expect(200, None);
    assert_eq!(mine.body["items"], json!([]), "no bot was created: {}", mine.body);
}

/// An invalid token is a 401 even on a route that needs none; no token there is fine.
#[tokio::test]
async fn an_invalid_token_is_refused_even_on_public_routes() {
    let t = TestApp::new();
    let expired = sign(&t, &with(id_claims(&t), json!({"exp": now() - 3600})));
    for path in ["/models", "/health"] {
        get_with(&t, path, None).await.expect(200, None);
        get_with(&t, path, Some(&format!("Bearer {}", sign(&t, &id_claims(&t)))))
            .await
            .expect(200, None);
        assert_unauthorized(
            &format!("{path} with an expired token"),
            &t.get(path, Some(&expired)).await,
        );
        assert_unauthorized(&format!("{path} with garbage"), &t.get(path, Some("garbage")).await);
        assert_unauthorized(
            &format!("{path} with Basic"),
            &get_with(&t, path, Some("Basic xyz")).await,
        );
    }
}

/// Two guests' sessions on one bot, with a known guest secret.
struct Guests {
    t: TestApp,
    bot: String,
    session: String,
    token: String,
    other_session: String,
    other_token: String,
}

async fn guests() -> Guests {
    let t = TestApp::with_config(|c| c.guest_key = Some(GUEST_KEY.to_owned()));
    let alice = t.token("alice@example.com", &[]);
    let bot = t.create_bot(&alice, json!({})).await["chatConfigId"]
        .as_str()
        .expect("a bot id")
        .to_owned();
    let (session, token) = t.start_session(None, &bot).await;
    let (other_session, other_token) = t.start_session(None, &bot).await;
    Guests {
        t,
        bot,
        session,
        token,
        other_session,
        other_token,
    }
}

/// A guest token opens its own session: read, history and send.
#[tokio::test]
async fn a_guest_token_works_on_its_own_session() {
    let g = guests().await;
    let t = &g.t;
    t.get(&format!("/session/{}", g.session), Some(&g.token))
        .await
        .expect(200, None);
    let sent = t.say(&g.token, &g.session, "hello").await;
    sent.expect(200, None);
    assert_eq!(t.calls(), 1, "the send reached the model");
    let history = t.get(&format!("/session/{}/messages", g.session), Some(&g.token)).await;
    history.expect(200, None);
    assert_eq!(
        history.body["messages"].as_array().map(Vec::len),
        Some(2),
        "{}",
        history.body
    );
    t.call(
        "PUT",
        &format!("/session/{}", g.session),
        Some(&g.token),
        Some(json!({"title": "Mine"})),
    )
    .await
    .expect(200, None);
}

/// A guest token is a 404 on another guest's session, which stays untouched.
#[tokio::test]
async fn a_guest_token_is_404_on_another_session() {
    let g = guests().await;
    let t = &g.t;
    let other = format!("/session/{}", g.other_session);
    t.get(&other, Some(&g.token)).await.expect(404, Some("not_found"));
    t.get(&format!("{other}/messages"), Some(&g.token))
        .await
        .expect(404, Some("not_found"));
    t.say(&g.token, &g.other_session, "let me in")
        .await
        .expect(404, Some("not_found"));
    t.call("PUT", &other, Some(&g.token), Some(json!({"title": "taken"})))
        .await
        .expect(404, Some("not_found"));
    t.call("DELETE", &other, Some(&g.token), None)
        .await
        .expect(404, Some("not_found"));
    assert_eq!(t.calls(), 0, "no model call for a refused send");
    let mine = t.get(&other, Some(&g.other_token)).await;
    mine.expect(200, None);
    assert_ne!(mine.body["title"], "taken", "{}", mine.body);
    let history = t.get(&format!("{other}/messages"), Some(&g.other_token)).await;
    assert_eq!(history.body["messages"], json!([]), "{}", history.body);
}

/// A guest token is a 401 on every route that is not its session's.
#[tokio::test]
async fn a_guest_token_is_401_off_its_session() {
    let g = guests().await;
    let t = &g.t;
    let token = Some(g.token.as_str());
    for (case, r) in [
        ("GET /chat-configs", t.get("/chat-configs", token).await),
        ("GET /chat-sessions", t.get("/chat-sessions", token).await),
        ("GET /chat-rooms", t.get("/chat-rooms", token).await),
        (
            "GET /chat-config/{bot}",
            t.get(&format!("/chat-config/{}", g.bot), token).await,
        ),
        (
            "POST /create-chat",
            t.post("/create-chat", token, json!({"title": "x"})).await,
        ),
        (
            "POST /chat-session",
            t.post("/chat-session", token, json!({"chatConfigId": g.bot})).await,
        ),
        (
            "POST /chat-room",
            t.post("/chat-room", token, json!({"chatConfigId": g.bot})).await,
        ),
    ] {
        assert_unauthorized(&format!("guest on {case}"), &r);
    }
    let alice = t.token("alice@example.com", &[]);
    let bots = t.get("/chat-configs", Some(&alice)).await;
    assert_eq!(
        bots.body["items"].as_array().map(Vec::len),
        Some(1),
        "the guest created no bot: {}",
        bots.body
    );
}

/// Guest tokens verify only with the platform's secret and only until they expire.
#[tokio::test]
async fn forged_or_expired_guest_tokens_are_401() {
    let g = guests().await;
    let t = &g.t;
    let path = format!("/session/{}", g.session);
    let ours = GuestTokens::new(GUEST_KEY.as_bytes()).expect("the guest secret");
    // A control: a token this test signs with the real secret is accepted.
    let fresh = ours.issue(&g.session, &g.bot, now(), 3600);
    t.get(&path, Some(&fresh)).await.expect(200, None);

    let theirs = GuestTokens::new(b"another-secret-that-is-at-least-32-bytes").expect("another secret");
    let forged = theirs.issue(&g.session, &g.bot, now(), 3600);
    let expired = ours.issue(&g.session, &g.bot, now() - 7200, 3600);
    let parts: Vec<&str> = g.token.split('.').collect();
    let claims = json!({"iss": "parley-guest", "token_use": "guest", "sid": g.other_session, "bot": g.bot,
        "iat": now(), "exp": now() + 3600});
    let rebound = format!("{}.{}.{}", parts[0], segment(&claims), parts[2]);
    for (case, token) in [
        ("signed with another secret", forged),
        ("expired", expired),
        ("payload rebound to another session", rebound),
    ] {
        assert_unauthorized(case, &t.get(&path, Some(&token)).await);
        assert_unauthorized(
            &format!("{case}, on the other session"),
            &t.get(&format!("/session/{}", g.other_session), Some(&token)).await,
        );
        assert_unauthorized(&format!("{case}, sending"), &t.say(&token, &g.session, "hi").await);
    }
    assert_eq!(t.calls(), 0, "no model call with a refused guest token");
}

/// A guest token is bound to its session's bot as well (issue 7, item 13): one that names
/// another bot than its session's was not issued for that session. GIVEN a token signed
/// with the platform's secret for this session but another (shared) bot WHEN it reads,
/// changes or sends in the session THEN it is a 404 and the model is not called.
#[tokio::test]
async fn a_guest_token_naming_another_bot_than_its_session_s_is_refused() {
    let g = guests().await;
    let t = &g.t;
    let alice = t.token("alice@example.com", &[]);
    let other_bot = t.create_bot(&alice, json!({})).await["chatConfigId"]
        .as_str()
        .expect("a bot id")
        .to_owned();
    let ours = GuestTokens::new(GUEST_KEY.as_bytes()).expect("the guest secret");
    let rebound = ours.issue(&g.session, &other_bot, now(), 3600);
    let path = format!("/session/{}", g.session);
    t.get(&path, Some(&rebound)).await.expect(404, Some("not_found"));
    t.get(&format!("{path}/messages"), Some(&rebound))
        .await
        .expect(404, Some("not_found"));
    t.call("PUT", &path, Some(&rebound), Some(json!({"title": "taken"})))
        .await
        .expect(404, Some("not_found"));
    t.say(&rebound, &g.session, "hi").await.expect(404, Some("not_found"));
    assert_eq!(t.calls(), 0, "no model call with a token bound to another bot");
    // A control: the same session with its own bot is served.
    let right = ours.issue(&g.session, &g.bot, now(), 3600);
    t.get(&path, Some(&right)).await.expect(200, None);
}
