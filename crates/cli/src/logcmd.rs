//! `armory log`, `armory verify`, `armory export`: reading and checking the log.

use crate::datadir::{DataDir, read_verifier};
use anyhow::{Context, Result, bail};
use armory_ledger::Entry;
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::merkle::Hash;
use armory_ledger::proof::EntryProof;
use armory_ledger::verify::{PUBLIC_KEY_FILE, read_export_entries, verify_export_dir};
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
    /// Print the consistency proof from size OLD to the checkpoint of size NEW (the latest when
    /// left out), as the body of a C2SP tlog-witness add-checkpoint request: `old OLD`, the
    /// proof's hashes, an empty line, the signed checkpoint.
    Consistency { old: u64, new: Option<u64> },
    /// Accept that the log went back in time (a copy put back from a backup, a lost -wal file)
    /// and continue it as a new log: a new origin and key, the surviving entries copied at their
    /// indexes, then an entry naming the old log's last checkpoint and the lost range. The old
    /// log and key are kept in `previous/`.
    Continue {
        /// The new log's origin (it must differ from the old one's).
        #[arg(long)]
        origin: String,
        /// Who accepts the loss (recorded as the entry's author).
        #[arg(long)]
        by: String,
    },
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
        Some(LogCommand::Consistency { old, new }) => {
            out.write_all(&proofs::consistency_request(&log, old, new).await?)?;
        }
        Some(LogCommand::Continue { origin, by }) => {
            drop(out);
            return continue_log(data, log, &origin, &by).await;
        }
    }
    Ok(())
}

/// A checkpoint someone kept, and an earlier export to compare entries with.
pub struct Kept {
    pub path: PathBuf,
    pub against: Option<PathBuf>,
}

/// The passkey confirmations a verify checked, when there were any.
fn say_passkeys(n: u64) {
    if n > 0 {
        out!(
            "ok: {n} passkey confirmations, each signed by the key its person registered in the log"
        );
    }
}

pub async fn verify(
    data: &DataDir,
    dir: Option<PathBuf>,
    key: Option<PathBuf>,
    checkpoint: Option<Kept>,
    replay: bool,
) -> Result<()> {
    if replay && dir.is_some() {
        bail!("--replay checks a data directory's projection tables; an export has none");
    }
    if let Some(dir) = dir {
        return verify_export(&dir, key, checkpoint.as_ref());
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
    say_passkeys(report.passkeys);
    // The checkpoint this node kept beside its database: a log put back from an older copy
    // verifies on its own, but is behind what the node signed.
    if let Some(kept) = log.check_kept_checkpoint().await? {
        out!(
            "ok: the log holds the checkpoint of {kept} entries kept beside it (armory.db.checkpoint)"
        );
    }
    if let Some(kept) = checkpoint
        && let Err(e) = check_kept_checkpoint(&log, &kept.path, report.entries).await
    {
        let Some(against) = &kept.against else {
            return Err(e);
        };
        let earlier = earlier_entries(against, log.verifier())?;
        let n = earlier.len() as u64;
        let here = log.entries(0..n.min(report.entries)).await?;
        let here: Vec<Vec<u8>> = here.into_iter().map(|(_, d)| d).collect();
        bail!("{e}; {}", first_difference(against, &earlier, &here));
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

/// Reads a checkpoint someone kept (a witness, an insurer, an earlier `armory log`), which must be
/// signed by the log's key.
fn read_kept(path: &Path, verifier: &armory_ledger::keys::LogVerifier) -> Result<Checkpoint> {
    let note = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the kept checkpoint {}; pass the file a witness or an earlier `armory log` gave",
            path.display()
        )
    })?;
    Checkpoint::open(&note, verifier).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a checkpoint signed by this log's key: {e}",
            path.display()
        )
    })
}

/// Compares a kept checkpoint with the log (`size` entries, `root_at` the root of its first
/// `kept.size`): the log must still hold exactly what the checkpoint covered.
fn compare_kept(path: &Path, kept: &Checkpoint, size: u64, root_at: Option<Hash>) -> Result<()> {
    let Some(root) = root_at.filter(|_| kept.size <= size) else {
        bail!(
            "{} is for size {} but the log has {size} entries: entries were removed, or this is another log's history",
            path.display(),
            kept.size
        );
    };
    if root != kept.root {
        bail!(
            "{}: the log's first {} entries no longer hash to the kept root {} (they hash to {}): the log was rewritten, or forked, after that checkpoint was signed",
            path.display(),
            kept.size,
            kept.root,
            root
        );
    }
    out!(
        "ok: the log contains the kept checkpoint of size {} unchanged",
        kept.size
    );
    Ok(())
}

/// The entries of an earlier export, checked first (its tiles, its checkpoint, the key).
fn earlier_entries(
    dir: &Path,
    verifier: &armory_ledger::keys::LogVerifier,
) -> Result<Vec<Vec<u8>>> {
    let summary = verify_export_dir(dir, verifier, &[], &mut |_, _| {})
        .with_context(|| format!("the earlier export {} does not verify", dir.display()))?;
    read_export_entries(dir, summary.checkpoint.size)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
}

/// Names the first entry where `here` differs from the earlier export's `earlier`.
fn first_difference(against: &Path, earlier: &[Vec<u8>], here: &[Vec<u8>]) -> String {
    let describe = |bytes: &[u8]| match Entry::decode(bytes) {
        Ok(e) => format!("{} at {}", e.event_type(), e.time),
        Err(e) => format!("not an entry ({e})"),
    };
    match earlier.iter().zip(here).position(|(a, b)| a != b) {
        Some(i) => format!(
            "the first entry that differs from {} is entry {i}: there {}, here {}",
            against.display(),
            describe(&earlier[i]),
            describe(&here[i])
        ),
        None if here.len() < earlier.len() => format!(
            "the first {} entries are those of {}; entries from {} on are missing here",
            here.len(),
            against.display(),
            here.len()
        ),
        None => format!(
            "the {} entries of {} are all here unchanged: the kept checkpoint is not one of that export's",
            earlier.len(),
            against.display()
        ),
    }
}

/// Checks that a checkpoint someone kept is one this log signed and that the log still holds it.
async fn check_kept_checkpoint<S: Store>(log: &S, path: &Path, size: u64) -> Result<()> {
    let kept = read_kept(path, log.verifier())?;
    let root = if kept.size <= size {
        Some(proofs::root(log, kept.size).await?)
    } else {
        None
    };
    compare_kept(path, &kept, size, root)
}

fn verify_export(dir: &Path, key: Option<PathBuf>, checkpoint: Option<&Kept>) -> Result<()> {
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
    // Read before the long check: a wrong path or key fails at once.
    let kept = match checkpoint {
        Some(k) => Some((k, read_kept(&k.path, &verifier)?)),
        None => None,
    };
    let roots_at: Vec<u64> = kept.iter().map(|(_, k)| k.size).collect();
    let progress = bar(0, "verifying");
    let summary = verify_export_dir(dir, &verifier, &roots_at, &mut |done, total| {
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
    say_passkeys(summary.passkeys);
    if let Some((k, kept)) = &kept {
        let root = summary
            .roots
            .iter()
            .find(|(n, _)| *n == kept.size)
            .map(|(_, r)| *r);
        if let Err(e) = compare_kept(&k.path, kept, summary.checkpoint.size, root) {
            let Some(against) = &k.against else {
                return Err(e);
            };
            let earlier = earlier_entries(against, &verifier)?;
            let here = read_export_entries(dir, summary.checkpoint.size)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            bail!("{e}; {}", first_difference(against, &earlier, &here));
        }
    }
    if own_key {
        out!("note: the key came from the export itself; pass --key with the key you trust");
    }
    Ok(())
}

/// Checks a receipt for one entry, offline: the checkpoint's signature by the trusted key, and
/// the entry's inclusion in the tree it describes.
pub fn verify_receipt(
    data: &DataDir,
    receipt: &Path,
    entry: &Path,
    key: Option<PathBuf>,
) -> Result<()> {
    let verifier = match key {
        Some(key) => read_verifier(&key)?,
        None => data
            .verifier()
            .context("pass --key with the log's public key (log.pub) that you trust")?,
    };
    let text = std::fs::read(receipt)
        .with_context(|| format!("cannot read the receipt {}", receipt.display()))?;
    let proof =
        EntryProof::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", receipt.display()))?;
    let raw = std::fs::read(entry)
        .with_context(|| format!("cannot read the entry {}", entry.display()))?;
    // As `armory log entry` prints it (one line), or any JSON form of it (re-encoded canonically:
    // the hash is over the canonical bytes).
    let value: serde_json::Value = serde_json::from_slice(&raw)
        .map_err(|e| anyhow::anyhow!("{} is not an entry (JSON): {e}", entry.display()))?;
    let bytes = armory_ledger::canonical::encode(&value)
        .map_err(|e| anyhow::anyhow!("{} is not an entry: {e}", entry.display()))?;
    let decoded = Entry::decode(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not an entry: {e}", entry.display()))?;
    if decoded.index != proof.index {
        bail!(
            "the receipt is for entry {} but {} is entry {}; pass the entry the receipt was given for",
            proof.index,
            entry.display(),
            decoded.index
        );
    }
    let checkpoint = proof.verify(&bytes, &verifier).map_err(|e| {
        anyhow::anyhow!(
            "{} does not prove {}: {e}",
            receipt.display(),
            entry.display()
        )
    })?;
    if decoded.origin != checkpoint.origin {
        bail!(
            "{} belongs to log {:?}, but the receipt's checkpoint is of log {:?}",
            entry.display(),
            decoded.origin,
            checkpoint.origin
        );
    }
    out!(
        "ok: entry {} ({}, {}) is in log {} of {} entries, root {}, signed by {}",
        decoded.index,
        decoded.event_type(),
        decoded.time,
        checkpoint.origin,
        checkpoint.size,
        checkpoint.root,
        verifier.text()
    );
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

/// `armory log continue`: see [`LogCommand::Continue`]. The new log is built beside the old one
/// (in `.continuing/`) and swapped in only when whole; until then the old files stay in place.
async fn continue_log(
    data: &DataDir,
    old: armory_store::sqlite::SqliteLog,
    origin: &str,
    by: &str,
) -> Result<()> {
    use armory_core::event::Event;
    use armory_store::node::Node;
    if by.trim().is_empty() || by.chars().any(char::is_control) {
        bail!("--by must name who accepts the loss");
    }
    if origin == old.origin() {
        bail!(
            "the new log needs another origin than {origin}: two logs of one name would be a fork"
        );
    }
    let Some((kept, lost_checkpoint)) = old.kept_checkpoint()? else {
        bail!(
            "{} has no checkpoint kept beside it, so nothing shows that it went back; there is nothing to continue",
            data.db().display()
        );
    };
    if old.check_kept_checkpoint().await.is_ok() {
        bail!(
            "the log holds the checkpoint of {} entries this node signed: it has not gone back, and there is nothing to continue",
            kept.size
        );
    }
    let report = check_log(&old, &mut |_, _| {})
        .await
        .context("what survived does not verify; it cannot be continued")?;
    let survived = report.entries;
    let survived_checkpoint = old.latest_checkpoint().await?;
    let entries = old.entries(0..survived).await?;
    let previous_origin = old.origin().to_owned();
    drop(old);

    // The new log, built whole beside the old one.
    let building = DataDir::new(data.path.join(".continuing"));
    if building.path.exists() {
        std::fs::remove_dir_all(&building.path)
            .with_context(|| format!("cannot clear {}", building.path.display()))?;
    }
    let policy = data.policy()?;
    let signer = building.init_with(origin, &policy).await?;
    let log = building.writer().await?;
    for chunk in entries.chunks(1000) {
        let drafts = chunk
            .iter()
            .map(|(index, bytes)| {
                let entry = armory_ledger::Entry::decode(bytes)
                    .with_context(|| format!("entry {index} of the old log"))?;
                Ok(armory_store::Draft {
                    time: entry.time,
                    event: entry.event,
                    actors: entry.actors,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        log.append(drafts).await?;
    }
    let node = Node::open(log.clone(), policy).await?;
    let continued = Event::LogContinued {
        previous_origin: previous_origin.clone(),
        survived_checkpoint: String::from_utf8_lossy(&survived_checkpoint).into_owned(),
        survived,
        lost_checkpoint: String::from_utf8_lossy(&lost_checkpoint).into_owned(),
        signed: kept.size,
    };
    let actor = armory_ledger::Actor {
        person: by.to_owned(),
        role: "admin".to_owned(),
        method: "local".to_owned(),
        assertion: None,
    };
    let at = armory_server::now().context("the system clock is out of range")?;
    let appended = node.record(vec![actor], &[continued], at).await?;
    drop(node);
    log.close().await;

    // Swap: the old log and its key aside, the new ones in.
    let aside = data.path.join("previous").join(format!(
        "{}-{survived}-of-{}",
        previous_origin.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
        kept.size
    ));
    std::fs::create_dir_all(&aside)
        .with_context(|| format!("cannot create {}", aside.display()))?;
    let db = crate::datadir::DB_FILE;
    let files = [
        db.to_owned(),
        format!("{db}-wal"),
        format!("{db}-shm"),
        format!("{db}.checkpoint"),
        crate::datadir::KEY_FILE.to_owned(),
        crate::datadir::PUBLIC_KEY_FILE.to_owned(),
    ];
    for name in &files {
        let from = data.path.join(name);
        if from.exists() {
            std::fs::rename(&from, aside.join(name))
                .with_context(|| format!("cannot move {} aside", from.display()))?;
        }
    }
    for name in &files {
        let from = building.path.join(name);
        if from.exists() {
            std::fs::rename(&from, data.path.join(name))
                .with_context(|| format!("cannot move {} in", from.display()))?;
        }
    }
    let _ = std::fs::remove_dir_all(&building.path);
    out!("continued {previous_origin} as {origin}");
    out!(
        "entries 0..{survived} copied at their indexes; entries {survived}..{} of {previous_origin} are lost; entry {} records it",
        kept.size,
        appended.first_index
    );
    out!("the old log and its key are in {}", aside.display());
    out!("public key of the new log (give this to anyone who verifies it):");
    out!("{}", signer.public_text());
    Ok(())
}
