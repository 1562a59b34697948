//! Minimal, explicit JWT parsing shared by the Cognito and guest verifiers.
//!
//! The header and claims are read here as raw JSON so every check is written out in the
//! verifiers instead of being left to a library's defaults.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::AuthError;

/// Tokens longer than this are refused before any decoding; real ones are ~1-4 KB.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A JWT split into its parts, with header and claims decoded but nothing verified.
pub(crate) struct RawJwt<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(claims)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The base64url signature segment.
    pub signature: &'a str,
}

impl<'a> RawJwt<'a> {
    /// Splits a compact JWS and decodes its header and claims as JSON objects.
    pub fn parse(token: &'a str) -> Result<Self, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        let (header, claims) = signing_input.split_once('.').ok_or(AuthError::Malformed)?;
        if claims.contains('.') || URL_SAFE_NO_PAD.decode(signature).is_err() {
            return Err(AuthError::Malformed);
        }
        Ok(RawJwt {
            header: decode_object(header)?,
            claims: decode_object(claims)?,
            signing_input,
            signature,
        })
    }

    /// The `alg` header parameter, which must be present and a string.
    pub fn alg(&self) -> Result<&str, AuthError> {
        self.header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(AuthError::UnsupportedAlgorithm)
    }

    /// The `kid` header parameter, which must be present and a string.
    pub fn kid(&self) -> Result<&str, AuthError> {
        match self.header.get("kid") {
            None => Err(AuthError::MissingClaim("kid")),
            Some(Value::String(kid)) => Ok(kid),
            Some(_) => Err(AuthError::InvalidClaim("kid")),
        }
    }
}

/// Reads only the header of a token; `None` when it is not decodable.
pub(crate) fn peek_header(token: &str) -> Option<Map<String, Value>> {
    let (header, _) = token.split_once('.')?;
    if header.len() > MAX_TOKEN_LEN {
        return None;
    }
    decode_object(header).ok()
}

/// Encodes a JSON value as a base64url segment.
pub(crate) fn encode_segment(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its map keys are always strings.
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn decode_object(segment: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| AuthError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AuthError::Malformed),
    }
}

/// A required string claim.
pub(crate) fn required_str<'c>(claims: &'c Map<String, Value>, name: &'static str) -> Result<&'c str, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Err(AuthError::MissingClaim(name)),
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(AuthError::InvalidClaim(name)),
    }
}

/// An optional string claim; present but not a string is an error.
pub(crate) fn optional_str(claims: &Map<String, Value>, name: &'static str) -> Result<Option<String>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AuthError::InvalidClaim(name)),
    }
}

/// A NumericDate claim (RFC 7519 §2), absent or a non-negative JSON integer. Anything else
/// present is refused rather than treated as absent (GHSA-h395-gr6q-cpjc): a string
/// (`"exp": "9999999999"`), an array, `null`, a negative number and any float. RFC 7519
/// allows fractional seconds, but no issuer we accept writes them (Cognito and our own
/// tokens use whole seconds), so a float — even `1700000000.0` — is a crafted token.
pub(crate) fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(AuthError::InvalidClaim(name)),
        Some(_) => Err(AuthError::InvalidClaim(name)),
    }
}

/// The time claims of both verifiers: `exp` required and not reached, `nbf` optional and
/// reached, `iat` optional; each, when present, a NumericDate (see [`numeric_date`]).
/// `leeway` seconds of clock skew are tolerated on `exp` and `nbf`. Returns `exp`.
pub(crate) fn check_times(claims: &Map<String, Value>, now: u64, leeway: u64) -> Result<u64, AuthError> {
    let exp = numeric_date(claims, "exp")?.ok_or(AuthError::MissingClaim("exp"))?;
    let nbf = numeric_date(claims, "nbf")?;
    // Type-checked only: an `iat` in the future says nothing `exp` and `nbf` do not.
    numeric_date(claims, "iat")?;
    // Expired once `now >= exp + leeway`.
    if now >= exp.saturating_add(leeway) {
        return Err(AuthError::Expired);
    }
    // Not valid yet while `now + leeway < nbf`.
    if nbf.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
        return Err(AuthError::NotYetValid);
    }
    Ok(exp)
}

/// Seconds since the Unix epoch from the system clock (0 if the clock is before 1970).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
