//! `armory verify` over a store: every entry, every stored hash, every checkpoint, in one pass.

use crate::{Rows, Store, StoreError};
use armory_ledger::Hash;
use armory_ledger::checkpoint::{Checkpoint, CheckpointError};
use armory_ledger::keys::LogVerifier;
use armory_ledger::merkle::{RightEdge, node_hash, stored_hash_count};
use armory_ledger::verify::{CheckedEntry, Problem, TimeOrder, TreeCheck, check_entry_in_full};
use tokio::sync::mpsc;

/// What a successful check covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub entries: u64,
    pub checkpoints: u64,
    pub root: armory_ledger::Hash,
    /// Passkey confirmations checked against the keys registered in the log.
    pub passkeys: u64,
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
/// The checkpoints a chunk aims to hold at most: about 10 ms of Ed25519 checks in batches.
const CHUNK_CHECKPOINTS: u64 = 512;
const BUNDLE: u64 = armory_ledger::tiles::TILE_WIDTH;
/// The levels of a bundle's subtree above its leaves (`BUNDLE` is 2 to this power).
const BUNDLE_LEVELS: u8 = armory_ledger::tiles::TILE_HEIGHT;

struct Chunk {
    start: u64,
    end: u64,
    entries: Rows,
    hashes: Rows,
    checkpoints: Vec<(u64, Vec<u8>)>,
    /// Buffers for the leaf hashes and the parents within bundles.
    leaves: Vec<Hash>,
    parents: Vec<Hash>,
}

/// A checked chunk's buffers, back to the reader for the next one.
#[derive(Default)]
struct Spare {
    entries: Rows,
    hashes: Rows,
    leaves: Vec<Hash>,
    parents: Vec<Hash>,
}

/// A chunk with each entry's leaf hash, or the first entry found wrong (its position in the
/// chunk, and why).
struct Hashed {
    chunk: Chunk,
    leaves: Vec<Hash>,
    /// The parent hashes of levels 1 to 8 (within one bundle) that the leaves make, in the
    /// order the tree makes them: the tree computes only those above.
    parents: Vec<Hash>,
    bad: Option<(usize, Problem)>,
    /// The first and last entry that checked out, with their times, to compare across chunks.
    first_time: Option<(u64, [u8; 24])>,
    last_time: Option<(u64, [u8; 24])>,
    /// The chunk's checkpoints, opened (signature checked), by size.
    opened: Vec<(u64, Result<Checkpoint, CheckpointError>)>,
    /// Positions in the chunk of the entries that concern passkeys, for the tree to check in
    /// log order (a registration before the confirmations it keys).
    passkeys: Vec<usize>,
}

/// A chunk's stored hashes one by one, in id order, from its runs.
struct HashCursor<'a> {
    runs: &'a Rows,
    next_run: usize,
    id: u64,
    /// What is left of the current run (`None` once it is used up; an empty run yields one
    /// empty, and so wrong, hash).
    rest: Option<&'a [u8]>,
}

impl<'a> HashCursor<'a> {
    fn new(runs: &'a Rows) -> HashCursor<'a> {
        HashCursor {
            runs,
            next_run: 0,
            id: 0,
            rest: None,
        }
    }

    /// The id of the next stored hash.
    fn peek(&mut self) -> Option<u64> {
        if self.rest.is_none() {
            let (first, run) = self.runs.get(self.next_run)?;
            self.next_run += 1;
            self.id = first;
            self.rest = Some(run);
        }
        Some(self.id)
    }

    /// The next stored hash (at most 32 bytes), if its id is `id`.
    fn take(&mut self, id: u64) -> Option<&'a [u8]> {
        if self.peek()? != id {
            return None;
        }
        let rest = self.rest?;
        let (hash, after) = rest.split_at(rest.len().min(32));
        self.rest = (!after.is_empty()).then_some(after);
        self.id += 1;
        Some(hash)
    }
}

/// Entries the tree checks between two yields to the async runtime: about 0.2 ms.
const YIELD_EVERY: u64 = 1024;

/// Checkers, each taking every other chunk: both cores hash without waiting for each other.
const CHECKERS: usize = 2;

/// How a check verifies the checkpoints' signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signatures {
    /// A chunk's checkpoints in batches ([`Checkpoint::open_all`]): what [`check_log`] does.
    /// A batch that fails is checked again one by one, so a bad signature is still named.
    Batch,
    /// One at a time ([`Checkpoint::open`]): the same result, for comparison.
    OneByOne,
}

/// Checks the whole log. `progress(done, total)` is called after each chunk.
///
/// The work runs in three stages at once, handing chunks of about 4 MB of entries down bounded
/// channels: a reader (a chunk's entries, stored hashes and checkpoints), two checkers taking
/// the chunks in turn (each entry checked canonical and hashed, each checkpoint's signature
/// checked), and the tree, built in order here, comparing every stored hash and checkpoint. The
/// chunks' buffers go back to the reader, so a long check allocates only at its start.
pub async fn check_log<S: Store>(
    store: &S,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<CheckReport, CheckError> {
    check_log_with(store, Signatures::Batch, progress).await
}

/// [`check_log`], with the checkpoints' signatures checked as `signatures` says.
pub async fn check_log_with<S: Store>(
    store: &S,
    signatures: Signatures,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<CheckReport, CheckError> {
    check(store, signatures, Priority::Foreground, progress).await
}

/// [`check_log`] behind the node's acts: the checkers run on threads of their own at a lower
/// CPU priority (nice +10), so that acts arriving while a serving node checks its log at start
/// are answered first (DESIGN.md §3: the check must not hold up the set).
pub async fn check_log_in_background<S: Store>(store: &S) -> Result<CheckReport, CheckError> {
    check(
        store,
        Signatures::Batch,
        Priority::Background,
        &mut |_, _| {},
    )
    .await
}

/// Whether a check runs as the work asked for, or behind other work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Foreground,
    Background,
}

/// Lowers the calling thread's CPU priority by ten nice steps (a check behind the acts); a
/// failure is printed and changes nothing else.
pub fn lower_this_thread() {
    let tid = rustix::thread::gettid();
    let now = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
    if let Err(e) = rustix::process::setpriority_process(Some(tid), (now + 10).min(19)) {
        tracing::warn!(
            "the log check could not lower its priority ({e}); it runs at the acts' priority"
        );
    }
}

async fn check<S: Store>(
    store: &S,
    signatures: Signatures,
    priority: Priority,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<CheckReport, CheckError> {
    let extent = store.extent().await?;
    let end = extent.entries_end.max(extent.checkpoint_max.unwrap_or(0));
    let (spare_tx, mut spare_rx) = mpsc::unbounded_channel::<Spare>();
    let mut to_checkers = Vec::new();
    let mut from_checkers = Vec::new();
    for _ in 0..CHECKERS {
        let (chunk_tx, mut chunk_rx) = mpsc::channel::<Result<Chunk, StoreError>>(1);
        let (hashed_tx, hashed_rx) = mpsc::channel::<Result<Hashed, StoreError>>(1);
        let origin = store.origin().to_owned();
        let verifier = store.verifier().clone();
        let mut work = move || {
            while let Some(chunk) = chunk_rx.blocking_recv() {
                let hashed = chunk.map(|chunk| check_chunk(&origin, &verifier, signatures, chunk));
                let failed = hashed.is_err();
                if hashed_tx.blocking_send(hashed).is_err() || failed {
                    break;
                }
            }
        };
        match priority {
            Priority::Foreground => drop(tokio::task::spawn_blocking(work)),
            // A thread of its own: a lowered priority must not stay with a pool thread that
            // later runs the node's own blocking work.
            Priority::Background => {
                let spawned =
                    std::thread::Builder::new()
                        .name("log-check".into())
                        .spawn(move || {
                            lower_this_thread();
                            work();
                        });
                if let Err(e) = spawned {
                    return Err(CheckError::Store(StoreError::Open(format!(
                        "cannot start the log check thread: {e}"
                    ))));
                }
            }
        }
        to_checkers.push(chunk_tx);
        from_checkers.push(hashed_rx);
    }
    let reader = store.clone();
    tokio::spawn(async move {
        let (mut start, mut bytes, mut notes) = (0u64, 0u64, 0u64);
        for turn in 0usize.. {
            // Whole bundles, as many as fill CHUNK_BYTES at the mean entry size so far, and no
            // more than hold CHUNK_CHECKPOINTS at the checkpoints an entry so far (a log of
            // single acts has one each, and their signatures are then most of the work).
            let mean = bytes.checked_div(start).unwrap_or(0);
            let by_bytes = CHUNK_BYTES.checked_div(mean).unwrap_or(BUNDLE);
            let by_notes = (CHUNK_CHECKPOINTS * start)
                .checked_div(notes)
                .unwrap_or(u64::MAX);
            let size = (by_bytes.min(by_notes) / BUNDLE * BUNDLE).clamp(BUNDLE, MAX_CHUNK);
            let stop = (start + size).min(end);
            let mut spare = spare_rx.try_recv().unwrap_or_default();
            // Room for the whole chunk at once: growing a buffer of megabytes by doubling
            // costs a copy and fresh pages each time. Emptied first: a spare still holds its
            // last chunk, and room reserved beyond that grew each buffer to twice the size,
            // copying the old chunk over.
            spare.entries.clear();
            spare.hashes.clear();
            spare.leaves.clear();
            spare.parents.clear();
            let (count, mean) = ((stop - start) as usize, mean as usize);
            spare
                .entries
                .reserve(count * mean + count / 8 * mean, count);
            spare
                .hashes
                .reserve(count * 64, count / BUNDLE as usize + 2);
            spare.leaves.reserve(count);
            spare.parents.reserve(count);
            let chunk = read_chunk(&reader, start, stop, spare).await;
            let failed = chunk.is_err();
            if let Ok(chunk) = &chunk {
                bytes += chunk.entries.bytes_len() as u64;
                notes += chunk.checkpoints.len() as u64;
            }
            let checker = &to_checkers[turn % CHECKERS];
            if checker.send(chunk).await.is_err() || failed || stop >= end {
                break;
            }
            start = stop;
        }
    });

    let mut tree = TreeCheck::new(store.origin());
    // Entry times across chunks (each chunk checks its own).
    let mut times = TimeOrder::default();
    let mut checkpoints = 0u64;
    let mut last_checkpoint: Option<u64> = None;
    for turn in 0usize.. {
        // In the reader's order: the checkers took the chunks in turn.
        let Some(hashed) = from_checkers[turn % CHECKERS].recv().await else {
            break;
        };
        let Hashed {
            chunk,
            leaves,
            parents,
            mut bad,
            first_time,
            last_time,
            opened,
            passkeys,
        } = hashed?;
        let mut passkeys = passkeys.into_iter().peekable();
        for (index, time) in first_time.into_iter().chain(last_time) {
            times.check_time(index, time)?;
        }
        let mut precomputed = parents.iter();
        let mut entry_at = 0usize;
        let mut hashes = HashCursor::new(&chunk.hashes);
        let mut cps = opened.into_iter().peekable();
        // The checkpoint of the empty log comes before any entry.
        if chunk.start == 0
            && let Some((0, _)) = cps.peek()
            && let Some((_, cp)) = cps.next()
        {
            tree.check_opened_checkpoint(cp)?;
            checkpoints += 1;
            last_checkpoint = Some(0);
        }
        for index in chunk.start..chunk.end {
            if index % YIELD_EVERY == 0 {
                // A chunk's tree work takes milliseconds on an async worker: a server checking
                // its log at start answers requests between these slices.
                tokio::task::yield_now().await;
            }
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
            if let Some(at) = passkeys.next_if_eq(&entry_at)
                && let Some((_, bytes)) = chunk.entries.get(at)
            {
                tree.check_passkeys(index, bytes)?;
            }
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
            let parent = |level: u8, left: &Hash, right: &Hash| {
                let made = (level <= BUNDLE_LEVELS)
                    .then(|| precomputed.next())
                    .flatten();
                made.copied().unwrap_or_else(|| node_hash(left, right))
            };
            tree.push_checked_each_with(leaf, parent, |hash| {
                let id = first_id + u64::from(level);
                // A 32-byte array compared in place (a slice against an array is a `memcmp`).
                let found = hashes
                    .take(id)
                    .map(|stored| <&[u8; 32]>::try_from(stored).is_ok_and(|s| *s == hash.0));
                if found != Some(true) && wrong.is_none() {
                    wrong = stored_hash_problem(index, id, level, found);
                }
                if wrong.is_none() && hashes.peek() == Some(id) {
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
            if let Some((size, cp)) = cps.next_if(|(s, _)| *s == index + 1) {
                tree.check_opened_checkpoint(cp)?;
                checkpoints += 1;
                last_checkpoint = Some(size);
            }
        }
        if let Some(id) = hashes.peek() {
            // The chunk's ids are exactly those its entries create, each matched above once.
            return Err(Problem::StoredHash {
                id,
                level: 0,
                position: 0,
                why: "it belongs to no entry of this part of the log".to_owned(),
            }
            .into());
        }
        progress(chunk.end, end);
        let _ = spare_tx.send(Spare {
            entries: chunk.entries,
            hashes: chunk.hashes,
            leaves,
            parents,
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
        passkeys: tree.passkey_confirmations(),
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

/// Checks each entry of the chunk and hashes it, up to the first wrong one, and opens (checks the
/// signature of) each of its checkpoints.
fn check_chunk(
    origin: &str,
    verifier: &LogVerifier,
    signatures: Signatures,
    mut chunk: Chunk,
) -> Hashed {
    let mut leaves = std::mem::take(&mut chunk.leaves);
    let mut parents = std::mem::take(&mut chunk.parents);
    leaves.clear();
    parents.clear();
    let mut bad = None;
    // Each bundle's subtree, from an empty edge at its first entry (chunks start at a bundle):
    // its parents are the tree's own, up to the bundle's root at level 8.
    let mut bundle = RightEdge::new();
    let mut times = TimeOrder::default();
    let mut first_time = None;
    let mut passkeys = Vec::new();
    for (at, (index, bytes)) in chunk.entries.iter().enumerate() {
        // One scan gives the entry's form, index, origin and time; the passkey filter and the
        // leaf hash read its bytes once more each, while they are in the cache.
        let checked = check_entry_in_full(origin, index, bytes).and_then(|entry| {
            if let Some(time) = entry.time {
                times.check_time(index, time)?;
            }
            Ok(entry)
        });
        match checked {
            Ok(CheckedEntry {
                leaf,
                passkeys: concerns,
                ..
            }) => {
                if at == 0 {
                    first_time = times.last();
                }
                if index % BUNDLE == 0 {
                    bundle = RightEdge::new();
                }
                let mut first = true;
                bundle.push_each(leaf, |hash| {
                    if !std::mem::take(&mut first) {
                        parents.push(*hash);
                    }
                });
                leaves.push(leaf);
                if concerns {
                    passkeys.push(at);
                }
            }
            Err(problem) => {
                bad = Some((at, problem));
                break;
            }
        }
    }
    let sizes = chunk.checkpoints.iter().map(|(size, _)| *size);
    let opened = match signatures {
        Signatures::Batch => {
            let notes: Vec<&[u8]> = chunk
                .checkpoints
                .iter()
                .map(|(_, n)| n.as_slice())
                .collect();
            sizes.zip(Checkpoint::open_all(&notes, verifier)).collect()
        }
        Signatures::OneByOne => sizes
            .zip(chunk.checkpoints.iter())
            .map(|(size, (_, note))| (size, Checkpoint::open(note, verifier)))
            .collect(),
    };
    Hashed {
        chunk,
        leaves,
        parents,
        bad,
        first_time,
        last_time: times.last(),
        opened,
        passkeys,
    }
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
        parents: spare.parents,
    })
}
