//! The worker: the serving binary re-executed with [`WORKER_ARG`]. It limits itself
//! first (address space, data, CPU time, no core files, no files written), then reads
//! the PDF on stdin, writes its text on stdout and says how it ended by its exit code;
//! a refusal's reason goes to stderr.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use rustix::process::{Resource, Rlimit, setrlimit};

use crate::bounded::{self, Bounds, Refusal};

/// The first argument that makes a binary a PDF worker.
pub const WORKER_ARG: &str = "--parley-pdf-worker";

/// How the worker ended (its exit code); a signal means a limit killed it.
pub(crate) mod exit {
    pub const TEXT: i32 = 0;
    pub const USAGE: i32 = 2;
    pub const UNREADABLE: i32 = 10;
    pub const TOO_LARGE: i32 = 11;
    pub const NO_LIMITS: i32 = 12;
}

/// What the parent hands its worker, as arguments after [`WORKER_ARG`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WorkerLimits {
    pub memory_bytes: u64,
    pub cpu_seconds: u64,
    pub bounds: Bounds,
}

impl WorkerLimits {
    pub fn to_args(self) -> [String; 4] {
        [
            self.memory_bytes.to_string(),
            self.cpu_seconds.to_string(),
            self.bounds.max_decoded_bytes.to_string(),
            self.bounds.max_text_bytes.to_string(),
        ]
    }

    fn from_args(args: impl Iterator<Item = OsString>) -> Option<Self> {
        let numbers: Vec<u64> = args
            .map(|a| a.to_str().and_then(|s| s.parse().ok()))
            .collect::<Option<_>>()?;
        let [memory_bytes, cpu_seconds, max_decoded_bytes, max_text_bytes] = numbers[..] else {
            return None;
        };
        Some(Self {
            memory_bytes,
            cpu_seconds,
            bounds: Bounds {
                max_decoded_bytes,
                max_text_bytes: usize::try_from(max_text_bytes).ok()?,
            },
        })
    }
}

/// If this process was started as a PDF worker, does the work and exits; otherwise
/// returns at once. Call it first in `main`, before anything else starts.
pub fn serve_worker_if_asked() {
    let mut args = std::env::args_os();
    if args.nth(1).is_none_or(|a| a != WORKER_ARG) {
        return;
    }
    let code = match WorkerLimits::from_args(args) {
        Some(limits) => work(limits),
        None => exit::USAGE,
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn work(limits: WorkerLimits) -> i32 {
    if let Err(e) = limit_self(limits) {
        let _ = writeln!(std::io::stderr(), "cannot set the worker's limits: {e}");
        return exit::NO_LIMITS;
    }
    // A panic of the extractor on an odd file is a refusal, not a message on stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| bounded::extract_text(Path::new("/dev/stdin"), limits.bounds));
    let (code, reason) = match outcome {
        Ok(Ok(text)) => {
            return match std::io::stdout().write_all(text.as_bytes()) {
                Ok(()) => exit::TEXT,
                Err(_) => exit::UNREADABLE,
            };
        }
        Ok(Err(Refusal::Unreadable(why))) => (exit::UNREADABLE, why),
        Ok(Err(Refusal::TooLarge(why))) => (exit::TOO_LARGE, why),
        Err(_) => (exit::UNREADABLE, "the reader failed on it".to_owned()),
    };
    let _ = std::io::stderr().write_all(reason.as_bytes());
    code
}

/// The worker's own limits: data and address space (an allocation past them fails and
/// the process aborts), CPU seconds (SIGXCPU, then SIGKILL one second later), no core
/// file, no file written. The memory limits are counted from what the process already
/// holds (the runtime's threads and stacks, which grow with the machine's cores), so a
/// worker on a large machine gets the same room as on a small one.
fn limit_self(limits: WorkerLimits) -> rustix::io::Result<()> {
    let both = |n: u64| Rlimit {
        current: Some(n),
        maximum: Some(n),
    };
    let (data_now, size_now) = memory_now();
    setrlimit(Resource::Core, both(0))?;
    setrlimit(Resource::Fsize, both(0))?;
    setrlimit(Resource::Data, both(data_now.saturating_add(limits.memory_bytes)))?;
    setrlimit(
        Resource::As,
        both(
            size_now
                .saturating_add(limits.memory_bytes)
                .saturating_add(ADDRESS_SPACE_HEADROOM),
        ),
    )?;
    setrlimit(
        Resource::Cpu,
        Rlimit {
            current: Some(limits.cpu_seconds),
            maximum: Some(limits.cpu_seconds.saturating_add(1)),
        },
    )?;
    Ok(())
}

/// Address space beyond the data limit (mappings that are not data: the allocator's
/// reservations, read-only maps).
const ADDRESS_SPACE_HEADROOM: u64 = 256 << 20;

/// The bytes of data (what `RLIMIT_DATA` counts) and of address space this process
/// holds now, from `/proc/self/status` (zero where it cannot be read).
fn memory_now() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |k| k.saturating_mul(1024))
    };
    (kib("VmData:"), kib("VmSize:"))
}
