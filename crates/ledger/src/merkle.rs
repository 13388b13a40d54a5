//! The RFC 6962 Merkle tree (RFC 9162 §2.1): hashes, stored-hash numbering, roots, proofs.
//!
//! Hashing (RFC 6962 §2.1): `MTH({d0}) = SHA-256(0x00 || d0)`; for n > 1, with k the largest power of
//! two smaller than n, `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`; the empty tree hashes
//! to `SHA-256()`.
//!
//! Storage: every *complete* subtree's hash is stored once, numbered as Go's `sumdb/tlog` numbers them
//! ([`stored_hash_index`]), so appending entry n writes its leaf hash and the hashes of the subtrees it
//! completes, at ids `stored_hash_count(n)..stored_hash_count(n+1)`. Any other hash (a root, a proof
//! element over an incomplete subtree) is folded from complete subtrees: proofs are planned as lists of
//! stored ids first ([`ProofPlan`]) so that a store can fetch them in one query, then assembled.

use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 hash in the tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Parses 32 raw bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
    /// Parses lower- or upper-case hex.
    pub fn from_hex(s: &str) -> Option<Hash> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Hash(out))
    }
    /// Standard base64, as checkpoints and proofs write hashes.
    pub fn to_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
    /// Parses standard base64.
    pub fn from_base64(s: &str) -> Option<Hash> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        Hash::from_slice(&bytes)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// The root of the empty tree: SHA-256 of no bytes.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// RFC 6962 §2.1 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

/// RFC 6962 §2.1 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The id under which the hash of the complete subtree at `level` (height), position `n` within that
/// level, is stored. The same numbering as Go's `tlog.StoredHashIndex`: level L's n-th hash is written
/// right after level L+1's (2n+1)-th, i.e. in the order an appending log completes them.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    let mut n = n;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    let mut i = 0u64;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + u64::from(level)
}

/// The number of stored hashes in a tree of `n` entries (Go's `tlog.StoredHashCount`).
pub fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut count = stored_hash_index(0, n - 1) + 1;
    let mut i = n - 1;
    while i & 1 == 1 {
        count += 1;
        i >>= 1;
    }
    count
}

/// The right edge of a tree: the hashes of the complete subtrees that make up its size, largest first.
/// Appending a leaf returns the stored hashes it creates; the root is folded from the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RightEdge {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    nodes: Vec<(u8, Hash)>,
}

impl RightEdge {
    /// An empty tree.
    pub fn new() -> RightEdge {
        RightEdge::default()
    }

    /// The ids of the stored hashes that make up the edge of a tree of `size` entries, in the order
    /// [`RightEdge::from_hashes`] wants them.
    pub fn ids_for_size(size: u64) -> Vec<u64> {
        let mut ids = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1u64 << level) != 0 {
                ids.push(stored_hash_index(level, start >> level));
                start += 1u64 << level;
            }
        }
        ids
    }

    /// Rebuilds the edge of a tree of `size` from the hashes at [`RightEdge::ids_for_size`].
    pub fn from_hashes(size: u64, hashes: &[Hash]) -> Option<RightEdge> {
        let levels: Vec<u8> = (0..64u8)
            .rev()
            .filter(|l| size & (1u64 << l) != 0)
            .collect();
        if levels.len() != hashes.len() {
            return None;
        }
        Some(RightEdge {
            size,
            nodes: levels.into_iter().zip(hashes.iter().copied()).collect(),
        })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the stored hashes this creates, in stored-id order starting at
    /// `stored_hash_count(old size)`: the leaf itself, then each subtree it completes.
    pub fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        let mut created = Vec::with_capacity(2);
        self.push_each(leaf, |h| created.push(*h));
        created
    }

    /// [`RightEdge::push`], handing each created hash to `each` in the same order instead of
    /// collecting them (no allocation per leaf).
    pub fn push_each(&mut self, leaf: Hash, each: impl FnMut(&Hash)) {
        self.push_each_with(leaf, |_, left, right| node_hash(left, right), each)
    }

    /// [`RightEdge::push_each`], with each parent hash given by `parent(level, left, right)`
    /// (`level` the parent's) instead of computed here: for a caller that has computed some of
    /// them already, on another thread. `parent` must return `node_hash(left, right)`.
    pub fn push_each_with(
        &mut self,
        leaf: Hash,
        mut parent: impl FnMut(u8, &Hash, &Hash) -> Hash,
        mut each: impl FnMut(&Hash),
    ) {
        each(&leaf);
        self.nodes.push((0, leaf));
        while let [.., (left_level, left), (right_level, right)] = self.nodes[..] {
            if left_level != right_level {
                break;
            }
            let parent = parent(left_level + 1, &left, &right);
            let n = self.nodes.len();
            self.nodes.truncate(n - 2);
            self.nodes.push((left_level + 1, parent));
            each(&parent);
        }
        self.size += 1;
    }

    /// The tree's root hash.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some((_, last)) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, (_, h)| node_hash(h, &acc))
    }
}

/// Why a proof cannot be made or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {old} is larger than {new}")]
    SizeOrder { old: u64, new: u64 },
    #[error("proof has the wrong number of hashes")]
    WrongLength,
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    #[error("stored hash {0} is missing")]
    MissingHash(u64),
    #[error("tree size {0} is beyond any log's ({MAX_TREE_SIZE} entries at most)")]
    TooLarge(u64),
}

/// The largest tree a proof is planned for: stored-hash ids are about twice the size, and must
/// fit in 64 bits (no log comes near: a million entries a second for 146,000 years).
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// A proof as stored-hash ids: each proof element is the fold of the listed complete subtrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    elements: Vec<Vec<u64>>,
}

impl ProofPlan {
    /// Every stored id needed, sorted and without repeats.
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.elements.iter().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Builds the proof from the stored hashes `lookup` returns.
    pub fn assemble(&self, lookup: impl Fn(u64) -> Option<Hash>) -> Result<Vec<Hash>, ProofError> {
        self.elements
            .iter()
            .map(|ids| {
                let hashes = ids
                    .iter()
                    .map(|&id| lookup(id).ok_or(ProofError::MissingHash(id)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(fold_subtrees(&hashes))
            })
            .collect()
    }
}

/// The hash of a range made of consecutive complete subtrees, largest first (RFC 6962's MTH of an
/// incomplete subtree): folded from the right.
fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, h| node_hash(h, &acc))
}

/// The stored ids of the complete subtrees that make up leaves `lo..hi`, largest first.
fn range_ids(mut lo: u64, hi: u64) -> Vec<u64> {
    let mut ids = Vec::new();
    while lo < hi {
        let mut level = 0u8;
        while level < 63 {
            let width = 1u64 << (level + 1);
            if !lo.is_multiple_of(width) || lo + width > hi {
                break;
            }
            level += 1;
        }
        ids.push(stored_hash_index(level, lo >> level));
        lo += 1u64 << level;
    }
    ids
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// RFC 6962 §2.1.1 `PATH(m, D[lo:hi])`, as leaf ranges, from the leaf's sibling upward.
fn path(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
    if hi - lo <= 1 {
        return;
    }
    let k = split_point(hi - lo);
    if m < lo + k {
        path(m, lo, lo + k, out);
        out.push((lo + k, hi));
    } else {
        path(m, lo + k, hi, out);
        out.push((lo, lo + k));
    }
}

/// RFC 6962 §2.1.2 `SUBPROOF(m, D[lo:hi], b)`, as leaf ranges; `m` is an absolute tree size.
fn subproof(m: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<(u64, u64)>) {
    if m == hi {
        if !complete {
            out.push((lo, hi));
        }
        return;
    }
    let k = split_point(hi - lo);
    if m <= lo + k {
        subproof(m, lo, lo + k, complete, out);
        out.push((lo + k, hi));
    } else {
        subproof(m, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

fn plan(ranges: Vec<(u64, u64)>) -> ProofPlan {
    ProofPlan {
        elements: ranges
            .into_iter()
            .map(|(lo, hi)| range_ids(lo, hi))
            .collect(),
    }
}

/// Plans the inclusion proof (audit path) of entry `index` in the tree of `size` entries.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, ProofError> {
    if size > MAX_TREE_SIZE {
        return Err(ProofError::TooLarge(size));
    }
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut ranges = Vec::new();
    path(index, 0, size, &mut ranges);
    Ok(plan(ranges))
}

/// Plans the consistency proof between trees of `old` and `new` entries. Empty when `old` is 0 or
/// equal to `new`.
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, ProofError> {
    if new > MAX_TREE_SIZE {
        return Err(ProofError::TooLarge(new));
    }
    if old > new {
        return Err(ProofError::SizeOrder { old, new });
    }
    let mut ranges = Vec::new();
    if old > 0 && old < new {
        subproof(old, 0, new, true, &mut ranges);
    }
    Ok(plan(ranges))
}

/// Plans the root of the first `size` entries.
pub fn root_plan(size: u64) -> ProofPlan {
    ProofPlan {
        elements: vec![range_ids(0, size)],
    }
}

/// RFC 9162 §2.1.3.2: verifies that `leaf` is entry `index` of the tree of `size` with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // "If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn)
            // is set or fn is 0."
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: verifies that the tree of `new` entries with `new_root` extends the tree of
/// `old` entries with `old_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizeOrder { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == 0 {
        // Every tree extends the empty tree; there is nothing to prove.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    // "If first is an exact power of 2, then prepend first_hash to the consistency_path array."
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A tree kept entirely in memory, as a store would keep it.
    fn build(n: u64) -> (HashMap<u64, Hash>, Vec<Hash>, RightEdge) {
        let mut stored = HashMap::new();
        let mut roots = vec![empty_root()];
        let mut edge = RightEdge::new();
        for i in 0..n {
            let first = stored_hash_count(i);
            for (k, h) in edge
                .push(leaf_hash(&i.to_be_bytes()))
                .into_iter()
                .enumerate()
            {
                stored.insert(first + k as u64, h);
            }
            assert_eq!(stored.len() as u64, stored_hash_count(i + 1));
            roots.push(edge.root());
        }
        (stored, roots, edge)
    }

    /// RFC 6962's recursive definition, computed directly.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_recursive_definition() {
        let (stored, roots, _) = build(70);
        let leaves: Vec<Hash> = (0..70u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 0..=70usize {
            assert_eq!(roots[n], mth(&leaves[..n]), "size {n}");
            let via_plan = root_plan(n as u64)
                .assemble(|id| stored.get(&id).copied())
                .unwrap();
            assert_eq!(via_plan, vec![roots[n]]);
            let edge_ids = RightEdge::ids_for_size(n as u64);
            let edge = RightEdge::from_hashes(
                n as u64,
                &edge_ids.iter().map(|id| stored[id]).collect::<Vec<_>>(),
            )
            .unwrap();
            assert_eq!(edge.root(), roots[n]);
        }
    }

    #[test]
    fn go_stored_hash_numbering() {
        // Values from Go's tlog: level 0 hashes at 0,1,3,4,7,8,10,11; level 1 at 2,5,9; level 2 at 6.
        let l0: Vec<u64> = (0..8).map(|n| stored_hash_index(0, n)).collect();
        assert_eq!(l0, vec![0, 1, 3, 4, 7, 8, 10, 11]);
        assert_eq!(stored_hash_index(1, 0), 2);
        // Found by the `proofs` fuzz target: a size near 2^64 overflowed the stored-hash ids.
        assert!(matches!(
            inclusion_plan(0, u64::MAX),
            Err(ProofError::TooLarge(_))
        ));
        assert!(matches!(
            consistency_plan(1, u64::MAX - 1),
            Err(ProofError::TooLarge(_))
        ));
        assert!(inclusion_plan(MAX_TREE_SIZE - 1, MAX_TREE_SIZE).is_ok());
        assert!(consistency_plan(MAX_TREE_SIZE - 1, MAX_TREE_SIZE).is_ok());
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_count(8), 15);
    }

    #[test]
    fn every_proof_in_small_trees_verifies() {
        let (stored, roots, _) = build(33);
        let get = |id| stored.get(&id).copied();
        for n in 1..=33u64 {
            for i in 0..n {
                let proof = inclusion_plan(i, n).unwrap().assemble(get).unwrap();
                let leaf = leaf_hash(&i.to_be_bytes());
                verify_inclusion(i, n, &leaf, &proof, &roots[n as usize]).unwrap();
            }
            for m in 0..=n {
                let proof = consistency_plan(m, n).unwrap().assemble(get).unwrap();
                verify_consistency(m, n, &roots[m as usize], &roots[n as usize], &proof).unwrap();
            }
        }
    }
}
