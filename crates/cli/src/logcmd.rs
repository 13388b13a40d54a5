//! `armory log`, `armory verify`, `armory export`: reading and checking the log.

use crate::datadir::{DataDir, read_verifier};
use anyhow::{Context, Result, bail};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::verify::{PUBLIC_KEY_FILE, verify_export_dir};
use armory_store::check::check_log;
use armory_store::{Store, export, proofs};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum LogCommand {
    /// Print entry N (its canonical JSON).
    Entry { index: u64 },
    /// Print a C2SP tlog-proof receipt for entry N against the latest checkpoint.
    Proof { index: u64 },
}

fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({per_sec}, {eta})")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

pub async fn show(data: &DataDir, what: Option<LogCommand>) -> Result<()> {
    let log = data.reader().await?;
    let mut out = std::io::stdout().lock();
    match what {
        None => {
            out.write_all(&log.latest_checkpoint().await?)?;
        }
        Some(LogCommand::Entry { index }) => {
            let size = log.extent().await?.entries_end;
            let rows = log.entries(index..index.saturating_add(1)).await?;
            let Some((_, bytes)) = rows.into_iter().next() else {
                bail!("entry {index} does not exist; the log has {size} entries (0..{size})");
            };
            out.write_all(&bytes)?;
            out.write_all(b"\n")?;
        }
        Some(LogCommand::Proof { index }) => {
            let receipt = proofs::receipt(&log, index).await?;
            out.write_all(&receipt.to_text())?;
        }
    }
    Ok(())
}

pub async fn verify(
    data: &DataDir,
    dir: Option<PathBuf>,
    key: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    replay: bool,
) -> Result<()> {
    if replay && dir.is_some() {
        bail!("--replay checks a data directory's projection tables; an export has none");
    }
    if let Some(dir) = dir {
        return verify_export(&dir, key);
    }
    let log = match key {
        Some(key) => {
            armory_store::sqlite::SqliteLog::open_reader(&data.db(), read_verifier(&key)?).await?
        }
        None => data.reader().await?,
    };
    let total = log.extent().await?.entries_end;
    let progress = bar(total, "verifying");
    let report = check_log(&log, &mut |done, _| progress.set_position(done))
        .await
        .context("verification failed")?;
    progress.finish_and_clear();
    out!(
        "ok: {} entries, {} checkpoints, root {}; every entry, hash and signature checks out",
        report.entries,
        report.checkpoints,
        report.root
    );
    // The checkpoint this node kept beside its database: a log put back from an older copy
    // verifies on its own, but is behind what the node signed.
    if let Some(kept) = log.check_kept_checkpoint().await? {
        out!(
            "ok: the log holds the checkpoint of {kept} entries kept beside it (armory.db.checkpoint)"
        );
    }
    if let Some(path) = checkpoint {
        check_kept_checkpoint(&log, &path, report.entries).await?;
    }
    if replay {
        let state = armory_store::node::replay(&log).await?;
        let differences = armory_store::node::projection_differences(&log, &state).await?;
        if let Some(first) = differences.first() {
            bail!(
                "the projection tables differ from the log in {} places; first: {first}. They are rebuilt the next time the node starts",
                differences.len()
            );
        }
        out!(
            "ok: the state rebuilt from the log's {} entries matches the projection tables",
            state.next_index
        );
    }
    Ok(())
}

/// Checks that a checkpoint someone kept is one this log signed and that the log still holds it.
async fn check_kept_checkpoint<S: Store>(log: &S, path: &Path, size: u64) -> Result<()> {
    let note = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let kept = Checkpoint::open(&note, log.verifier())
        .map_err(|e| anyhow::anyhow!("{} is not a checkpoint of this log: {e}", path.display()))?;
    if kept.size > size {
        bail!(
            "{} is for size {} but the log now has {size} entries: entries were removed",
            path.display(),
            kept.size
        );
    }
    let root = proofs::root(log, kept.size).await?;
    if root != kept.root {
        bail!(
            "{}: the log's first {} entries no longer hash to the kept root {}: the log was rewritten",
            path.display(),
            kept.size,
            kept.root
        );
    }
    out!(
        "ok: the log contains the kept checkpoint of size {} unchanged",
        kept.size
    );
    Ok(())
}

fn verify_export(dir: &Path, key: Option<PathBuf>) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; pass the directory `armory export` wrote",
            dir.display()
        );
    }
    let (verifier, own_key) = match key {
        Some(key) => (read_verifier(&key)?, false),
        None => (read_verifier(&dir.join(PUBLIC_KEY_FILE))?, true),
    };
    let progress = bar(0, "verifying");
    let summary = verify_export_dir(dir, &verifier, &mut |done, total| {
        progress.set_length(total);
        progress.set_position(done);
    })
    .context("verification failed")?;
    progress.finish_and_clear();
    out!(
        "ok: {} entries in {} files, root {}, signed by {}",
        summary.checkpoint.size,
        summary.files,
        summary.checkpoint.root,
        verifier.text()
    );
    if own_key {
        out!("note: the key came from the export itself; pass --key with the key you trust");
    }
    Ok(())
}

pub async fn export(data: &DataDir, dir: &Path) -> Result<()> {
    let log = data.reader().await?;
    let progress = bar(0, "exporting");
    let report = export::export_dir(&log, dir, &mut |done, total| {
        progress.set_length(total);
        progress.set_position(done);
    })
    .await?;
    progress.finish_and_clear();
    out!(
        "exported {} entries ({} files) to {}; serve it as static files or check it with `armory verify {}`",
        report.checkpoint.size,
        report.files,
        dir.display(),
        dir.display()
    );
    Ok(())
}
