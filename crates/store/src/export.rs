//! `armory export`: the log as plain files, in the C2SP tlog-tiles layout, servable by any static
//! web server and checkable offline with [`armory_ledger::verify::verify_export_dir`].

use crate::{Store, StoreError};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::tiles::{Tile, TileKind, encode_bundle, encode_hash_tile};
use armory_ledger::verify::{CHECKPOINT_FILE, PUBLIC_KEY_FILE};
use std::path::Path;

/// What was exported.
#[derive(Debug, Clone)]
pub struct ExportReport {
    pub checkpoint: Checkpoint,
    pub files: usize,
}

/// The bytes of one tile of the tree of `size` entries.
pub async fn tile_bytes<S: Store>(store: &S, tile: &Tile) -> Result<Vec<u8>, StoreError> {
    match tile.kind {
        TileKind::Entries => {
            let range = tile.entry_range();
            let rows = store.entries(range.clone()).await?;
            if rows.len() as u64 != tile.width
                || rows.iter().zip(range).any(|((i, _), want)| *i != want)
            {
                return Err(StoreError::Damaged(format!(
                    "entries missing under {}",
                    tile.path()
                )));
            }
            encode_bundle(rows.iter().map(|(_, d)| d.as_slice()))
                .map_err(|e| StoreError::Damaged(e.to_string()))
        }
        TileKind::Hashes(_) => {
            let hashes = store.hashes(&tile.stored_ids()).await?;
            Ok(encode_hash_tile(&hashes))
        }
    }
}

/// Writes the latest checkpoint, the public key and every tile into `dir`.
pub async fn export_dir<S: Store>(
    store: &S,
    dir: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<ExportReport, StoreError> {
    let note = store.latest_checkpoint().await?;
    let checkpoint = Checkpoint::open(&note, store.verifier())
        .map_err(|e| StoreError::Damaged(e.to_string()))?;
    let io = |e: std::io::Error, what: &Path| {
        StoreError::Open(format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let tiles = Tile::all_for_size(checkpoint.size);
    let total = tiles.len() as u64;
    for (done, tile) in tiles.iter().enumerate() {
        let bytes = tile_bytes(store, tile).await?;
        let path = dir.join(tile.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(e, parent))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io(e, &path))?;
        progress(done as u64 + 1, total);
    }
    let key_path = dir.join(PUBLIC_KEY_FILE);
    std::fs::write(&key_path, format!("{}\n", store.verifier().text()))
        .map_err(|e| io(e, &key_path))?;
    // The checkpoint last: a reader that sees it finds every tile it names.
    let cp_path = dir.join(CHECKPOINT_FILE);
    std::fs::write(&cp_path, &note).map_err(|e| io(e, &cp_path))?;
    Ok(ExportReport {
        checkpoint,
        files: tiles.len() + 2,
    })
}
