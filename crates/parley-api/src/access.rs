//! Which routes a verified principal may reach, and what a refusal answers: the one
//! place both the local principal layer and `auth-check` ask.
//!
//! - A token that does not verify (bad header, signature, claims, expiry), or whose user
//!   is disabled or signed out: `401 unauthorized`.
//! - A guest token opens its own session's routes only (`/session/{itsId}`,
//!   `/session/{itsId}/messages`, `POST /session-message`, whose body the handler
//!   checks), besides the routes that answer everyone (`GET /models`, `GET /health`).
//!   Elsewhere it is `401 unauthorized` (a guest is not signed in; signing in
//!   opens more), and on another session's routes `404 not_found`, as the core answers
//!   for any session that is not the caller's, so existence does not leak.
//! - When the keys or the user's status cannot be had: `503 service_unavailable`, since
//!   the token may be good.

use axum::http::Method;
use parley_core::Principal;
use parley_core::error::CoreError;
use parley_core::ids::SessionId;

use crate::error::ApiError;

/// Why the credentials of a request were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No usable token: malformed header, bad signature or claims, expired, or its user
    /// disabled or signed out.
    InvalidToken,
    /// A good guest token on a route that is not its session's.
    GuestOffRoute,
    /// A good guest token on another session's routes.
    OtherSession,
    /// The signing keys or the user's status cannot be checked now.
    Unavailable,
}

impl Refusal {
    /// The name `auth-check` hands to the functions in its context.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::InvalidToken => "invalid_token",
            Refusal::GuestOffRoute => "guest_off_route",
            Refusal::OtherSession => "other_session",
            Refusal::Unavailable => "unavailable",
        }
    }

    /// The inverse of [`Refusal::as_str`]; anything else is an invalid token (fail closed).
    pub fn parse(name: &str) -> Self {
        match name {
            "guest_off_route" => Refusal::GuestOffRoute,
            "other_session" => Refusal::OtherSession,
            "unavailable" => Refusal::Unavailable,
            _ => Refusal::InvalidToken,
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InvalidToken => ApiError::InvalidToken,
            Refusal::GuestOffRoute => ApiError::GuestOffRoute,
            Refusal::OtherSession => ApiError::Core(CoreError::NotFound),
            Refusal::Unavailable => ApiError::AuthUnavailable,
        }
    }
}

/// May `principal` call `method path`? Only guests are limited here; everyone else is
/// judged by the use cases.
pub fn admit(principal: &Principal, method: &Method, path: &str) -> Result<(), Refusal> {
    match principal {
        Principal::Guest { session_id, .. } => guest_route(method, path, session_id),
        _ => Ok(()),
    }
}

/// The routes a guest token opens, besides nothing else: `{id}` stands for the token's
/// own session, `{seq}` for any message of it. `GET /models` and `GET /health` answer
/// everyone. The OpenAPI document marks these operations (`x-parley-guest`), and a test
/// holds the two together.
pub const GUEST_ROUTES: &[(&str, &str)] = &[
    ("POST", "/session-message"),
    ("POST", "/session-message/stream"),
    ("GET", "/models"),
    ("GET", "/health"),
    ("GET", "/session/{id}"),
    ("PUT", "/session/{id}"),
    ("DELETE", "/session/{id}"),
    ("GET", "/session/{id}/messages"),
    ("GET", "/session/{id}/messages/{seq}/stream"),
    ("POST", "/session/{id}/messages/{seq}/stop"),
];

/// Matches `method path` against [`GUEST_ROUTES`]: a route of another session is
/// [`Refusal::OtherSession`], anything else not in the table [`Refusal::GuestOffRoute`].
fn guest_route(method: &Method, path: &str, own: &SessionId) -> Result<(), Refusal> {
    let mut other_session = false;
    for (m, template) in GUEST_ROUTES {
        if method.as_str() != *m {
            continue;
        }
        match matches(template, path) {
            Some(None) => return Ok(()),
            Some(Some(id)) if id == own.as_str() => return Ok(()),
            Some(Some(_)) => other_session = true,
            None => {}
        }
    }
    if other_session {
        Err(Refusal::OtherSession)
    } else {
        Err(Refusal::GuestOffRoute)
    }
}

/// Whether `path` fits `template`, segment by segment: `Some(None)` for a template
/// without `{id}`, `Some(Some(id))` with the segment `{id}` stood for. A `{…}` segment
/// is never empty.
fn matches<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut template = template.split('/');
    let mut segments = path.split('/');
    let mut id = None;
    loop {
        match (template.next(), segments.next()) {
            (None, None) => return Some(id),
            (Some(t), Some(seg)) if t.starts_with('{') => {
                if seg.is_empty() {
                    return None;
                }
                if t == "{id}" {
                    id = Some(seg);
                }
            }
            (Some(t), Some(seg)) if t == seg => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use parley_core::ids::BotId;

    use super::*;

    const OWN: &str = "01JDQ0000000000000000000AA";
    const OTHER: &str = "01JDQ0000000000000000000CC";

    fn guest() -> Principal {
        Principal::Guest {
            session_id: SessionId::from_trusted(OWN),
            bot_id: BotId::from_trusted("01JDQ0000000000000000000BB"),
        }
    }

    /// The guest-route table, tested once: `auth-check` and the local principal layer
    /// both call [`admit`].
    #[test]
    fn a_guest_reaches_its_own_session_s_routes_only() {
        let own = format!("/session/{OWN}");
        let own_messages = format!("{own}/messages");
        let own_stream = format!("{own}/messages/4/stream");
        let own_stop = format!("{own}/messages/4/stop");
        for (method, path) in [
            (Method::GET, own_stream.as_str()),
            (Method::POST, &own_stop),
            (Method::POST, "/session-message/stream"),
            (Method::GET, own.as_str()),
            (Method::PUT, &own),
            (Method::DELETE, &own),
            (Method::GET, &own_messages),
            (Method::POST, "/session-message"),
            (Method::GET, "/models"),
            (Method::GET, "/health"),
        ] {
            assert_eq!(admit(&guest(), &method, path), Ok(()), "{method} {path}");
        }
        let other = format!("/session/{OTHER}");
        let other_messages = format!("{other}/messages");
        let other_stream = format!("{other}/messages/4/stream");
        for path in [other.as_str(), &other_messages, &other_stream] {
            assert_eq!(
                admit(&guest(), &Method::GET, path),
                Err(Refusal::OtherSession),
                "{path}"
            );
        }
        let sneaky = format!("/session/{OWN}/../{OTHER}");
        let deeper = format!("/session/{OWN}/messages/x");
        for (method, path) in [
            (Method::GET, "/chat-configs"),
            (Method::POST, "/models"),
            (Method::GET, "/share/abcdefghijklmnopqrstuv"),
            (Method::POST, "/create-chat"),
            (Method::POST, "/chat-session"),
            (Method::GET, "/chat-sessions"),
            (Method::GET, "/session-message"),
            (Method::POST, "/room/01JDQ0000000000000000000DD/messages"),
            (Method::GET, "/session/"),
            (Method::GET, &sneaky),
            (Method::GET, &deeper),
            (Method::GET, "/session//messages/4/stream"),
            (Method::POST, "/room/01JDQ0000000000000000000DD/messages/stream"),
        ] {
            assert_eq!(
                admit(&guest(), &method, path),
                Err(Refusal::GuestOffRoute),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn users_and_anonymous_callers_are_left_to_the_use_cases() {
        assert_eq!(admit(&Principal::Anonymous, &Method::POST, "/create-chat"), Ok(()));
    }

    #[test]
    fn refusals_travel_by_name_and_unknown_names_fail_closed() {
        for r in [
            Refusal::InvalidToken,
            Refusal::GuestOffRoute,
            Refusal::OtherSession,
            Refusal::Unavailable,
        ] {
            assert_eq!(Refusal::parse(r.as_str()), r);
        }
        assert_eq!(Refusal::parse("allow"), Refusal::InvalidToken);
    }
}
