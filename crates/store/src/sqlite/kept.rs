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
//! The file holds two slots of [`SLOT`] bytes; each write goes to the slot not holding the newest
//! checkpoint and is fsynced, so a torn write (a crash mid-write) leaves the other slot whole.
//! Each slot is a four-byte big-endian length and a signed note; a slot whose note does not
//! verify is ignored. Writes happen on their own thread ([`Keeper`]), after the commit they
//! describe, latest first: the file may be a moment behind the database, never ahead of it.
//! Someone who puts back the whole data directory (database and this file) is not caught here;
//! a witness that kept a later checkpoint catches that.

use crate::{Fault, FaultKind, Health};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::keys::LogVerifier;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// Bytes per slot: a checkpoint note is a few hundred bytes.
const SLOT: usize = 2048;

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

/// Writes `note` into `slot` of the file and fsyncs it.
fn write(file: &File, slot: usize, note: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(note.len())
        .ok()
        .filter(|n| (*n as usize) + 4 <= SLOT)
        .ok_or_else(|| std::io::Error::other("checkpoint too large for its slot"))?;
    let mut buf = vec![0u8; SLOT];
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf[4..4 + note.len()].copy_from_slice(note);
    file.write_all_at(&buf, (slot * SLOT) as u64)?;
    file.sync_data()
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

/// What the keeper thread is asked to do.
#[derive(Default)]
struct Queue {
    next: Option<Vec<u8>>,
    stop: bool,
}

/// Writes the newest checkpoint into the file on its own thread, so that the append path does
/// not wait for a second fsync. Only the newest note waiting is written.
pub(super) struct Keeper {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Keeper {
    /// Opens (or creates) the file; the first write goes to the slot after `newest_slot`.
    pub(super) fn start(
        path: &Path,
        newest_slot: Option<usize>,
        health: Arc<Health>,
    ) -> Result<Keeper, Fault> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| io_fault(path, &e))?;
        let queue: Arc<(Mutex<Queue>, Condvar)> = Arc::default();
        let shared = queue.clone();
        let path = path.to_owned();
        let mut slot = newest_slot.map_or(0, |s| 1 - s);
        let thread = std::thread::Builder::new()
            .name("armory-kept-checkpoint".into())
            .spawn(move || {
                let (lock, ready) = &*shared;
                loop {
                    let note = {
                        let mut q = lock.lock().unwrap_or_else(|e| e.into_inner());
                        while q.next.is_none() && !q.stop {
                            q = ready.wait(q).unwrap_or_else(|e| e.into_inner());
                        }
                        match q.next.take() {
                            Some(note) => note,
                            None => return,
                        }
                    };
                    match write(&file, slot, &note) {
                        Ok(()) => slot = 1 - slot,
                        Err(e) => health.failed(&io_fault(&path, &e)),
                    }
                }
            })
            .map_err(|e| Fault {
                kind: FaultKind::Other,
                file: "a thread".into(),
                detail: e.to_string(),
            })?;
        Ok(Keeper {
            queue,
            thread: Some(thread),
        })
    }

    /// Asks for `note` (a checkpoint the database now holds durably) to be kept.
    pub(super) fn keep(&self, note: Vec<u8>) {
        let (lock, ready) = &*self.queue;
        lock.lock().unwrap_or_else(|e| e.into_inner()).next = Some(note);
        ready.notify_one();
    }
}

impl Drop for Keeper {
    /// Writes what is waiting, then stops.
    fn drop(&mut self) {
        let (lock, ready) = &*self.queue;
        lock.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        ready.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
