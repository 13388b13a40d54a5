//! The latest checkpoint, kept a second time outside the database (`armory.db.checkpoint`), so
//! that a log which went back in time is noticed at start.
//!
//! SQLite can legitimately come back older than it was: a damaged or missing `-wal` file makes it
//! recover an earlier state, and a copy of the database put back from a backup is an earlier
//! state on purpose. Either way the log would silently lose its last entries, and the node would
//! then sign a second, different checkpoint for a size it had already signed: a fork. This file
//! is not rolled back with the database, so at start the writer compares the two (see
//! [`super::SqliteLog::open_writer`]).
//!
//! The file holds two slots of [`SLOT`] bytes. Each slot is a four-byte big-endian length and a
//! signed note; a slot whose note does not verify is ignored, and the larger checkpoint of the
//! two wins. The writer ([`Keeper`]) writes each checkpoint into the file right after the commit
//! that made it durable: the file may be a moment behind the database, never ahead of it.
//!
//! The write is not fsynced each time: a second fsync per commit, on the disk of the database's
//! own, cost a third of the rate of single durable appends, and a thread to do it apart cost a
//! thread switch per commit (BENCHMARKS.md). A killed process loses nothing (the write is in
//! the kernel); the file is fsynced at most [`SYNC_EVERY`] after a write, so a power loss can
//! leave it that far behind the database, which only narrows what it catches. Writes between
//! two fsyncs all go to the same slot, the one not holding the last fsynced checkpoint, so a
//! torn write (power lost mid-write) leaves the other slot whole.
//! Someone who puts back the whole data directory (database and this file) is not caught here;
//! a witness that kept a later checkpoint catches that.

use crate::{Fault, FaultKind, Health};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::keys::LogVerifier;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes per slot: a checkpoint note is a few hundred bytes.
const SLOT: usize = 2048;

/// The longest a checkpoint written into the file waits for its fsync.
pub(super) const SYNC_EVERY: Duration = Duration::from_millis(50);

/// The path of the kept checkpoint for the database at `db`.
pub(super) fn path_for(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.checkpoint", db.display()))
}

/// The newest checkpoint in the file that verifies, with its note, and the slot it is in.
/// `Ok(None)` when the file does not exist or holds no valid checkpoint.
pub(super) fn read(
    path: &Path,
    verifier: &LogVerifier,
) -> std::io::Result<Option<(Checkpoint, Vec<u8>, usize)>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut best: Option<(Checkpoint, Vec<u8>, usize)> = None;
    for (slot, chunk) in bytes.chunks(SLOT).take(2).enumerate() {
        let Some((len, rest)) = chunk.split_first_chunk::<4>() else {
            continue;
        };
        let len = u32::from_be_bytes(*len) as usize;
        let Some(note) = rest.get(..len) else {
            continue;
        };
        let Ok(checkpoint) = Checkpoint::open(note, verifier) else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|(b, _, _)| checkpoint.size > b.size)
        {
            best = Some((checkpoint, note.to_vec(), slot));
        }
    }
    Ok(best)
}

/// Writes `note` into `slot` of the file (not fsynced).
fn write(file: &File, slot: usize, note: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(note.len())
        .ok()
        .filter(|n| (*n as usize) + 4 <= SLOT)
        .ok_or_else(|| std::io::Error::other("checkpoint too large for its slot"))?;
    let mut buf = vec![0u8; SLOT];
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf[4..4 + note.len()].copy_from_slice(note);
    file.write_all_at(&buf, (slot * SLOT) as u64)
}

fn io_fault(path: &Path, e: &std::io::Error) -> Fault {
    let kind = match e.raw_os_error() {
        Some(28) | Some(27) | Some(122) => FaultKind::Full, // ENOSPC, EFBIG, EDQUOT
        Some(13) | Some(30) | Some(1) => FaultKind::ReadOnly, // EACCES, EROFS, EPERM
        Some(5) => FaultKind::Io,
        _ => FaultKind::Other,
    };
    Fault {
        kind,
        file: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// Keeps the newest checkpoint in the file, on the writer's thread (see the module doc).
pub(super) struct Keeper {
    file: File,
    path: PathBuf,
    health: Arc<Health>,
    /// The slot written to until the next fsync.
    slot: usize,
    /// Since when `slot` holds a write not yet fsynced.
    unsynced: Option<Instant>,
}

impl Keeper {
    /// Opens (or creates) the file; the first write goes to the slot after `newest_slot`.
    pub(super) fn start(
        path: &Path,
        newest_slot: Option<usize>,
        health: Arc<Health>,
    ) -> Result<Keeper, Fault> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io_fault(path, &e))?;
        Ok(Keeper {
            file,
            path: path.to_owned(),
            health,
            slot: newest_slot.map_or(0, |s| 1 - s),
            unsynced: None,
        })
    }

    /// Writes `note` (a checkpoint the database now holds durably) into the file, and fsyncs
    /// when the last fsync is due.
    pub(super) fn keep(&mut self, note: &[u8]) {
        match write(&self.file, self.slot, note) {
            Ok(()) => {
                self.unsynced.get_or_insert_with(Instant::now);
            }
            Err(e) => self.health.failed(&io_fault(&self.path, &e)),
        }
        if self.due_in() == Some(Duration::ZERO) {
            self.sync();
        }
    }

    /// How long until the file must be fsynced; `None` when nothing waits for it.
    pub(super) fn due_in(&self) -> Option<Duration> {
        self.unsynced
            .map(|since| (since + SYNC_EVERY).saturating_duration_since(Instant::now()))
    }

    /// Fsyncs what was written; the next writes go to the other slot. A failed fsync is a
    /// storage fault, and is tried again [`SYNC_EVERY`] later.
    pub(super) fn sync(&mut self) {
        if self.unsynced.is_none() {
            return;
        }
        match self.file.sync_data() {
            Ok(()) => {
                self.slot = 1 - self.slot;
                self.unsynced = None;
            }
            Err(e) => {
                self.health.failed(&io_fault(&self.path, &e));
                self.unsynced = Some(Instant::now());
            }
        }
    }
}

impl Drop for Keeper {
    /// Fsyncs what was written.
    fn drop(&mut self) {
        self.sync();
    }
}
