//! The PDF text extractor of Parley (the adapter of core's [`PdfTextExtractor`]): the
//! only crate that links a PDF parser, so the functions that never read a PDF do not.
//!
//! A hostile PDF (a decompression bomb, one huge content stream shared by many pages,
//! a file the parser loops or crashes on) must not take the server down. So extraction
//! runs in a child process, the serving binary re-executed as a worker
//! ([`serve_worker_if_asked`], called first in `main`), which:
//! - limits itself first: data and address space, CPU seconds, no core file;
//! - measures every stream's decoded size with a bounded decoder before the parser may
//!   decode it, and stops its text output past a limit ([`bounded`]), so a bomb is
//!   refused in the time it takes to inflate the budget, not killed by the limits.
//!
//! The parent ([`ChildProcessExtractor`]) lets at most `max_concurrent` workers run at
//! once (a caller waits `queue_wait` for a slot, then hears [`PdfError::Busy`]), kills a
//! worker at its wall-clock deadline and reaps it before answering, and kills it too
//! when the request is dropped.

pub mod bounded;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod worker;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parley_core::PdfError;
use parley_core::ports::PdfTextExtractor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

pub use bounded::Bounds;
pub use worker::{WORKER_ARG, serve_worker_if_asked};

/// The limits of PDF extraction (see the README's table for their variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdfLimits {
    /// Workers running at once.
    pub max_concurrent: usize,
    /// How long an upload waits for a free worker before `503` with `Retry-After`.
    pub queue_wait: Duration,
    /// Wall-clock time of one extraction; the worker is killed then.
    pub deadline: Duration,
    /// Data and address space a worker may use (an allocation past it ends the worker).
    pub memory_bytes: u64,
    /// Decoded bytes of all streams of one PDF (page contents once per page).
    pub max_decoded_bytes: u64,
    /// Bytes of raw extracted text.
    pub max_text_bytes: usize,
}

impl Default for PdfLimits {
    fn default() -> Self {
        Self {
            max_concurrent: 2,
            queue_wait: Duration::from_secs(2),
            deadline: Duration::from_secs(10),
            memory_bytes: 256 << 20,
            max_decoded_bytes: 64 << 20,
            max_text_bytes: 1 << 20,
        }
    }
}

/// A `PARLEY_PDF_*` variable that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name} {problem}")]
pub struct PdfConfigError {
    pub name: &'static str,
    pub problem: String,
}

impl PdfLimits {
    /// The limits from `PARLEY_PDF_*` variables, read through `lookup` (a binary passes
    /// the environment), each with its default when unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, PdfConfigError> {
        let number = |name: &'static str, default: u64| -> Result<u64, PdfConfigError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(PdfConfigError {
                        name,
                        problem: format!("must be a positive whole number, not {v:?}"),
                    }),
                },
            }
        };
        let d = Self::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Ok(Self {
            max_concurrent: usize::try_from(number("PARLEY_PDF_MAX_CONCURRENT", d.max_concurrent as u64)?)
                .unwrap_or(usize::MAX),
            queue_wait: Duration::from_millis(number("PARLEY_PDF_QUEUE_WAIT_MS", ms(d.queue_wait))?),
            deadline: Duration::from_millis(number("PARLEY_PDF_DEADLINE_MS", ms(d.deadline))?),
            memory_bytes: number("PARLEY_PDF_MEMORY_MB", d.memory_bytes >> 20)?.saturating_mul(1 << 20),
            max_decoded_bytes: number("PARLEY_PDF_MAX_DECODED_MB", d.max_decoded_bytes >> 20)?.saturating_mul(1 << 20),
            max_text_bytes: usize::try_from(
                number("PARLEY_PDF_MAX_TEXT_KB", (d.max_text_bytes >> 10) as u64)?.saturating_mul(1 << 10),
            )
            .unwrap_or(usize::MAX),
        })
    }

    fn worker_limits(&self) -> worker::WorkerLimits {
        worker::WorkerLimits {
            memory_bytes: self.memory_bytes,
            // The wall clock stops the worker first; CPU time is the backstop.
            cpu_seconds: self.deadline.as_secs().saturating_add(1),
            bounds: Bounds {
                max_decoded_bytes: self.max_decoded_bytes,
                max_text_bytes: self.max_text_bytes,
            },
        }
    }
}

/// Extraction in a worker process: `program` re-executed with [`WORKER_ARG`].
pub struct ChildProcessExtractor {
    program: PathBuf,
    limits: PdfLimits,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for ChildProcessExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildProcessExtractor")
            .field("program", &self.program)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ChildProcessExtractor {
    /// Workers run `program`, whose `main` calls [`serve_worker_if_asked`] first.
    pub fn new(program: impl Into<PathBuf>, limits: PdfLimits) -> Self {
        Self {
            program: program.into(),
            slots: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            limits,
        }
    }

    /// Workers run this very executable.
    pub fn for_current_exe(limits: PdfLimits) -> std::io::Result<Self> {
        Ok(Self::new(std::env::current_exe()?, limits))
    }

    async fn run_worker(&self, pdf: Vec<u8>) -> Result<String, PdfError> {
        let limits = self.limits.worker_limits();
        let mut child = Command::new(&self.program)
            .arg(WORKER_ARG)
            .args(limits.to_args())
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| PdfError::Unavailable(format!("cannot start {}: {e}", self.program.display())))?;
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let max_text = self.limits.max_text_bytes;
        let exchange = async {
            let write = async move {
                if let Some(mut stdin) = stdin {
                    // A worker that refuses early closes its end: nothing to report.
                    let _ = stdin.write_all(&pdf).await;
                }
            };
            let ((), text, reason) = tokio::join!(write, read_at_most(stdout, max_text), read_at_most(stderr, 1024));
            if text.len() > max_text {
                let _ = child.start_kill();
            }
            (text, reason, child.wait().await)
        };
        let (text, reason, status) = match tokio::time::timeout(self.limits.deadline, exchange).await {
            Ok(done) => done,
            Err(_) => {
                // Killed and reaped before the caller hears of it: no worker outlives
                // its deadline.
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(PdfError::TimedOut);
            }
        };
        let status = status.map_err(|e| PdfError::Unavailable(format!("lost the worker: {e}")))?;
        let reason = String::from_utf8_lossy(&reason).into_owned();
        if text.len() > max_text {
            return Err(text_too_long(max_text));
        }
        match status.code() {
            Some(worker::exit::TEXT) => Ok(String::from_utf8_lossy(&text).into_owned()),
            Some(worker::exit::UNREADABLE) => Err(PdfError::Unreadable(reason)),
            Some(worker::exit::TOO_LARGE) => Err(PdfError::TooLarge(reason)),
            Some(code) => Err(PdfError::Unavailable(format!(
                "the worker exited with {code}: {reason}"
            ))),
            None => Err(killed_by(&status)),
        }
    }
}

#[async_trait]
impl PdfTextExtractor for ChildProcessExtractor {
    async fn extract_text(&self, pdf: Vec<u8>) -> Result<String, PdfError> {
        let busy = PdfError::Busy {
            retry_after: self.limits.deadline.max(Duration::from_secs(1)),
        };
        let _slot = match tokio::time::timeout(self.limits.queue_wait, self.slots.acquire()).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) | Err(_) => return Err(busy),
        };
        self.run_worker(pdf).await
    }
}

fn text_too_long(max: usize) -> PdfError {
    PdfError::TooLarge(format!(
        "its text is longer than the {max} bytes a profile PDF may have"
    ))
}

/// What a signal that ended the worker means: CPU time past its limit is a timeout; an
/// abort is an allocation past the memory limit (or another crash of the reader).
fn killed_by(status: &std::process::ExitStatus) -> PdfError {
    use std::os::unix::process::ExitStatusExt;
    const SIGABRT: i32 = 6;
    const SIGKILL: i32 = 9;
    const SIGXCPU: i32 = 24;
    match status.signal() {
        Some(SIGXCPU | SIGKILL) => PdfError::TimedOut,
        Some(SIGABRT) => PdfError::TooLarge("reading it needs more memory than a profile PDF may use".into()),
        _ => PdfError::Unreadable("the reader failed on it".into()),
    }
}

/// At most `max + 1` bytes of `pipe` (one more tells that there was more).
async fn read_at_most(pipe: Option<impl AsyncRead + Unpin>, max: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.take(max as u64 + 1).read_to_end(&mut bytes).await;
    }
    bytes
}
