//! `armory verify` over a store: every entry, every stored hash, every checkpoint, in one pass.
//!
//! Reading runs ahead of checking on a second task (chunks of entries with their hashes and
//! checkpoints), so on two cores the database reads overlap with the hashing.

use crate::{Store, StoreError};
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

const CHUNK: u64 = 4096;

struct Chunk {
    start: u64,
    end: u64,
    entries: Vec<(u64, Vec<u8>)>,
    hashes: Vec<(u64, Vec<u8>)>,
    checkpoints: Vec<(u64, Vec<u8>)>,
}

/// Checks the whole log. `progress(done, total)` is called after each chunk.
pub async fn check_log<S: Store>(
    store: &S,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<CheckReport, CheckError> {
    let extent = store.extent().await?;
    let end = extent.entries_end.max(extent.checkpoint_max.unwrap_or(0));
    let (tx, mut rx) = mpsc::channel::<Result<Chunk, StoreError>>(4);
    let reader = store.clone();
    tokio::spawn(async move {
        let mut start = 0u64;
        loop {
            let stop = (start + CHUNK).min(end);
            let chunk = read_chunk(&reader, start, stop).await;
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed || stop >= end {
                break;
            }
            start = stop;
        }
    });

    let mut tree = TreeCheck::new(store.origin());
    let verifier = store.verifier().clone();
    let mut checkpoints = 0u64;
    let mut last_checkpoint: Option<u64> = None;
    loop {
        let Some(chunk) = rx.recv().await else { break };
        let chunk = chunk?;
        // Decode and hash the chunk's entries on both cores; build the tree in order below.
        let origin = store.origin().to_owned();
        let (rows, leaves) = tokio::task::spawn_blocking(move || {
            let leaves = leaf_hashes(&origin, &chunk.entries);
            (chunk.entries, leaves)
        })
        .await
        .map_err(|e| StoreError::Damaged(format!("checking thread failed: {e}")))?;
        let mut leaves = leaves.into_iter();
        let mut entries = rows.into_iter().peekable();
        let mut hashes = chunk.hashes.into_iter().peekable();
        let mut cps = chunk.checkpoints.into_iter().peekable();
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
            let leaf = match entries.next_if(|(i, _)| *i == index) {
                Some(_) => leaves.next().unwrap_or_else(|| {
                    Err(Problem::Entry {
                        index,
                        why: "not checked".into(),
                    })
                })?,
                None => {
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
            };
            let created = tree.push_checked(leaf);
            let first_id = stored_hash_count(index);
            for (level, hash) in created.iter().enumerate() {
                let id = first_id + level as u64;
                let position = index >> level;
                let bad = |why: &str| Problem::StoredHash {
                    id,
                    level: level as u8,
                    position,
                    why: why.to_owned(),
                };
                match hashes.next_if(|(i, _)| *i == id) {
                    Some((_, stored)) if stored == hash.0 => {}
                    // At the leaf, the entry and its hash disagree: name the entry.
                    Some(_) if level == 0 => {
                        return Err(Problem::Entry {
                            index,
                            why: "it does not hash to its stored leaf hash: the entry (or that hash) was changed"
                                .to_owned(),
                        }
                        .into());
                    }
                    Some(_) => {
                        return Err(bad("differs from the hash of the entries it covers").into());
                    }
                    None => return Err(bad("missing").into()),
                }
            }
            if let Some((size, note)) = cps.next_if(|(s, _)| *s == index + 1) {
                tree.check_checkpoint(&note, &verifier)?;
                checkpoints += 1;
                last_checkpoint = Some(size);
            }
        }
        // The chunk's hash ids are exactly those its entries create, so none is left over here;
        // hashes beyond the last entry are caught after the loop.
        progress(chunk.end, end);
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

/// Each row's leaf hash (or what is wrong with it), computed on two threads.
fn leaf_hashes(origin: &str, rows: &[(u64, Vec<u8>)]) -> Vec<Result<armory_ledger::Hash, Problem>> {
    let check = |part: &[(u64, Vec<u8>)]| -> Vec<Result<armory_ledger::Hash, Problem>> {
        part.iter()
            .map(|(i, d)| check_entry(origin, *i, d))
            .collect()
    };
    let (first, second) = rows.split_at(rows.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| check(second));
        let mut out = check(first);
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.extend(second.iter().map(|(index, _)| {
                Err(Problem::Entry {
                    index: *index,
                    why: "the checking thread failed".into(),
                })
            })),
        }
        out
    })
}

async fn read_chunk<S: Store>(store: &S, start: u64, end: u64) -> Result<Chunk, StoreError> {
    let cp_start = if start == 0 { 0 } else { start + 1 };
    // Three independent reads, on separate connections where the store has them.
    let (entries, hashes, checkpoints) = tokio::join!(
        store.entries(start..end),
        store.stored_hashes(stored_hash_count(start)..stored_hash_count(end)),
        store.checkpoints(cp_start..end + 1)
    );
    Ok(Chunk {
        start,
        end,
        entries: entries?,
        hashes: hashes?,
        checkpoints: checkpoints?,
    })
}
