//! Validated values with their documented limits. Each `parse` is the only way in, so a
//! value that breaks a limit never reaches the domain.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The documented maximums, in characters unless said otherwise.
pub mod limits {
    pub const TITLE_MAX: usize = 120;
    pub const DESCRIPTION_MAX: usize = 1_000;
    pub const GREETING_MAX: usize = 1_000;
    pub const SYSTEM_PROMPT_MAX: usize = 20_000;
    pub const MESSAGE_MAX: usize = 8_000;
    pub const CLIENT_MESSAGE_ID_MAX: usize = 64;
    pub const MODEL_ID_MAX: usize = 100;
    pub const MAX_OUTPUT_TOKENS_MAX: u32 = 8_192;
    pub const MEMORY_MESSAGES_MAX: u32 = 200;
    pub const MEMORY_TOKENS_MIN: u32 = 256;
    pub const MEMORY_TOKENS_MAX: u32 = 128_000;
    pub const PAGE_MAX: u32 = 100;
    /// The largest message sequence number a cursor may name: 2^53 - 1, the largest
    /// integer a JavaScript client holds exactly (and far inside every store's range).
    pub const SEQ_MAX: u64 = (1 << 53) - 1;
    /// Request bodies, in bytes.
    pub const BODY_MAX_BYTES: usize = 256 * 1024;
}

fn check_text(field: &'static str, s: &str, min: usize, max: usize, multiline: bool) -> Result<(), CoreError> {
    let n = s.chars().count();
    if n < min {
        return Err(CoreError::validation(
            field,
            if min == 1 {
                "must not be empty".into()
            } else {
                format!("must have at least {min} characters")
            },
        ));
    }
    if n > max {
        return Err(CoreError::validation(
            field,
            format!("must have at most {max} characters"),
        ));
    }
    let bad = s
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad {
        return Err(CoreError::validation(field, "contains control characters"));
    }
    // One-line names (titles) are shown beside others' in lists: no character may hide
    // itself or turn the text around what follows it.
    if !multiline && s.chars().any(is_invisible_or_bidi) {
        return Err(CoreError::validation(
            field,
            "contains invisible or text-direction control characters",
        ));
    }
    Ok(())
}

/// Characters that show nothing or reorder the text around them: bidirectional
/// embeddings, overrides, isolates and marks, zero-width characters, the word joiner
/// and invisible operators, the byte-order mark, the soft hyphen and the Arabic letter
/// mark. Such a character in a name can make it pose as another.
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, min $min:expr, max $max:expr, multiline $ml:expr, trim $trim:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = CoreError;

            fn try_from(s: String) -> Result<Self, CoreError> {
                Self::parse(&s)
            }
        }

        impl $name {
            pub fn parse(s: &str) -> Result<Self, CoreError> {
                let s = if $trim { s.trim() } else { s };
                if $min > 0 && s.trim().is_empty() {
                    return Err(CoreError::validation($field, "must not be empty"));
                }
                check_text($field, s, $min, $max, $ml)?;
                Ok(Self(s.to_owned()))
            }

            pub fn from_trusted(s: impl Into<String>) -> Self {
                Self(s.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type!(
    /// A bot's, session's or room's title: 1 to 120 characters, one line.
    Title, "title", min 1, max limits::TITLE_MAX, multiline false, trim true
);
text_type!(
    /// A bot's description: up to 1,000 characters.
    Description, "description", min 0, max limits::DESCRIPTION_MAX, multiline true, trim true
);
text_type!(
    /// The first message a bot shows: up to 1,000 characters.
    Greeting, "greeting", min 0, max limits::GREETING_MAX, multiline true, trim true
);
text_type!(
    /// The owner's system prompt: up to 20,000 characters.
    SystemPrompt, "systemPrompt", min 0, max limits::SYSTEM_PROMPT_MAX, multiline true, trim false
);
text_type!(
    /// A chat message: 1 to 8,000 characters, not blank.
    MessageText, "message", min 1, max limits::MESSAGE_MAX, multiline true, trim false
);

/// A sampling temperature in 0..=2.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64")]
pub struct Temperature(f32);

impl TryFrom<f64> for Temperature {
    type Error = CoreError;

    fn try_from(v: f64) -> Result<Self, CoreError> {
        Self::parse(v)
    }
}

impl Temperature {
    pub fn parse(v: f64) -> Result<Self, CoreError> {
        if v.is_finite() && (0.0..=2.0).contains(&v) {
            Ok(Self(v as f32))
        } else {
            Err(CoreError::validation("temperature", "must be a number from 0 to 2"))
        }
    }

    pub fn value(self) -> f32 {
        self.0
    }
}

impl Default for Temperature {
    fn default() -> Self {
        Self(0.7)
    }
}

/// A model id: 1 to 100 characters of letters, digits and `.:_/-`. Whether the model is
/// allowed is the model catalog's call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ModelId(String);

impl TryFrom<String> for ModelId {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self, CoreError> {
        Self::parse(&s)
    }
}

impl ModelId {
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let ok = (1..=limits::MODEL_ID_MAX).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b".:_/-".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CoreError::validation("model", "is not a valid model id"))
        }
    }

    pub fn from_trusted(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most tokens a reply may have: 1 to 8,192.
pub fn parse_max_output_tokens(v: i64) -> Result<u32, CoreError> {
    parse_range("maxOutputTokens", v, 1, limits::MAX_OUTPUT_TOKENS_MAX)
}

/// An integer setting in `min..=max`.
pub fn parse_range(field: &'static str, v: i64, min: u32, max: u32) -> Result<u32, CoreError> {
    if v >= i64::from(min) && v <= i64::from(max) {
        Ok(v as u32)
    } else {
        Err(CoreError::validation(field, format!("must be from {min} to {max}")))
    }
}

/// A history cursor (`before`, `after`): a message sequence number in `0..=SEQ_MAX`.
pub fn parse_seq(field: &'static str, v: Option<u64>) -> Result<Option<u64>, CoreError> {
    match v {
        Some(v) if v > limits::SEQ_MAX => Err(CoreError::validation(
            field,
            format!("must be from 0 to {}", limits::SEQ_MAX),
        )),
        v => Ok(v),
    }
}

/// A caller's idempotency key for a send: 1 to 64 letters, digits, `-` or `_`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ClientMessageId(String);

impl TryFrom<String> for ClientMessageId {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self, CoreError> {
        Self::parse(&s)
    }
}

impl ClientMessageId {
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        let ok = (1..=limits::CLIENT_MESSAGE_ID_MAX).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CoreError::validation(
                "clientMessageId",
                "must be 1 to 64 letters, digits, '-' or '_'",
            ))
        }
    }

    pub fn from_trusted(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A page size: 1 to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub fn parse(v: Option<i64>, default: u32) -> Result<Self, CoreError> {
        match v {
            None => Ok(Self(default)),
            Some(v) => parse_range("limit", v, 1, limits::PAGE_MAX).map(Self),
        }
    }

    pub fn new_clamped(v: u32) -> Self {
        Self(v.clamp(1, limits::PAGE_MAX))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_accepts_the_closed_range_and_nothing_else() {
        assert!(Temperature::parse(0.0).is_ok());
        assert!(Temperature::parse(2.0).is_ok());
        assert!(Temperature::parse(3.0).is_err());
        assert!(Temperature::parse(-0.1).is_err());
        assert!(Temperature::parse(f64::NAN).is_err());
    }

    #[test]
    fn title_is_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(Title::parse("  Hi  ").unwrap().as_str(), "Hi");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"é".repeat(120)).is_ok());
        assert!(Title::parse(&"é".repeat(121)).is_err());
        assert!(Title::parse("a\nb").is_err());
    }

    #[test]
    fn titles_refuse_characters_that_hide_or_reorder_text() {
        // GIVEN a name that an RTL override would show as "Alice Admin" reversed, or one
        // padded with zero-width spaces to pose as another.
        for bad in [
            "Support \u{202E}nimdA",
            "Ali\u{200B}ce",
            "\u{2066}Bob\u{2069}",
            "x\u{FEFF}",
            "a\u{00AD}b",
        ] {
            assert!(Title::parse(bad).is_err(), "{bad:?} must be refused");
        }
        // Right-to-left text itself is welcome.
        assert!(Title::parse("שלום עולם").is_ok());
        assert!(Title::parse("مرحبا").is_ok());
    }

    #[test]
    fn message_keeps_newlines_and_refuses_blank_or_oversize() {
        assert!(MessageText::parse("line one\nline two").is_ok());
        assert!(MessageText::parse(" \n ").is_err());
        assert!(MessageText::parse(&"x".repeat(limits::MESSAGE_MAX + 1)).is_err());
        assert!(MessageText::parse("bell\u{7}").is_err());
    }

    #[test]
    fn model_ids_and_client_ids_refuse_odd_characters() {
        assert!(ModelId::parse("gpt-4o-mini").is_ok());
        assert!(ModelId::parse("models/gemini-2.0-flash").is_ok());
        assert!(ModelId::parse("rm -rf").is_err());
        assert!(ClientMessageId::parse("abc-123_X").is_ok());
        assert!(ClientMessageId::parse("a b").is_err());
        assert!(ClientMessageId::parse("").is_err());
    }

    // Protects the rule that no invalid value can be built from JSON: deserialising goes
    // through `parse`, for API bodies and stored records alike.
    #[test]
    fn values_and_ids_deserialise_only_through_their_parse() {
        use crate::ids::{BotId, ShareCode, UserId};
        let bad = [
            serde_json::from_str::<Title>("\"  \"").is_err(),
            serde_json::from_str::<Title>("\"a\\u202Eb\"").is_err(),
            serde_json::from_str::<Temperature>("3.5").is_err(),
            serde_json::from_str::<ModelId>("\"rm -rf\"").is_err(),
            serde_json::from_str::<ClientMessageId>("\"a b\"").is_err(),
            serde_json::from_str::<BotId>("\"not-a-ulid\"").is_err(),
            serde_json::from_str::<ShareCode>("\"short\"").is_err(),
            serde_json::from_str::<UserId>("\"a/b\"").is_err(),
        ];
        assert_eq!(bad, [true; 8]);
        let title: Title = serde_json::from_str("\"  Trimmed  \"").expect("a valid title");
        assert_eq!(title.as_str(), "Trimmed");
        let t: Temperature = serde_json::from_str("0.5").expect("a valid temperature");
        assert_eq!(serde_json::to_string(&t).expect("json"), "0.5");
        let id: BotId = serde_json::from_str("\"01jdq0000000000000000000aa\"").expect("a valid id");
        assert_eq!(
            serde_json::to_string(&id).expect("json"),
            "\"01JDQ0000000000000000000AA\""
        );
    }

    #[test]
    fn history_cursors_stay_within_what_stores_and_clients_hold() {
        assert_eq!(parse_seq("before", None).unwrap(), None);
        assert_eq!(
            parse_seq("before", Some(limits::SEQ_MAX)).unwrap(),
            Some(limits::SEQ_MAX)
        );
        assert!(parse_seq("before", Some(limits::SEQ_MAX + 1)).is_err());
        assert!(parse_seq("after", Some(u64::MAX)).is_err());
    }

    #[test]
    fn page_limit_defaults_and_bounds() {
        assert_eq!(PageLimit::parse(None, 20).unwrap().get(), 20);
        assert!(PageLimit::parse(Some(0), 20).is_err());
        assert!(PageLimit::parse(Some(101), 20).is_err());
    }
}
