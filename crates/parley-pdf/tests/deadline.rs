//! The deadline really stops a worker (alone in its test binary, so no other test's
//! worker is a child of this process while it looks).

use std::time::{Duration, Instant};

use parley_core::PdfError;
use parley_core::ports::PdfTextExtractor;
use parley_pdf::{ChildProcessExtractor, PdfLimits, testing};

/// The live child processes of this test process.
fn children() -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1) == Some(&me.as_str()) && fields.first() != Some(&"Z") {
            found.push(head.to_owned());
        }
    }
    found
}

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
    let left = children();
    assert!(left.is_empty(), "workers outlived their deadline: {left:?}");
}
