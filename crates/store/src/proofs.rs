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

/// The body of a C2SP tlog-witness `add-checkpoint` request from size `old`: the line `old OLD`,
/// the RFC 6962 consistency proof from `old` to the checkpoint (one base64 hash a line), an empty
/// line, and the checkpoint the log signed for size `new` (the latest when `None`), verbatim.
pub async fn consistency_request<S: Store>(
    store: &S,
    old: u64,
    new: Option<u64>,
) -> Result<Vec<u8>, ConsistencyError> {
    let note = match new {
        None => store.latest_checkpoint().await?,
        Some(size) => store
            .checkpoints(size..size.saturating_add(1))
            .await?
            .into_iter()
            .next()
            .map(|(_, note)| note)
            .ok_or(ConsistencyError::NoCheckpoint(size))?,
    };
    let checkpoint = Checkpoint::open(&note, store.verifier())
        .map_err(|e| StoreError::Damaged(e.to_string()))?;
    if old > checkpoint.size {
        return Err(ConsistencyError::OldTooLarge {
            old,
            new: checkpoint.size,
        });
    }
    // Empty from size 0 (the spec) and to the same size.
    let proof = if old == 0 || old == checkpoint.size {
        Vec::new()
    } else {
        consistency_proof(store, old, checkpoint.size).await?
    };
    let mut body = format!("old {old}\n");
    for hash in &proof {
        body.push_str(&hash.to_base64());
        body.push('\n');
    }
    body.push('\n');
    let mut body = body.into_bytes();
    body.extend_from_slice(&note);
    Ok(body)
}

/// Why there is no consistency proof to give.
#[derive(Debug, thiserror::Error)]
pub enum ConsistencyError {
    #[error(
        "the log signed no checkpoint of size {0}: checkpoints are signed per commit; `armory log` shows the latest"
    )]
    NoCheckpoint(u64),
    #[error("the old size {old} is larger than the checkpoint's size {new}")]
    OldTooLarge { old: u64, new: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}
