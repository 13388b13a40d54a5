//! Reads: on plain SQLite connections (rusqlite) in a blocking thread, each read in one
//! transaction, each value borrowed where SQLite holds it. The functions take a connection, so
//! the writer reads its tail with them on its own connection too.
//!
//! Why not sqlx: sqlx hands every row from its worker thread to the
//! async side as an owned copy of each value. For a sealed bundle of ~75 KB that copy, the hand
//! over and the allocator's churn cost more than SQLite's own read: reading a 1,000,000-entry
//! log's bundles took 0.29 µs an entry through sqlx (the log bench), more than the entries' leaf
//! hashes. Here a bundle goes from SQLite's page buffer straight into the caller's [`Rows`].
//!
//! One transaction per read: a bundle and the rows after it are read from one snapshot, so a seal
//! committed in between (which moves entries from rows into a bundle) cannot hide them.

use super::{BUNDLE, merge, pack_ids, pack_of, pack_run, split_bundle, to_i64};
use crate::projection::Row;
use crate::{Extent, Rows, StoreError};
use armory_ledger::Hash;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Reads at once, each on its own connection and thread; the connections are kept for the next.
/// More would open (and close) a connection per read under load, and add threads.
const CONNECTIONS: usize = 4;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// A value of a stored column (a file edited below SQLite may hold another type there).
impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        StoreError::Damaged(format!("a stored value is not bytes: {e}"))
    }
}

/// How the connections read the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mapping {
    /// Through SQLite's page reads (a copy of each page from the OS): the writing process, which
    /// runs for days.
    Read,
    /// Memory-mapped: each page read where the OS holds it, which makes a long read (verify,
    /// export) about three times cheaper. The cost is SQLite's known one: a file truncated by
    /// another program while it is mapped ends this process (SIGBUS) instead of failing a read,
    /// so only a log opened read-only (`open_reader`: verify, log, export, status) maps.
    Mapped,
}

/// Read-only connections to one log file.
pub(super) struct Bulk {
    path: PathBuf,
    /// Whether the file has sealed bundles (schema 4 on).
    sealed: bool,
    mapping: Mapping,
    idle: Mutex<Vec<Connection>>,
    permits: tokio::sync::Semaphore,
}

impl Bulk {
    pub(super) fn new(path: PathBuf, sealed: bool, mapping: Mapping) -> Arc<Bulk> {
        Arc::new(Bulk {
            path,
            sealed,
            mapping,
            idle: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(CONNECTIONS),
        })
    }

    /// The log's file.
    pub(super) fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = connect_read_only(&self.path)?;
        if self.mapping == Mapping::Mapped {
            // SQLite caps this at its compile-time maximum (2 GB unless set otherwise).
            conn.pragma_update(None, "mmap_size", 1i64 << 40)?;
        }
        Ok(conn)
    }

    /// Runs `read` on a connection, in one read transaction, on a blocking thread.
    pub(super) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&Connection, bool) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Database("the log's readers are closed".into()))?;
        let bulk = self.clone();
        tokio::task::spawn_blocking(move || {
            let idle = bulk.idle.lock().ok().and_then(|mut idle| idle.pop());
            let mut conn = match idle {
                Some(conn) => conn,
                None => bulk.connect()?,
            };
            let out = {
                let tx = conn.transaction()?;
                read(&tx, bulk.sealed)
            };
            if let Ok(mut idle) = bulk.idle.lock()
                && idle.len() < CONNECTIONS
            {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("reading thread failed: {e}")))?
    }
}

/// A read-only connection to the log at `path`.
pub(super) fn connect_read_only(path: &std::path::Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

fn key(k: i64) -> Result<u64, StoreError> {
    u64::try_from(k).map_err(|_| StoreError::Damaged(format!("negative key {k}")))
}

/// Hands each (key, value) row of `sql` (two parameters, a key range) to `each`, the value
/// borrowed from SQLite.
fn each_row(
    conn: &Connection,
    sql: &str,
    a: i64,
    b: i64,
    mut each: impl FnMut(u64, &[u8]),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query((a, b))?;
    while let Some(row) = rows.next()? {
        each(key(row.get(0)?)?, row.get_ref(1)?.as_bytes()?);
    }
    Ok(())
}

/// The rows of `sql` (as [`each_row`]) as owned (key, value) pairs.
pub(super) fn rows(
    conn: &Connection,
    sql: &str,
    a: i64,
    b: i64,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut out = Vec::new();
    each_row(conn, sql, a, b, |k, v| out.push((k, v.to_vec())))?;
    Ok(out)
}

/// Entries `range` into `out` (see [`crate::Store::read_entries`]).
pub(super) fn read_entries(
    conn: &Connection,
    sealed: bool,
    range: Range<u64>,
    mut out: Rows,
) -> Result<Rows, StoreError> {
    out.clear();
    if range.is_empty() {
        return Ok(out);
    }
    if sealed {
        each_row(
            conn,
            "SELECT n, data FROM bundles WHERE n >= ?1 AND n <= ?2 ORDER BY n",
            to_i64(range.start / BUNDLE)?,
            to_i64((range.end - 1) / BUNDLE)?,
            |n, data| split_bundle(n, data, &range, &mut out),
        )?;
    }
    let rows = rows(
        conn,
        "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        to_i64(range.start)?,
        to_i64(range.end)?,
    )?;
    Ok(merge(out, rows))
}

/// Stored hashes `range` into `out`, in runs (see [`crate::Store::read_hashes`]).
pub(super) fn read_hashes(
    conn: &Connection,
    sealed: bool,
    range: Range<u64>,
    mut out: Rows,
) -> Result<Rows, StoreError> {
    out.clear();
    if range.is_empty() {
        return Ok(out);
    }
    let (a, b) = (to_i64(range.start)?, to_i64(range.end)?);
    if sealed {
        // The pack that starts at or before the range's first id, and those after it.
        let from: i64 = conn
            .prepare_cached("SELECT coalesce(max(first), 0) FROM hash_packs WHERE first <= ?1")?
            .query_row([a], |row| row.get(0))?;
        each_row(
            conn,
            "SELECT first, data FROM hash_packs WHERE first >= ?1 AND first < ?2 ORDER BY first",
            from,
            b,
            |first, data| pack_run(first, data, &range, &mut out),
        )?;
    }
    let rows = rows(
        conn,
        "SELECT id, hash FROM hashes WHERE id >= ?1 AND id < ?2 ORDER BY id",
        a,
        b,
    )?;
    Ok(merge(out, rows))
}

/// The entries at `indexes`, in index order (see [`crate::Store::entries_at`]).
pub(super) fn entries_at(
    conn: &Connection,
    sealed: bool,
    indexes: &[u64],
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut wanted: Vec<u64> = indexes.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = Rows::default();
    if sealed {
        let mut bundles: Vec<u64> = wanted.iter().map(|i| i / BUNDLE).collect();
        bundles.dedup();
        let mut stmt = conn.prepare_cached("SELECT data FROM bundles WHERE n = ?1")?;
        let mut whole = Rows::default();
        for n in bundles {
            let mut rows = stmt.query([to_i64(n)?])?;
            let Some(row) = rows.next()? else { continue };
            whole.clear();
            split_bundle(n, row.get_ref(0)?.as_bytes()?, &(0..u64::MAX), &mut whole);
            for (i, entry) in whole.iter() {
                if wanted.binary_search(&i).is_ok() {
                    found.push(i, entry);
                }
            }
        }
    }
    let mut stmt = conn.prepare_cached("SELECT data FROM entries WHERE idx = ?1")?;
    let mut rows = Vec::new();
    for i in wanted {
        let data: Option<Vec<u8>> = stmt
            .query_row([to_i64(i)?], |row| Ok(row.get_ref(0)?.as_bytes()?.to_vec()))
            .optional()?;
        if let Some(data) = data {
            rows.push((i, data));
        }
    }
    Ok(merge(found, rows).to_vecs())
}

/// Stored hashes by id; an error names the first missing or malformed one.
pub(super) fn hashes(
    conn: &Connection,
    sealed: bool,
    ids: &[u64],
) -> Result<Vec<Hash>, StoreError> {
    let mut pack = conn.prepare_cached("SELECT data FROM hash_packs WHERE first = ?1")?;
    let mut row = conn.prepare_cached("SELECT hash FROM hashes WHERE id = ?1")?;
    let mut cached: Option<(u64, Vec<u8>)> = None;
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let first = pack_ids(pack_of(id)).start;
        if sealed && cached.as_ref().is_none_or(|(f, _)| *f != first) {
            let data: Option<Vec<u8>> = pack
                .query_row([to_i64(first)?], |r| Ok(r.get_ref(0)?.as_bytes()?.to_vec()))
                .optional()?;
            cached = data.map(|d| (first, d));
        }
        let at = usize::try_from((id - first) * 32).unwrap_or(usize::MAX);
        let in_pack = cached
            .as_ref()
            .filter(|(f, _)| *f == first)
            .and_then(|(_, d)| d.get(at..at.saturating_add(32)))
            .and_then(Hash::from_slice);
        let hash = match in_pack {
            Some(h) => Some(h),
            None => row
                .query_row([to_i64(id)?], |r| Ok(r.get_ref(0)?.as_bytes()?.to_vec()))
                .optional()?
                .and_then(|h| Hash::from_slice(&h)),
        };
        out.push(hash.ok_or_else(|| {
            StoreError::Damaged(format!("stored hash {id} is missing or malformed"))
        })?);
    }
    Ok(out)
}

/// The outcome recorded with an idempotency key.
pub(super) fn idempotent(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT outcome FROM idempotency WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Every projection row.
pub(super) fn projection(conn: &Connection) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT collection, key, value FROM projection ORDER BY collection, key")?;
    let rows = stmt.query_map([], |r| {
        Ok(Row {
            collection: r.get(0)?,
            key: r.get(1)?,
            value: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The latest signed checkpoint.
pub(super) fn latest_checkpoint(conn: &Connection) -> Result<Vec<u8>, StoreError> {
    conn.prepare_cached("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Damaged("the log has no checkpoint".into()))
}

/// The checkpoint of `size` entries, if the log holds one.
pub(super) fn checkpoint_at(conn: &Connection, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT note FROM checkpoints WHERE size = ?1")?
        .query_row([to_i64(size)?], |r| r.get(0))
        .optional()?)
}

/// How far each table reaches. A sealed bundle counts as full here; a short one is found
/// missing entries by a check.
pub(super) fn extent(conn: &Connection, sealed: bool) -> Result<Extent, StoreError> {
    let sql = if sealed {
        "SELECT (SELECT max(idx) + 1 FROM entries), (SELECT (max(n) + 1) * 256 FROM bundles), \
         (SELECT max(id) + 1 FROM hashes), \
         (SELECT first + length(data) / 32 FROM hash_packs ORDER BY first DESC LIMIT 1), \
         (SELECT max(size) FROM checkpoints)"
    } else {
        "SELECT (SELECT max(idx) + 1 FROM entries), NULL, (SELECT max(id) + 1 FROM hashes), \
         NULL, (SELECT max(size) FROM checkpoints)"
    };
    let ends: [Option<i64>; 5] = conn.prepare_cached(sql)?.query_row([], |r| {
        Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])
    })?;
    let end = |i: usize| ends[i].map_or(0, |m| u64::try_from(m).unwrap_or(0));
    Ok(Extent {
        entries_end: end(0).max(end(1)),
        hashes_end: end(2).max(end(3)),
        checkpoint_max: ends[4].and_then(|m| u64::try_from(m).ok()),
    })
}
