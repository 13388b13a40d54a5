//! What the benchmarks share: a fresh durable log, medians.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use armory_ledger::keys::LogSigner;
use armory_store::sqlite::{Durability, SqliteLog};
use std::path::Path;

/// The allocator of the `armory` binary, so a bench measures what `armory verify` and the node do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A new log `name` in `dir`, open for writing with the default durability (`synchronous=FULL`).
pub async fn new_log(dir: &Path, name: &str, origin: &str) -> SqliteLog {
    new_log_with(dir, name, origin, Durability::Full).await
}

/// [`new_log`] with the durability given.
pub async fn new_log_with(
    dir: &Path,
    name: &str,
    origin: &str,
    durability: Durability,
) -> SqliteLog {
    let path = dir.join(format!("{name}.db"));
    let signer = LogSigner::generate(origin).unwrap();
    SqliteLog::create(&path, &signer).await.unwrap();
    SqliteLog::open_writer(&path, signer, durability)
        .await
        .unwrap()
}

/// The benchmark's scratch directory: `ARMORY_BENCH_DIR`, or the current directory.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(std::env::var("ARMORY_BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap()
}
