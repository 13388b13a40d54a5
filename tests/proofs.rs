//! Property tests: for random sizes m <= n, inclusion and consistency proofs verify, and any
//! altered proof does not.

use armory_ledger::merkle::{
    Hash, RightEdge, consistency_plan, inclusion_plan, leaf_hash, stored_hash_count,
    verify_consistency, verify_inclusion,
};
use proptest::prelude::*;
use std::collections::HashMap;

struct Tree {
    stored: HashMap<u64, Hash>,
    roots: Vec<Hash>,
}

fn tree(n: u64) -> Tree {
    let mut stored = HashMap::new();
    let mut edge = RightEdge::new();
    let mut roots = vec![edge.root()];
    for i in 0..n {
        let first = stored_hash_count(i);
        for (k, h) in edge.push(leaf(i)).into_iter().enumerate() {
            stored.insert(first + k as u64, h);
        }
        roots.push(edge.root());
    }
    Tree { stored, roots }
}

fn leaf(i: u64) -> Hash {
    leaf_hash(format!("entry {i}").as_bytes())
}

/// Ways to alter a proof.
#[derive(Debug, Clone)]
enum Alteration {
    FlipBit { element: usize, bit: usize },
    Drop { element: usize },
    Append,
    Swap { a: usize, b: usize },
}

fn alter(proof: &mut Vec<Hash>, how: &Alteration) -> bool {
    match *how {
        Alteration::FlipBit { element, bit } if !proof.is_empty() => {
            let e = element % proof.len();
            proof[e].0[bit / 8 % 32] ^= 1 << (bit % 8);
            true
        }
        Alteration::Drop { element } if !proof.is_empty() => {
            proof.remove(element % proof.len());
            true
        }
        Alteration::Append => {
            proof.push(leaf(999_999));
            true
        }
        Alteration::Swap { a, b } if proof.len() >= 2 => {
            let (a, b) = (a % proof.len(), b % proof.len());
            if proof[a] == proof[b] {
                return false;
            }
            proof.swap(a, b);
            true
        }
        _ => false,
    }
}

fn alteration() -> impl Strategy<Value = Alteration> {
    prop_oneof![
        (0usize..64, 0usize..256).prop_map(|(element, bit)| Alteration::FlipBit { element, bit }),
        (0usize..64).prop_map(|element| Alteration::Drop { element }),
        Just(Alteration::Append),
        (0usize..64, 0usize..64).prop_map(|(a, b)| Alteration::Swap { a, b }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_proofs_verify_and_altered_ones_do_not(n in 1u64..600, i in 0u64..600, how in alteration()) {
        let i = i % n;
        let t = tree(n);
        let get = |id| t.stored.get(&id).copied();
        let root = t.roots[n as usize];
        let mut proof = inclusion_plan(i, n).unwrap().assemble(get).unwrap();
        prop_assert!(verify_inclusion(i, n, &leaf(i), &proof, &root).is_ok());
        // The same proof does not prove another entry, another index or another root.
        prop_assert!(verify_inclusion(i, n, &leaf(i + 1), &proof, &root).is_err());
        if n > 1 {
            prop_assert!(verify_inclusion((i + 1) % n, n, &leaf(i), &proof, &root).is_err());
        }
        prop_assert!(verify_inclusion(i, n, &leaf(i), &proof, &t.roots[n as usize - 1]).is_err());
        if alter(&mut proof, &how) {
            prop_assert!(verify_inclusion(i, n, &leaf(i), &proof, &root).is_err(), "{:?} accepted", how);
        }
    }

    #[test]
    fn consistency_proofs_verify_and_altered_ones_do_not(n in 1u64..600, m in 1u64..600, how in alteration()) {
        let m = 1 + (m - 1) % n;
        let t = tree(n);
        let get = |id| t.stored.get(&id).copied();
        let (old, new) = (t.roots[m as usize], t.roots[n as usize]);
        let mut proof = consistency_plan(m, n).unwrap().assemble(get).unwrap();
        prop_assert!(verify_consistency(m, n, &old, &new, &proof).is_ok());
        if m < n {
            // A different old tree is not consistent with the new one under this proof.
            prop_assert!(verify_consistency(m, n, &t.roots[m as usize - 1], &new, &proof).is_err());
            let mut other_new = new;
            other_new.0[0] ^= 1;
            prop_assert!(verify_consistency(m, n, &old, &other_new, &proof).is_err());
        }
        if alter(&mut proof, &how) {
            prop_assert!(verify_consistency(m, n, &old, &new, &proof).is_err(), "{:?} accepted", how);
        }
    }
}
