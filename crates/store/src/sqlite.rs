//! The embedded store: one SQLite file in WAL mode, written by one sequencer task.
//!
//! Writing: every append goes through a channel to the sequencer, which owns the only write
//! connection. It takes everything waiting (up to [`MAX_BATCH_ENTRIES`]), writes all of it in one
//! transaction (entries, stored hashes, and one checkpoint signed over the new tree), commits (one
//! fsync with `synchronous=FULL`) and only then answers each caller with its own indexes. The
//! in-memory right edge of the tree is replaced only after the commit succeeds, so a failed commit
//! leaves memory and disk as they were.
//!
//! Every 256 entries are sealed into one bundle row and one hash-pack row (schema 4, see
//! `migrations/sqlite/0004_bundles.sql`) by the commit that completes them; the sequencer keeps
//! the entries and hashes since the last seal in memory for that. Entries and stored hashes are
//! read through rusqlite (`sqlite/bulk.rs`); everything else through the sqlx pool.
//!
//! One process writes a log: a lock file beside the database is held for the writer's lifetime.
//! Readers need no lock: WAL lets them read while the writer writes.

mod bulk;
use bulk::Mapping;

use crate::projection::{self, RowWrite};
use crate::{Appended, Batch, Draft, Extent, Pending, Rows, Store, StoreError};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::entry::{Entry, FORMAT_VERSION};
use armory_ledger::keys::{LogSigner, LogVerifier};
use armory_ledger::merkle::{Hash, RightEdge, leaf_hash, stored_hash_count};
use armory_ledger::tiles::{TILE_WIDTH, encode_bundle};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The most entries one group commit takes.
pub const MAX_BATCH_ENTRIES: usize = 4096;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_log.sql"),
    include_str!("../migrations/sqlite/0002_projection.sql"),
    include_str!("../migrations/sqlite/0003_idempotency.sql"),
    include_str!("../migrations/sqlite/0004_bundles.sql"),
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

enum Request {
    Append(Append),
    /// Finish what is queued before this, close the database and stop.
    Shutdown,
    /// Replace every projection row (after a rebuild from the log).
    ResetProjection {
        rows: Vec<RowWrite>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

struct Append {
    drafts: Vec<Draft>,
    rows: Vec<RowWrite>,
    idempotency: Option<(String, String)>,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

struct Inner {
    origin: String,
    verifier: LogVerifier,
    pool: SqlitePool,
    /// Where entries and stored hashes are read (see [`bulk`]), and whether the file has sealed
    /// bundles (schema 4 on; a log of schema 3, read without being upgraded, keeps every entry and
    /// hash as a row).
    bulk: Arc<bulk::Bulk>,
    writer: Option<mpsc::Sender<Request>>,
    sequencer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
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

fn options(path: &Path, durability: Durability) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        })
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
}

fn not_armory(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open(format!(
        "{} is not an Armory log database ({e}); point --data at the directory `armory init` made",
        path.display()
    ))
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
        .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", lock_path.display())))?;
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

async fn migrate(conn: &mut SqliteConnection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| not_armory(path, e))?;
    let version =
        usize::try_from(version).map_err(|_| not_armory(path, "negative schema version"))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Open(format!(
            "{} was written by a newer Armory (schema {version}); upgrade this program",
            path.display()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {}", i + 1))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn meta(pool: &SqlitePool, key: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Database(format!("{n} is out of range")))
}

impl SqliteLog {
    /// Creates a new, empty log at `path` (which must not exist), signed by `signer`, with the
    /// checkpoint of the empty tree.
    pub async fn create(path: &Path, signer: &LogSigner) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Open(format!(
                "{} already exists; it holds a log",
                path.display()
            )));
        }
        let _lock = lock(path)?;
        let mut conn = SqliteConnection::connect_with(
            &options(path, Durability::Full).create_if_missing(true),
        )
        .await?;
        migrate(&mut conn, path).await?;
        let checkpoint = Checkpoint {
            origin: signer.name().to_owned(),
            size: 0,
            root: RightEdge::new().root(),
            extensions: vec![],
        };
        let note = checkpoint
            .sign(signer)
            .map_err(|e| StoreError::Sign(e.to_string()))?;
        let mut tx = conn.begin().await?;
        for (key, value) in [
            ("origin", signer.name()),
            ("public_key", signer.public_text()),
            ("format", &FORMAT_VERSION.to_string()),
        ] {
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO checkpoints (size, note) VALUES (0, ?)")
            .bind(&note)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        conn.close().await?;
        Ok(())
    }

    async fn open_pool(
        path: &Path,
        verifier: &LogVerifier,
    ) -> Result<(SqlitePool, bool), StoreError> {
        if !path.is_file() {
            return Err(StoreError::Open(format!(
                "no log database at {}; run `armory init` first, or pass the right --data",
                path.display()
            )));
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options(path, Durability::Full).read_only(true))
            .await
            .map_err(|e| not_armory(path, e))?;
        let origin = meta(&pool, "origin")
            .await
            .map_err(|e| not_armory(path, e))?;
        let key = meta(&pool, "public_key").await?;
        match (origin, key) {
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
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(|e| not_armory(path, e))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::Open(format!(
                "{} was written by a newer Armory (schema {version}); upgrade this program",
                path.display()
            )));
        }
        Ok((pool, version >= 4))
    }

    /// Opens a log for reading only.
    pub async fn open_reader(path: &Path, verifier: LogVerifier) -> Result<SqliteLog, StoreError> {
        let (pool, sealed) = Self::open_pool(path, &verifier).await?;
        Ok(SqliteLog {
            inner: Arc::new(Inner {
                origin: verifier.name().to_owned(),
                verifier,
                pool,
                bulk: bulk::Bulk::new(path.to_owned(), sealed, Mapping::Mapped),
                writer: None,
                sequencer: tokio::sync::Mutex::new(None),
                _lock: None,
            }),
        })
    }

    /// Opens a log for writing: takes the writer lock, checks that the stored tree matches the
    /// latest checkpoint, and starts the sequencer.
    pub async fn open_writer(
        path: &Path,
        signer: LogSigner,
        durability: Durability,
    ) -> Result<SqliteLog, StoreError> {
        let verifier = signer
            .verifier()
            .map_err(|e| StoreError::Open(e.to_string()))?;
        let lock = lock(path)?;
        let mut conn = SqliteConnection::connect_with(&options(path, durability))
            .await
            .map_err(|e| not_armory(path, e))?;
        migrate(&mut conn, path).await?;
        let (pool, sealed) = Self::open_pool(path, &verifier).await?;
        let log = SqliteLog {
            inner: Arc::new(Inner {
                origin: verifier.name().to_owned(),
                verifier,
                pool,
                bulk: bulk::Bulk::new(path.to_owned(), sealed, Mapping::Read),
                writer: None,
                sequencer: tokio::sync::Mutex::new(None),
                _lock: None,
            }),
        };
        // The tree's right edge, checked against the latest checkpoint before anything is added.
        let extent = log.extent().await?;
        let size = extent.entries_end;
        let ids = RightEdge::ids_for_size(size);
        let hashes = log.hashes(&ids).await?;
        let edge = RightEdge::from_hashes(size, &hashes)
            .ok_or_else(|| StoreError::Damaged("the tree's edge cannot be rebuilt".into()))?;
        let note = log.latest_checkpoint().await?;
        let checkpoint = Checkpoint::open(&note, &log.inner.verifier)
            .map_err(|e| StoreError::Damaged(format!("latest checkpoint: {e}")))?;
        if checkpoint.size != size || checkpoint.root != edge.root() {
            return Err(StoreError::Damaged(format!(
                "the latest checkpoint (size {}) does not match the stored tree (size {size}); refusing to write",
                checkpoint.size
            )));
        }
        let (tx, rx) = mpsc::channel(1024);
        let mut sequencer = Sequencer {
            conn,
            signer,
            edge,
            origin: log.inner.origin.clone(),
            sealed: 0,
            tail: Vec::new(),
            tail_hashes: Vec::new(),
        };
        sequencer.load_tail().await?;
        let handle = tokio::spawn(sequencer.run(rx));
        let inner = Inner {
            origin: log.inner.origin.clone(),
            verifier: log.inner.verifier.clone(),
            pool: log.inner.pool.clone(),
            bulk: log.inner.bulk.clone(),
            writer: Some(tx),
            sequencer: tokio::sync::Mutex::new(Some(handle)),
            _lock: Some(lock),
        };
        Ok(SqliteLog {
            inner: Arc::new(inner),
        })
    }

    /// Stops accepting appends, lets the sequencer finish what was queued before, and closes the
    /// database; every clone of this log is then read-only. Appends already acknowledged are
    /// durable whether or not this runs.
    pub async fn close(self) {
        let handle = self.inner.sequencer.lock().await.take();
        if let Some(writer) = &self.inner.writer {
            let _ = writer.send(Request::Shutdown).await;
        }
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }
}

/// The single writer.
struct Sequencer {
    conn: SqliteConnection,
    signer: LogSigner,
    edge: RightEdge,
    origin: String,
    /// Bundles sealed: every entry below `sealed * BUNDLE` is in `bundles`.
    sealed: u64,
    /// The entries after the last sealed bundle (rows of `entries`), in index order.
    tail: Vec<Vec<u8>>,
    /// Their stored hashes (rows of `hashes`), ids from `stored_hash_count(sealed * BUNDLE)`.
    tail_hashes: Vec<[u8; 32]>,
}

/// One request's entries, encoded, with the index of the first.
struct Accepted {
    request: Append,
    first: u64,
    entries: Vec<Vec<u8>>,
}

impl Sequencer {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut held: Option<Request> = None;
        loop {
            let first = match held.take() {
                Some(r) => r,
                None => match rx.recv().await {
                    Some(r) => r,
                    None => break,
                },
            };
            let first = match first {
                Request::Shutdown => break,
                Request::ResetProjection { rows, reply } => {
                    let _ = reply.send(self.reset_projection(&rows).await);
                    continue;
                }
                Request::Append(a) => a,
            };
            let mut entries = first.drafts.len();
            let mut batch = vec![first];
            while entries < MAX_BATCH_ENTRIES {
                match rx.try_recv() {
                    Ok(Request::Append(next)) => {
                        entries += next.drafts.len();
                        batch.push(next);
                    }
                    Ok(other) => {
                        held = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.commit(batch).await;
        }
        let _ = self.conn.close().await;
    }

    /// Finds the last sealed bundle and loads the rows after it. Full bundles' worth of rows (a
    /// log written before bundles existed, schema 3) are sealed first, 64 bundles a transaction.
    async fn load_tail(&mut self) -> Result<(), StoreError> {
        let last: Option<i64> = sqlx::query_scalar("SELECT max(n) FROM bundles")
            .fetch_one(&mut self.conn)
            .await?;
        self.sealed = last.map_or(0, |n| u64::try_from(n).map_or(0, |n| n + 1));
        let size = self.edge.size();
        loop {
            let base = self.sealed * BUNDLE;
            if size < base {
                return Err(StoreError::Damaged(format!(
                    "sealed bundles reach entry {base} but the log has {size} entries; refusing to write"
                )));
            }
            let end = size.min(base + 64 * BUNDLE);
            let (a, b) = range_i64(&(base..end))?;
            let rows = rows_u64_blob(
                sqlx::query(
                    "SELECT idx, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                )
                .bind(a)
                .bind(b)
                .fetch_all(&mut self.conn)
                .await?,
            )?;
            let ids = stored_hash_count(base)..stored_hash_count(end);
            let (ha, hb) = range_i64(&ids)?;
            let hash_rows = rows_u64_blob(
                sqlx::query("SELECT id, hash FROM hashes WHERE id >= ? AND id < ? ORDER BY id")
                    .bind(ha)
                    .bind(hb)
                    .fetch_all(&mut self.conn)
                    .await?,
            )?;
            let damaged = |what: &str| {
                StoreError::Damaged(format!(
                    "the {what} after sealed bundle {} are not the log's {} entries up to {end}; refusing to write",
                    self.sealed,
                    end - base
                ))
            };
            if rows.len() as u64 != end - base || rows.iter().zip(base..).any(|((i, _), w)| *i != w)
            {
                return Err(damaged("entries"));
            }
            let hashes: Vec<[u8; 32]> = hash_rows
                .iter()
                .zip(ids.clone())
                .map(|((id, h), want)| {
                    (*id == want)
                        .then(|| <[u8; 32]>::try_from(h.as_slice()).ok())
                        .flatten()
                })
                .collect::<Option<_>>()
                .ok_or_else(|| damaged("stored hashes"))?;
            if hashes.len() as u64 != ids.end - ids.start {
                return Err(damaged("stored hashes"));
            }
            let full = (end - base) / BUNDLE;
            if full == 0 {
                self.tail = rows.into_iter().map(|(_, d)| d).collect();
                self.tail_hashes = hashes;
                return Ok(());
            }
            let entries: Vec<&[u8]> = rows.iter().map(|(_, d)| d.as_slice()).collect();
            let seals = Seal::all(self.sealed, &entries, &hashes)?;
            let sql = Seal::statements(seals.len());
            let query = Seal::bind(sqlx::query(&sql), &seals, base..base + full * BUNDLE)?;
            let mut tx = self.conn.begin().await?;
            query.execute(&mut *tx).await?;
            tx.commit().await?;
            tracing::info!(
                "sealed entries {base}..{} into bundles",
                base + full * BUNDLE
            );
            self.sealed += full;
        }
    }

    async fn reset_projection(&mut self, rows: &[RowWrite]) -> Result<(), StoreError> {
        let mut tx = self.conn.begin().await?;
        sqlx::query("DELETE FROM projection")
            .execute(&mut *tx)
            .await?;
        write_rows(&mut tx, rows.iter()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Encodes each request's entries (a request whose entries cannot be encoded is refused on its
    /// own), writes the rest in one transaction, and answers everyone.
    async fn commit(&mut self, batch: Vec<Append>) {
        let mut edge = self.edge.clone();
        // Every stored hash the new entries create, ids from `stored_hash_count(old size)`.
        let mut hashes: Vec<[u8; 32]> = Vec::new();
        let mut accepted: Vec<Accepted> = Vec::new();
        for request in batch {
            let first = edge.size();
            let encoded: Result<Vec<Vec<u8>>, StoreError> = request
                .drafts
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    Entry {
                        v: FORMAT_VERSION,
                        origin: self.origin.clone(),
                        index: first + i as u64,
                        time: d.time.clone(),
                        event: d.event.clone(),
                        actors: d.actors.clone(),
                    }
                    .encode()
                    .map_err(StoreError::from)
                })
                .collect();
            match encoded {
                Ok(entries) if !entries.is_empty() => {
                    for bytes in &entries {
                        edge.push_each(leaf_hash(bytes), |h| hashes.push(h.0));
                    }
                    accepted.push(Accepted {
                        request,
                        first,
                        entries,
                    });
                }
                Ok(_) => {
                    let _ = request
                        .reply
                        .send(Err(StoreError::Open("nothing to append".into())));
                }
                Err(e) => {
                    let _ = request.reply.send(Err(e));
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        match self.write(&accepted, &hashes, &edge).await {
            Ok((note, sealed)) => {
                // Only now, with the commit durable, does memory follow the disk.
                self.edge = edge;
                self.tail
                    .extend(accepted.iter().flat_map(|a| a.entries.iter().cloned()));
                self.tail_hashes.extend_from_slice(&hashes);
                let base = self.sealed * BUNDLE;
                let end = base + sealed * BUNDLE;
                self.tail.drain(..(end - base) as usize);
                self.tail_hashes
                    .drain(..(stored_hash_count(end) - stored_hash_count(base)) as usize);
                self.sealed += sealed;
                let size = self.edge.size();
                for a in accepted {
                    let _ = a.request.reply.send(Ok(Appended {
                        first_index: a.first,
                        count: a.entries.len() as u64,
                        checkpoint: note.clone(),
                        size,
                    }));
                }
            }
            Err(e) => {
                tracing::error!("append failed, nothing written: {e}");
                let message = e.to_string();
                for a in accepted {
                    let _ = a
                        .request
                        .reply
                        .send(Err(StoreError::Database(message.clone())));
                }
            }
        }
    }

    /// Writes the accepted entries (`hashes`: the stored hashes they create), their projection
    /// rows and idempotency keys, and a checkpoint signed over `edge`, in one transaction. Every
    /// bundle they complete is sealed in it too: the bundle and its hash pack are inserted and
    /// the rows of its earlier entries deleted; only what follows the last full bundle is written
    /// as rows. Returns the checkpoint and how many bundles it sealed.
    async fn write(
        &mut self,
        accepted: &[Accepted],
        hashes: &[[u8; 32]],
        edge: &RightEdge,
    ) -> Result<(Vec<u8>, u64), StoreError> {
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: edge.size(),
            root: edge.root(),
            extensions: vec![],
        };
        let note = checkpoint
            .sign(&self.signer)
            .map_err(|e| StoreError::Sign(e.to_string()))?;
        let old_size = self.edge.size();
        let base = self.sealed * BUNDLE;
        let full = (edge.size() - base) / BUNDLE;
        let sealed_end = base + full * BUNDLE;
        let mut seals = Vec::new();
        if full > 0 {
            let entries: Vec<&[u8]> = self
                .tail
                .iter()
                .chain(accepted.iter().flat_map(|a| a.entries.iter()))
                .map(Vec::as_slice)
                .collect();
            let all_hashes: Vec<[u8; 32]> = [&self.tail_hashes[..], hashes].concat();
            seals = Seal::all(self.sealed, &entries, &all_hashes)?;
        }
        // The new entries and hashes that stay rows: those after the last sealed bundle.
        let mut entry_rows: Vec<(i64, &[u8])> = Vec::new();
        for a in accepted {
            for (i, bytes) in a.entries.iter().enumerate() {
                let index = a.first + i as u64;
                if index >= sealed_end {
                    entry_rows.push((to_i64(index)?, bytes));
                }
            }
        }
        let first_new_hash = stored_hash_count(old_size);
        let keep_hashes_from = stored_hash_count(sealed_end);
        let mut hash_rows: Vec<(i64, &[u8; 32])> = Vec::new();
        for (k, hash) in hashes.iter().enumerate() {
            let id = first_new_hash + k as u64;
            if id >= keep_hashes_from {
                hash_rows.push((to_i64(id)?, hash));
            }
        }
        let mut tx = self.conn.begin().await?;
        write_rows(&mut tx, accepted.iter().flat_map(|a| a.request.rows.iter())).await?;
        for (key, outcome) in accepted
            .iter()
            .filter_map(|a| a.request.idempotency.as_ref())
        {
            sqlx::query("INSERT INTO idempotency (key, outcome) VALUES (?, ?)")
                .bind(key)
                .bind(outcome)
                .execute(&mut *tx)
                .await?;
        }
        // The entries, their stored hashes, the seals and the checkpoint as one query of several
        // statements: each query is a round trip to SQLite's worker thread, and with one writer
        // these round trips, not SQLite, were most of what an append cost besides its fsync.
        let mut sql = String::new();
        if !seals.is_empty() {
            sql.push_str(&Seal::statements(seals.len()));
        }
        for chunk in entry_rows.chunks(ROWS_PER_STATEMENT) {
            sql.push_str(&format!(
                "INSERT INTO entries (idx, data) VALUES {};",
                placeholders(chunk.len(), "(?, ?)")
            ));
        }
        for chunk in hash_rows.chunks(ROWS_PER_STATEMENT) {
            sql.push_str(&format!(
                "INSERT INTO hashes (id, hash) VALUES {};",
                placeholders(chunk.len(), "(?, ?)")
            ));
        }
        sql.push_str("INSERT INTO checkpoints (size, note) VALUES (?, ?)");
        let mut query = sqlx::query(&sql);
        if !seals.is_empty() {
            query = Seal::bind(query, &seals, base..old_size.min(sealed_end))?;
        }
        for (key, blob) in &entry_rows {
            query = query.bind(*key).bind(*blob);
        }
        for (key, hash) in &hash_rows {
            query = query.bind(*key).bind(&hash[..]);
        }
        query
            .bind(to_i64(checkpoint.size)?)
            .bind(&note)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((note, full))
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

    /// The statements inserting `count` seals and deleting the rows they replace (the delete
    /// triggers allow that once the bundle is there), for [`Seal::bind`].
    fn statements(count: usize) -> String {
        format!(
            "INSERT INTO bundles (n, data) VALUES {};INSERT INTO hash_packs (first, data) VALUES {};\
             DELETE FROM entries WHERE idx >= ? AND idx < ?;DELETE FROM hashes WHERE id >= ? AND id < ?;",
            placeholders(count, "(?, ?)"),
            placeholders(count, "(?, ?)")
        )
    }

    /// Binds [`Seal::statements`]: the seals, and `rows`, the entries stored as rows that they
    /// now hold (with those entries' hashes).
    fn bind<'q>(
        mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        seals: &'q [Seal],
        rows: Range<u64>,
    ) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>, StoreError>
    {
        for s in seals {
            query = query.bind(s.n).bind(&s.bundle[..]);
        }
        for s in seals {
            query = query.bind(s.first).bind(&s.hashes[..]);
        }
        let (a, b) = range_i64(&rows)?;
        let hashes = stored_hash_count(rows.start)..stored_hash_count(rows.end);
        let (ha, hb) = range_i64(&hashes)?;
        Ok(query.bind(a).bind(b).bind(ha).bind(hb))
    }
}

/// Writes projection rows: a later write to the same row wins, and everything is written with as
/// few statements as possible (one upsert and one delete per 200 rows).
async fn write_rows<'a>(
    conn: &mut SqliteConnection,
    rows: impl Iterator<Item = &'a RowWrite>,
) -> Result<(), StoreError> {
    let mut last: std::collections::BTreeMap<(&str, &str), Option<&str>> = Default::default();
    for row in rows {
        last.insert((row.collection, row.key.as_str()), row.value.as_deref());
    }
    let upserts: Vec<(&str, &str, &str)> = last
        .iter()
        .filter_map(|((c, k), v)| v.map(|v| (*c, *k, v)))
        .collect();
    let deletes: Vec<(&str, &str)> = last
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    for chunk in upserts.chunks(200) {
        let sql = format!(
            "INSERT INTO projection (collection, key, value) VALUES {} \
             ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value",
            placeholders(chunk.len(), "(?, ?, ?)")
        );
        let query = chunk.iter().fold(sqlx::query(&sql), |q, (c, k, v)| {
            q.bind(*c).bind(*k).bind(*v)
        });
        query.execute(&mut *conn).await?;
    }
    for chunk in deletes.chunks(200) {
        let sql = format!(
            "DELETE FROM projection WHERE (collection, key) IN (VALUES {})",
            placeholders(chunk.len(), "(?, ?)")
        );
        let query = chunk
            .iter()
            .fold(sqlx::query(&sql), |q, (c, k)| q.bind(*c).bind(*k));
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `n` copies of `one`, comma-separated: the VALUES list of a multi-row statement.
fn placeholders(n: usize, one: &str) -> String {
    vec![one; n].join(",")
}

/// Rows of one multi-row INSERT (two bound values each, well under SQLite's variable limit).
const ROWS_PER_STATEMENT: usize = 256;

fn rows_u64_blob(rows: Vec<sqlx::sqlite::SqliteRow>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let i: i64 = row.try_get(0)?;
            let data: Vec<u8> = row.try_get(1)?;
            let i =
                u64::try_from(i).map_err(|_| StoreError::Damaged(format!("negative key {i}")))?;
            Ok((i, data))
        })
        .collect()
}

fn range_i64(range: &Range<u64>) -> Result<(i64, i64), StoreError> {
    Ok((to_i64(range.start)?, to_i64(range.end)?))
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
        let (entry, next) = if last || len > after.len() {
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
                reply,
            }))
            .await
            .map_err(|_| StoreError::ReadOnly)?;
        Ok(Pending(answer))
    }

    async fn reset_projection(&self, rows: Vec<RowWrite>) -> Result<(), StoreError> {
        let writer = self.inner.writer.as_ref().ok_or(StoreError::ReadOnly)?;
        let (reply, answer) = oneshot::channel();
        writer
            .send(Request::ResetProjection { rows, reply })
            .await
            .map_err(|_| StoreError::ReadOnly)?;
        answer.await.map_err(|_| StoreError::ReadOnly)?
    }

    async fn idempotent(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT outcome FROM idempotency WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.inner.pool)
                .await?,
        )
    }

    async fn projection(&self) -> Result<Vec<projection::Row>, StoreError> {
        let rows =
            sqlx::query("SELECT collection, key, value FROM projection ORDER BY collection, key")
                .fetch_all(&self.inner.pool)
                .await?;
        rows.into_iter()
            .map(|r| {
                Ok(projection::Row {
                    collection: r.try_get(0)?,
                    key: r.try_get(1)?,
                    value: r.try_get(2)?,
                })
            })
            .collect()
    }

    async fn latest_checkpoint(&self) -> Result<Vec<u8>, StoreError> {
        sqlx::query_scalar("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.inner.pool)
            .await?
            .ok_or_else(|| StoreError::Damaged("the log has no checkpoint".into()))
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
        let (a, b) = range_i64(&range)?;
        let rows = sqlx::query(
            "SELECT size, note FROM checkpoints WHERE size >= ? AND size < ? ORDER BY size",
        )
        .bind(a)
        .bind(b)
        .fetch_all(&self.inner.pool)
        .await?;
        rows_u64_blob(rows)
    }

    async fn extent(&self) -> Result<Extent, StoreError> {
        // A sealed bundle counts as full here; a short one is found missing entries by a check.
        let row = sqlx::query(if self.inner.bulk.sealed() {
            "SELECT (SELECT max(idx) + 1 FROM entries), (SELECT (max(n) + 1) * 256 FROM bundles), \
             (SELECT max(id) + 1 FROM hashes), \
             (SELECT first + length(data) / 32 FROM hash_packs ORDER BY first DESC LIMIT 1), \
             (SELECT max(size) FROM checkpoints)"
        } else {
            "SELECT (SELECT max(idx) + 1 FROM entries), NULL, (SELECT max(id) + 1 FROM hashes), \
             NULL, (SELECT max(size) FROM checkpoints)"
        })
        .fetch_one(&self.inner.pool)
        .await?;
        let end = |i: usize| -> Result<u64, StoreError> {
            let v: Option<i64> = row.try_get(i)?;
            Ok(v.map_or(0, |m| u64::try_from(m).unwrap_or(0)))
        };
        let cp: Option<i64> = row.try_get(4)?;
        Ok(Extent {
            entries_end: end(0)?.max(end(1)?),
            hashes_end: end(2)?.max(end(3)?),
            checkpoint_max: cp.and_then(|m| u64::try_from(m).ok()),
        })
    }
}
