//! Persona documents (the "digital twin"): facts as JSON, a summary and a style guide as
//! text, and a profile PDF whose text is extracted once, on upload. Each is checked here
//! against its kind's rules, so a document that breaks one never reaches a store.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::CoreError;
use crate::prompt::estimate_tokens;

/// The documented maximums of persona documents, in bytes.
pub mod limits {
    /// `facts`, `summary` and `style` uploads.
    pub const TEXT_MAX_BYTES: usize = 200 * 1024;
    /// `profile` uploads (the PDF itself).
    pub const PDF_MAX_BYTES: usize = 5 * 1024 * 1024;
    /// The text extracted from a profile PDF.
    pub const EXTRACTED_TEXT_MAX_BYTES: usize = 100 * 1024;
}

/// The kinds of persona document, in the order the system prompt shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonaKind {
    Facts,
    Summary,
    Style,
    Profile,
}

impl PersonaKind {
    /// Every kind, in prompt order.
    pub const ALL: [PersonaKind; 4] = [Self::Facts, Self::Summary, Self::Style, Self::Profile];

    /// The kind named in a path; any other name is a document that cannot exist.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(CoreError::NotFound)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Facts => "facts",
            Self::Summary => "summary",
            Self::Style => "style",
            Self::Profile => "profile",
        }
    }

    /// The media type an upload of this kind must declare.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Facts => "application/json",
            Self::Summary | Self::Style => "text/plain",
            Self::Profile => "application/pdf",
        }
    }

    /// The largest upload of this kind, in bytes.
    pub fn max_upload_bytes(self) -> usize {
        match self {
            Self::Profile => limits::PDF_MAX_BYTES,
            _ => limits::TEXT_MAX_BYTES,
        }
    }

    /// The heading of this kind's section in the system prompt.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Facts => "## Persona: facts (JSON)",
            Self::Summary => "## Persona: summary",
            Self::Style => "## Persona: style of speaking",
            Self::Profile => "## Persona: profile",
        }
    }
}

impl std::fmt::Display for PersonaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored persona document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonaDoc {
    pub kind: PersonaKind,
    /// What the model reads: the facts JSON as uploaded, the summary or style text, or
    /// the text extracted from the profile PDF.
    pub text: String,
    /// The uploaded file when `text` was derived from it (the profile PDF).
    pub original: Option<Vec<u8>>,
    pub updated_at: DateTime<Utc>,
}

impl PersonaDoc {
    /// Checks an upload against its kind's rules. `extracted` is the text of a profile
    /// PDF (ignored for other kinds); the caller extracts it after [`check_pdf`] passed.
    pub fn from_upload(
        kind: PersonaKind,
        body: Vec<u8>,
        extracted: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, CoreError> {
        if body.len() > kind.max_upload_bytes() {
            return Err(CoreError::validation(
                field(kind),
                format!("must be at most {} bytes", kind.max_upload_bytes()),
            ));
        }
        let (text, original) = match kind {
            PersonaKind::Facts => (facts_text(body)?, None),
            PersonaKind::Summary | PersonaKind::Style => (plain_text(kind, body)?, None),
            PersonaKind::Profile => {
                check_pdf(&body)?;
                let text = profile_text(extracted.as_deref().unwrap_or_default())?;
                (text, Some(body))
            }
        };
        Ok(Self {
            kind,
            text,
            original,
            updated_at: now,
        })
    }

    /// What listings show of this document.
    pub fn info(&self) -> PersonaInfo {
        PersonaInfo {
            kind: self.kind,
            text_bytes: self.text.len() as u64,
            original_bytes: self.original.as_ref().map(|o| o.len() as u64),
            estimated_tokens: estimate_tokens(&self.text),
            updated_at: self.updated_at,
        }
    }
}

/// A persona document without its content, as listings show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonaInfo {
    pub kind: PersonaKind,
    /// The size of the text the model reads.
    pub text_bytes: u64,
    /// The size of the uploaded file when it is kept beside the text (the profile PDF).
    #[serde(rename = "pdfBytes", skip_serializing_if = "Option::is_none")]
    pub original_bytes: Option<u64>,
    /// What the text costs of the bot's memory budget on every call.
    pub estimated_tokens: u32,
    pub updated_at: DateTime<Utc>,
}

/// A bot's persona as the model reads it: the text of each kind present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persona {
    texts: Vec<(PersonaKind, String)>,
}

impl Persona {
    /// From stored texts in any order; a kind given twice keeps the last text.
    pub fn new(texts: impl IntoIterator<Item = (PersonaKind, String)>) -> Self {
        let mut texts: Vec<_> = texts.into_iter().collect();
        texts.reverse();
        texts.sort_by_key(|(kind, _)| *kind);
        texts.dedup_by_key(|(kind, _)| *kind);
        Self { texts }
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The sections of the system prompt, in [`PersonaKind::ALL`] order, each as
    /// `(heading, body)`. Facts are shown as pretty JSON.
    pub fn sections(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.texts.iter().map(|(kind, text)| {
            let body = match kind {
                PersonaKind::Facts => serde_json::from_str::<serde_json::Value>(text)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or_else(|_| text.clone()),
                _ => text.trim().to_owned(),
            };
            (kind.heading(), body)
        })
    }
}

/// A PDF starts with the `%PDF-` magic, whatever the request's headers say.
pub fn check_pdf(body: &[u8]) -> Result<(), CoreError> {
    if body.starts_with(b"%PDF-") {
        Ok(())
    } else {
        Err(CoreError::validation(
            "profile",
            "is not a PDF file (it must start with %PDF-)",
        ))
    }
}

fn field(kind: PersonaKind) -> &'static str {
    kind.as_str()
}

/// Valid JSON, an object or an array, kept as uploaded so that it reads back unchanged.
fn facts_text(body: Vec<u8>) -> Result<String, CoreError> {
    let text = utf8(PersonaKind::Facts, body)?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_) | serde_json::Value::Array(_)) => Ok(text),
        Ok(_) => Err(CoreError::validation("facts", "must be a JSON object or array")),
        Err(e) => Err(CoreError::validation("facts", format!("is not valid JSON: {e}"))),
    }
}

/// UTF-8 text that is not blank; a byte order mark is dropped.
fn plain_text(kind: PersonaKind, body: Vec<u8>) -> Result<String, CoreError> {
    let text = utf8(kind, body)?;
    if text.trim().is_empty() {
        return Err(CoreError::validation(field(kind), "must not be empty"));
    }
    if text.contains('\0') {
        return Err(CoreError::validation(field(kind), "must not contain NUL characters"));
    }
    Ok(text)
}

fn utf8(kind: PersonaKind, body: Vec<u8>) -> Result<String, CoreError> {
    let text = String::from_utf8(body).map_err(|e| {
        CoreError::validation(
            field(kind),
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text))
}

/// Text extracted from a PDF, tidied: no trailing spaces, no runs of blank lines, no
/// control characters but newlines and tabs. Tidying twice changes nothing.
pub fn tidy_extracted_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank_run = 0;
    for line in raw.lines() {
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect::<String>()
            .trim_end()
            .to_owned();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 1 { "\n\n" } else { "\n" });
        }
        out.push_str(&line);
        blank_run = 0;
    }
    out
}

/// The profile's extracted text, tidied. A PDF without text (a scan) is refused, since
/// the model could read nothing of it.
fn profile_text(raw: &str) -> Result<String, CoreError> {
    let out = tidy_extracted_text(raw);
    if out.is_empty() {
        return Err(CoreError::validation(
            "profile",
            "has no text that could be extracted (is it a scanned image?)",
        ));
    }
    if out.len() > limits::EXTRACTED_TEXT_MAX_BYTES {
        return Err(CoreError::validation(
            "profile",
            format!(
                "has {} bytes of text, more than the {} allowed",
                out.len(),
                limits::EXTRACTED_TEXT_MAX_BYTES
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(kind: PersonaKind, body: &[u8]) -> Result<PersonaDoc, CoreError> {
        PersonaDoc::from_upload(kind, body.to_vec(), None, DateTime::UNIX_EPOCH)
    }

    #[test]
    fn facts_must_be_a_json_object_or_array_and_read_back_as_uploaded() {
        let doc = upload(PersonaKind::Facts, br#"{"name": "Ada"}"#).expect("valid facts");
        assert_eq!(doc.text, r#"{"name": "Ada"}"#);
        let err = upload(PersonaKind::Facts, br#"{"name": "#).expect_err("broken JSON");
        assert!(err.to_string().starts_with("facts: is not valid JSON"), "{err}");
        assert!(upload(PersonaKind::Facts, b"42").is_err());
    }

    #[test]
    fn text_must_be_utf8_and_not_blank() {
        assert!(upload(PersonaKind::Summary, "Ação\n".as_bytes()).is_ok());
        let err = upload(PersonaKind::Style, b"ok \xff\xfe").expect_err("latin-1 bytes");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        assert!(upload(PersonaKind::Summary, b" \n ").is_err());
        let bom = upload(PersonaKind::Summary, "\u{feff}Hi".as_bytes()).expect("bom");
        assert_eq!(bom.text, "Hi");
    }

    #[test]
    fn a_profile_needs_the_pdf_magic_and_some_text_within_the_limit() {
        let now = DateTime::UNIX_EPOCH;
        let pdf = b"%PDF-1.4 ...".to_vec();
        assert!(PersonaDoc::from_upload(PersonaKind::Profile, b"<html>".to_vec(), Some("x".into()), now).is_err());
        assert!(PersonaDoc::from_upload(PersonaKind::Profile, pdf.clone(), Some(" \n\n ".into()), now).is_err());
        let big = "x".repeat(limits::EXTRACTED_TEXT_MAX_BYTES + 1);
        assert!(PersonaDoc::from_upload(PersonaKind::Profile, pdf.clone(), Some(big), now).is_err());
        let doc = PersonaDoc::from_upload(
            PersonaKind::Profile,
            pdf.clone(),
            Some("\n\nAda  \n\n\n\nRust\n".into()),
            now,
        )
        .expect("a profile");
        assert_eq!(doc.text, "Ada\n\nRust");
        assert_eq!(doc.original, Some(pdf));
        assert_eq!(doc.info().original_bytes, Some(12));
    }

    #[test]
    fn oversize_uploads_are_refused() {
        let body = vec![b'a'; limits::TEXT_MAX_BYTES + 1];
        assert!(upload(PersonaKind::Summary, &body).is_err());
    }

    #[test]
    fn sections_come_in_kind_order_with_pretty_facts() {
        let persona = Persona::new([
            (PersonaKind::Profile, "profile text".to_owned()),
            (PersonaKind::Facts, r#"{"a":1}"#.to_owned()),
            (PersonaKind::Summary, "summary text".to_owned()),
        ]);
        let sections: Vec<_> = persona.sections().collect();
        assert_eq!(
            sections[0],
            (PersonaKind::Facts.heading(), "{\n  \"a\": 1\n}".to_owned())
        );
        assert_eq!(sections[1].0, PersonaKind::Summary.heading());
        assert_eq!(sections[2].0, PersonaKind::Profile.heading());
        assert_eq!(
            PersonaKind::parse("resume").map_err(|e| e.to_string()),
            Err("not found".into())
        );
    }
}
