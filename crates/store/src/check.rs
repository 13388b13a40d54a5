//! `armory verify` over a store: every entry, every stored hash, every checkpoint, in one pass.

use crate::{Rows, Store, StoreError, hash_pieces};
use armory_ledger::Hash;
use armory_ledger::merkle::stored_hash_count;
use armory_ledger::verify::{Problem, TreeCheck, check_entry};
use tokio::sync::mpsc;

/// What a successful check covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub entries: u64,
    pub checkpoints: u64,
    pub root: armory_ledger::Hash,
}

/// Why the check did not pass.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Problem(#[from] Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Entries a chunk: 16 sealed bundles.
/// What a chunk of the check aims to hold: its entries' bytes. The first chunk is one bundle;
/// each next one is sized from the entries read so far, in whole bundles, at most `MAX_CHUNK`.
const CHUNK_BYTES: u64 = 4 << 20;
const MAX_CHUNK: u64 = 64 * BUNDLE;
const BUNDLE: u64 = armory_ledger::tiles::TILE_WIDTH;

struct Chunk {
    start: u64,
    end: u64,
    entries: Rows,
    hashes: Rows,
    checkpoints: Vec<(u64, Vec<u8>)>,
    /// A buffer for the leaf hashes.
    leaves: Vec<Hash>,
}

/// A checked chunk's buffers, back to the reader for the next one.
#[derive(Default)]
struct Spare {
    entries: Rows,
    hashes: Rows,
    leaves: Vec<Hash>,
}

/// A chunk with each entry's leaf hash, or the first entry found wrong (its position in the
/// chunk, and why).
struct Hashed {
    chunk: Chunk,
    leaves: Vec<Hash>,
    bad: Option<(usize, Problem)>,
}

/// Checks the whole log. `progress(done, total)` is called after each chunk.
///
/// Three stages run at once, handing chunks of 4,096 entries down bounded channels: reading
/// (entries, stored hashes and checkpoints of a chunk), checking each entry and hashing it (on
/// two threads), and building the tree in order, comparing every stored hash and checkpoint.
/// The chunks' buffers go back to the reader, so a long check allocates only at its start.
pub async fn check_log<S: Store>(
    store: &S,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<CheckReport, CheckError> {
    let extent = store.extent().await?;
    let end = extent.entries_end.max(extent.checkpoint_max.unwrap_or(0));
    let (read_tx, mut read_rx) = mpsc::channel::<Result<Chunk, StoreError>>(2);
    let (hashed_tx, mut hashed_rx) = mpsc::channel::<Result<Hashed, StoreError>>(2);
    let (spare_tx, mut spare_rx) = mpsc::unbounded_channel::<Spare>();
    let reader = store.clone();
    tokio::spawn(async move {
        let (mut start, mut bytes) = (0u64, 0u64);
        loop {
            // Whole bundles, as many as fill CHUNK_BYTES at the mean entry size so far.
            let size = match bytes.checked_div(start) {
                None | Some(0) => BUNDLE,
                Some(mean) => (CHUNK_BYTES / mean / BUNDLE * BUNDLE).clamp(BUNDLE, MAX_CHUNK),
            };
            let stop = (start + size).min(end);
            let spare = spare_rx.try_recv().unwrap_or_default();
            let chunk = read_chunk(&reader, start, stop, spare).await;
            let failed = chunk.is_err();
            if let Ok(chunk) = &chunk {
                bytes += chunk.entries.bytes_len() as u64;
            }
            if read_tx.send(chunk).await.is_err() || failed || stop >= end {
                break;
            }
            start = stop;
        }
    });
    let origin = store.origin().to_owned();
    tokio::spawn(async move {
        while let Some(chunk) = read_rx.recv().await {
            let hashed = match chunk {
                Ok(mut chunk) => {
                    let origin = origin.clone();
                    let leaves = std::mem::take(&mut chunk.leaves);
                    tokio::task::spawn_blocking(move || leaf_hashes(&origin, chunk, leaves))
                        .await
                        .map_err(|e| StoreError::Damaged(format!("checking thread failed: {e}")))
                }
                Err(e) => Err(e),
            };
            let failed = hashed.is_err();
            if hashed_tx.send(hashed).await.is_err() || failed {
                break;
            }
        }
    });

    let mut tree = TreeCheck::new(store.origin());
    let verifier = store.verifier().clone();
    let mut checkpoints = 0u64;
    let mut last_checkpoint: Option<u64> = None;
    while let Some(hashed) = hashed_rx.recv().await {
        let Hashed {
            chunk,
            leaves,
            mut bad,
        } = hashed?;
        let mut entry_at = 0usize;
        let mut hashes = hash_pieces(&chunk.hashes).peekable();
        let mut cps = chunk.checkpoints.iter().peekable();
        // The checkpoint of the empty log comes before any entry.
        if chunk.start == 0
            && let Some((0, note)) = cps.peek()
        {
            tree.check_checkpoint(note, &verifier)?;
            checkpoints += 1;
            last_checkpoint = Some(0);
            cps.next();
        }
        for index in chunk.start..chunk.end {
            if chunk.entries.key(entry_at) != Some(index) {
                let why = if index >= extent.entries_end {
                    format!(
                        "missing: the log ends at {} entries but a checkpoint was signed for {}; the tail was removed",
                        extent.entries_end, end
                    )
                } else {
                    "missing: it was deleted, or entries were renumbered".to_owned()
                };
                return Err(Problem::Entry { index, why }.into());
            }
            if let Some((at, _)) = &bad
                && *at == entry_at
                && let Some((_, problem)) = bad.take()
            {
                return Err(problem.into());
            }
            let Some(&leaf) = leaves.get(entry_at) else {
                return Err(StoreError::Damaged(format!("entry {index} was not checked")).into());
            };
            entry_at += 1;
            if chunk.entries.key(entry_at) == Some(index) {
                return Err(Problem::Entry {
                    index,
                    why: "it is stored twice (as a row and in a sealed bundle)".to_owned(),
                }
                .into());
            }
            let first_id = stored_hash_count(index);
            let mut wrong: Option<Problem> = None;
            let mut level = 0u8;
            tree.push_checked_each(leaf, |hash| {
                let id = first_id + u64::from(level);
                let found = hashes
                    .next_if(|(i, _)| *i == id)
                    .map(|(_, stored)| stored == hash.0);
                if wrong.is_none() {
                    wrong = stored_hash_problem(index, id, level, found);
                }
                if wrong.is_none() && hashes.peek().is_some_and(|(i, _)| *i == id) {
                    wrong = Some(Problem::StoredHash {
                        id,
                        level,
                        position: index >> level,
                        why: "it is stored twice (as a row and in a sealed pack)".to_owned(),
                    });
                }
                level += 1;
            });
            if let Some(problem) = wrong {
                return Err(problem.into());
            }
            if let Some((size, note)) = cps.next_if(|(s, _)| *s == index + 1) {
                tree.check_checkpoint(note, &verifier)?;
                checkpoints += 1;
                last_checkpoint = Some(*size);
            }
        }
        if let Some((id, _)) = hashes.next() {
            // The chunk's ids are exactly those its entries create, each matched above once.
            return Err(Problem::StoredHash {
                id,
                level: 0,
                position: 0,
                why: "it belongs to no entry of this part of the log".to_owned(),
            }
            .into());
        }
        drop(hashes);
        progress(chunk.end, end);
        let _ = spare_tx.send(Spare {
            entries: chunk.entries,
            hashes: chunk.hashes,
            leaves,
        });
    }
    if tree.size() != end {
        return Err(StoreError::Damaged("the log could not be read to its end".into()).into());
    }
    if extent.hashes_end > stored_hash_count(end) {
        return Err(Problem::StoredHash {
            id: stored_hash_count(end),
            level: 0,
            position: 0,
            why: "belongs to no entry (added behind the log's back?)".to_owned(),
        }
        .into());
    }
    match last_checkpoint {
        Some(size) if size == end => {}
        Some(size) => {
            return Err(Problem::Checkpoint {
                size: end,
                why: format!(
                    "no signed checkpoint covers entries {size}..{end}: they were not written by this log's signer"
                ),
            }
            .into());
        }
        None => {
            return Err(Problem::Checkpoint {
                size: end,
                why: "the log has no signed checkpoint".to_owned(),
            }
            .into());
        }
    }
    Ok(CheckReport {
        entries: end,
        checkpoints,
        root: tree.root(),
    })
}

/// What is wrong with stored hash `id` (tree level `level`, created by entry `index`), given
/// whether it was found and matched (`None`: not stored).
fn stored_hash_problem(index: u64, id: u64, level: u8, found: Option<bool>) -> Option<Problem> {
    let bad = |why: &str| Problem::StoredHash {
        id,
        level,
        position: index >> level,
        why: why.to_owned(),
    };
    match found {
        Some(true) => None,
        // At the leaf, the entry and its hash disagree: name the entry.
        Some(false) if level == 0 => Some(Problem::Entry {
            index,
            why: "it does not hash to its stored leaf hash: the entry (or that hash) was changed"
                .to_owned(),
        }),
        Some(false) => Some(bad("differs from the hash of the entries it covers")),
        None => Some(bad("missing")),
    }
}

/// Checks each entry of the chunk and hashes it into `leaves`, on two threads; each thread stops
/// at its first wrong entry (only the first of all is reported: the tree stops there).
fn leaf_hashes(origin: &str, chunk: Chunk, mut leaves: Vec<Hash>) -> Hashed {
    let entries = &chunk.entries;
    let check = |from: usize, out: &mut [Hash]| -> Option<(usize, Problem)> {
        for (k, slot) in out.iter_mut().enumerate() {
            let (index, bytes) = entries.get(from + k)?;
            match check_entry(origin, index, bytes) {
                Ok(leaf) => *slot = leaf,
                Err(problem) => return Some((from + k, problem)),
            }
        }
        None
    };
    let n = entries.len();
    let half = n / 2;
    leaves.clear();
    leaves.resize(n, Hash([0; 32]));
    let (first, second) = leaves.split_at_mut(half);
    let bad = std::thread::scope(|scope| {
        let other = scope.spawn(|| check(half, second));
        let first_bad = check(0, first);
        let second_bad = other.join().unwrap_or_else(|_| {
            Some((
                half,
                Problem::Entry {
                    index: entries.key(half).unwrap_or(0),
                    why: "the checking thread failed".into(),
                },
            ))
        });
        first_bad.or(second_bad)
    });
    Hashed { chunk, leaves, bad }
}

async fn read_chunk<S: Store>(
    store: &S,
    start: u64,
    end: u64,
    spare: Spare,
) -> Result<Chunk, StoreError> {
    let cp_start = if start == 0 { 0 } else { start + 1 };
    // Three independent reads, on separate connections where the store has them.
    let (entries, hashes, checkpoints) = tokio::join!(
        store.read_entries(start..end, spare.entries),
        store.read_hashes(
            stored_hash_count(start)..stored_hash_count(end),
            spare.hashes
        ),
        store.checkpoints(cp_start..end + 1)
    );
    Ok(Chunk {
        start,
        end,
        entries: entries?,
        hashes: hashes?,
        checkpoints: checkpoints?,
        leaves: spare.leaves,
    })
}
