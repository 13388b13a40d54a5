//! The embedded store: one SQLite file in WAL mode, written by one thread.
//!
//! Writing: every append goes through a channel to the writer thread (`sqlite/writer.rs`), which
//! owns the only write connection, groups what is waiting into one transaction with explicit
//! `BEGIN IMMEDIATE` / `COMMIT`, and answers each caller only once the commit is durable. After
//! any storage error it reopens its connection and rebuilds its memory from the file before it
//! answers (the module doc there says how an unknown outcome is settled).
//!
//! Every 256 entries are sealed into one bundle row and one hash-pack row (schema 4, see
//! `migrations/sqlite/0004_bundles.sql`) by the commit that completes them. Reads go through
//! plain SQLite connections on blocking threads (`sqlite/bulk.rs`), each in one transaction.
//!
//! One process writes a log: a lock file beside the database is held for the writer's lifetime.
//! Readers need no lock: WAL lets them read while the writer writes. The latest checkpoint is
//! also kept outside the database (`sqlite/kept.rs`), so a log that went back in time (a backup
//! put back, a lost WAL) is refused at start instead of forking.
//!
//! Why rusqlite and not sqlx, which DESIGN.md §6 names for the database: sqlx's SQLite driver
//! keeps its own count of open transactions and lowers it only when COMMIT or ROLLBACK succeeds,
//! so one failed COMMIT (a full disk) turned every later transaction on that connection into a
//! savepoint of one that never ended: acts were answered done and lost. Here each transaction is
//! SQLite's own, and a connection that met an error is thrown away. Reads already went through
//! rusqlite for speed (`bulk.rs`), and dropping sqlx's SQLite driver lets the bundled SQLite
//! follow rusqlite's releases. sqlx stays the choice for PostgreSQL.

mod bulk;
mod kept;
mod writer;
use bulk::Mapping;
pub use writer::MAX_BATCH_ENTRIES;
use writer::{Append, Request, Writer};

use crate::projection::{self, RowWrite};
use crate::{Batch, Extent, Fault, FaultKind, Health, Pending, Rows, Store, StoreError};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::entry::FORMAT_VERSION;
use armory_ledger::keys::{LogSigner, LogVerifier};
use armory_ledger::merkle::{Hash, RightEdge, stored_hash_count};
use armory_ledger::tiles::{TILE_WIDTH, encode_bundle};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_log.sql"),
    include_str!("../migrations/sqlite/0002_projection.sql"),
    include_str!("../migrations/sqlite/0003_idempotency.sql"),
    include_str!("../migrations/sqlite/0004_bundles.sql"),
    include_str!("../migrations/sqlite/0005_probe.sql"),
];

/// Durability of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is fsynced at every commit. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: a power cut may lose the last commits (never corrupts).
    Normal,
}

struct Inner {
    origin: String,
    verifier: LogVerifier,
    /// Where everything is read (see [`bulk`]), and whether the file has sealed bundles (schema 4
    /// on; a log of schema 3, read without being upgraded, keeps every entry and hash as a row).
    bulk: Arc<bulk::Bulk>,
    writer: Option<std::sync::mpsc::Sender<Request>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    health: Arc<Health>,
    _lock: Option<File>,
}

/// A log in a SQLite file.
#[derive(Clone)]
pub struct SqliteLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteLog({})", self.inner.origin)
    }
}

/// An error opening or reading `path` at start: a storage fault in its words, else "not a log".
fn open_failed(path: &Path, e: &rusqlite::Error) -> StoreError {
    match storage_fault(path, e) {
        Some(fault) => StoreError::Open(format!("cannot open {}: {fault}", path.display())),
        None => not_armory(path, e),
    }
}

fn not_armory(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open(format!(
        "{} is not an Armory log database ({e}); point --data at the directory `armory init` made",
        path.display()
    ))
}

/// The storage fault a SQLite error stands for, if it is one (disk full, read-only, I/O).
pub(super) fn storage_fault(path: &Path, e: &rusqlite::Error) -> Option<Fault> {
    let kind = match e.sqlite_error_code()? {
        ErrorCode::DiskFull => FaultKind::Full,
        ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen => {
            FaultKind::ReadOnly
        }
        ErrorCode::SystemIoFailure => FaultKind::Io,
        _ => return None,
    };
    Some(Fault {
        kind,
        file: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// A SQLite error met on `path`: a storage fault ([`StoreError::NotRecorded`]) when it is one.
pub(super) fn io_error(path: &Path, e: &rusqlite::Error) -> StoreError {
    match storage_fault(path, e) {
        Some(fault) => StoreError::NotRecorded(fault),
        None => StoreError::Database(e.to_string()),
    }
}

/// An error at start, in words that say what to do.
fn at_start(path: &Path, what: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::NotRecorded(fault) => {
            StoreError::Open(format!("cannot {what} {}: {fault}", path.display()))
        }
        other => other,
    }
}

/// Takes the writer lock for the database at `path`.
fn lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            StoreError::Open(format!(
                "cannot open {}: {e}; the data directory must be writable by the user running Armory",
                lock_path.display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&lock_path)
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .map(|pid| format!(" (pid {pid})"))
                .unwrap_or_default();
            return Err(StoreError::Locked {
                path: path.display().to_string(),
                holder,
            });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(StoreError::Open(format!(
                "cannot lock {}: {e}",
                lock_path.display()
            )));
        }
    }
    // Record who holds it, for the message a second writer gets.
    let _ = file.set_len(0);
    let _ = write!(file, "{}", std::process::id());
    let _ = file.flush();
    Ok(file)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| open_failed(path, &e))?;
    let version =
        usize::try_from(version).map_err(|_| not_armory(path, "negative schema version"))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Open(format!(
            "{} was written by a newer Armory (schema {version}); upgrade this program",
            path.display()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| io_error(path, &e))?;
        tx.execute_batch(sql).map_err(|e| io_error(path, &e))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(|e| io_error(path, &e))?;
        tx.commit().map_err(|e| io_error(path, &e))?;
    }
    Ok(())
}

/// Checks that the database at `path` is this log (origin and key) and of a schema this
/// program reads; returns whether it has sealed bundles (schema 4 on).
fn check_identity(
    conn: &Connection,
    path: &Path,
    verifier: &LogVerifier,
) -> Result<bool, StoreError> {
    let meta = |key: &str| -> Result<Option<String>, StoreError> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| open_failed(path, &e))
    };
    match (meta("origin")?, meta("public_key")?) {
        (Some(origin), Some(key)) => {
            if origin != verifier.name() || key.trim() != verifier.text() {
                return Err(StoreError::Open(format!(
                    "the key {} does not belong to this log ({origin}, key {key}); use the key `armory init` made for it",
                    verifier.text()
                )));
            }
        }
        _ => return Err(not_armory(path, "no origin or key recorded")),
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| open_failed(path, &e))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::Open(format!(
            "{} was written by a newer Armory (schema {version}); upgrade this program",
            path.display()
        )));
    }
    Ok(version >= 4)
}

/// The log at `path` against the checkpoint `kept` beside it (in `kept_path`): its latest
/// checkpoint must be at least as large, and its checkpoint of the kept size (`at_size`) the same.
fn compare_kept(
    path: &Path,
    kept_path: &Path,
    (kept, kept_note): (&Checkpoint, &[u8]),
    latest_note: &[u8],
    at_size: Option<&[u8]>,
    verifier: &LogVerifier,
) -> Result<(), StoreError> {
    let latest = Checkpoint::open(latest_note, verifier)
        .map_err(|e| StoreError::Damaged(format!("latest checkpoint: {e}")))?;
    if kept.size > latest.size {
        return Err(StoreError::RolledBack(format!(
            "{} holds {} entries, but this node signed a checkpoint of {} entries (root {}), kept in {}: \
             the log went back in time (a copy put back from a backup, or a lost or damaged -wal file), \
             and writing to it would fork the log. Put back the newest copy of {} with its -wal file; \
             `armory log` shows what this copy holds",
            path.display(),
            latest.size,
            kept.size,
            kept.root,
            kept_path.display(),
            path.display(),
        )));
    }
    let same = match at_size {
        Some(note) if note == kept_note => true,
        Some(note) => Checkpoint::open(note, verifier).is_ok_and(|c| c.root == kept.root),
        None => false,
    };
    if !same {
        return Err(StoreError::RolledBack(format!(
            "{} does not hold the checkpoint of {} entries (root {}) this node signed and kept in {}; \
             its latest is {} entries (root {}): the log was replaced or forked. \
             Put back the newest copy of {} with its -wal file",
            path.display(),
            kept.size,
            kept.root,
            kept_path.display(),
            latest.size,
            latest.root,
            path.display(),
        )));
    }
    Ok(())
}

/// Runs blocking work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Database(format!("a storage thread failed: {e}")))?
}

impl SqliteLog {
    /// Creates a new, empty log at `path` (which must not exist), signed by `signer`, with the
    /// checkpoint of the empty tree.
    pub async fn create(path: &Path, signer: &LogSigner) -> Result<(), StoreError> {
        let path = path.to_owned();
        let signer = signer.clone();
        blocking(move || Self::create_blocking(&path, &signer)).await
    }

    fn create_blocking(path: &Path, signer: &LogSigner) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Open(format!(
                "{} already exists; it holds a log",
                path.display()
            )));
        }
        let _lock = lock(path)?;
        let mut conn = writer::connect(path, Durability::Full, true)
            .map_err(|e| at_start(path, "create", io_error(path, &e)))?;
        migrate(&mut conn, path).map_err(|e| at_start(path, "create", e))?;
        let checkpoint = Checkpoint {
            origin: signer.name().to_owned(),
            size: 0,
            root: RightEdge::new().root(),
            extensions: vec![],
        };
        let note = checkpoint
            .sign(signer)
            .map_err(|e| StoreError::Sign(e.to_string()))?;
        let written = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (key, value) in [
                ("origin", signer.name()),
                ("public_key", signer.public_text()),
                ("format", &FORMAT_VERSION.to_string()),
            ] {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    (key, value),
                )?;
            }
            tx.execute(
                "INSERT INTO checkpoints (size, note) VALUES (0, ?1)",
                [&note],
            )?;
            tx.commit()
        })();
        written.map_err(|e| at_start(path, "create", io_error(path, &e)))?;
        conn.close()
            .map_err(|(_, e)| at_start(path, "create", io_error(path, &e)))?;
        Ok(())
    }

    /// Opens a log for reading only.
    pub async fn open_reader(path: &Path, verifier: LogVerifier) -> Result<SqliteLog, StoreError> {
        let sealed = Self::identify(path, &verifier).await?;
        Ok(SqliteLog {
            inner: Arc::new(Inner {
                origin: verifier.name().to_owned(),
                verifier,
                bulk: bulk::Bulk::new(path.to_owned(), sealed, Mapping::Mapped),
                writer: None,
                thread: std::sync::Mutex::new(None),
                health: Arc::default(),
                _lock: None,
            }),
        })
    }

    /// Checks the file is this log; whether it has sealed bundles.
    async fn identify(path: &Path, verifier: &LogVerifier) -> Result<bool, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Open(format!(
                "no log database at {}; run `armory init` first, or pass the right --data",
                path.display()
            )));
        }
        let path = path.to_owned();
        let verifier = verifier.clone();
        blocking(move || {
            let conn = bulk::connect_read_only(&path).map_err(|e| open_failed(&path, &e))?;
            check_identity(&conn, &path, &verifier)
        })
        .await
    }

    /// Opens a log for writing: takes the writer lock, upgrades the schema, checks that the
    /// stored tree matches the latest checkpoint and that the log has not gone back behind the
    /// checkpoint kept beside it, makes sure the file can be written, and starts the writer.
    pub async fn open_writer(
        path: &Path,
        signer: LogSigner,
        durability: Durability,
    ) -> Result<SqliteLog, StoreError> {
        let verifier = signer
            .verifier()
            .map_err(|e| StoreError::Open(e.to_string()))?;
        let lock = lock(path)?;
        Self::identify(path, &verifier).await?;
        let health: Arc<Health> = Arc::default();
        // Everything the writer does, opening included, happens on its own thread: one
        // connection, never shared, and one thread whose system calls are the log's writes.
        let (tx, rx) = std::sync::mpsc::channel();
        let (ready, opened) = oneshot::channel();
        let thread = {
            let path = path.to_owned();
            let health = health.clone();
            let verifier = verifier.clone();
            std::thread::Builder::new()
                .name("armory-log-writer".into())
                .spawn(move || {
                    match Self::start_writer(&path, signer, durability, &verifier, health) {
                        Ok(writer) => {
                            let _ = ready.send(Ok(()));
                            writer.run(rx);
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                })
                .map_err(|e| StoreError::Open(format!("cannot start the log's writer: {e}")))?
        };
        let started = opened.await.unwrap_or_else(|_| {
            Err(StoreError::Open(
                "the log's writer stopped while opening".into(),
            ))
        });
        if let Err(e) = started {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            return Err(e);
        }
        Ok(SqliteLog {
            inner: Arc::new(Inner {
                origin: verifier.name().to_owned(),
                verifier,
                // The writer upgraded the schema: the file has sealed bundles.
                bulk: bulk::Bulk::new(path.to_owned(), true, Mapping::Read),
                writer: Some(tx),
                thread: std::sync::Mutex::new(Some(thread)),
                health,
                _lock: Some(lock),
            }),
        })
    }

    /// The blocking part of [`SqliteLog::open_writer`].
    fn start_writer(
        path: &Path,
        signer: LogSigner,
        durability: Durability,
        verifier: &LogVerifier,
        health: Arc<Health>,
    ) -> Result<Writer, StoreError> {
        {
            let mut conn = writer::connect(path, durability, false)
                .map_err(|e| at_start(path, "open", io_error(path, &e)))?;
            if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
                return Err(StoreError::Open(format!(
                    "{} is read-only for this user; make it (and its directory, and any -wal and -shm files beside it) writable by the user running Armory",
                    path.display()
                )));
            }
            migrate(&mut conn, path)?;
        }
        let mut writer = Writer::open(path, durability, signer, health.clone())
            .map_err(|e| at_start(path, "open", e))?;
        // The log must not be behind (or beside) what this node signed before.
        let kept_path = kept::path_for(path);
        let kept = kept::read(&kept_path, verifier)
            .map_err(|e| StoreError::Open(format!("cannot read {}: {e}", kept_path.display())))?;
        let newest_slot = match kept {
            Some((kept, kept_note, slot)) => {
                Self::check_kept(&writer, path, &kept_path, &kept, &kept_note, verifier)?;
                Some(slot)
            }
            None => {
                // The database remembers that a checkpoint was kept beside it: its absence now
                // means it was lost or removed, and a log put back from a backup would pass.
                let kept_before: Option<String> = writer
                    .conn()?
                    .query_row(
                        "SELECT value FROM meta WHERE key = 'kept_checkpoint'",
                        [],
                        |r| r.get(0),
                    )
                    .ok();
                if kept_before.is_some() {
                    tracing::error!(
                        "{} is missing or unreadable although this log kept its latest checkpoint there: \
                         this start cannot tell whether {} was put back from an older copy. \
                         Compare `armory log` with a checkpoint kept elsewhere (a witness, an export). A new one is written now",
                        kept_path.display(),
                        path.display()
                    );
                }
                None
            }
        };
        writer
            .conn()?
            .execute(
                "INSERT INTO meta (key, value) VALUES ('kept_checkpoint', 'armory.db.checkpoint') \
                 ON CONFLICT (key) DO NOTHING",
                [],
            )
            .map_err(|e| at_start(path, "write", io_error(path, &e)))?;
        // A start on a full or read-only disk fails here, with words, not at the first act.
        writer
            .probe()
            .map_err(|e| at_start(path, "write", io_error(path, &e)))?;
        let keeper = kept::Keeper::start(&kept_path, newest_slot, health)
            .map_err(|f| StoreError::Open(format!("cannot keep the latest checkpoint: {f}")))?;
        writer.set_keeper(keeper);
        Ok(writer)
    }

    /// Refuses a log that is shorter than the checkpoint kept beside it, or that holds another
    /// checkpoint of the same size: it went back in time (a backup put back, a lost WAL), and
    /// writing to it would sign a second checkpoint for a size already signed.
    fn check_kept(
        writer: &Writer,
        path: &Path,
        kept_path: &Path,
        kept: &Checkpoint,
        kept_note: &[u8],
        verifier: &LogVerifier,
    ) -> Result<(), StoreError> {
        let at_size = bulk::checkpoint_at(writer.conn()?, kept.size)?;
        compare_kept(
            path,
            kept_path,
            (kept, kept_note),
            writer.note(),
            at_size.as_deref(),
            verifier,
        )
    }

    /// The checkpoint kept beside this log's database (`armory.db.checkpoint`), with its note.
    pub fn kept_checkpoint(&self) -> Result<Option<(Checkpoint, Vec<u8>)>, StoreError> {
        let kept_path = kept::path_for(self.inner.bulk.path());
        let kept = kept::read(&kept_path, &self.inner.verifier)
            .map_err(|e| StoreError::Open(format!("cannot read {}: {e}", kept_path.display())))?;
        Ok(kept.map(|(checkpoint, note, _)| (checkpoint, note)))
    }

    /// For a reader (`armory verify`): the same comparison as at a writer's start, of this log
    /// against the checkpoint kept beside it. `Ok(None)` when no checkpoint is kept there.
    pub async fn check_kept_checkpoint(&self) -> Result<Option<u64>, StoreError> {
        let Some((kept, kept_note)) = self.kept_checkpoint()? else {
            return Ok(None);
        };
        let path = self.inner.bulk.path();
        let kept_path = kept::path_for(path);
        let latest = self.latest_checkpoint().await?;
        let at_size = self
            .checkpoints(kept.size..kept.size + 1)
            .await?
            .into_iter()
            .next()
            .map(|(_, note)| note);
        compare_kept(
            path,
            &kept_path,
            (&kept, &kept_note),
            &latest,
            at_size.as_deref(),
            &self.inner.verifier,
        )?;
        Ok(Some(kept.size))
    }

    /// Stops accepting appends, lets the writer finish what was queued before, and closes the
    /// database; every clone of this log is then read-only. Appends already acknowledged are
    /// durable whether or not this runs.
    pub async fn close(self) {
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(writer) = &self.inner.writer {
            let _ = writer.send(Request::Shutdown);
        }
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// Whether storage is working (the writer's view), and how many storage errors there were.
    pub fn health(&self) -> &Health {
        &self.inner.health
    }
}

/// Entries per sealed bundle: one C2SP entry bundle (a full tile's width).
pub const BUNDLE: u64 = TILE_WIDTH;

/// The ids of the stored hashes that bundle `n`'s entries create (its hash pack).
fn pack_ids(n: u64) -> Range<u64> {
    stored_hash_count(n * BUNDLE)..stored_hash_count((n + 1) * BUNDLE)
}

/// The bundle whose hash pack holds stored hash `id`.
fn pack_of(id: u64) -> u64 {
    // pack_ids(n).start grows with n: the last n whose pack starts at or before `id`.
    let (mut lo, mut hi) = (0u64, id / (2 * BUNDLE - 1) + 1);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if pack_ids(mid).start <= id {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// One sealed bundle's two rows.
struct Seal {
    n: i64,
    bundle: Vec<u8>,
    first: i64,
    hashes: Vec<u8>,
}

impl Seal {
    /// The seals of every full bundle in `entries`, the entries from bundle `first` on, with
    /// `hashes` the stored hashes they create (ids from `stored_hash_count(first * BUNDLE)`).
    fn all(first: u64, entries: &[&[u8]], hashes: &[[u8; 32]]) -> Result<Vec<Seal>, StoreError> {
        let hash_base = stored_hash_count(first * BUNDLE);
        let mut seals = Vec::new();
        for (k, bundle) in entries.chunks_exact(BUNDLE as usize).enumerate() {
            let n = first + k as u64;
            let ids = pack_ids(n);
            let pack = hashes
                .get((ids.start - hash_base) as usize..(ids.end - hash_base) as usize)
                .ok_or_else(|| StoreError::Damaged("the tail's stored hashes are short".into()))?;
            seals.push(Seal {
                n: to_i64(n)?,
                bundle: encode_bundle(bundle.iter().copied())
                    .map_err(|e| StoreError::Damaged(e.to_string()))?,
                first: to_i64(ids.start)?,
                hashes: pack.concat(),
            });
        }
        Ok(seals)
    }

    /// Inserts `seals` and deletes the rows they replace, `rows` (the entries stored as rows
    /// that they now hold, with those entries' hashes); the delete triggers allow that once the
    /// bundle is there.
    fn write(conn: &Connection, seals: &[Seal], rows: Range<u64>) -> Result<(), rusqlite::Error> {
        let mut bundle = conn.prepare_cached("INSERT INTO bundles (n, data) VALUES (?1, ?2)")?;
        let mut pack =
            conn.prepare_cached("INSERT INTO hash_packs (first, data) VALUES (?1, ?2)")?;
        for s in seals {
            bundle.execute((s.n, &s.bundle))?;
            pack.execute((s.first, &s.hashes))?;
        }
        let int = |n: u64| {
            i64::try_from(n).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
        };
        conn.prepare_cached("DELETE FROM entries WHERE idx >= ?1 AND idx < ?2")?
            .execute((int(rows.start)?, int(rows.end)?))?;
        conn.prepare_cached("DELETE FROM hashes WHERE id >= ?1 AND id < ?2")?
            .execute((
                int(stored_hash_count(rows.start))?,
                int(stored_hash_count(rows.end))?,
            ))?;
        Ok(())
    }
}

/// Adds the entries of sealed bundle `n` that fall in `range` to `out`. The bundle holds exactly
/// the indexes `256n..256n+256`, each entry after its two-byte length. A damaged bundle still
/// gives each index the bytes found at its place (a length that runs past the end takes the rest;
/// bytes left after the last entry are part of it), so a check names the first entry that is
/// wrong; indexes past where the bytes end are absent.
fn split_bundle(n: u64, data: &[u8], range: &Range<u64>, out: &mut Rows) {
    let mut rest = data;
    for index in n * BUNDLE..(n + 1) * BUNDLE {
        let [hi, lo, after @ ..] = rest else { break };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let last = index + 1 == (n + 1) * BUNDLE;
        let (entry, next) = if last && len != after.len() {
            // The last entry's length must match what is left: a damaged prefix (or bytes cut
            // or added at the end) makes the entry unreadable, never silently whole.
            (&[][..], &[][..])
        } else if last || len > after.len() {
            (after, &[][..])
        } else {
            after.split_at(len)
        };
        if range.contains(&index) {
            out.push(index, entry);
        }
        rest = next;
    }
}

/// Adds the part of the pack starting at id `first` that falls in `range` to `out`, as one run
/// (a damaged pack as it is: its short last piece is found wrong).
fn pack_run(first: u64, data: &[u8], range: &Range<u64>, out: &mut Rows) {
    let from = range.start.max(first);
    let skip = usize::try_from((from - first).saturating_mul(32)).unwrap_or(usize::MAX);
    let take = usize::try_from((range.end - from).saturating_mul(32)).unwrap_or(usize::MAX);
    if let Some(run) = data.get(skip..)
        && !run.is_empty()
    {
        out.push(from, &run[..run.len().min(take)]);
    }
}

/// `sealed` (from bundles or packs) and `rows` (from one row each), both in key order, as one
/// in key order. Rows normally come after everything sealed, so this is usually an append.
fn merge(mut sealed: Rows, rows: Vec<(u64, Vec<u8>)>) -> Rows {
    let after = match (sealed.key(sealed.len().wrapping_sub(1)), rows.first()) {
        (Some(last), Some((first, _))) => *first > last,
        _ => true,
    };
    if after {
        for (k, v) in &rows {
            sealed.push(*k, v);
        }
        return sealed;
    }
    let mut out = Rows::default();
    let mut rows = rows.into_iter().peekable();
    for (key, value) in sealed.iter() {
        while let Some((k, v)) = rows.next_if(|(k, _)| *k < key) {
            out.push(k, &v);
        }
        out.push(key, value);
    }
    for (k, v) in rows {
        out.push(k, &v);
    }
    sealed.clear();
    out
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Database(format!("{n} is out of range")))
}

impl Store for SqliteLog {
    fn origin(&self) -> &str {
        &self.inner.origin
    }

    fn verifier(&self) -> &LogVerifier {
        &self.inner.verifier
    }

    async fn submit(&self, batch: Batch) -> Result<Pending, StoreError> {
        let writer = self.inner.writer.as_ref().ok_or(StoreError::ReadOnly)?;
        let (reply, answer) = oneshot::channel();
        writer
            .send(Request::Append(Append {
                drafts: batch.drafts,
                rows: batch.rows,
                idempotency: batch.idempotency,
                expect_index: batch.expect_index,
                reply,
            }))
            .map_err(|_| StoreError::ReadOnly)?;
        Ok(Pending(answer))
    }

    async fn reset_projection(&self, rows: Vec<RowWrite>) -> Result<(), StoreError> {
        let writer = self.inner.writer.as_ref().ok_or(StoreError::ReadOnly)?;
        let (reply, answer) = oneshot::channel();
        writer
            .send(Request::ResetProjection { rows, reply })
            .map_err(|_| StoreError::ReadOnly)?;
        answer.await.map_err(|_| StoreError::ReadOnly)?
    }

    async fn idempotent(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.inner
            .bulk
            .run(move |conn, _| bulk::idempotent(conn, &key))
            .await
    }

    async fn projection(&self) -> Result<Vec<projection::Row>, StoreError> {
        self.inner.bulk.run(|conn, _| bulk::projection(conn)).await
    }

    async fn latest_checkpoint(&self) -> Result<Vec<u8>, StoreError> {
        self.inner
            .bulk
            .run(|conn, _| bulk::latest_checkpoint(conn))
            .await
    }

    async fn read_entries(&self, range: Range<u64>, into: Rows) -> Result<Rows, StoreError> {
        self.inner
            .bulk
            .run(move |conn, sealed| bulk::read_entries(conn, sealed, range, into))
            .await
    }

    async fn read_hashes(&self, range: Range<u64>, into: Rows) -> Result<Rows, StoreError> {
        self.inner
            .bulk
            .run(move |conn, sealed| bulk::read_hashes(conn, sealed, range, into))
            .await
    }

    async fn entries_at(&self, indexes: &[u64]) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let indexes = indexes.to_vec();
        self.inner
            .bulk
            .run(move |conn, sealed| bulk::entries_at(conn, sealed, &indexes))
            .await
    }

    async fn hashes(&self, ids: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let ids = ids.to_vec();
        self.inner
            .bulk
            .run(move |conn, sealed| bulk::hashes(conn, sealed, &ids))
            .await
    }

    async fn checkpoints(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let (a, b) = (to_i64(range.start)?, to_i64(range.end)?);
        self.inner
            .bulk
            .run(move |conn, _| {
                bulk::rows(
                    conn,
                    "SELECT size, note FROM checkpoints WHERE size >= ?1 AND size < ?2 ORDER BY size",
                    a,
                    b,
                )
            })
            .await
    }

    async fn extent(&self) -> Result<Extent, StoreError> {
        self.inner.bulk.run(bulk::extent).await
    }
}
