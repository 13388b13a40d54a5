//! C2SP `tlog-tiles`: the tree and the entries as static files.
//!
//! c2sp.org/tlog-tiles, "Merkle Tree": "the n-th tile at level l ... is the sequence of the following
//! Merkle Tree Hashes, with i from 0 to 255: MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])".
//! Such a hash is the complete subtree at tree height 8·l, position n·256+i: a stored hash
//! ([`crate::merkle::stored_hash_index`]). Entry bundles are "sequences of big-endian uint16
//! length-prefixed log entries". Paths are `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, with
//! N in zero-padded 3-digit elements, all but the last prefixed with `x`.

use crate::merkle::{Hash, stored_hash_index};
use std::ops::Range;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u8 = 8;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Hashes at tile level L (tree height 8·L).
    Hashes(u8),
    /// An entry bundle.
    Entries,
}

/// One tile: its kind, index within its level and width (1..=256; 256 is full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    pub kind: TileKind,
    pub n: u64,
    pub width: u64,
}

/// Why a tile path or bundle is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("{0:?} is not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])")]
    Path(String),
    #[error("entry bundle is truncated at byte {0}")]
    Truncated(usize),
    #[error("entry of {0} bytes does not fit a bundle (limit 65535)")]
    EntryTooLarge(usize),
}

impl Tile {
    /// The resource path, relative to the log's prefix.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(l) => l.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut n = self.n;
        let mut elements = vec![format!("{:03}", n % 1000)];
        while n >= 1000 {
            n /= 1000;
            elements.push(format!("x{:03}", n % 1000));
        }
        elements.reverse();
        let mut path = format!("tile/{level}/{}", elements.join("/"));
        if self.width < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Parses a resource path.
    pub fn parse(path: &str) -> Result<Tile, TileError> {
        let bad = || TileError::Path(path.to_owned());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l: u8 = parse_decimal(level).ok_or_else(bad)?;
            if l > 63 {
                return Err(bad());
            }
            TileKind::Hashes(l)
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, w)) => {
                let w: u64 = parse_decimal(w).ok_or_else(bad)?;
                if !(1..TILE_WIDTH).contains(&w) {
                    return Err(bad());
                }
                (index, w)
            }
            None => (rest, TILE_WIDTH),
        };
        let elements: Vec<&str> = index.split('/').collect();
        let mut n: u64 = 0;
        for (i, element) in elements.iter().enumerate() {
            let digits = if i + 1 < elements.len() {
                element.strip_prefix('x').ok_or_else(bad)?
            } else {
                element
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let d: u64 = digits.parse().map_err(|_| bad())?;
            n = n
                .checked_mul(1000)
                .and_then(|n| n.checked_add(d))
                .ok_or_else(bad)?;
        }
        let tile = Tile { kind, n, width };
        // One number has one path: refuse leading "x000/" elements.
        if tile.path() != path {
            return Err(bad());
        }
        Ok(tile)
    }

    /// Every tile (hash tiles of all levels and entry bundles) of a tree of `size` entries.
    pub fn all_for_size(size: u64) -> Vec<Tile> {
        let mut tiles = Vec::new();
        for kind in std::iter::once(TileKind::Entries).chain((0..=7u8).map(TileKind::Hashes)) {
            let level = match kind {
                TileKind::Entries => 0,
                TileKind::Hashes(l) => l,
            };
            let count = size >> (u32::from(TILE_HEIGHT) * u32::from(level));
            if count == 0 {
                continue;
            }
            for n in 0..count / TILE_WIDTH {
                tiles.push(Tile {
                    kind,
                    n,
                    width: TILE_WIDTH,
                });
            }
            if !count.is_multiple_of(TILE_WIDTH) {
                tiles.push(Tile {
                    kind,
                    n: count / TILE_WIDTH,
                    width: count % TILE_WIDTH,
                });
            }
        }
        tiles
    }

    /// For a hash tile: the stored-hash ids of its hashes, in order.
    pub fn stored_ids(&self) -> Vec<u64> {
        match self.kind {
            TileKind::Entries => Vec::new(),
            TileKind::Hashes(l) => (0..self.width)
                .map(|i| stored_hash_index(TILE_HEIGHT * l, self.n * TILE_WIDTH + i))
                .collect(),
        }
    }

    /// For an entry bundle: the entry indexes it holds.
    pub fn entry_range(&self) -> Range<u64> {
        let start = self.n * TILE_WIDTH;
        start..start + self.width
    }
}

fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// Concatenates hashes into a hash tile's bytes.
pub fn encode_hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// Splits a hash tile into hashes; `None` when its length is not a multiple of 32.
pub fn decode_hash_tile(bytes: &[u8]) -> Option<Vec<Hash>> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    bytes.chunks_exact(32).map(Hash::from_slice).collect()
}

/// Builds an entry bundle.
pub fn encode_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for entry in entries {
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge(entry.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Splits an entry bundle into entries.
pub fn decode_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let len_bytes = bytes.get(at..at + 2).ok_or(TileError::Truncated(at))?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let entry = bytes
            .get(at + 2..at + 2 + len)
            .ok_or(TileError::Truncated(at))?;
        entries.push(entry);
        at += 2 + len;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec_examples() {
        let t = Tile {
            kind: TileKind::Hashes(0),
            n: 1_234_067,
            width: 256,
        };
        assert_eq!(t.path(), "tile/0/x001/x234/067");
        let p = Tile {
            kind: TileKind::Entries,
            n: 5,
            width: 112,
        };
        assert_eq!(p.path(), "tile/entries/005.p/112");
        for tile in [t, p] {
            assert_eq!(Tile::parse(&tile.path()).unwrap(), tile);
        }
        for bad in [
            "tile/0/1",
            "tile/00/001",
            "tile/0/x000/001",
            "tile/0/001.p/256",
            "tile/0/001.p/0",
            "tile/64/001",
            "tile/0/001/",
            "tiles/0/001",
            "tile/entries/x001",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_spec_tree_of_70000() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
        // tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
        // partial level 2 tile of width 1."
        let tiles = Tile::all_for_size(70_000);
        let of = |kind| {
            tiles
                .iter()
                .filter(|t| t.kind == kind)
                .copied()
                .collect::<Vec<_>>()
        };
        let l0 = of(TileKind::Hashes(0));
        assert_eq!(l0.len(), 274);
        assert_eq!(l0[273].width, 112);
        let l1 = of(TileKind::Hashes(1));
        assert_eq!(
            l1.iter().map(|t| t.width).collect::<Vec<_>>(),
            vec![256, 17]
        );
        let l2 = of(TileKind::Hashes(2));
        assert_eq!(l2.iter().map(|t| t.width).collect::<Vec<_>>(), vec![1]);
        assert_eq!(of(TileKind::Hashes(3)).len(), 0);
        assert_eq!(of(TileKind::Entries).len(), 274);
        // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1."
        let small = Tile::all_for_size(256);
        assert!(small.contains(&Tile {
            kind: TileKind::Hashes(0),
            n: 0,
            width: 256
        }));
        assert!(small.contains(&Tile {
            kind: TileKind::Hashes(1),
            n: 0,
            width: 1
        }));
    }

    #[test]
    fn bundles_round_trip_and_truncation_is_caught() {
        let entries: Vec<&[u8]> = vec![b"a", b"", b"hello"];
        let bundle = encode_bundle(entries.iter().copied()).unwrap();
        assert_eq!(decode_bundle(&bundle).unwrap(), entries);
        assert_eq!(
            decode_bundle(&bundle[..bundle.len() - 1]),
            Err(TileError::Truncated(5))
        );
    }
}
