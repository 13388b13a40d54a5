//! Verification that names the first thing that is wrong.
//!
//! [`TreeCheck`] rebuilds the tree from entry bytes, one at a time, checking each entry's form and
//! position; every stored hash, tile and checkpoint is then compared with what the entries imply.
//! A checkpoint whose root equals the root recomputed from the first `size` entries is, by
//! construction, consistent with every other checkpoint checked the same way: all are prefixes of
//! the one verified sequence of entries.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::entry::entry_time;
use crate::entry::{EntryFault, check_canonical_entry, scan_entry};
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
        // The bytes' order, as three big-endian words (a `memcmp` call for an array otherwise).
        let words = |t: &[u8; 24]| {
            let word = |k: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&t[8 * k..8 * k + 8]);
                u64::from_be_bytes(w)
            };
            (word(0), word(1), word(2))
        };
        if let Some((before, last)) = self.last
            && words(&time) < words(&last)
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

/// Feeds entry `index` (already checked canonical) to `confirmations` if it concerns passkeys: a
/// registration, or a confirmation whose assertion must verify against the key registered.
fn check_confirmations(
    confirmations: &mut crate::webauthn::Confirmations,
    index: u64,
    bytes: &[u8],
) -> Result<(), Problem> {
    if !may_concern_passkeys(bytes) {
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

/// [`crate::webauthn::Confirmations::concerns`] (the entry's bytes hold `passkey`), with the
/// searcher built once: built per call it cost more than the search itself, once for every
/// entry of a log (a unit test holds the two to the same answers).
pub fn may_concern_passkeys(bytes: &[u8]) -> bool {
    static PASSKEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"passkey"));
    PASSKEY.find(bytes).is_some()
}

/// What [`check_entry_in_full`] found of an entry that is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedEntry {
    pub leaf: Hash,
    /// Its time, for [`TimeOrder::check_time`] (what [`entry_time`] reads).
    pub time: Option<[u8; 24]>,
    /// Whether it may concern passkeys ([`may_concern_passkeys`]): a registration or a
    /// confirmation, to be checked in log order with [`TreeCheck::check_passkeys`].
    pub passkeys: bool,
}

/// [`check_entry`], also giving what the rest of a check needs of the entry (its time, whether
/// it concerns passkeys) from the same scan, so that a checker reads each entry's bytes as few
/// times as it can.
pub fn check_entry_in_full(
    origin: &str,
    index: u64,
    bytes: &[u8],
) -> Result<CheckedEntry, Problem> {
    if let Some(head) = scan_entry(bytes)
        && head.index == index
        && head.origin_is(origin)
    {
        return Ok(CheckedEntry {
            leaf: leaf_hash(bytes),
            time: Some(head.time),
            passkeys: may_concern_passkeys(bytes),
        });
    }
    // Wrong (then this names why), or an entry the scan leaves to the decoder.
    let leaf = check_entry(origin, index, bytes)?;
    Ok(CheckedEntry {
        leaf,
        time: entry_time(bytes),
        passkeys: may_concern_passkeys(bytes),
    })
}

/// Checks entry `index` of the log `origin` (canonical form, its own index and origin) and returns
/// its leaf hash.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Actor, Entry};
    use crate::webauthn::Confirmations;
    use serde_json::json;

    fn entry(index: u64, text: &str) -> Vec<u8> {
        Entry {
            v: 1,
            origin: "armory.test/log".into(),
            index,
            time: "2026-11-23T06:35:55.123Z".into(),
            event: json!({"type": "note", "text": text}),
            actors: vec![Actor {
                person: "p1".into(),
                role: "armorer".into(),
                method: "local".into(),
                assertion: None,
            }],
        }
        .encode()
        .unwrap_or_default()
    }

    #[test]
    fn the_passkey_filter_answers_as_the_confirmations_filter() {
        let long = "x".repeat(100);
        let mut cases: Vec<String> = vec![
            String::new(),
            "passkey".into(),
            "passke".into(),
            "asskey".into(),
            "PASSKEY".into(),
            "a passkey_registered".into(),
            format!("{long}passkey"),
            format!("passkey{long}"),
            format!("{long}passke{long}y"),
            long.clone(),
        ];
        for at in 0..80 {
            cases.push(format!("{}passkey{}", "y".repeat(at), "z".repeat(80 - at)));
            cases.push(format!("{}passkex{}", "y".repeat(at), "z".repeat(80 - at)));
        }
        for case in &cases {
            assert_eq!(
                may_concern_passkeys(case.as_bytes()),
                Confirmations::concerns(case.as_bytes()),
                "{case:?}"
            );
        }
        let plain = entry(3, "dummies rattle-checked");
        assert!(!may_concern_passkeys(&plain));
        assert!(may_concern_passkeys(&entry(3, "confirmed by passkey")));
    }

    #[test]
    fn the_full_entry_check_gives_what_the_separate_checks_give() {
        let origin = "armory.test/log";
        for (index, text) in [(0, "a"), (5, "by passkey"), (9, "é€😀 \" \\ \n")] {
            let bytes = entry(index, text);
            let full = check_entry_in_full(origin, index, &bytes);
            assert_eq!(
                full,
                Ok(CheckedEntry {
                    leaf: leaf_hash(&bytes),
                    time: entry_time(&bytes),
                    passkeys: Confirmations::concerns(&bytes),
                })
            );
            assert_eq!(full.map(|e| e.leaf), check_entry(origin, index, &bytes));
            // At another index, for another log, or changed, it is refused with the same words.
            assert_eq!(
                check_entry_in_full(origin, index + 1, &bytes).map(|e| e.leaf),
                check_entry(origin, index + 1, &bytes)
            );
            assert!(check_entry_in_full("other.test/log", index, &bytes).is_err());
            let mut changed = bytes.clone();
            changed[1] = b' ';
            let refused = check_entry_in_full(origin, index, &changed);
            assert!(refused.is_err());
            assert_eq!(
                refused.map(|e| e.leaf),
                check_entry(origin, index, &changed)
            );
        }
    }

    #[test]
    fn times_are_ordered_as_their_bytes() {
        let times: [&[u8; 24]; 5] = [
            b"2026-11-23T06:35:55.123Z",
            b"2026-11-23T06:35:55.124Z",
            b"2026-11-23T06:36:00.000Z",
            b"2026-12-01T00:00:00.000Z",
            b"2027-01-01T00:00:00.000Z",
        ];
        for a in times {
            for b in times {
                let mut order = TimeOrder::default();
                assert!(order.check_time(0, *a).is_ok());
                assert_eq!(order.check_time(1, *b).is_ok(), b >= a, "{a:?} then {b:?}");
            }
        }
    }
}
