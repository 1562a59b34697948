//! The SQLite adapter: one [`SqliteStore`] implements every storage port of
//! `parley-core` (`BotStore`, `SessionStore`, `RoomStore`, `MessageStore`, `QuotaStore`,
//! `PersonaStore`) on a single database file, for local development and tests.
//!
//! Each object is stored as its `parley-records` record (JSON with a `schemaVersion`)
//! in a `body` column beside the key columns that queries need (ids, owner, share
//! code, sequence numbers), so neither a domain type nor the API can change what is
//! stored; persona documents, being text and files, have plain columns.
//!
//! Writes run one after another on the writer connection, owned by a thread of its own
//! ([`SqliteStore::run`]): SQLite serialises writes anyway, and the queue keeps SQLite's
//! calls off the async runtime's threads while a write waits for the file's lock
//! (writes run inline under a lock measured slower). Reads run on the caller's thread,
//! on a pool of read-only connections ([`SqliteStore::read`]), which, the file being in
//! WAL mode, never wait for the writer: a read takes less time than handing it to
//! another thread and back (`make bench`). A conversation's messages are the exception,
//! read on the writer (see `messages.rs`). The invariants the ports promise (unique ids
//! and share codes, per-conversation sequence numbers, all-or-nothing quota charges) are
//! enforced by the database itself. Statements are prepared once per connection and
//! kept (`prepare_cached`).
//!
//! Layout: [`schema`] creates the tables; `connection.rs` opens and configures the
//! connections (the pragmas, and why); `bots.rs`, `sessions.rs`, `rooms.rs`,
//! `messages.rs`, `quotas.rs` and `personas.rs` implement one port each; this file holds
//! the store, the writer and reader plumbing and the error mapping.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use parley_core::StoreError;
use parley_core::ports::{Page, PageRequest};
use rusqlite::{Connection, ErrorCode, OptionalExtension, ffi};

mod bots;
mod connection;
mod messages;
mod personas;
mod quotas;
mod rooms;
pub mod schema;
mod sessions;

/// All Parley storage in one SQLite file. Cloning is cheap and shares the connections;
/// the writer's thread ends when the last clone goes.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Sender<connection::Job>,
    readers: Arc<connection::Readers>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// Creates `path` empty with mode 0600 unless it exists (an existing file keeps its mode).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`, creating its parent directory when
    /// needed, and brings the schema up to date. Opening an existing file is safe: the
    /// schema is only created where it is missing. A new file is made readable by its
    /// owner only (mode 0600), like the keys beside it; SQLite gives its `-wal` and
    /// `-shm` files the same mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        }
        create_private(path).map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        let conn = connection::open_writer(path)?;
        schema::migrate(&conn)?;
        Ok(Self {
            writer: connection::spawn_writer(conn)?,
            readers: Arc::new(connection::Readers::new(path)),
        })
    }

    /// Runs `f` with the writer on its thread, after the writes queued before it, so that
    /// SQLite's synchronous calls never stall the async runtime. Everything that writes
    /// goes here, and whatever must see its own writes (a look-up after a refused update).
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: connection::Job = Box::new(move |conn| {
            // The caller may have gone; the write stands all the same.
            let _ = done.send(f(conn));
        });
        self.writer
            .send(job)
            .map_err(|_| StoreError::Other("the sqlite writer has stopped".into()))?;
        // No answer means `f` panicked: the writer refuses to go on with its connection
        // in a state it cannot vouch for.
        result
            .await
            .map_err(|_| StoreError::Other("the sqlite writer stopped during the operation".into()))?
    }

    /// Runs the read `f` on a pooled read-only connection, on the caller's thread. It sees
    /// every write committed before it began, and waits for none in progress.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        // Inline, not on the blocking thread pool: a read takes microseconds, less than
        // handing it to another thread and back costs (`make bench`).
        let conn = self.readers.take()?;
        let result = catch_unwind(AssertUnwindSafe(|| f(&conn)))
            .map_err(|_| StoreError::Other("a read of the sqlite store failed unexpectedly".into()))?;
        self.readers.give_back(conn);
        result
    }
}

/// Maps a rusqlite error to the port's error, keeping it as the source: a uniqueness
/// violation is `AlreadyExists`, a busy or failing database is `Unavailable` (worth a
/// retry), anything else is `Other`.
pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(failure, _) => Some((failure.code, failure.extended_code)),
        _ => None,
    };
    match code {
        Some((ErrorCode::ConstraintViolation, ext))
            if ext == ffi::SQLITE_CONSTRAINT_UNIQUE || ext == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::AlreadyExists
        }
        Some((
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::OutOfMemory,
            _,
        )) => StoreError::Unavailable(Box::new(e)),
        _ => StoreError::Other(Box::new(e)),
    }
}

/// Converts a domain integer to SQLite's signed 64-bit integer.
pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|e| StoreError::Other(Box::new(e)))
}

/// Converts a stored integer back to the domain's unsigned one.
pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|e| StoreError::Other(Box::new(e)))
}

/// The number of rows to fetch for a page: one more than asked, to learn whether more
/// follow. A zero limit is read as one so that a page always makes progress.
pub(crate) fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.limit.max(1)) + 1
}

/// Turns `(id, body)` rows fetched with [`fetch_limit`], newest first, into a page whose
/// `next` is the last returned id when more rows follow; `decode` reads each body
/// (`parley_records::decode::<SomeRecord>`).
pub(crate) fn into_page<T>(
    mut rows: Vec<(String, String)>,
    page: &PageRequest,
    decode: impl Fn(&str) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let limit = usize::try_from(page.limit.max(1)).map_err(|e| StoreError::Other(Box::new(e)))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|(id, _)| id.clone())
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|(_, body)| decode(body))
        .collect::<Result<Vec<T>, _>>()?;
    Ok(Page { items, next })
}

/// Runs a statement that returns no rows, prepared once per connection; answers the
/// number of rows it changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(db_err)
}

/// The first row of a query prepared once per connection, read by `f`, if any.
pub(crate) fn first_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, f).optional())
        .map_err(db_err)
}

/// Reads `(id, body)` rows from a prepared listing query.
pub(crate) fn id_body_rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params, |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn failure(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn uniqueness_violations_are_already_exists() {
        assert!(matches!(
            db_err(failure(ffi::SQLITE_CONSTRAINT_UNIQUE)),
            StoreError::AlreadyExists
        ));
        assert!(matches!(
            db_err(failure(ffi::SQLITE_CONSTRAINT_PRIMARYKEY)),
            StoreError::AlreadyExists
        ));
        // Another constraint is a bug, not a collision.
        assert!(matches!(
            db_err(failure(ffi::SQLITE_CONSTRAINT_FOREIGNKEY)),
            StoreError::Other(_)
        ));
    }

    #[test]
    fn busy_and_io_errors_are_unavailable_and_keep_their_cause() {
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_FULL,
        ] {
            let err = db_err(failure(code));
            assert!(
                matches!(err, StoreError::Unavailable(_)),
                "code {code} must be Unavailable"
            );
            let source = err.source().expect("the rusqlite error is kept as the source");
            assert!(source.downcast_ref::<rusqlite::Error>().is_some());
        }
    }

    #[test]
    fn anything_else_is_other() {
        assert!(matches!(
            db_err(rusqlite::Error::QueryReturnedNoRows),
            StoreError::Other(_)
        ));
        assert!(matches!(db_err(failure(ffi::SQLITE_CORRUPT)), StoreError::Other(_)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_do_not_wait_for_the_writer() {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = SqliteStore::open(&dir.path().join("parley.db")).expect("open");
        store
            .run(|conn| exec(conn, "INSERT INTO quotas (key, used) VALUES ('k', 7)", []))
            .await
            .expect("write");
        // GIVEN the writer busy in a transaction that has not committed yet
        let (held, hold) = std::sync::mpsc::channel::<()>();
        let (started, start) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .run(move |conn| {
                        conn.execute_batch("BEGIN IMMEDIATE; UPDATE quotas SET used = 8 WHERE key = 'k'")
                            .map_err(db_err)?;
                        let _ = started.send(());
                        let _ = hold.recv();
                        conn.execute_batch("COMMIT").map_err(db_err)
                    })
                    .await
            }
        });
        start.recv().expect("the writer is busy");
        // WHEN a read comes, THEN it answers at once, with what was committed
        let read = store.read(|conn| first_row(conn, "SELECT used FROM quotas WHERE key = 'k'", [], |r| r.get(0)));
        let used: Option<i64> = tokio::time::timeout(std::time::Duration::from_secs(2), read)
            .await
            .expect("a read must not wait for the writer")
            .expect("read");
        assert_eq!(used, Some(7));
        held.send(()).expect("release the writer");
        busy.await.expect("the writer task").expect("the write");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_panics_fails_alone() {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = SqliteStore::open(&dir.path().join("parley.db")).expect("open");
        let panicked = store.run(|_| -> Result<(), StoreError> { panic!("a bug in one write") });
        assert!(matches!(panicked.await, Err(StoreError::Other(_))));
        // The connection was not left in a transaction, so the writer goes on.
        store
            .run(|conn| exec(conn, "INSERT INTO quotas (key, used) VALUES ('k', 1)", []))
            .await
            .expect("the next write works");
    }

    // Reads run on the caller's thread: a read that panics must fail as an error, not
    // take the request (or a current-thread runtime) down, and the pool goes on.
    #[tokio::test]
    async fn a_read_that_panics_fails_alone() {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = SqliteStore::open(&dir.path().join("parley.db")).expect("open");
        let panicked = store.read(|_| -> Result<(), StoreError> { panic!("a bug in one read") });
        assert!(matches!(panicked.await, Err(StoreError::Other(_))));
        let count = store.read(|conn| first_row(conn, "SELECT count(*) FROM quotas", [], |r| r.get::<_, i64>(0)));
        assert_eq!(count.await.expect("the next read works"), Some(0));
    }

    #[test]
    fn a_page_has_next_only_when_more_rows_were_fetched() {
        let rows = |n: usize| (0..n).map(|i| (format!("id{i}"), "1".to_owned())).collect::<Vec<_>>();
        let request = PageRequest { after: None, limit: 2 };
        let decode = |body: &str| body.parse::<u32>().map_err(|e| StoreError::Other(Box::new(e)));
        let page = into_page(rows(3), &request, decode).expect("decode");
        assert_eq!((page.items.len(), page.next.as_deref()), (2, Some("id1")));
        let page = into_page(rows(2), &request, decode).expect("decode");
        assert_eq!((page.items.len(), page.next), (2, None));
    }
}
