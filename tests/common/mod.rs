//! Shared test kit: run the binary, make logs, edit databases behind the log's back.

use armory_ledger::Actor;
use armory_ledger::keys::LogSigner;
use armory_store::sqlite::{Durability, SqliteLog};
use armory_store::{Draft, Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ORIGIN: &str = "armory.test/main-unit";

/// Runs `armory --data <data> <args>`.
pub fn armory(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("ARMORY_DATA")
        .output()
        .expect("run armory")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a command failed with one line of error that contains `needle`.
pub fn assert_fails_with(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stdout: {}",
        stdout(o)
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "error is not one line: {err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

pub fn draft(text: &str) -> Draft {
    Draft {
        time: "2026-11-23T08:00:00.000Z".into(),
        event: serde_json::json!({"type": "note", "text": text}),
        actors: vec![Actor {
            person: "p-armorer".into(),
            role: "armorer".into(),
            method: "local".into(),
            assertion: None,
        }],
    }
}

/// A data directory made by `armory init` with `n` entries appended in batches of `batch`.
pub async fn make_log(n: u64, batch: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = armory(&data, &["init", "--origin", ORIGIN]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = open_writer(&data).await;
    let mut done = 0;
    while done < n {
        let k = batch.min(n - done);
        let drafts = (done..done + k)
            .map(|i| draft(&format!("entry {i}")))
            .collect();
        log.append(drafts).await.unwrap();
        done += k;
    }
    log.close().await;
    (dir, data)
}

/// Opens the log in `data` for writing, right after whatever wrote it before closed it.
///
/// The writer lock is an flock on `armory.db.lock`, released when its file is closed. This test
/// binary runs tests on many threads, and some spawn `armory` processes: a child forked in the
/// instant between another test's open and close of the lock file holds a copy of that file
/// until it execs (the file is close-on-exec, not close-on-fork), and the lock with it. So a
/// lock held by this very process is waited out for a moment; any other holder fails at once.
pub async fn open_writer(data: &Path) -> SqliteLog {
    let text = std::fs::read_to_string(data.join("node.key")).unwrap();
    let ours = format!("(pid {})", std::process::id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let signer = LogSigner::from_text(&text).unwrap();
        match SqliteLog::open_writer(&data.join("armory.db"), signer, Durability::Full).await {
            Ok(log) => return log,
            Err(e @ armory_store::StoreError::Locked { .. })
                if e.to_string().contains(&ours) && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("cannot open the log in {} for writing: {e}", data.display()),
        }
    }
}

/// The log in `data` opened read-only, with the key in its `log.pub`.
pub async fn open_reader(data: &Path) -> SqliteLog {
    let key = std::fs::read_to_string(data.join("log.pub")).unwrap();
    let verifier = armory_ledger::keys::LogVerifier::from_text(key.trim()).unwrap();
    SqliteLog::open_reader(&data.join("armory.db"), verifier)
        .await
        .unwrap()
}

pub fn signer(data: &Path) -> LogSigner {
    LogSigner::from_text(&std::fs::read_to_string(data.join("node.key")).unwrap()).unwrap()
}

/// A raw connection that can change anything: the append-only triggers are dropped first, as
/// someone editing the file behind the log's back would.
pub async fn raw(data: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(data.join("armory.db")).unwrap();
    for t in ["entries", "hashes", "checkpoints", "bundles", "hash_packs"] {
        for k in ["u", "d"] {
            conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {t}_append_only_{k}"))
                .unwrap();
        }
    }
    conn
}

/// Copies a data directory (the database must be closed).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    // With its mode: a data directory is its owner's only.
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// A small deterministic random source (xorshift64*), seeded so failures can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("ARMORY_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("random seed {seed} (set ARMORY_TEST_SEED to replay)");
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
