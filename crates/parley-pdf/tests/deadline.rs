//! The deadline really stops a worker (alone in its test binary, so no other test's
//! worker is a child of this process while it looks).

use std::time::{Duration, Instant};

use parley_core::PdfError;
use parley_core::ports::PdfTextExtractor;
use parley_pdf::{ChildProcessExtractor, PdfLimits, testing};

// Protects the deadline: a PDF that keeps the reader busy (a form drawn 200,000 times)
// is refused as timed out at the deadline, and its worker is dead and reaped by then.
#[tokio::test]
async fn the_deadline_kills_a_slow_worker() {
    let deadline = Duration::from_millis(1500);
    let started = Instant::now();
    let e = ChildProcessExtractor::new(
        env!("CARGO_BIN_EXE_parley-pdf-worker"),
        PdfLimits {
            deadline,
            ..PdfLimits::default()
        },
    )
    .extract_text(testing::slow_forms(200_000, 256))
    .await
    .expect_err("refused");
    let elapsed = started.elapsed();
    assert_eq!(e, PdfError::TimedOut);
    assert!(
        elapsed >= deadline && elapsed < deadline + Duration::from_secs(2),
        "took {elapsed:?}"
    );
    let left = testing::live_children(std::process::id());
    assert!(left.is_empty(), "workers outlived their deadline: {left:?}");
}
