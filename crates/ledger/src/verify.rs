//! Verification that names the first thing that is wrong.
//!
//! [`TreeCheck`] rebuilds the tree from entry bytes, one at a time, checking each entry's form and
//! position; every stored hash, tile and checkpoint is then compared with what the entries imply.
//! A checkpoint whose root equals the root recomputed from the first `size` entries is, by
//! construction, consistent with every other checkpoint checked the same way: all are prefixes of
//! the one verified sequence of entries.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::entry::entry_time;
use crate::entry::{EntryFault, check_canonical_entry};
use crate::keys::LogVerifier;
use crate::merkle::{Hash, RightEdge, leaf_hash};
use crate::tiles::{Tile, TileKind, decode_bundle, decode_hash_tile};
use std::fs;
use std::path::Path;

/// The first thing found wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("entry {index}: {why}")]
    Entry { index: u64, why: String },
    #[error("stored hash {id} (tree level {level}, position {position}): {why}")]
    StoredHash {
        id: u64,
        level: u8,
        position: u64,
        why: String,
    },
    #[error("checkpoint for size {size}: {why}")]
    Checkpoint { size: u64, why: String },
    #[error("{path}: {why}")]
    File { path: String, why: String },
}

/// Entries in time order: each timed no earlier than the one before it. A clock set back (by
/// mistake, or to make an act look earlier) shows as the first entry out of order.
#[derive(Debug, Clone, Default)]
pub struct TimeOrder {
    last: Option<(u64, [u8; 24])>,
}

impl TimeOrder {
    /// Checks entry `index` (already checked as canonical) against the one checked before it.
    pub fn check(&mut self, index: u64, bytes: &[u8]) -> Result<(), Problem> {
        match entry_time(bytes) {
            Some(time) => self.check_time(index, time),
            None => Ok(()),
        }
    }

    /// Checks that entry `index`, timed `time`, is not timed before the last one checked.
    pub fn check_time(&mut self, index: u64, time: [u8; 24]) -> Result<(), Problem> {
        if let Some((before, last)) = self.last
            && time < last
        {
            return Err(Problem::Entry {
                index,
                why: format!(
                    "it is timed {}, before entry {before} ({}): entries never go back in time, so a clock was set back when it was written",
                    String::from_utf8_lossy(&time),
                    String::from_utf8_lossy(&last)
                ),
            });
        }
        self.last = Some((index, time));
        Ok(())
    }

    /// The last entry checked and its time.
    pub fn last(&self) -> Option<(u64, [u8; 24])> {
        self.last
    }
}

/// Rebuilds a log's tree from its entries, checking each.
#[derive(Debug)]
pub struct TreeCheck {
    origin: String,
    edge: RightEdge,
    times: TimeOrder,
    confirmations: crate::webauthn::Confirmations,
}

impl TreeCheck {
    /// Starts at the empty tree of the log `origin`.
    pub fn new(origin: &str) -> TreeCheck {
        TreeCheck {
            origin: origin.to_owned(),
            edge: RightEdge::new(),
            times: TimeOrder::default(),
            confirmations: crate::webauthn::Confirmations::new(),
        }
    }

    /// Passkey confirmations checked so far.
    pub fn passkey_confirmations(&self) -> u64 {
        self.confirmations.checked
    }

    /// Checks entry `index` (already checked canonical), in log order, if it concerns passkeys: a
    /// registration or removal is kept, an assertion verified against the key registered
    /// before it. For callers that check entries elsewhere and build the tree here.
    pub fn check_passkeys(&mut self, index: u64, bytes: &[u8]) -> Result<(), Problem> {
        check_confirmations(&mut self.confirmations, index, bytes)
    }

    /// Entries checked so far.
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// The root of the entries checked so far.
    pub fn root(&self) -> Hash {
        self.edge.root()
    }

    /// Checks the next entry (index [`TreeCheck::size`]): canonical form, its own index and
    /// origin, its time not before the last entry's. Returns the complete-subtree hashes it
    /// creates: element k is at tree level k, position `index >> k` (the leaf hash first).
    pub fn push_entry(&mut self, bytes: &[u8]) -> Result<Vec<Hash>, Problem> {
        let leaf = check_entry(&self.origin, self.size(), bytes)?;
        self.times.check(self.size(), bytes)?;
        self.check_passkeys(self.size(), bytes)?;
        Ok(self.edge.push(leaf))
    }

    /// Adds the next leaf hash, already checked with [`check_entry`] (so that entries can be checked
    /// on several threads and the tree built in order), handing each created hash to `each` (leaf
    /// first), with the parent hashes from `parent` as [`RightEdge::push_each_with`] says.
    pub fn push_checked_each_with(
        &mut self,
        leaf: Hash,
        parent: impl FnMut(u8, &Hash, &Hash) -> Hash,
        each: impl FnMut(&Hash),
    ) {
        self.edge.push_each_with(leaf, parent, each)
    }

    /// Checks a signed checkpoint against the tree as rebuilt so far (its size must be the current
    /// size), given as opened with [`Checkpoint::open`] and the log's key (so that signatures can
    /// be checked on other threads, ahead of the tree).
    pub fn check_opened_checkpoint(
        &self,
        opened: Result<Checkpoint, CheckpointError>,
    ) -> Result<Checkpoint, Problem> {
        let size = self.size();
        let bad = |why: String| Problem::Checkpoint { size, why };
        let checkpoint = opened.map_err(|e| bad(e.to_string()))?;
        if checkpoint.origin != self.origin {
            return Err(bad(format!("it is for log {:?}", checkpoint.origin)));
        }
        if checkpoint.size != size {
            return Err(bad(format!("it says size {}", checkpoint.size)));
        }
        if checkpoint.root != self.root() {
            return Err(bad(format!(
                "its root {} is not the root of the first {size} entries ({})",
                checkpoint.root,
                self.root()
            )));
        }
        Ok(checkpoint)
    }
}

/// Checks entry `index` of the log `origin` (canonical form, its own index and origin) and returns
/// its leaf hash.
/// Feeds entry `index` (already checked canonical) to `confirmations` if it concerns passkeys: a
/// registration, or a confirmation whose assertion must verify against the key registered.
fn check_confirmations(
    confirmations: &mut crate::webauthn::Confirmations,
    index: u64,
    bytes: &[u8],
) -> Result<(), Problem> {
    if !crate::webauthn::Confirmations::concerns(bytes) {
        return Ok(());
    }
    let entry = crate::entry::Entry::decode(bytes).map_err(|e| Problem::Entry {
        index,
        why: e.to_string(),
    })?;
    confirmations.entry(&entry).map_err(|e| Problem::Entry {
        index,
        why: format!("passkey confirmation: {e}"),
    })
}

pub fn check_entry(origin: &str, index: u64, bytes: &[u8]) -> Result<Hash, Problem> {
    check_canonical_entry(bytes, origin, index).map_err(|e| Problem::Entry {
        index,
        why: match e {
            EntryFault::Origin(other) => format!("it belongs to log {other:?}, not {origin:?}"),
            fault => fault.to_string(),
        },
    })?;
    Ok(leaf_hash(bytes))
}

/// What an export directory holds: its checkpoint and how much was checked.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub checkpoint: Checkpoint,
    pub files: usize,
    /// The root of the first `size` entries, for each size asked for that the export covers.
    pub roots: Vec<(u64, Hash)>,
    /// Passkey confirmations checked.
    pub passkeys: u64,
}

/// File names of an export directory (also the static-serving layout of the log).
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// The log's public key in signed-note form.
pub const PUBLIC_KEY_FILE: &str = "log.pub";

/// Verifies an exported log directory: the checkpoint's signature, every entry bundle and every hash
/// tile the checkpoint's size calls for, and the root. Also gives the root of the first `size`
/// entries for each size in `roots_at` up to the checkpoint's (to compare with checkpoints kept
/// elsewhere). `progress(done, total)` reports entries.
pub fn verify_export_dir(
    dir: &Path,
    verifier: &LogVerifier,
    roots_at: &[u64],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportSummary, Problem> {
    let read = |rel: &str| {
        fs::read(dir.join(rel)).map_err(|e| Problem::File {
            path: rel.to_owned(),
            why: if e.kind() == std::io::ErrorKind::NotFound {
                "missing".to_owned()
            } else {
                e.to_string()
            },
        })
    };
    let note = read(CHECKPOINT_FILE)?;
    let checkpoint = Checkpoint::open(&note, verifier).map_err(|e| Problem::File {
        path: CHECKPOINT_FILE.to_owned(),
        why: e.to_string(),
    })?;
    let size = checkpoint.size;
    let tiles = Tile::all_for_size(size);
    let mut tree = TreeCheck::new(&checkpoint.origin);
    let mut roots: Vec<(u64, Hash)> = Vec::new();
    let mut note_root = |tree: &TreeCheck| {
        if roots_at.contains(&tree.size()) && !roots.iter().any(|(n, _)| *n == tree.size()) {
            roots.push((tree.size(), tree.root()));
        }
    };
    note_root(&tree);
    // The hash tile currently being compared, per tile level: (tile, its hashes).
    let mut open: Vec<Option<(Tile, Vec<Hash>)>> = vec![None; 8];
    let mut files = 1usize;
    for bundle_tile in tiles.iter().filter(|t| t.kind == TileKind::Entries) {
        let path = bundle_tile.path();
        let bytes = read(&path)?;
        files += 1;
        let entries = decode_bundle(&bytes).map_err(|e| Problem::File {
            path: path.clone(),
            why: e.to_string(),
        })?;
        if entries.len() as u64 != bundle_tile.width {
            return Err(Problem::File {
                path,
                why: format!(
                    "holds {} entries, expected {}",
                    entries.len(),
                    bundle_tile.width
                ),
            });
        }
        for entry in entries {
            let index = tree.size();
            let created = tree.push_entry(entry)?;
            note_root(&tree);
            for (level, hash) in created.iter().enumerate() {
                if level % 8 != 0 {
                    continue;
                }
                let tile_level = (level / 8) as u8;
                let position = index >> level;
                let n = position / 256;
                let slot = &mut open[usize::from(tile_level)];
                if slot.as_ref().is_none_or(|(t, _)| t.n != n) {
                    let tile = tiles
                        .iter()
                        .copied()
                        .find(|t| t.kind == TileKind::Hashes(tile_level) && t.n == n)
                        .ok_or_else(|| Problem::Checkpoint {
                            size,
                            why: "entries go beyond the checkpoint's tiles".to_owned(),
                        })?;
                    let tile_path = tile.path();
                    let data = read(&tile_path)?;
                    files += 1;
                    let hashes = decode_hash_tile(&data)
                        .filter(|h| h.len() as u64 == tile.width)
                        .ok_or_else(|| Problem::File {
                            path: tile_path.clone(),
                            why: format!(
                                "is {} bytes, expected {} hashes of 32 bytes",
                                data.len(),
                                tile.width
                            ),
                        })?;
                    *slot = Some((tile, hashes));
                }
                if let Some((tile, hashes)) = slot.as_ref() {
                    let i = (position % 256) as usize;
                    if hashes.get(i) != Some(hash) {
                        return Err(Problem::File {
                            path: tile.path(),
                            why: format!(
                                "hash {i} does not match the hash of entries {}..{}",
                                position << level,
                                (position + 1) << level
                            ),
                        });
                    }
                }
            }
        }
        progress(tree.size(), size);
    }
    // Every tile the size calls for must have been read and fully used.
    for tile in tiles
        .iter()
        .filter(|t| matches!(t.kind, TileKind::Hashes(_)))
    {
        let TileKind::Hashes(l) = tile.kind else {
            continue;
        };
        let seen = open[usize::from(l)]
            .as_ref()
            .is_some_and(|(t, _)| t.n >= tile.n);
        if !seen {
            return Err(Problem::File {
                path: tile.path(),
                why: "was never checked".to_owned(),
            });
        }
    }
    if tree.root() != checkpoint.root {
        return Err(Problem::File {
            path: CHECKPOINT_FILE.to_owned(),
            why: format!(
                "root {} is not the root of the exported entries ({})",
                checkpoint.root,
                tree.root()
            ),
        });
    }
    roots.sort_unstable_by_key(|(n, _)| *n);
    Ok(ExportSummary {
        checkpoint,
        files,
        roots,
        passkeys: tree.passkey_confirmations(),
    })
}

/// The entries of an exported log directory, in index order, up to `size` (its checkpoint's size,
/// or less). Reads the entry bundles only: check the directory with [`verify_export_dir`] first.
pub fn read_export_entries(dir: &Path, size: u64) -> Result<Vec<Vec<u8>>, Problem> {
    let mut out = Vec::new();
    for tile in Tile::all_for_size(size)
        .into_iter()
        .filter(|t| t.kind == TileKind::Entries)
    {
        let path = tile.path();
        let bytes = fs::read(dir.join(&path)).map_err(|e| Problem::File {
            path: path.clone(),
            why: e.to_string(),
        })?;
        let entries = decode_bundle(&bytes).map_err(|e| Problem::File {
            path: path.clone(),
            why: e.to_string(),
        })?;
        out.extend(entries.into_iter().map(<[u8]>::to_vec));
    }
    Ok(out)
}
