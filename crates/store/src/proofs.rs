//! Proofs and receipts from any [`Store`]: plan the stored hashes a proof needs, fetch them in one
//! read, assemble.

use crate::{Store, StoreError};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::merkle::{self, Hash};
use armory_ledger::proof::EntryProof;

/// The inclusion proof of entry `index` in the tree of `size` entries.
pub async fn inclusion_proof<S: Store>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, StoreError> {
    let plan =
        merkle::inclusion_plan(index, size).map_err(|_| StoreError::NoSuchEntry(index, size))?;
    assemble(store, &plan).await
}

/// The consistency proof between trees of `old` and `new` entries.
pub async fn consistency_proof<S: Store>(
    store: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, StoreError> {
    let plan = merkle::consistency_plan(old, new)
        .map_err(|e| StoreError::Open(format!("no consistency proof: {e}")))?;
    assemble(store, &plan).await
}

/// The root of the first `size` entries, from stored hashes.
pub async fn root<S: Store>(store: &S, size: u64) -> Result<Hash, StoreError> {
    let plan = merkle::root_plan(size);
    let mut hashes = assemble(store, &plan).await?;
    hashes
        .pop()
        .ok_or_else(|| StoreError::Damaged("empty root plan".into()))
}

async fn assemble<S: Store>(store: &S, plan: &merkle::ProofPlan) -> Result<Vec<Hash>, StoreError> {
    let ids = plan.ids();
    let hashes = store.hashes(&ids).await?;
    let map: std::collections::HashMap<u64, Hash> = ids.into_iter().zip(hashes).collect();
    plan.assemble(|id| map.get(&id).copied())
        .map_err(|e| StoreError::Damaged(e.to_string()))
}

/// A C2SP tlog-proof receipt for entry `index`, against the latest checkpoint.
pub async fn receipt<S: Store>(store: &S, index: u64) -> Result<EntryProof, StoreError> {
    let note = store.latest_checkpoint().await?;
    let checkpoint = Checkpoint::open(&note, store.verifier())
        .map_err(|e| StoreError::Damaged(e.to_string()))?;
    if index >= checkpoint.size {
        return Err(StoreError::NoSuchEntry(index, checkpoint.size));
    }
    let proof = inclusion_proof(store, index, checkpoint.size).await?;
    Ok(EntryProof {
        extra: None,
        index,
        proof,
        checkpoint: note,
    })
}
