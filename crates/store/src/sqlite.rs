//! The embedded store: one SQLite file in WAL mode, written by one sequencer task.
//!
//! Writing: every append goes through a channel to the sequencer, which owns the only write
//! connection. It takes everything waiting (up to [`MAX_BATCH_ENTRIES`]), writes all of it in one
//! transaction (entries, stored hashes, and one checkpoint signed over the new tree), commits (one
//! fsync with `synchronous=FULL`) and only then answers each caller with its own indexes. The
//! in-memory right edge of the tree is replaced only after the commit succeeds, so a failed commit
//! leaves memory and disk as they were.
//!
//! One process writes a log: a lock file beside the database is held for the writer's lifetime.
//! Readers need no lock: WAL lets them read while the writer writes.

use crate::projection::{self, RowWrite};
use crate::{Appended, Batch, Draft, Extent, Pending, Store, StoreError};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::entry::{Entry, FORMAT_VERSION};
use armory_ledger::keys::{LogSigner, LogVerifier};
use armory_ledger::merkle::{Hash, RightEdge, leaf_hash, stored_hash_count};
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

    async fn open_pool(path: &Path, verifier: &LogVerifier) -> Result<SqlitePool, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Open(format!(
                "no log database at {}; run `armory init` first, or pass the right --data",
                path.display()
            )));
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
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
        Ok(pool)
    }

    /// Opens a log for reading only.
    pub async fn open_reader(path: &Path, verifier: LogVerifier) -> Result<SqliteLog, StoreError> {
        let pool = Self::open_pool(path, &verifier).await?;
        Ok(SqliteLog {
            inner: Arc::new(Inner {
                origin: verifier.name().to_owned(),
                verifier,
                pool,
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
        let pool = Self::open_pool(path, &verifier).await?;
        let log = SqliteLog {
            inner: Arc::new(Inner {
                origin: verifier.name().to_owned(),
                verifier,
                pool,
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
        let sequencer = Sequencer {
            conn,
            signer,
            edge,
            origin: log.inner.origin.clone(),
        };
        let handle = tokio::spawn(sequencer.run(rx));
        let inner = Inner {
            origin: log.inner.origin.clone(),
            verifier: log.inner.verifier.clone(),
            pool: log.inner.pool.clone(),
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
        let mut accepted: Vec<(Append, u64, Vec<Vec<u8>>)> = Vec::new();
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
                        edge.push(leaf_hash(bytes));
                    }
                    accepted.push((request, first, entries));
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
        match self.write(&accepted, &edge).await {
            Ok(note) => {
                self.edge = edge;
                let size = self.edge.size();
                for (request, first, entries) in accepted {
                    let _ = request.reply.send(Ok(Appended {
                        first_index: first,
                        count: entries.len() as u64,
                        checkpoint: note.clone(),
                        size,
                    }));
                }
            }
            Err(e) => {
                tracing::error!("append failed, nothing written: {e}");
                let message = e.to_string();
                for (request, _, _) in accepted {
                    let _ = request
                        .reply
                        .send(Err(StoreError::Database(message.clone())));
                }
            }
        }
    }

    async fn write(
        &mut self,
        accepted: &[(Append, u64, Vec<Vec<u8>>)],
        edge: &RightEdge,
    ) -> Result<Vec<u8>, StoreError> {
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: edge.size(),
            root: edge.root(),
            extensions: vec![],
        };
        let note = checkpoint
            .sign(&self.signer)
            .map_err(|e| StoreError::Sign(e.to_string()))?;
        let mut entry_rows: Vec<(i64, &[u8])> = Vec::new();
        let mut hash_rows: Vec<(i64, [u8; 32])> = Vec::new();
        let mut tree = self.edge.clone();
        for (_, first, entries) in accepted {
            for (i, bytes) in entries.iter().enumerate() {
                let index = first + i as u64;
                entry_rows.push((to_i64(index)?, bytes));
                let first_id = stored_hash_count(index);
                for (k, hash) in tree.push(leaf_hash(bytes)).iter().enumerate() {
                    hash_rows.push((to_i64(first_id + k as u64)?, hash.0));
                }
            }
        }
        let mut tx = self.conn.begin().await?;
        write_rows(&mut tx, accepted.iter().flat_map(|(a, _, _)| a.rows.iter())).await?;
        for (key, outcome) in accepted
            .iter()
            .filter_map(|(a, _, _)| a.idempotency.as_ref())
        {
            sqlx::query("INSERT INTO idempotency (key, outcome) VALUES (?, ?)")
                .bind(key)
                .bind(outcome)
                .execute(&mut *tx)
                .await?;
        }
        // The entries, their stored hashes and the checkpoint as one query of several
        // statements: each query is a round trip to SQLite's worker thread, and with one writer
        // these round trips, not SQLite, were most of what an append cost besides its fsync.
        let mut sql = String::new();
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
        Ok(note)
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

/// Rows per packed read: each pack crosses from SQLite's worker thread as one value of about
/// 150 KB, which stays in the allocators' reused memory (a multi-megabyte value is mapped and
/// faulted in afresh every time).
const PACK: i64 = 512;

/// The position of the first newline in `b`, or its length. Eight bytes at a time (a word holds
/// a newline exactly when the zero-byte test of it XOR newlines is non-zero): a byte-by-byte
/// search was the largest cost of reading a pack.
fn next_newline(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    for word in b.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w) ^ (ONES * u64::from(b'\n'));
        if x.wrapping_sub(ONES) & !x & HIGH != 0 {
            break;
        }
        i += 8;
    }
    let rest = b.get(i..).unwrap_or_default();
    i + rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len())
}

impl SqliteLog {
    /// Appends the entries `start..stop` to `out` as stored. Fast path: one row holding every
    /// entry joined by a newline, in index order (the subquery's ORDER BY is kept for an aggregate
    /// other than count/min/max, and is met by the rowid search without a sort). It is used only
    /// when all `stop - start` rows are there (indexes are unique integers, so the count says
    /// that) and the joined value splits into exactly that many pieces, i.e. no entry holds a
    /// newline of its own (a canonical entry never does: JSON escapes it). Anything else is read
    /// row by row, so a damaged row is checked as it is stored.
    async fn entries_packed(
        &self,
        start: i64,
        stop: i64,
        out: &mut Vec<(u64, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let packed = sqlx::query(
            "SELECT count(*), group_concat(data, '\n') \
             FROM (SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx)",
        )
        .bind(start)
        .bind(stop)
        .fetch_one(&self.inner.pool)
        .await?;
        let count: i64 = packed.try_get(0)?;
        if count == 0 {
            return Ok(());
        }
        let joined: Option<&[u8]> = packed.try_get(1)?;
        if let Some(joined) = joined
            && count == stop - start
        {
            let first = u64::try_from(start)
                .map_err(|_| StoreError::Damaged(format!("negative index {start}")))?;
            let before = out.len();
            let mut rest = joined;
            let mut index = first;
            loop {
                let piece = rest.get(..next_newline(rest)).unwrap_or(rest);
                out.push((index, piece.to_vec()));
                index += 1;
                match rest.get(piece.len() + 1..) {
                    Some(after) => rest = after,
                    None => break,
                }
            }
            if (out.len() - before) as i64 == count {
                return Ok(());
            }
            // Some entry holds a newline of its own: read the rows as they are.
            out.truncate(before);
        }
        let rows =
            sqlx::query("SELECT idx, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")
                .bind(start)
                .bind(stop)
                .fetch_all(&self.inner.pool)
                .await?;
        out.extend(rows_u64_blob(rows)?);
        Ok(())
    }

    /// Appends the stored hashes `start..stop` to `out` as stored. Fast path as for entries: one
    /// row of the hashes concatenated in id order, used only when every id is there and every
    /// hash is 32 bytes (`length` of a value never exceeds its bytes, so no short value hides
    /// behind a long one once the total is 32 a row); anything else is read row by row.
    async fn hashes_packed(
        &self,
        start: i64,
        stop: i64,
        out: &mut Vec<(u64, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let packed = sqlx::query(
            "SELECT count(*), sum(length(hash) <> 32), group_concat(hash, '') \
             FROM (SELECT hash FROM hashes WHERE id >= ? AND id < ? ORDER BY id)",
        )
        .bind(start)
        .bind(stop)
        .fetch_one(&self.inner.pool)
        .await?;
        let count: i64 = packed.try_get(0)?;
        if count == 0 {
            return Ok(());
        }
        let odd: Option<i64> = packed.try_get(1)?;
        let joined: Option<&[u8]> = packed.try_get(2)?;
        if let (Some(0), Some(joined)) = (odd, joined)
            && count == stop - start
            && joined.len() as i64 == count * 32
        {
            let first = u64::try_from(start)
                .map_err(|_| StoreError::Damaged(format!("negative id {start}")))?;
            out.extend(
                joined
                    .chunks_exact(32)
                    .enumerate()
                    .map(|(i, h)| (first + i as u64, h.to_vec())),
            );
            return Ok(());
        }
        let rows = sqlx::query("SELECT id, hash FROM hashes WHERE id >= ? AND id < ? ORDER BY id")
            .bind(start)
            .bind(stop)
            .fetch_all(&self.inner.pool)
            .await?;
        out.extend(rows_u64_blob(rows)?);
        Ok(())
    }
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

    async fn entries(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let (a, b) = range_i64(&range)?;
        // Clamped to the table, so an open-ended range is read in packs too (O(log n) query).
        let last: Option<i64> = sqlx::query_scalar("SELECT max(idx) FROM entries")
            .fetch_one(&self.inner.pool)
            .await?;
        let b = b.min(last.map_or(a, |m| m.saturating_add(1)));
        let mut out = Vec::with_capacity(usize::try_from(b.saturating_sub(a)).unwrap_or(0));
        let mut start = a;
        while start < b {
            let stop = start.saturating_add(PACK).min(b);
            self.entries_packed(start, stop, &mut out).await?;
            start = stop;
        }
        Ok(out)
    }

    async fn stored_hashes(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let (a, b) = range_i64(&range)?;
        let last: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM hashes")
            .fetch_one(&self.inner.pool)
            .await?;
        let b = b.min(last.map_or(a, |m| m.saturating_add(1)));
        let mut out = Vec::with_capacity(usize::try_from(b.saturating_sub(a)).unwrap_or(0));
        let mut start = a;
        while start < b {
            let stop = start.saturating_add(2 * PACK).min(b);
            self.hashes_packed(start, stop, &mut out).await?;
            start = stop;
        }
        Ok(out)
    }

    async fn entries_at(&self, indexes: &[u64]) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut out = Vec::with_capacity(indexes.len());
        for chunk in indexes.chunks(500) {
            let sql = format!(
                "SELECT idx, data FROM entries WHERE idx IN ({}) ORDER BY idx",
                placeholders(chunk.len(), "?")
            );
            let mut query = sqlx::query(&sql);
            for i in chunk {
                query = query.bind(to_i64(*i)?);
            }
            out.extend(rows_u64_blob(query.fetch_all(&self.inner.pool).await?)?);
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }

    async fn hashes(&self, ids: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        // One statement per batch of ids; SQLite limits bound parameters.
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, hash FROM hashes WHERE id IN ({})",
                placeholders(chunk.len(), "?")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(to_i64(*id)?);
            }
            let rows = rows_u64_blob(query.fetch_all(&self.inner.pool).await?)?;
            let found: std::collections::HashMap<u64, Vec<u8>> = rows.into_iter().collect();
            for id in chunk {
                let hash = found
                    .get(id)
                    .and_then(|b| Hash::from_slice(b))
                    .ok_or_else(|| {
                        StoreError::Damaged(format!("stored hash {id} is missing or malformed"))
                    })?;
                out.push(hash);
            }
        }
        Ok(out)
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
        let row = sqlx::query(
            "SELECT (SELECT max(idx) FROM entries), (SELECT max(id) FROM hashes), (SELECT max(size) FROM checkpoints)",
        )
        .fetch_one(&self.inner.pool)
        .await?;
        let end = |v: Option<i64>| v.map_or(0, |m| u64::try_from(m).map_or(0, |m| m + 1));
        let cp: Option<i64> = row.try_get(2)?;
        Ok(Extent {
            entries_end: end(row.try_get(0)?),
            hashes_end: end(row.try_get(1)?),
            checkpoint_max: cp.and_then(|m| u64::try_from(m).ok()),
        })
    }
}
