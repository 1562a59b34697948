//! `chat-config` is the one function that reads PDFs: its binary serves as its own PDF
//! worker (re-executed with `--parley-pdf-worker`), and it alone of the functions links
//! a PDF parser.

use parley_core::PdfError;
use parley_core::ports::PdfTextExtractor;
use parley_pdf::{ChildProcessExtractor, PdfLimits, testing};

// GIVEN the chat-config binary as the worker, WHEN a PDF is read and a bomb refused,
// THEN `main` dispatched the worker mode before starting the Lambda runtime (which,
// without its environment, would exit instead).
#[tokio::test]
async fn the_binary_serves_as_its_own_pdf_worker() {
    let pdf = ChildProcessExtractor::new(env!("CARGO_BIN_EXE_chat-config"), PdfLimits::default());
    let text = pdf
        .extract_text(testing::text_pdf(&["Ada Park"]))
        .await
        .expect("the binary reads a PDF as a worker");
    assert!(text.contains("Ada Park"), "{text:?}");
    let refused = pdf.extract_text(testing::flate_bomb(256)).await;
    assert!(matches!(refused, Err(PdfError::TooLarge(_))), "{refused:?}");
}

// Protects the structure: the functions that never read a PDF (and the crates they share)
// do not link the PDF parser; only chat-config, the local server and the adapter do.
#[test]
fn only_the_functions_that_read_pdfs_link_a_pdf_parser() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--workspace",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-i",
            "pdf-extract",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let linking: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter(|l| l.contains("(/"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let expected: std::collections::BTreeSet<&str> = ["chat-config", "parley-local", "parley-pdf"].into();
    assert_eq!(linking, expected, "{tree}");
}
