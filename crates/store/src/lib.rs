//! armory-store: where the log lives.
//!
//! The [`Store`] trait is the whole storage boundary: append entries (durably, with a signed
//! checkpoint), and read entries, stored hashes and checkpoints back. [`sqlite::SqliteLog`] is the
//! embedded implementation a set node runs on; a PostgreSQL implementation for the studio server is
//! the next one, and everything generic here ([`proofs`], [`export`], [`check`]) will serve both.
#![forbid(unsafe_code)]

pub mod check;
pub mod export;
pub mod fields;
pub mod node;
pub mod projection;
pub mod proofs;
pub mod sqlite;

use armory_ledger::entry::EntryError;
use armory_ledger::keys::LogVerifier;
use armory_ledger::{Actor, Hash};
use projection::{Row, RowWrite};
use serde_json::Value;
use std::future::Future;
use std::ops::Range;

/// An entry to append: what happened, when, and who acted. The store gives it its index.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// RFC 3339 UTC with milliseconds.
    pub time: String,
    /// A JSON object with a string `type`.
    pub event: Value,
    pub actors: Vec<Actor>,
}

/// The outcome of one durable append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Index of the first entry appended.
    pub first_index: u64,
    /// Number of entries appended.
    pub count: u64,
    /// The signed checkpoint that covers them (C2SP signed note).
    pub checkpoint: Vec<u8>,
    /// The checkpoint's tree size.
    pub size: u64,
}

/// Entries to append and the projection rows they change, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub drafts: Vec<Draft>,
    pub rows: Vec<RowWrite>,
    /// An idempotency key and the outcome to answer a retry with, stored with the entries.
    pub idempotency: Option<(String, String)>,
    /// The index the first entry must get: the index the decision was made for. When the log is
    /// elsewhere (an earlier append failed), nothing is written and the answer is
    /// [`StoreError::OutOfOrder`].
    pub expect_index: Option<u64>,
}

/// An append that has its place in the log's order and will answer once it is durable.
#[derive(Debug)]
pub struct Pending(pub tokio::sync::oneshot::Receiver<Result<Appended, StoreError>>);

impl Pending {
    /// Waits until the append is durable (or has failed).
    pub async fn wait(self) -> Result<Appended, StoreError> {
        self.0.await.map_err(|_| StoreError::ReadOnly)?
    }
}

/// How far each table reaches, to find truncation or rows added behind the log's back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    /// One past the largest entry index (0 when empty).
    pub entries_end: u64,
    /// One past the largest stored hash id.
    pub hashes_end: u64,
    /// The largest checkpoint size, if any checkpoint is stored.
    pub checkpoint_max: Option<u64>,
}

/// Values read in bulk (entries, or stored hashes), each with its key (index or id): their bytes
/// back to back in one buffer, so that reading a million of them allocates nothing per value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    bytes: Vec<u8>,
    /// (key, end of its value in `bytes`).
    keys: Vec<(u64, usize)>,
}

impl Rows {
    /// Empties it, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.keys.clear();
    }

    /// Makes room for `values` more values of `bytes` bytes in all.
    pub fn reserve(&mut self, bytes: usize, values: usize) {
        self.bytes.reserve(bytes);
        self.keys.reserve(values);
    }

    /// Adds a value.
    pub fn push(&mut self, key: u64, value: &[u8]) {
        self.bytes.extend_from_slice(value);
        self.keys.push((key, self.bytes.len()));
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The values' bytes, all together.
    pub fn bytes_len(&self) -> usize {
        self.bytes.len()
    }

    /// The key of the i-th value.
    pub fn key(&self, i: usize) -> Option<u64> {
        self.keys.get(i).map(|(k, _)| *k)
    }

    /// The i-th value, with its key.
    pub fn get(&self, i: usize) -> Option<(u64, &[u8])> {
        let &(key, end) = self.keys.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.keys[p].1);
        Some((key, &self.bytes[start..end]))
    }

    /// The values in order, with their keys.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u64, &[u8])> + '_ {
        self.keys.iter().enumerate().map(|(i, &(key, end))| {
            let start = i.checked_sub(1).map_or(0, |p| self.keys[p].1);
            (key, &self.bytes[start..end])
        })
    }

    /// The values as one `Vec` each.
    pub fn to_vecs(&self) -> Vec<(u64, Vec<u8>)> {
        self.iter().map(|(k, v)| (k, v.to_vec())).collect()
    }
}

/// The stored hashes of runs read by [`Store::read_hashes`], one by one: each id with its (at most
/// 32) bytes. An empty stored value is one hash of no bytes (as `armory verify` reads it: wrong).
pub fn hash_pieces(runs: &Rows) -> impl Iterator<Item = (u64, &[u8])> + '_ {
    runs.iter().flat_map(|(first, run)| {
        run.chunks(32)
            .chain(run.is_empty().then_some(run))
            .enumerate()
            .map(move |(k, hash)| (first + k as u64, hash))
    })
}

/// Storage errors. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path} is in use by another Armory process{holder}; stop it first (only one process may write a log)"
    )]
    Locked { path: String, holder: String },
    #[error("{0}")]
    Open(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("the entry cannot be logged: {0}")]
    Entry(#[from] EntryError),
    #[error("entry {0} does not exist (the log has {1} entries)")]
    NoSuchEntry(u64, u64),
    #[error("the log's data is damaged: {0}. Run `armory verify` for the first bad entry")]
    Damaged(String),
    #[error("the log is closed for writing (opened read-only, or shutting down)")]
    ReadOnly,
    #[error("signing failed: {0}")]
    Sign(String),
    /// Storage failed and the append is known not to be in the log.
    #[error(
        "not recorded: {0}. Nothing of it was written; retry it (with the same Idempotency-Key) once storage works"
    )]
    NotRecorded(Fault),
    /// Storage failed in a way that leaves the append's fate open (a failed fsync may still have
    /// written it), and the writer could not settle it.
    #[error(
        "the outcome is unknown: {0}. The act may or may not be in the log: check `armory log`, or retry it with the same Idempotency-Key, which records it at most once"
    )]
    Unknown(Fault),
    /// The append was decided for an index the log is no longer at: an earlier append failed.
    #[error(
        "not recorded: the act was decided for entry {expected}, but the log is at entry {at} because an earlier act was not stored; retry it"
    )]
    OutOfOrder { expected: u64, at: u64 },
    /// The log is shorter than, or differs from, a checkpoint this node signed: it was put back
    /// from an older copy, or lost commits.
    #[error("{0}")]
    RolledBack(String),
    /// The entry would be timed before the log's last entry: the computer's clock is behind.
    #[error(
        "not recorded: entry {index} would be timed {time}, before the log's last entry ({last}). This computer's clock is behind the log: set it right, then retry"
    )]
    ClockBehind {
        index: u64,
        time: String,
        last: String,
    },
}

impl StoreError {
    /// Whether this says storage is (or was) failing, so that a retry later may succeed: the
    /// answer to a user is "try again" (HTTP 503), not "this is wrong".
    pub fn is_storage_fault(&self) -> bool {
        matches!(
            self,
            StoreError::NotRecorded(_) | StoreError::Unknown(_) | StoreError::OutOfOrder { .. }
        )
    }
}

/// What kind of storage fault stopped a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// No space left (or a file-size limit reached).
    Full,
    /// The file, or its directory, cannot be written by this process.
    ReadOnly,
    /// The disk or the file system reported an I/O error.
    Io,
    /// Anything else the database reported while writing.
    Other,
}

/// A storage fault: which file, what kind, and the database's or the system's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub file: String,
    pub detail: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Fault { file, detail, .. } = self;
        match self.kind {
            FaultKind::Full => write!(
                f,
                "{file} cannot grow: the disk is full or a file-size limit was reached ({detail}); free space, and writing resumes by itself"
            ),
            FaultKind::ReadOnly => write!(
                f,
                "{file} cannot be written ({detail}); make it and its directory writable for the user running Armory"
            ),
            FaultKind::Io => write!(
                f,
                "the disk reported an I/O error writing {file} ({detail}); check the disk and free space"
            ),
            FaultKind::Other => write!(f, "writing {file} failed: {detail}"),
        }
    }
}

/// Whether a log's storage is working, for `/healthz`, `/metrics` and the UI: the fault while one
/// lasts, and how many storage errors there were since the log was opened.
#[derive(Debug, Default)]
pub struct Health {
    fault: std::sync::Mutex<Option<(Fault, std::time::SystemTime)>>,
    errors: std::sync::atomic::AtomicU64,
}

impl Health {
    /// Records a storage error: counted, kept as the current fault, and printed (stderr).
    pub fn failed(&self, fault: &Fault) {
        self.errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::error!("storage fault: {fault}");
        let mut now = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        let since = now
            .as_ref()
            .map_or_else(std::time::SystemTime::now, |(_, since)| *since);
        *now = Some((fault.clone(), since));
    }

    /// Storage works again (a write was made durable).
    pub fn recovered(&self) {
        let mut now = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((fault, since)) = now.take() {
            let secs = since.elapsed().map_or(0.0, |d| d.as_secs_f64());
            tracing::warn!("storage works again after {secs:.1} s (the fault was: {fault})");
        }
    }

    /// The fault while storage is failing, with when it began.
    pub fn fault(&self) -> Option<(Fault, std::time::SystemTime)> {
        self.fault.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Storage errors since the log was opened.
    pub fn errors(&self) -> u64 {
        self.errors.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The storage boundary. Implementations keep entries, the RFC 6962 stored hashes
/// ([`armory_ledger::merkle::stored_hash_index`] numbering) and signed checkpoints.
pub trait Store: Clone + Send + Sync + 'static {
    /// The log's origin (the checkpoint origin line and key name).
    fn origin(&self) -> &str;

    /// The log's public key.
    fn verifier(&self) -> &LogVerifier;

    /// Queues `batch` for appending: its entries get consecutive indexes after everything queued
    /// before it, and the returned [`Pending`] answers when they are durable. Contract: when the
    /// answer is `Ok`, the entries, their stored hashes, the projection rows and a signed
    /// checkpoint covering them are durably persisted (committed and, with the default settings,
    /// fsynced) in one transaction. On `Err` none of them is, except for
    /// [`StoreError::Unknown`]: storage failed in a way that may have written them (a failed
    /// fsync) and the store could not find out; the idempotency key, written in the same
    /// transaction, tells a retry. Concurrent batches share transactions (group commit), each
    /// with its own indexes.
    fn submit(&self, batch: Batch) -> impl Future<Output = Result<Pending, StoreError>> + Send;

    /// Appends `drafts` and waits until they are durable (see [`Store::submit`]).
    fn append(
        &self,
        drafts: Vec<Draft>,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send {
        async move {
            self.submit(Batch {
                drafts,
                ..Batch::default()
            })
            .await?
            .wait()
            .await
        }
    }

    /// Replaces every projection row, in one transaction.
    fn reset_projection(
        &self,
        rows: Vec<RowWrite>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The outcome recorded with an idempotency key, if that key was used.
    fn idempotent(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Every projection row.
    fn projection(&self) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send;

    /// The latest signed checkpoint.
    fn latest_checkpoint(&self) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Entries with indexes in `range`, as stored, in index order (gaps are absent rows; an
    /// index stored twice, which only a damaged database has, comes twice), appended to `into`
    /// (cleared first), which is given back so that a long read reuses its memory.
    fn read_entries(
        &self,
        range: Range<u64>,
        into: Rows,
    ) -> impl Future<Output = Result<Rows, StoreError>> + Send;

    /// [`Store::read_entries`] as one `Vec` per entry.
    fn entries(
        &self,
        range: Range<u64>,
    ) -> impl Future<Output = Result<Vec<(u64, Vec<u8>)>, StoreError>> + Send {
        async move { Ok(self.read_entries(range, Rows::default()).await?.to_vecs()) }
    }

    /// The entries at these indexes (any order, gaps allowed), in index order; missing ones are
    /// absent. One read, for pages of an item's history.
    fn entries_at(
        &self,
        indexes: &[u64],
    ) -> impl Future<Output = Result<Vec<(u64, Vec<u8>)>, StoreError>> + Send;

    /// Stored hashes with ids in `range`, as stored, into `into` as for [`Store::read_entries`],
    /// in runs: a value holds the hashes with ids `key`, `key + 1`, … back to back, 32 bytes each
    /// (a damaged run may end in a shorter piece). Runs come in key order; see [`hash_pieces`].
    fn read_hashes(
        &self,
        range: Range<u64>,
        into: Rows,
    ) -> impl Future<Output = Result<Rows, StoreError>> + Send;

    /// [`Store::read_hashes`] as one `Vec` per hash.
    fn stored_hashes(
        &self,
        range: Range<u64>,
    ) -> impl Future<Output = Result<Vec<(u64, Vec<u8>)>, StoreError>> + Send {
        async move {
            let runs = self.read_hashes(range, Rows::default()).await?;
            Ok(hash_pieces(&runs).map(|(id, h)| (id, h.to_vec())).collect())
        }
    }

    /// Stored hashes by id; an error if any is missing or damaged.
    fn hashes(&self, ids: &[u64]) -> impl Future<Output = Result<Vec<Hash>, StoreError>> + Send;

    /// Signed checkpoints with sizes in `range`, in size order.
    fn checkpoints(
        &self,
        range: Range<u64>,
    ) -> impl Future<Output = Result<Vec<(u64, Vec<u8>)>, StoreError>> + Send;

    /// How far each table reaches.
    fn extent(&self) -> impl Future<Output = Result<Extent, StoreError>> + Send;
}
