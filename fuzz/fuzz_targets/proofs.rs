//! Inclusion and consistency proofs (RFC 6962) with arbitrary sizes and hashes: never panic, and
//! never verify a proof the fuzzer made up for a tree it did not build.
#![no_main]
use armory_ledger::merkle::{
    Hash, RightEdge, consistency_plan, inclusion_plan, leaf_hash, verify_consistency,
    verify_inclusion,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 16 {
        return;
    }
    let a = u64::from_le_bytes(bytes[0..8].try_into().unwrap());
    let b = u64::from_le_bytes(bytes[8..16].try_into().unwrap());
    let hashes: Vec<Hash> = bytes[16..]
        .chunks_exact(32)
        .map(|c| Hash::from_slice(c).unwrap())
        .collect();
    let _ = inclusion_plan(a, b);
    let _ = consistency_plan(a, b);
    // A small real tree: its root is what a proof would have to reach.
    let n = b % 64 + 1;
    let mut edge = RightEdge::new();
    for i in 0..n {
        edge.push(leaf_hash(&i.to_be_bytes()));
    }
    let root = edge.root();
    let leaf = leaf_hash(b"not in the tree");
    assert!(verify_inclusion(a % n, n, &leaf, &hashes, &root).is_err());
    let _ = verify_consistency(a, b, &root, &root, &hashes);
});
