//! The data directory: the log database and the node's keys.
//!
//! ```text
//! <data>/armory.db      the log (SQLite, WAL): entries, stored hashes, checkpoints
//! <data>/armory.db.lock held by the one process that writes the log
//! <data>/node.key       the node's Ed25519 signing key, signed-note form, mode 0600
//! <data>/log.pub        the log's public key, signed-note form: give it to auditors
//! <data>/policy.json    the production's safety policy (RULES.md: what may be tightened)
//! ```

use anyhow::{Context, Result, bail};
use armory_core::Policy;
use armory_ledger::keys::{LogSigner, LogVerifier};
use armory_store::sqlite::{Durability, SqliteLog};
use std::path::{Path, PathBuf};

pub const DB_FILE: &str = "armory.db";
pub const KEY_FILE: &str = "node.key";
pub const PUBLIC_KEY_FILE: &str = "log.pub";
pub const POLICY_FILE: &str = "policy.json";

/// A data directory given by `--data` or `ARMORY_DATA`.
pub struct DataDir {
    pub path: PathBuf,
}

impl DataDir {
    pub fn new(path: PathBuf) -> DataDir {
        DataDir { path }
    }

    pub fn db(&self) -> PathBuf {
        self.path.join(DB_FILE)
    }

    /// Creates the directory, the key and the empty log, with the default policy.
    pub async fn init(&self, origin: &str) -> Result<LogSigner> {
        self.init_with(origin, &Policy::default()).await
    }

    /// Creates the directory, the key and the empty log, with `policy`.
    pub async fn init_with(&self, origin: &str, policy: &Policy) -> Result<LogSigner> {
        if self.db().exists() || self.path.join(KEY_FILE).exists() {
            bail!(
                "{} already holds an Armory log; use another --data directory to start a new one",
                self.path.display()
            );
        }
        std::fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create {}", self.path.display()))?;
        // The log, the sign-in database and the key are for the user running Armory only.
        set_mode(&self.path, 0o700)?;
        let signer = LogSigner::generate(origin).map_err(|e| anyhow::anyhow!("{e}"))?;
        write_private(&self.path.join(KEY_FILE), signer.private_text())?;
        std::fs::write(
            self.path.join(PUBLIC_KEY_FILE),
            format!("{}\n", signer.public_text()),
        )
        .with_context(|| format!("cannot write {}", self.path.join(PUBLIC_KEY_FILE).display()))?;
        let policy_json = serde_json::to_string_pretty(policy)?;
        std::fs::write(self.path.join(POLICY_FILE), policy_json + "\n")
            .with_context(|| format!("cannot write {}", self.path.join(POLICY_FILE).display()))?;
        SqliteLog::create(&self.db(), &signer).await?;
        // SQLite gives the -wal and -shm files the database's own mode when it makes them.
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{suffix}", self.db().display()));
            if path.exists() {
                set_mode(&path, 0o600)?;
            }
        }
        Ok(signer)
    }

    /// Warns (on stderr) about data files other users of this computer can read or change: the
    /// directory should be 0700, the log, sign-in database and key 0600.
    pub fn warn_if_open_to_others(&self) {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .map(|m| m.permissions().mode() & 0o777)
        };
        if let Some(m) = mode(&self.path).filter(|m| m & 0o077 != 0) {
            tracing::warn!(
                "{} can be entered by other users of this computer (mode {m:o}); run `chmod 700 {}`",
                self.path.display(),
                self.path.display()
            );
        }
        for file in [
            DB_FILE,
            crate::serve::AUTH_FILE,
            KEY_FILE,
            "armory.db.checkpoint",
        ] {
            let path = self.path.join(file);
            if let Some(m) = mode(&path).filter(|m| m & 0o077 != 0) {
                tracing::warn!(
                    "{} is open to other users of this computer (mode {m:o}); run `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
    }

    /// The production's policy (`policy.json`; the defaults of RULES.md when there is none).
    pub fn policy(&self) -> Result<Policy> {
        let path = self.path.join(POLICY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{} is not a valid policy: {e}; fix it or delete it to use the defaults",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    fn require(&self) -> Result<()> {
        if !self.path.is_dir() {
            bail!(
                "no Armory data directory at {}; run `armory init` there, or pass --data DIR (or set ARMORY_DATA)",
                self.path.display()
            );
        }
        Ok(())
    }

    /// The node's signing key.
    pub fn signer(&self) -> Result<LogSigner> {
        self.require()?;
        let path = self.path.join(KEY_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read the signing key {}; restore it from your backup",
                path.display()
            )
        })?;
        LogSigner::from_text(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a valid signing key ({e}); restore it from your backup",
                path.display()
            )
        })
    }

    /// The log's public key (from `log.pub`).
    pub fn verifier(&self) -> Result<LogVerifier> {
        self.require()?;
        read_verifier(&self.path.join(PUBLIC_KEY_FILE))
    }

    /// The sign-in database (`auth.db`), created owner-only when new.
    pub async fn auth(&self) -> Result<armory_server::auth::AuthDb> {
        self.require()?;
        let path = self.path.join(crate::serve::AUTH_FILE);
        create_private(&path)?;
        Ok(armory_server::auth::AuthDb::open(&path).await?)
    }

    pub async fn reader(&self) -> Result<SqliteLog> {
        let verifier = self.verifier()?;
        Ok(SqliteLog::open_reader(&self.db(), verifier).await?)
    }

    pub async fn writer(&self) -> Result<SqliteLog> {
        let signer = self.signer()?;
        let verifier = self.verifier()?;
        if verifier.text() != signer.public_text() {
            bail!(
                "{} and {} are not a key pair; restore the right files",
                self.path.join(KEY_FILE).display(),
                self.path.join(PUBLIC_KEY_FILE).display()
            );
        }
        self.warn_if_open_to_others();
        Ok(SqliteLog::open_writer(&self.db(), signer, Durability::Full).await?)
    }
}

/// Creates `path` empty, readable by its owner only, unless it exists: SQLite then makes a new
/// database in it, and gives its -wal and -shm files the same mode when it makes them.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the permissions of {}", path.display()))
}

/// Reads a public key from a file (or takes `arg` itself when it is a key in signed-note form).
pub fn read_verifier(arg: &Path) -> Result<LogVerifier> {
    let text = match std::fs::read_to_string(arg) {
        Ok(text) => text,
        Err(_) if arg.to_string_lossy().contains('+') => arg.to_string_lossy().into_owned(),
        Err(e) => bail!("cannot read the public key {}: {e}", arg.display()),
    };
    LogVerifier::from_text(&text)
        .map_err(|e| anyhow::anyhow!("{} does not hold a log public key: {e}", arg.display()))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{text}")?;
    file.sync_all()?;
    Ok(())
}
