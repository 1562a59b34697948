//! A PDF's text, read within bounds: every stream's decoded size is measured with a
//! decoder that stops at the budget before the extractor may decode it, page contents
//! count once per page that uses them, and the text output stops past its limit. So a
//! decompression bomb is refused in the time it takes to inflate the budget, not when
//! a memory limit kills the process.
//!
//! This runs in the worker process; the rlimits there are the backstop for what these
//! checks cannot see (a cross-reference stream is inflated by the parser itself, and a
//! form drawn many times is decoded on every draw).

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::path::Path;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

/// What one extraction may spend besides memory and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Decoded bytes of all streams together, page contents counted once per page.
    pub max_decoded_bytes: u64,
    /// Bytes of extracted text (before tidying).
    pub max_text_bytes: usize,
}

/// Why a PDF was refused, in words for its uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unreadable(String),
    TooLarge(String),
}

impl Refusal {
    fn decoded(max: u64) -> Self {
        Self::TooLarge(format!(
            "its compressed streams expand to more than the {max} bytes a profile PDF may have"
        ))
    }
}

thread_local! {
    /// What the object streams that the parser inflates while loading may still decode
    /// to; the parser's filter hook is a plain `fn`, so it reads its budget here.
    static LOAD_BUDGET: Cell<u64> = const { Cell::new(0) };
    static LOAD_OVER: Cell<bool> = const { Cell::new(false) };
}

/// The text of the PDF at `path` (the worker passes `/dev/stdin`), or why not.
pub fn extract_text(path: &Path, bounds: Bounds) -> Result<String, Refusal> {
    LOAD_BUDGET.set(bounds.max_decoded_bytes);
    LOAD_OVER.set(false);
    let loaded = Document::load_filtered(path, admit_object_stream);
    if LOAD_OVER.get() {
        return Err(Refusal::decoded(bounds.max_decoded_bytes));
    }
    let mut doc = loaded.map_err(|e| Refusal::Unreadable(e.to_string()))?;
    if doc.is_encrypted() {
        doc.decrypt("")
            .map_err(|_| Refusal::Unreadable("it is encrypted with a password".into()))?;
    }
    check_decoded_size(&doc, bounds.max_decoded_bytes)?;

    let mut out = LimitedBuffer::new(bounds.max_text_bytes);
    let result = {
        let mut device = pdf_extract::PlainTextOutput::new(&mut out as &mut dyn Write);
        pdf_extract::output_doc(&doc, &mut device)
    };
    if out.over {
        return Err(Refusal::TooLarge(format!(
            "its text is longer than the {} bytes a profile PDF may have",
            bounds.max_text_bytes
        )));
    }
    result.map_err(|e| Refusal::Unreadable(e.to_string()))?;
    Ok(String::from_utf8_lossy(&out.bytes).into_owned())
}

/// The parser's hook for each object as it loads: an object stream (which the parser
/// inflates right after this) is measured first; past the budget it is emptied and the
/// load is marked as over. The returned value is only used for objects inside object
/// streams, which are never streams themselves.
fn admit_object_stream(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    if let Object::Stream(stream) = object {
        if stream.dict.has_type(b"ObjStm") {
            let budget = LOAD_BUDGET.get();
            match decoded_len(stream, budget) {
                Some(n) => LOAD_BUDGET.set(budget - n),
                None => {
                    LOAD_OVER.set(true);
                    stream.dict.remove(b"Filter");
                    stream.set_content(Vec::new());
                }
            }
        }
        return Some((id, Object::Null));
    }
    Some((id, object.clone()))
}

/// Every stream's decoded size (object and cross-reference streams excepted: loading
/// has inflated those), with page contents counted once per page that draws them,
/// stays within `max`.
fn check_decoded_size(doc: &Document, max: u64) -> Result<(), Refusal> {
    let mut remaining = max;
    let spend = |stream: &Stream, remaining: &mut u64| -> Result<(), Refusal> {
        let n = decoded_len(stream, *remaining).ok_or(Refusal::decoded(max))?;
        *remaining -= n;
        Ok(())
    };
    for object in doc.objects.values() {
        let Object::Stream(stream) = object else { continue };
        if !stream.dict.has_type(b"ObjStm") && !stream.dict.has_type(b"XRef") {
            spend(stream, &mut remaining)?;
        }
    }
    // The extractor decodes a page's contents for each page: a stream shared by many
    // pages costs once per page.
    let mut pages_remaining = max;
    for page in doc.get_pages().into_values() {
        for id in doc.get_page_contents(page) {
            if let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) {
                spend(stream, &mut pages_remaining)?;
            }
        }
    }
    Ok(())
}

/// The size `stream` decodes to as the parser would decode it (Flate, LZW and ASCII85,
/// in order; it reads other filters as raw bytes), or `None` past `limit`.
pub fn decoded_len(stream: &Stream, limit: u64) -> Option<u64> {
    let Ok(filters) = stream.filters() else {
        return within(stream.content.len() as u64, limit);
    };
    let params = stream.dict.get(b"DecodeParms").and_then(Object::as_dict).ok();
    let mut data = std::borrow::Cow::Borrowed(stream.content.as_slice());
    let last = filters.len().saturating_sub(1);
    for (i, filter) in filters.into_iter().enumerate() {
        let next = match filter {
            // The last step only needs counting: no buffer of the budget's size.
            b"FlateDecode" if i == last => return inflated_len(&data, limit),
            b"FlateDecode" => inflate(&data, limit)?,
            b"LZWDecode" => unlzw(&data, params, limit)?,
            // Four bytes out for five in (or for one `z`): no expansion worth a bound
            // beyond the input's own limit.
            b"ASCII85Decode" => {
                let mut dict = Dictionary::new();
                dict.set("Filter", "ASCII85Decode");
                Stream::new(dict, data.to_vec())
                    .decompressed_content()
                    .unwrap_or_default()
            }
            _ => break,
        };
        data = std::borrow::Cow::Owned(next);
    }
    within(data.len() as u64, limit)
}

fn within(n: u64, limit: u64) -> Option<u64> {
    (n <= limit).then_some(n)
}

/// Inflates at most `limit + 1` bytes; what a broken stream yields before its error
/// counts, as the parser keeps it too.
fn inflate(input: &[u8], limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let _ = flate2::read::ZlibDecoder::new(input)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out);
    within(out.len() as u64, limit).map(|_| out)
}

/// How many bytes `input` inflates to, counting at most `limit + 1`.
fn inflated_len(input: &[u8], limit: u64) -> Option<u64> {
    let mut decoder = flate2::read::ZlibDecoder::new(input).take(limit.saturating_add(1));
    let mut buf = vec![0u8; 64 << 10];
    let mut n: u64 = 0;
    // A broken stream counts what it yields before its error, as the parser keeps it.
    while let Ok(read @ 1..) = decoder.read(&mut buf) {
        n += read as u64;
    }
    within(n, limit)
}

fn unlzw(input: &[u8], params: Option<&Dictionary>, limit: u64) -> Option<Vec<u8>> {
    let early_change = params
        .and_then(|p| p.get(b"EarlyChange").ok())
        .and_then(|p| p.as_i64().ok())
        .is_none_or(|v| v != 0);
    let mut decoder = if early_change {
        weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
    } else {
        weezl::decode::Decoder::new(weezl::BitOrder::Msb, 8)
    };
    let mut out = LimitedBuffer::new(usize::try_from(limit).unwrap_or(usize::MAX));
    let _ = decoder.into_stream(&mut out).decode_all(input);
    (!out.over).then_some(out.bytes)
}

/// Bytes up to a limit; a write past it fails, and `over` says so.
struct LimitedBuffer {
    bytes: Vec<u8>,
    max: usize,
    over: bool,
}

impl LimitedBuffer {
    fn new(max: usize) -> Self {
        Self {
            bytes: Vec::new(),
            max,
            over: false,
        }
    }
}

impl Write for LimitedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.max {
            self.over = true;
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "output limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::testing;

    const BOUNDS: Bounds = Bounds {
        max_decoded_bytes: 64 << 20,
        max_text_bytes: 1 << 20,
    };

    fn read(pdf: &[u8], bounds: Bounds) -> Result<String, Refusal> {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), pdf).expect("write");
        extract_text(file.path(), bounds)
    }

    // GIVEN a plain one-page PDF, WHEN it is read within the default bounds, THEN its
    // lines come out.
    #[test]
    fn a_text_pdf_reads_back_its_lines() {
        let text = read(&testing::text_pdf(&["Ada Park", "Staff engineer"]), BOUNDS).expect("readable");
        assert!(text.contains("Ada Park") && text.contains("Staff engineer"), "{text:?}");
    }

    // Protects against the decompression bomb: a 1 GiB stream of spaces in about 1 MB is
    // refused once 64 MiB are inflated, in well under the time inflating it all takes.
    #[test]
    fn a_flate_bomb_is_refused_at_the_decoded_budget() {
        let bomb = testing::flate_bomb(1024);
        assert!(bomb.len() < 2 << 20, "the bomb is small: {} bytes", bomb.len());
        let started = Instant::now();
        let refusal = read(&bomb, BOUNDS).expect_err("refused");
        assert!(
            matches!(&refusal, Refusal::TooLarge(why) if why.contains("expand")),
            "{refusal:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
    }

    // Protects against one content stream shared by many pages: 1 MiB is fine on one
    // page, but 150 pages drawing it cost 150 MiB of decoding, past the budget.
    #[test]
    fn a_content_stream_shared_by_many_pages_counts_once_per_page() {
        read(&testing::shared_content(1, 1), BOUNDS).expect("one page of spaces is readable");
        let refusal = read(&testing::shared_content(150, 1), BOUNDS).expect_err("refused");
        assert!(
            matches!(&refusal, Refusal::TooLarge(why) if why.contains("expand")),
            "{refusal:?}"
        );
    }

    // Protects the text bound: output stops past its limit and the PDF is refused.
    #[test]
    fn text_past_its_limit_is_refused() {
        let lines: Vec<String> = (0..60).map(|i| format!("line {i:02} of a long profile")).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let pdf = testing::text_pdf(&lines);
        read(&pdf, BOUNDS).expect("within the default bound");
        let small = Bounds {
            max_text_bytes: 200,
            ..BOUNDS
        };
        let refusal = read(&pdf, small).expect_err("refused");
        assert!(
            matches!(&refusal, Refusal::TooLarge(why) if why.contains("text")),
            "{refusal:?}"
        );
    }

    // The bounded decoder measures what the parser would decode, and stops past the limit.
    #[test]
    fn decoded_len_matches_the_parser_within_the_limit() {
        let mut dict = Dictionary::new();
        dict.set("Filter", "FlateDecode");
        let stream = Stream::new(dict, testing::zlib_spaces(2));
        assert_eq!(stream.decompressed_content().map(|d| d.len()).ok(), Some(2 << 20));
        assert_eq!(decoded_len(&stream, 2 << 20), Some(2 << 20));
        assert_eq!(decoded_len(&stream, (2 << 20) - 1), None);
    }
}
