//! The child-process extractor against real worker processes (the crate's own
//! `parley-pdf-worker` binary): text comes back, bombs are refused by the bounds, the
//! rlimits and the deadline really stop a worker, and the slots turn callers away.

use std::time::{Duration, Instant};

use parley_core::PdfError;
use parley_core::ports::PdfTextExtractor;
use parley_pdf::{ChildProcessExtractor, PdfLimits, testing};

fn extractor(change: impl FnOnce(&mut PdfLimits)) -> ChildProcessExtractor {
    let mut limits = PdfLimits::default();
    change(&mut limits);
    ChildProcessExtractor::new(env!("CARGO_BIN_EXE_parley-pdf-worker"), limits)
}

// GIVEN a readable PDF, WHEN a worker reads it, THEN its text comes back.
#[tokio::test]
async fn a_worker_reads_a_pdf() {
    let text = extractor(|_| {})
        .extract_text(testing::text_pdf(&["Ada Park", "Staff engineer"]))
        .await
        .expect("readable");
    assert!(text.contains("Ada Park") && text.contains("Staff engineer"), "{text:?}");
}

// Protects against decompression bombs: a 1 MB PDF inflating to 1 GiB is refused by the
// decoded-size bound, quickly, as too large.
#[tokio::test]
async fn a_flate_bomb_is_refused_as_too_large() {
    let started = Instant::now();
    let e = extractor(|_| {})
        .extract_text(testing::flate_bomb(1024))
        .await
        .expect_err("refused");
    assert!(matches!(&e, PdfError::TooLarge(why) if why.contains("expand")), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

// Protects the memory limit itself: with the bounds opened wide, the worker's rlimit
// stops the bomb (its allocation fails) and the upload is refused as too large.
#[tokio::test]
async fn the_memory_limit_stops_a_worker_the_bounds_let_through() {
    let e = extractor(|l| {
        l.max_decoded_bytes = u64::MAX / 2;
        l.memory_bytes = 96 << 20;
        l.deadline = Duration::from_secs(60);
    })
    .extract_text(testing::flate_bomb(1024))
    .await
    .expect_err("refused");
    assert!(matches!(&e, PdfError::TooLarge(why) if why.contains("memory")), "{e:?}");
}

// Protects the slots: with one slot taken, a second caller waits `queue_wait`, then hears
// Busy with a retry hint; the first one is not disturbed.
#[tokio::test]
async fn past_the_slots_a_caller_is_told_to_come_back() {
    let pdf = extractor(|l| {
        l.max_concurrent = 1;
        l.queue_wait = Duration::from_millis(100);
        l.deadline = Duration::from_secs(2);
    });
    // `join!` polls the first call first: it takes the one slot before the second asks.
    let (first, second) = tokio::join!(
        pdf.extract_text(testing::slow_forms(200_000, 256)),
        pdf.extract_text(testing::text_pdf(&["Ada"])),
    );
    assert_eq!(first, Err(PdfError::TimedOut));
    assert_eq!(
        second,
        Err(PdfError::Busy {
            retry_after: Duration::from_secs(2)
        })
    );
    // The slot is free again.
    assert!(pdf.extract_text(testing::text_pdf(&["Ada"])).await.is_ok());
}

// Bad files are unreadable, not errors of the server; a missing worker is unavailable.
#[tokio::test]
async fn garbage_is_unreadable_and_a_missing_worker_unavailable() {
    let garbage = [b"%PDF-1.7\n".as_slice(), &[0xff; 512]].concat();
    let e = extractor(|_| {}).extract_text(garbage).await.expect_err("refused");
    assert!(matches!(e, PdfError::Unreadable(_)), "{e:?}");
    let missing = ChildProcessExtractor::new("/nonexistent/parley", PdfLimits::default());
    let e = missing
        .extract_text(testing::text_pdf(&["Ada"]))
        .await
        .expect_err("refused");
    assert!(matches!(e, PdfError::Unavailable(_)), "{e:?}");
}

// The limits come from PARLEY_PDF_* variables, with defaults, and refuse nonsense.
#[test]
fn limits_are_read_with_defaults_and_checked() {
    assert_eq!(
        PdfLimits::from_lookup(|_| None).expect("defaults"),
        PdfLimits::default()
    );
    let limits = PdfLimits::from_lookup(|k| match k {
        "PARLEY_PDF_MAX_CONCURRENT" => Some("4".into()),
        "PARLEY_PDF_DEADLINE_MS" => Some("2500".into()),
        "PARLEY_PDF_MEMORY_MB" => Some("128".into()),
        _ => None,
    })
    .expect("valid");
    assert_eq!(limits.max_concurrent, 4);
    assert_eq!(limits.deadline, Duration::from_millis(2500));
    assert_eq!(limits.memory_bytes, 128 << 20);
    let e = PdfLimits::from_lookup(|k| (k == "PARLEY_PDF_MAX_DECODED_MB").then(|| "0".into())).expect_err("zero");
    assert_eq!(e.name, "PARLEY_PDF_MAX_DECODED_MB");
}
