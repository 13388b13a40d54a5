//! The single writer of a SQLite log: one thread, one connection, explicit transactions.
//!
//! Appends arrive on a channel. The writer takes everything waiting (up to
//! [`MAX_BATCH_ENTRIES`]), writes it in one `BEGIN IMMEDIATE` … `COMMIT` (entries, stored hashes,
//! projection rows, idempotency keys and one checkpoint signed over the new tree), and only then
//! answers each caller with its own indexes (group commit: one fsync for many).
//!
//! # Storage faults
//! A failed write must never be acknowledged, and must never leave the writer in a state where a
//! later write is acknowledged without being durable. (Through sqlx it did: its SQLite driver
//! counts transaction depth itself and lowers it only when COMMIT or ROLLBACK succeeds, so after
//! one failed COMMIT every later "transaction" was a savepoint inside one that never ended, and
//! acts were answered done while nothing reached the file.) So here, after *any* error inside a
//! write, the writer:
//! 1. drops its connection (SQLite rolls back whatever was open) and opens a new one;
//! 2. re-reads the log's tail from the file and rebuilds its memory (tree edge, unsealed tail,
//!    latest checkpoint) from what the file holds, checked as at start;
//! 3. answers the failed group by what the file now holds: if its checkpoint is there, the group
//!    is recorded (a commit that reported failure may still have reached the disk; after a failed
//!    fsync, only once a later write was durable: until then it is unknown); if the log is
//!    where it was, the group is not recorded, and the writer makes sure it never will be by
//!    committing one small write (the `probe` row): a failed fsync can leave the group's frames in
//!    the WAL without SQLite's index knowing them, and SQLite would find them again at the next
//!    recovery; the probe's frame, written in their place, breaks their checksum chain. If the
//!    probe fails too and the first error was a failed fsync, the outcome is reported unknown.
//!
//! Appends queued behind a failed one were decided against a state that included it: each
//! carries the index it was decided for, and one the log is not at is refused unwritten
//! ([`StoreError::OutOfOrder`]).
//!
//! While storage fails, [`Health`] holds the fault; when idle, the writer retries (reopen, probe)
//! every [`RETRY`] and clears the fault when a write is durable again.

use super::kept::Keeper;
use super::{BUNDLE, Durability, Seal, bulk, io_error, pack_ids, storage_fault, to_i64};
use crate::projection::RowWrite;
use crate::{Appended, Draft, Fault, Health, StoreError};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::entry::{Entry, FORMAT_VERSION, entry_time};
use armory_ledger::keys::LogSigner;
use armory_ledger::merkle::{RightEdge, leaf_hash, stored_hash_count};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use tokio::sync::oneshot;

/// The most entries one group commit takes.
pub const MAX_BATCH_ENTRIES: usize = 4096;

/// How often an idle writer retries storage while it is failing.
const RETRY: Duration = Duration::from_millis(500);

pub(super) enum Request {
    Append(Append),
    /// Finish what is queued before this, close the database and stop.
    Shutdown,
    /// Replace every projection row (after a rebuild from the log).
    ResetProjection {
        rows: Vec<RowWrite>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

pub(super) struct Append {
    pub(super) drafts: Vec<Draft>,
    pub(super) rows: Vec<RowWrite>,
    pub(super) idempotency: Option<(String, String)>,
    pub(super) expect_index: Option<u64>,
    pub(super) reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// Opens a read-write connection to the log with the writer's settings.
pub(super) fn connect(
    path: &Path,
    durability: Durability,
    create: bool,
) -> Result<Connection, rusqlite::Error> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The single writer.
pub(super) struct Writer {
    path: PathBuf,
    durability: Durability,
    /// None after a fault until a reopen succeeds.
    conn: Option<Connection>,
    signer: LogSigner,
    origin: String,
    edge: RightEdge,
    /// The latest checkpoint the file holds (signed note).
    note: Vec<u8>,
    /// Bundles sealed: every entry below `sealed * BUNDLE` is in `bundles`.
    sealed: u64,
    /// The entries after the last sealed bundle (rows of `entries`), in index order.
    tail: Vec<Vec<u8>>,
    /// Their stored hashes (rows of `hashes`), ids from `stored_hash_count(sealed * BUNDLE)`.
    tail_hashes: Vec<[u8; 32]>,
    /// The last entry's time: no entry is timed before it.
    last_time: Option<[u8; 24]>,
    health: Arc<Health>,
    keeper: Option<Keeper>,
}

/// One request's entries, encoded, with the index of the first.
struct Accepted {
    request: Append,
    first: u64,
    entries: Vec<Vec<u8>>,
}

/// A group ready to write: everything computed before the transaction begins.
struct Prepared {
    edge: RightEdge,
    /// Every stored hash the new entries create, ids from `stored_hash_count(old size)`.
    hashes: Vec<[u8; 32]>,
    note: Vec<u8>,
    seals: Vec<Seal>,
}

/// What the file holds after a failed write.
enum Settled {
    Recorded,
    NotRecorded,
    Unknown,
}

impl Writer {
    /// Opens the writer's connection and reads the log's tail, checked against its latest
    /// checkpoint. Logs of schema 3 are sealed here.
    pub(super) fn open(
        path: &Path,
        durability: Durability,
        signer: LogSigner,
        health: Arc<Health>,
    ) -> Result<Writer, StoreError> {
        let conn = connect(path, durability, false).map_err(|e| io_error(path, &e))?;
        let origin = signer.name().to_owned();
        let mut writer = Writer {
            path: path.to_owned(),
            durability,
            conn: Some(conn),
            signer,
            origin,
            edge: RightEdge::new(),
            note: Vec::new(),
            sealed: 0,
            tail: Vec::new(),
            tail_hashes: Vec::new(),
            last_time: None,
            health,
            keeper: None,
        };
        writer.reload()?;
        Ok(writer)
    }

    pub(super) fn conn(&self) -> Result<&Connection, StoreError> {
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::Database("the log's connection is closed".into()))
    }

    pub(super) fn note(&self) -> &[u8] {
        &self.note
    }

    pub(super) fn set_keeper(&mut self, mut keeper: Keeper) {
        keeper.keep(&self.note);
        self.keeper = Some(keeper);
    }

    /// Rebuilds memory (tree edge, latest checkpoint, unsealed tail) from the file.
    fn reload(&mut self) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let verifier = self
            .signer
            .verifier()
            .map_err(|e| StoreError::Open(e.to_string()))?;
        let size = bulk::extent(conn, true)?.entries_end;
        let hashes = bulk::hashes(conn, true, &RightEdge::ids_for_size(size))?;
        let edge = RightEdge::from_hashes(size, &hashes)
            .ok_or_else(|| StoreError::Damaged("the tree's edge cannot be rebuilt".into()))?;
        let note = bulk::latest_checkpoint(conn)?;
        let checkpoint = Checkpoint::open(&note, &verifier)
            .map_err(|e| StoreError::Damaged(format!("latest checkpoint: {e}")))?;
        if checkpoint.size != size || checkpoint.root != edge.root() {
            return Err(StoreError::Damaged(format!(
                "the latest checkpoint (size {}) does not match the stored tree (size {size}); refusing to write",
                checkpoint.size
            )));
        }
        self.edge = edge;
        self.note = note;
        self.load_tail()?;
        self.last_time = match self.tail.last() {
            Some(entry) => entry_time(entry),
            None if size > 0 => bulk::entries_at(self.conn()?, true, &[size - 1])?
                .first()
                .and_then(|(_, entry)| entry_time(entry)),
            None => None,
        };
        Ok(())
    }

    /// Finds the last sealed bundle and loads the rows after it. Full bundles' worth of rows (a
    /// log written before bundles existed, schema 3) are sealed first, 64 bundles a transaction.
    fn load_tail(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let size = self.edge.size();
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StoreError::Database("the log's connection is closed".into()))?;
        let last: Option<i64> = conn.query_row("SELECT max(n) FROM bundles", [], |r| r.get(0))?;
        self.sealed = last.map_or(0, |n| u64::try_from(n).map_or(0, |n| n + 1));
        loop {
            let base = self.sealed * BUNDLE;
            if size < base {
                return Err(StoreError::Damaged(format!(
                    "sealed bundles reach entry {base} but the log has {size} entries; refusing to write"
                )));
            }
            let end = size.min(base + 64 * BUNDLE);
            let rows = bulk::rows(
                conn,
                "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
                to_i64(base)?,
                to_i64(end)?,
            )?;
            let ids = stored_hash_count(base)..stored_hash_count(end);
            let hash_rows = bulk::rows(
                conn,
                "SELECT id, hash FROM hashes WHERE id >= ?1 AND id < ?2 ORDER BY id",
                to_i64(ids.start)?,
                to_i64(ids.end)?,
            )?;
            let sealed = self.sealed;
            let damaged = |what: &str| {
                StoreError::Damaged(format!(
                    "the {what} after sealed bundle {sealed} are not the log's {} entries up to {end}; refusing to write",
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
                let tail: Vec<Vec<u8>> = rows.into_iter().map(|(_, d)| d).collect();
                self.check_tail(base, &tail, &hashes)?;
                self.tail = tail;
                self.tail_hashes = hashes;
                return Ok(());
            }
            let entries: Vec<&[u8]> = rows.iter().map(|(_, d)| d.as_slice()).collect();
            let seals = Seal::all(self.sealed, &entries, &hashes)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| io_error(&path, &e))?;
            Seal::write(&tx, &seals, base..base + full * BUNDLE)
                .map_err(|e| io_error(&path, &e))?;
            tx.commit().map_err(|e| io_error(&path, &e))?;
            tracing::info!(
                "sealed entries {base}..{} into bundles",
                base + full * BUNDLE
            );
            self.sealed += full;
        }
    }

    /// Before anything is written on top of them: the entries after the last sealed bundle, and
    /// that bundle, must be the ones the stored hashes (checked against the signed checkpoint by
    /// [`Writer::reload`]) describe. An entry edited in the file behind the log's back (an
    /// unchecked lot made to look verified) is refused here, not built upon.
    fn check_tail(
        &self,
        base: u64,
        tail: &[Vec<u8>],
        hashes: &[[u8; 32]],
    ) -> Result<(), StoreError> {
        let changed = |index: u64| {
            StoreError::Damaged(format!(
                "entry {index} is not the entry the log's stored hashes and signed checkpoint describe: it was changed in the file after it was written; refusing to write on top of it"
            ))
        };
        let conn = self.conn()?;
        let ids = RightEdge::ids_for_size(base);
        let stored = bulk::hashes(conn, true, &ids)?;
        let mut edge = RightEdge::from_hashes(base, &stored)
            .ok_or_else(|| StoreError::Damaged("the tree's edge cannot be rebuilt".into()))?;
        let mut made: Vec<[u8; 32]> = Vec::with_capacity(hashes.len());
        for (k, entry) in tail.iter().enumerate() {
            let before = made.len();
            edge.push_each(leaf_hash(entry), |h| made.push(h.0));
            if made[before..] != hashes[before.min(hashes.len())..made.len().min(hashes.len())] {
                return Err(changed(base + k as u64));
            }
        }
        if made.len() != hashes.len() || edge.root() != self.edge.root() {
            return Err(StoreError::Damaged(
                "the stored hashes after the last sealed bundle do not match its entries; refusing to write".into(),
            ));
        }
        // The last sealed bundle: its entries against the stored hash of its subtree.
        if let Some(n) = self.sealed.checked_sub(1) {
            let data: Vec<u8> =
                conn.query_row("SELECT data FROM bundles WHERE n = ?1", [to_i64(n)?], |r| {
                    r.get(0)
                })?;
            let entries = armory_ledger::tiles::decode_bundle(&data)
                .map_err(|e| StoreError::Damaged(format!("sealed bundle {n}: {e}")))?;
            let mut subtree = RightEdge::new();
            for entry in &entries {
                subtree.push(leaf_hash(entry));
            }
            let id = armory_ledger::merkle::stored_hash_index(8, n);
            let want = bulk::hashes(conn, true, &[id])?;
            if entries.len() as u64 != BUNDLE || want.first() != Some(&subtree.root()) {
                // Name the entry when the bundle's own leaves say which.
                let first_bad = (0..entries.len() as u64)
                    .find(|k| {
                        bulk::hashes(
                            conn,
                            true,
                            &[armory_ledger::merkle::stored_hash_index(0, n * BUNDLE + k)],
                        )
                        .ok()
                        .and_then(|h| h.first().copied())
                            != Some(leaf_hash(entries[*k as usize]))
                    })
                    .map_or(n * BUNDLE, |k| n * BUNDLE + k);
                return Err(changed(first_bad));
            }
        }
        Ok(())
    }

    /// Takes requests until the channel closes or a shutdown arrives.
    pub(super) fn run(mut self, rx: Receiver<Request>) {
        let mut held: Option<Request> = None;
        loop {
            let first = match held.take() {
                Some(r) => r,
                None if self.health.fault().is_some() => match rx.recv_timeout(RETRY) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => {
                        self.retry();
                        if let Some(keeper) = &mut self.keeper {
                            keeper.sync();
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                // A checkpoint kept beside the log waits for its fsync: at the latest when due.
                None if let Some(due) = self.keeper.as_ref().and_then(Keeper::due_in) => {
                    match rx.recv_timeout(due) {
                        Ok(r) => r,
                        Err(RecvTimeoutError::Timeout) => {
                            if let Some(keeper) = &mut self.keeper {
                                keeper.sync();
                            }
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => break,
                },
            };
            let first = match first {
                Request::Shutdown => break,
                Request::ResetProjection { rows, reply } => {
                    let _ = reply.send(self.reset_projection(&rows));
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
            self.commit(batch);
        }
        // At a clean stop the WAL is copied into the database and emptied, so the database file
        // alone is the whole log (what a copy of it, or a backup tool, takes). The last
        // connection to close would do it, but the readers' connections are read-only and may
        // close after this one. The keeper fsyncs what it wrote.
        if let Some(conn) = &self.conn {
            let done = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
            match done {
                Ok(0) => {}
                Ok(_) => tracing::warn!(
                    "at stop, readers kept the WAL from being emptied into the database"
                ),
                Err(e) => {
                    tracing::warn!("at stop, the WAL could not be emptied into the database: {e}")
                }
            }
        }
        self.conn = None;
        self.keeper = None;
    }

    /// While storage is failing and nothing is asked: reopen if needed, then try a durable write.
    fn retry(&mut self) {
        if self.conn.is_none()
            && let Err(e) = self.recover()
        {
            tracing::debug!("storage still failing: {e}");
            return;
        }
        match self.probe() {
            Ok(()) => self.health.recovered(),
            Err(e) => {
                tracing::debug!("storage still failing: {e}");
                self.conn = None;
            }
        }
    }

    /// Drops the connection and opens a new one, then rebuilds memory from the file.
    fn recover(&mut self) -> Result<(), StoreError> {
        self.conn = None;
        let conn =
            connect(&self.path, self.durability, false).map_err(|e| io_error(&self.path, &e))?;
        self.conn = Some(conn);
        let reloaded = self.reload();
        if reloaded.is_err() {
            self.conn = None;
        }
        reloaded
    }

    /// One small durable write (the `probe` row): proves writes work (at start too, so a full or
    /// read-only disk is found before the first act), and overwrites whatever a failed commit
    /// left in the WAL past the last frame SQLite knows.
    pub(super) fn probe(&mut self) -> Result<(), rusqlite::Error> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(rusqlite::Error::InvalidQuery);
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO probe (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1",
            [],
        )?;
        tx.commit()
    }

    fn reset_projection(&mut self, rows: &[RowWrite]) -> Result<(), StoreError> {
        if self.conn.is_none() {
            self.recover()?;
        }
        let result = (|| {
            let conn = self.conn.as_mut().ok_or(rusqlite::Error::InvalidQuery)?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM projection", [])?;
            write_rows(&tx, rows.iter())?;
            tx.commit()
        })();
        result.map_err(|e| {
            let fault = fault(&self.path, &e).0;
            self.health.failed(&fault);
            let _ = self.recover();
            StoreError::NotRecorded(fault)
        })
    }

    /// Encodes each request's entries (a request whose entries cannot be encoded, or that was
    /// decided for another index, is refused on its own), writes the rest in one transaction,
    /// and answers everyone.
    fn commit(&mut self, batch: Vec<Append>) {
        let mut edge = self.edge.clone();
        let mut last_time = self.last_time;
        let mut hashes: Vec<[u8; 32]> = Vec::new();
        let mut accepted: Vec<Accepted> = Vec::new();
        for request in batch {
            let first = edge.size();
            if let Some(expected) = request.expect_index
                && expected != first
            {
                let _ = request.reply.send(Err(StoreError::OutOfOrder {
                    expected,
                    at: first,
                }));
                continue;
            }
            if let Some(refused) = time_behind(last_time, first, &request.drafts) {
                let _ = request.reply.send(Err(refused));
                continue;
            }
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
                        last_time = entry_time(bytes).max(last_time);
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
        // After a fault the connection may be gone: reopen first; if that fails, nothing was
        // attempted, so nothing is recorded.
        if self.conn.is_none()
            && let Err(e) = self.recover()
        {
            let fault = match e {
                StoreError::NotRecorded(f) => f,
                other => Fault {
                    kind: crate::FaultKind::Other,
                    file: self.path.display().to_string(),
                    detail: other.to_string(),
                },
            };
            self.health.failed(&fault);
            return answer_all(accepted, || StoreError::NotRecorded(fault.clone()));
        }
        let prepared = match self.prepare(&accepted, hashes, edge) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("append refused before writing: {e}");
                let message = e.to_string();
                return answer_all(accepted, || StoreError::Database(message.clone()));
            }
        };
        let old_size = self.edge.size();
        match self.write(&accepted, &prepared) {
            Ok(()) => {
                self.advance(
                    &accepted,
                    prepared.hashes,
                    prepared.edge,
                    prepared.seals.len(),
                );
                self.note = prepared.note;
                self.health.recovered();
                self.answer(accepted);
            }
            Err(e) => {
                let (fault, maybe_written) = fault(&self.path, &e);
                self.health.failed(&fault);
                match self.settle(old_size, &prepared.note, maybe_written) {
                    Settled::Recorded => {
                        tracing::warn!(
                            "the commit reported an error but reached the log (entries {old_size}..{}); answered as recorded",
                            self.edge.size()
                        );
                        self.answer(accepted);
                    }
                    Settled::NotRecorded => {
                        answer_all(accepted, || StoreError::NotRecorded(fault.clone()))
                    }
                    Settled::Unknown => answer_all(accepted, || StoreError::Unknown(fault.clone())),
                }
            }
        }
    }

    /// Answers every accepted request with its indexes under the current checkpoint, and hands
    /// the checkpoint to the keeper.
    fn answer(&mut self, accepted: Vec<Accepted>) {
        let size = self.edge.size();
        for a in accepted {
            let _ = a.request.reply.send(Ok(Appended {
                first_index: a.first,
                count: a.entries.len() as u64,
                checkpoint: self.note.clone(),
                size,
            }));
        }
        if let Some(keeper) = &mut self.keeper {
            keeper.keep(&self.note);
        }
    }

    /// After a failed write: what does the file hold? See the module doc.
    fn settle(&mut self, old_size: u64, note: &[u8], maybe_written: bool) -> Settled {
        if let Err(e) = self.recover() {
            tracing::error!("after the failed write, the log cannot be reopened: {e}");
            return if maybe_written {
                Settled::Unknown
            } else {
                Settled::NotRecorded
            };
        }
        if self.note == note {
            // There, but written by a commit whose fsync failed: recorded only once a later
            // write is durable (the next checkpoint of the WAL copies it into the database).
            if !maybe_written {
                return Settled::Recorded;
            }
            return match self.probe() {
                Ok(()) => Settled::Recorded,
                Err(_) => {
                    self.conn = None;
                    Settled::Unknown
                }
            };
        }
        if self.edge.size() != old_size {
            tracing::error!(
                "after the failed write the log has {} entries, neither {old_size} nor the group's end",
                self.edge.size()
            );
            return Settled::Unknown;
        }
        match self.probe() {
            Ok(()) => Settled::NotRecorded,
            Err(e) => {
                tracing::debug!("probe after the failed write: {e}");
                self.conn = None;
                if maybe_written {
                    Settled::Unknown
                } else {
                    Settled::NotRecorded
                }
            }
        }
    }

    /// Signs the checkpoint and builds the seals: everything that can fail without touching
    /// the file.
    fn prepare(
        &self,
        accepted: &[Accepted],
        hashes: Vec<[u8; 32]>,
        edge: RightEdge,
    ) -> Result<Prepared, StoreError> {
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: edge.size(),
            root: edge.root(),
            extensions: vec![],
        };
        let note = checkpoint
            .sign(&self.signer)
            .map_err(|e| StoreError::Sign(e.to_string()))?;
        let base = self.sealed * BUNDLE;
        let full = (edge.size() - base) / BUNDLE;
        let seals = if full > 0 {
            let entries: Vec<&[u8]> = self
                .tail
                .iter()
                .chain(accepted.iter().flat_map(|a| a.entries.iter()))
                .map(Vec::as_slice)
                .collect();
            let all_hashes: Vec<[u8; 32]> = [&self.tail_hashes[..], &hashes].concat();
            Seal::all(self.sealed, &entries, &all_hashes)?
        } else {
            Vec::new()
        };
        Ok(Prepared {
            edge,
            hashes,
            note,
            seals,
        })
    }

    /// Writes the accepted entries, their projection rows and idempotency keys, the seals of
    /// every bundle they complete (the bundle and its hash pack inserted, the rows of its
    /// earlier entries deleted) and the checkpoint, in one transaction. Only what follows the
    /// last full bundle is written as rows.
    fn write(&mut self, accepted: &[Accepted], p: &Prepared) -> Result<(), rusqlite::Error> {
        let old_size = self.edge.size();
        let base = self.sealed * BUNDLE;
        let sealed_end = base + p.seals.len() as u64 * BUNDLE;
        let conn = self.conn.as_mut().ok_or(rusqlite::Error::InvalidQuery)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_rows(&tx, accepted.iter().flat_map(|a| a.request.rows.iter()))?;
        {
            let mut keys =
                tx.prepare_cached("INSERT INTO idempotency (key, outcome) VALUES (?1, ?2)")?;
            for (key, outcome) in accepted
                .iter()
                .filter_map(|a| a.request.idempotency.as_ref())
            {
                keys.execute((key, outcome))?;
            }
        }
        if !p.seals.is_empty() {
            Seal::write(&tx, &p.seals, base..old_size.min(sealed_end))?;
        }
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO entries (idx, data) VALUES (?1, ?2)")?;
            for a in accepted {
                for (i, bytes) in a.entries.iter().enumerate() {
                    let index = a.first + i as u64;
                    if index >= sealed_end {
                        insert.execute((sql_int(index)?, bytes))?;
                    }
                }
            }
        }
        {
            let first_new_hash = stored_hash_count(old_size);
            let keep_from = stored_hash_count(sealed_end);
            let mut insert = tx.prepare_cached("INSERT INTO hashes (id, hash) VALUES (?1, ?2)")?;
            for (k, hash) in p.hashes.iter().enumerate() {
                let id = first_new_hash + k as u64;
                if id >= keep_from {
                    insert.execute((sql_int(id)?, &hash[..]))?;
                }
            }
        }
        tx.prepare_cached("INSERT INTO checkpoints (size, note) VALUES (?1, ?2)")?
            .execute((sql_int(p.edge.size())?, &p.note))?;
        tx.commit()
    }

    /// Memory follows the file after a durable commit.
    fn advance(
        &mut self,
        accepted: &[Accepted],
        hashes: Vec<[u8; 32]>,
        edge: RightEdge,
        sealed: usize,
    ) {
        self.edge = edge;
        if let Some(entry) = accepted.last().and_then(|a| a.entries.last()) {
            self.last_time = entry_time(entry);
        }
        self.tail
            .extend(accepted.iter().flat_map(|a| a.entries.iter().cloned()));
        self.tail_hashes.extend_from_slice(&hashes);
        let sealed = sealed as u64;
        let base = self.sealed * BUNDLE;
        let end = base + sealed * BUNDLE;
        self.tail.drain(..(end - base) as usize);
        self.tail_hashes
            .drain(..(stored_hash_count(end) - stored_hash_count(base)) as usize);
        self.sealed += sealed;
        debug_assert_eq!(pack_ids(self.sealed).start, stored_hash_count(end));
    }
}

/// The first of `drafts` (entries from `first` on) timed before the one before it, the first
/// after `last`: the clock went back.
fn time_behind(mut last: Option<[u8; 24]>, first: u64, drafts: &[Draft]) -> Option<StoreError> {
    for (k, draft) in drafts.iter().enumerate() {
        let time = draft.time.as_bytes();
        if let Some(before) = last
            && time < &before[..]
        {
            return Some(StoreError::ClockBehind {
                index: first + k as u64,
                time: draft.time.clone(),
                last: String::from_utf8_lossy(&before).into_owned(),
            });
        }
        last = time.try_into().ok();
    }
    None
}

fn answer_all(accepted: Vec<Accepted>, error: impl Fn() -> StoreError) {
    for a in accepted {
        let _ = a.request.reply.send(Err(error()));
    }
}

/// An index or id as SQLite's integer.
fn sql_int(n: u64) -> Result<i64, rusqlite::Error> {
    i64::try_from(n).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// The fault a write error stands for, and whether the write may have reached the disk anyway
/// (a failed fsync: the frames may be written; every other error stops before the commit frame).
pub(super) fn fault(path: &Path, e: &rusqlite::Error) -> (Fault, bool) {
    use rusqlite::ffi;
    let extended = match e {
        rusqlite::Error::SqliteFailure(err, _) => Some(err.extended_code),
        _ => None,
    };
    let maybe_written = matches!(
        extended,
        Some(ffi::SQLITE_IOERR_FSYNC | ffi::SQLITE_IOERR_DIR_FSYNC)
    );
    let fault = storage_fault(path, e).unwrap_or_else(|| Fault {
        kind: crate::FaultKind::Other,
        file: path.display().to_string(),
        detail: e.to_string(),
    });
    (fault, maybe_written)
}

/// Writes projection rows: a later write to the same row wins.
pub(super) fn write_rows<'a>(
    conn: &Connection,
    rows: impl Iterator<Item = &'a RowWrite>,
) -> Result<(), rusqlite::Error> {
    let mut last: std::collections::BTreeMap<(&str, &str), Option<&str>> = Default::default();
    for row in rows {
        last.insert((row.collection, row.key.as_str()), row.value.as_deref());
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO projection (collection, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value",
    )?;
    let mut delete =
        conn.prepare_cached("DELETE FROM projection WHERE collection = ?1 AND key = ?2")?;
    for ((collection, key), value) in last {
        match value {
            Some(value) => upsert.execute((collection, key, value))?,
            None => delete.execute((collection, key))?,
        };
    }
    Ok(())
}
