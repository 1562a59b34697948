//! Opening and configuring the connections: the one writer, on a thread of its own, and
//! the pooled readers.
//!
//! The settings, and why:
//! - `journal_mode = WAL`: readers read a snapshot and never wait for the writer, nor it
//!   for them; a commit appends the changed pages to the `-wal` file instead of writing
//!   them twice (journal, then file).
//! - `synchronous = NORMAL`: a commit is not flushed to the disk (no `fsync`); the log is
//!   flushed before each checkpoint copies it into the database file. What that means for
//!   a user's data: a committed message survives a crash or a kill of `parley`, since the
//!   operating system holds what was written; a power cut or an operating-system crash
//!   can take back the exchanges of the last moments (those the operating system had not
//!   yet written out, at most the log since the last checkpoint) as a whole and in order,
//!   as if they had not been sent, and never corrupts the file or splits a message from
//!   its quota charge. That is the right trade for the local server, a development and
//!   single-machine host whose cloud counterpart keeps its data in DynamoDB: `FULL` would
//!   flush every commit, several per send, and cap the server at the disk's flush rate.
//! - `page_size = 512`, SQLite's smallest (a new file only; a file keeps the size it was
//!   made with): a commit writes every page it changed whole, and a send changes a few
//!   small rows in a few places (its quota counters, the message row and its index
//!   entries), so small pages write about 10 KB per exchange where 4 KB pages (and
//!   schema version 1) wrote about 50 KB (`make bench`). Larger rows (a long reply, a persona file) take overflow
//!   pages, written once each.
//! - `wal_autocheckpoint = 8000` pages (4 MB of log): a checkpoint copies each page once
//!   however often it changed since the last one, and the hot pages (the end of a
//!   conversation, a day's counters) change at every send.
//! - `temp_store = MEMORY`: a sort never spills to a temporary file.
//! - no memory mapping (`mmap_size = 0`, the default): a reader remaps the file each
//!   time it grows, which cost more than the reads it saves (measured), and an I/O error
//!   in a mapping is a signal that kills the process, where a `read` returns an error.
//! - readers are `query_only`, so a read path can never write by mistake.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use parley_core::StoreError;
use rusqlite::{Connection, OpenFlags};

use crate::db_err;

/// How long a statement waits for a lock held by another connection (another process
/// on the same file) before it fails with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page size of a new file, in bytes (see the module's documentation).
const PAGE_SIZE: i64 = 512;

/// Log pages after which a commit copies the log into the database file.
const WAL_AUTOCHECKPOINT: i64 = 8000;

/// Distinct statements a connection keeps prepared: more than the store has.
const STATEMENT_CACHE: usize = 64;

/// Idle readers kept for the next read; more are opened when more threads read at once
/// and closed after. Reads run on the caller's thread, so the runtime's worker threads
/// (one per core) are most of the readers; opening one costs more than a read.
const IDLE_READERS: usize = 8;

/// A write for the writer's thread: it runs the operation and answers its caller itself.
pub(crate) type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Starts the thread that owns the writer and runs the jobs sent to it, in order, until
/// every sender is gone. A job that panics fails alone (its caller sees its answer
/// dropped) unless it left a transaction open, after which the thread stops rather
/// than build on a state it cannot vouch for, and every later write is refused.
pub(crate) fn spawn_writer(mut conn: Connection) -> Result<Sender<Job>, StoreError> {
    let (jobs, queue) = channel::<Job>();
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            for job in queue {
                let ran = catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                if ran.is_err() && !conn.is_autocommit() {
                    tracing::error!("a write panicked inside a transaction; the sqlite writer stops");
                    break;
                }
            }
        })
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    Ok(jobs)
}

/// Opens the writer: creates the file's layout settings when it is new, then the
/// settings every connection has.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    // Before anything is written: a file that has pages keeps its size.
    conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(db_err)?;
    // `journal_mode` answers with the mode it settled on, so it is read, not executed.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(db_err)?;
    tracing::debug!(path = %path.display(), journal_mode = mode, "opened sqlite database");
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT};"
    ))
    .map_err(db_err)?;
    configure(&conn)?;
    Ok(conn)
}

/// Opens a reader of the file the writer has set up.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(db_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    conn.pragma_update(None, "query_only", true).map_err(db_err)?;
    configure(&conn)?;
    Ok(conn)
}

/// What the writer and the readers share.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA temp_store = MEMORY;").map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Read-only connections to one file, opened on demand and kept for reuse.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle reader, or a new one when all are busy.
    pub(crate) fn take(&self) -> Result<Connection, StoreError> {
        // The list holds whole connections only, so a poisoned lock still holds a valid one.
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_reader(&self.path),
        }
    }

    /// Keeps `conn` for the next read, or closes it when enough are idle. One with a
    /// statement still running (so holding its snapshot) is closed: it would read the past.
    pub(crate) fn give_back(&self, conn: Connection) {
        if conn.is_busy() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}
