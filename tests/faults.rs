//! Storage faults that are not crashes: writes that fail with a real error while the node runs
//! (a file-size limit set on the running process with `prlimit --fsize=1`: every write then fails
//! with EFBIG), a failed fsync (`strace` injecting EIO), a full disk at start, and a log put back
//! from a backup. What must hold: every act answered 2xx is in the log after a restart, exactly
//! once; every act answered with an error is absent or, retried with its key, present once; the
//! node says it is failing while it fails, and resumes by itself.

use crate::common::{armory, open_reader, stderr, stdout};
use crate::server::{Server, Who};
use armory_store::Store;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Sets the soft file-size limit of a running process (`unlimited` lifts it; the hard limit
/// stays, so no privilege is needed to lift it again).
fn prlimit(pid: u32, fsize: &str) {
    let out = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--fsize={fsize}:")])
        .output()
        .expect("prlimit (util-linux) runs");
    assert!(out.status.success(), "prlimit: {}", stderr(&out));
}

/// Lifts the server's file-size limit and waits (at most 10 s) until `/healthz` says ok again,
/// which the node finds out by itself.
fn lift_and_wait_until_healthy(server: &Server) {
    prlimit(server.pid(), "unlimited");
    let start = Instant::now();
    while server.get("/healthz", &Who::nobody()).status != 200 {
        assert!(start.elapsed() < Duration::from_secs(10), "never resumed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts the command failed and its stderr (which may hold log lines besides the error) says
/// every one of `words`.
fn assert_failed_saying(out: &std::process::Output, words: &[&str]) {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "expected a failure; stdout: {}",
        stdout(out)
    );
    for w in words {
        assert!(err.contains(w), "expected {w:?} in: {err}");
    }
}

/// Every note's text in the log, with the indexes it is at.
fn notes_in_log(data: &Path) -> HashMap<String, Vec<u64>> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let log = open_reader(data).await;
        let end = log.extent().await.unwrap().entries_end;
        let mut notes: HashMap<String, Vec<u64>> = HashMap::new();
        for (index, bytes) in log.entries(0..end).await.unwrap() {
            let entry: Value = serde_json::from_slice(&bytes).unwrap();
            if entry["event"]["type"] == "note" {
                let text = entry["event"]["text"].as_str().unwrap().to_owned();
                notes.entry(text).or_default().push(index);
            }
        }
        notes
    })
}

/// One act as a client sent it, and what it was answered.
struct Sent {
    key: String,
    status: u16,
    body: Value,
}

fn note(server: &Server, who: &Who, key: &str) -> Sent {
    let r = server.post_json(
        "/api/commands",
        who,
        &json!({"command": {"type": "note", "text": key}}),
        &[("Idempotency-Key", key)],
    );
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    Sent {
        key: key.to_owned(),
        status: r.status,
        body,
    }
}

#[test]
fn a_full_disk_under_load_acknowledges_only_what_it_saved_and_resumes_by_itself() {
    let mut server = Server::start(&[]);
    let hannah = Arc::new(server.sign_in("hannah"));
    assert_eq!(server.get("/healthz", &Who::nobody()).status, 200);
    let stop = Arc::new(AtomicBool::new(false));
    // Stops the clients however the scope ends (a failed assertion included).
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let addr_server = &server;
    let sent: Vec<Sent> = std::thread::scope(|scope| {
        let _stop = StopOnDrop(stop.clone());
        let clients: Vec<_> = (0..3)
            .map(|t| {
                let stop = stop.clone();
                let hannah = hannah.clone();
                scope.spawn(move || {
                    let mut sent = Vec::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        sent.push(note(addr_server, &hannah, &format!("client-{t}-act-{n}")));
                        n += 1;
                    }
                    sent
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        prlimit(server.pid(), "1");
        std::thread::sleep(Duration::from_millis(800));
        // While it lasts: health says so, metrics count it, every page carries a banner.
        let health = server.get("/healthz", &Who::nobody());
        assert_eq!(health.status, 503, "{}", health.body);
        assert!(health.body.contains("storage failing"), "{}", health.body);
        let metrics = server.get("/metrics", &hannah).body;
        assert!(metrics.contains("armory_storage_ok 0"), "{metrics}");
        let errors: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("armory_storage_errors_total "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(errors >= 1, "{metrics}");
        let board = server.get("/", &hannah);
        assert!(
            board.body.contains("class=storage-fault") && board.body.contains("Not recording"),
            "{}",
            board.body
        );
        // It resumes by itself, acts or no acts.
        lift_and_wait_until_healthy(&server);
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let board = server.get("/", &hannah);
    assert!(
        !board.body.contains("class=storage-fault"),
        "{}",
        board.body
    );
    // With nobody acting, the node still finds out by itself that storage works again.
    prlimit(server.pid(), "1");
    let idle = note(&server, &hannah, "idle-fault");
    assert_eq!(idle.status, 503, "{}", idle.body);
    assert_eq!(server.get("/healthz", &Who::nobody()).status, 503);
    // Signing in writes a session to auth.db, on the same full disk: "not now", not a 500.
    let sign_in = server.req(
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        json!({"person": "sam", "password": "demo-sam-pass"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(sign_in.status, 503, "{}", sign_in.body);
    assert!(sign_in.body.contains("auth.db"), "{}", sign_in.body);
    // A form in the browser: the page says "Not done", why, and carries the banner.
    let form = crate::server_ui::submit(
        &server,
        &hannah,
        "/log",
        "/act",
        &[("kind", "note"), ("text", "from the form on a full disk")],
    );
    assert_eq!(form.status, 503, "{}", form.body);
    assert!(
        form.body.contains("Not done")
            && form.body.contains("not recorded")
            && form.body.contains("Not recording")
            && !form.body.contains("class=done"),
        "{}",
        form.body
    );
    lift_and_wait_until_healthy(&server);

    let done: Vec<&Sent> = sent.iter().filter(|s| s.status == 200).collect();
    let failed: Vec<&Sent> = sent
        .iter()
        .chain(std::iter::once(&idle))
        .filter(|s| s.status != 200)
        .collect();
    assert!(
        done.len() >= 10 && failed.len() >= 3,
        "{} done, {} failed",
        done.len(),
        failed.len()
    );
    for s in &failed {
        // Refused as "not now", never as a server error, and never as done.
        assert_eq!(s.status, 503, "{}: {}", s.key, s.body);
        let error = s.body["error"].as_str().unwrap();
        match s.body["outcome"].as_str() {
            Some("not_recorded") => assert!(error.starts_with("not recorded"), "{error}"),
            Some("unknown") => assert!(error.starts_with("the outcome is unknown"), "{error}"),
            other => panic!("outcome {other:?}: {}", s.body),
        }
    }
    // Every failed act retried with its key is recorded once: now, or found from before.
    let mut retried = Vec::new();
    for s in &failed {
        let again = note(&server, &hannah, &s.key);
        assert_eq!(again.status, 200, "{}: {}", s.key, again.body);
        retried.push(again);
    }
    let twice = note(&server, &hannah, &retried[0].key);
    assert_eq!(twice.body["outcome"], "repeated", "{}", twice.body);
    assert_eq!(twice.body["first_index"], retried[0].body["first_index"]);
    assert!(server.stop().success());

    let out = armory(&server.data, &["verify", "--replay"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let notes = notes_in_log(&server.data);
    for s in done.iter().copied().chain(retried.iter()) {
        let at = notes.get(&s.key).map(Vec::as_slice).unwrap_or_default();
        let index = s.body["first_index"].as_u64().unwrap();
        assert_eq!(
            at,
            [index],
            "{} answered {} but the log has it at {at:?}",
            s.key,
            s.body
        );
    }
    assert!(!notes.contains_key("from the form on a full disk"));
    // Nothing else was written: every note in the log was answered done, now or on retry.
    assert_eq!(notes.len(), done.len() + retried.len());
}

/// Runs `armory note` under strace, failing fsyncs as `when` says (strace's syntax, counted per
/// thread: `4` only the fourth, `4+` the fourth and every later one). The writer does all its
/// writing on one thread.
fn note_with_failing_fsync(data: &Path, when: &str) -> std::process::Output {
    Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync"])
        .arg(format!("--inject=fsync:error=EIO:when={when}"))
        .arg(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(data)
        .args(["note", "written while the disk fails"])
        .output()
        .expect("strace runs (apt-get install strace)")
}

/// Runs `note` with the writer's n-th fsync failing, for n = 1, 2, … until one fails the note's
/// commit: while n falls in the writer's start (its probe write) the note is refused at start
/// ("cannot …") with nothing written, and a failed fsync of the directory is one SQLite shrugs
/// off (the note is then appended). Returns the output of the attempt that failed the commit,
/// the log's size just before it, and n. (A reader holds the database open meanwhile, so every
/// attempt starts from the same WAL state: the count is the same from one run to the next.)
fn fail_the_commits_fsync(data: &Path) -> (std::process::Output, u64, u32) {
    for n in 1..=8 {
        let before = log_size(data);
        let out = note_with_failing_fsync(data, &n.to_string());
        if out.status.success() {
            assert_eq!(log_size(data), before + 1);
            continue;
        }
        if stderr(&out).contains("error: cannot") {
            assert_eq!(log_size(data), before);
            continue;
        }
        return (out, before, n);
    }
    panic!("no fsync of the writer was its commit's");
}

/// A new data directory with an empty log of `origin`.
fn init(origin: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = armory(&data, &["init", "--origin", origin]);
    assert!(out.status.success(), "{}", stderr(&out));
    (dir, data)
}

fn log_size(data: &Path) -> u64 {
    let out = armory(data, &["log"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_failed_fsync_is_answered_by_what_the_log_holds() {
    let (dir, data) = init("armory.test/fsync");
    assert!(armory(&data, &["note", "before"]).status.success());

    // One failed fsync, at the commit: not recorded, and it stays out of the log for good: the
    // writer's probe write overwrote the frames the failed commit left in the WAL, so even a
    // crash now (a reader keeps the WAL from being checkpointed; the copy has no -shm, so SQLite
    // recovers the WAL from its frames, as after a power cut) does not bring them back.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reader = runtime.block_on(async {
        let log = open_reader(&data).await;
        log.extent().await.unwrap();
        log
    });
    let (out, before, n) = fail_the_commits_fsync(&data);
    assert_failed_saying(&out, &["error: not recorded"]);
    let crashed = dir.path().join("crashed");
    std::fs::create_dir(&crashed).unwrap();
    for f in ["armory.db", "armory.db-wal", "log.pub", "node.key"] {
        std::fs::copy(data.join(f), crashed.join(f)).unwrap();
    }
    assert_eq!(log_size(&crashed), before);
    assert_eq!(log_size(&data), before);
    assert!(armory(&data, &["verify"]).status.success());
    assert!(armory(&data, &["note", "after"]).status.success());
    assert_eq!(log_size(&data), before + 1);

    // Every fsync failing from the commit on: the writer cannot settle it and says so; the log
    // afterwards holds the act once or not at all (nothing else was appended since `before`),
    // and checks out.
    let before = log_size(&data);
    let out = note_with_failing_fsync(&data, &format!("{n}+"));
    assert_failed_saying(&out, &["error: the outcome is unknown"]);
    drop(reader);
    let size = log_size(&data);
    assert!(size == before || size == before + 1, "{size}");
    let out = armory(&data, &["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_full_disk_at_start_is_refused_with_words() {
    let (_dir, data) = init("armory.test/full");
    let out = Command::new("prlimit")
        .arg("--fsize=1")
        .arg(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(&data)
        .args(["note", "on a full disk"])
        .output()
        .unwrap();
    assert_failed_saying(&out, &["armory.db", "check the disk"]);
    assert!(
        stderr(&out).starts_with("error: cannot"),
        "{}",
        stderr(&out)
    );
    assert_eq!(log_size(&data), 0);
}

fn copy_log(from: &Path, to: &Path, files: &[&str]) {
    for f in files {
        let _ = std::fs::remove_file(to.join(f));
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
}

#[test]
fn a_log_put_back_from_a_backup_is_refused_and_never_forked() {
    let (dir, data) = init("armory.test/restore");
    let backup = dir.path().join("backup");
    std::fs::create_dir(&backup).unwrap();
    // A reader holds the database open, so the five notes stay in the WAL: the copy is taken
    // as a backup tool would take it from a live node, WAL and all.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reader = runtime.block_on(async {
        let log = open_reader(&data).await;
        log.extent().await.unwrap();
        log
    });
    assert!(
        armory(&data, &["note", "one", "--repeat", "5"])
            .status
            .success()
    );
    copy_log(
        &data,
        &backup,
        &["armory.db", "armory.db-wal", "armory.db-shm"],
    );
    drop(reader);
    assert!(
        armory(&data, &["note", "two", "--repeat", "3"])
            .status
            .success()
    );
    assert_eq!(log_size(&data), 8);
    let newest = dir.path().join("newest");
    std::fs::create_dir(&newest).unwrap();
    copy_log(
        &data,
        &newest,
        &["armory.db", "armory.db-wal", "armory.db-shm"],
    );

    // Put back with its WAL: the writer refuses, naming both sizes; nothing is signed.
    copy_log(
        &backup,
        &data,
        &["armory.db", "armory.db-wal", "armory.db-shm"],
    );
    let out = armory(&data, &["note", "three"]);
    assert_failed_saying(
        &out,
        &[
            "holds 5 entries",
            "checkpoint of 8 entries",
            "armory.db.checkpoint",
        ],
    );
    assert_eq!(log_size(&data), 5);
    // verify, which checks the copy on its own terms, says so too.
    let out = armory(&data, &["verify"]);
    assert_failed_saying(&out, &["went back in time"]);
    // The database alone (its last commits in a WAL left behind): refused the same way.
    copy_log(&backup, &data, &["armory.db"]);
    let _ = std::fs::remove_file(data.join("armory.db-wal"));
    let _ = std::fs::remove_file(data.join("armory.db-shm"));
    let out = armory(&data, &["note", "three"]);
    assert_failed_saying(&out, &["went back in time"]);
    // The newest copy put back: the log is whole again and takes acts.
    copy_log(
        &newest,
        &data,
        &["armory.db", "armory.db-wal", "armory.db-shm"],
    );
    let out = armory(&data, &["note", "three"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(log_size(&data), 9);
    let out = armory(&data, &["verify"]);
    assert!(
        stdout(&out).contains("holds the checkpoint of 9 entries kept beside it"),
        "{}",
        stdout(&out)
    );
    // The kept checkpoint removed: the writer cannot tell a put-back copy this time, and says so
    // on stderr (then keeps a new one).
    std::fs::remove_file(data.join("armory.db.checkpoint")).unwrap();
    let out = armory(&data, &["note", "four"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("armory.db.checkpoint is missing or unreadable"),
        "{}",
        stderr(&out)
    );
    assert!(data.join("armory.db.checkpoint").exists());
}

/// Runs `armory` as the user `nobody` (for a test running as root, whom no file mode stops).
fn armory_as_nobody(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("setpriv (util-linux) runs")
}

#[test]
fn a_read_only_log_is_refused_at_start_with_what_to_do() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, data) = init("armory.test/read-only");
    assert!(armory(&data, &["note", "before"]).status.success());
    // Readable by everyone, writable by nobody but root: the directory (so the lock file and
    // the WAL could be made) and everything in it but the database.
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(dir.path(), 0o755).unwrap();
    mode(&data, 0o777).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        mode(&entry.unwrap().path(), 0o666).unwrap();
    }
    mode(&data.join("armory.db"), 0o444).unwrap();
    let out = armory_as_nobody(&data, &["note", "on a read-only log"]);
    assert_failed_saying(&out, &["armory.db", "read-only", "writable"]);
    // Made writable again, the same user writes.
    mode(&data.join("armory.db"), 0o666).unwrap();
    let out = armory_as_nobody(&data, &["note", "writable again"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(log_size(&data), 2);
}

#[test]
fn an_admin_who_accepts_the_loss_continues_the_log_under_a_new_origin() {
    let (dir, data) = init("armory.test/before-loss");
    assert!(
        armory(&data, &["note", "kept", "--repeat", "5"])
            .status
            .success()
    );
    let backup = dir.path().join("armory.db.backup");
    std::fs::copy(data.join("armory.db"), &backup).unwrap();
    assert!(
        armory(&data, &["note", "lost", "--repeat", "3"])
            .status
            .success()
    );
    let entry_2 = stdout(&armory(&data, &["log", "entry", "2"]));
    let continue_as = |origin: &str| {
        armory(
            &data,
            &["log", "continue", "--origin", origin, "--by", "hannah"],
        )
    };
    // Nothing to continue while the log is whole.
    let out = continue_as("armory.test/after-loss");
    assert_failed_saying(&out, &["it has not gone back"]);

    std::fs::copy(&backup, data.join("armory.db")).unwrap();
    assert!(!armory(&data, &["note", "refused"]).status.success());
    assert_failed_saying(
        &continue_as("armory.test/before-loss"),
        &["needs another origin"],
    );
    let out = continue_as("armory.test/after-loss");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("entries 5..8 of armory.test/before-loss are lost"),
        "{}",
        stdout(&out)
    );
    // The new log: the surviving entries at their indexes, then the entry that says what
    // happened; it verifies against its own new key, and takes acts.
    let checkpoint = stdout(&armory(&data, &["log"]));
    assert!(
        checkpoint.starts_with("armory.test/after-loss\n6\n"),
        "{checkpoint}"
    );
    let continued: Value =
        serde_json::from_str(&stdout(&armory(&data, &["log", "entry", "5"]))).unwrap();
    let event = &continued["event"];
    assert_eq!(event["type"], "log_continued", "{continued}");
    assert_eq!(event["previous_origin"], "armory.test/before-loss");
    assert_eq!(
        (event["survived"].as_u64(), event["signed"].as_u64()),
        (Some(5), Some(8))
    );
    assert!(
        event["lost_checkpoint"]
            .as_str()
            .unwrap()
            .starts_with("armory.test/before-loss\n8\n")
    );
    assert_eq!(continued["actors"][0]["person"], "hannah");
    let copied: Value =
        serde_json::from_str(&stdout(&armory(&data, &["log", "entry", "2"]))).unwrap();
    let original: Value = serde_json::from_str(&entry_2).unwrap();
    for field in ["event", "time", "actors", "index"] {
        assert_eq!(copied[field], original[field], "{field}");
    }
    let out = armory(&data, &["verify", "--replay"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(armory(&data, &["note", "after the loss"]).status.success());
    assert_eq!(log_size(&data), 7);
    // The old log and key, kept aside.
    let aside = data.join("previous/armory_test_before-loss-5-of-8");
    assert!(aside.join("armory.db").exists() && aside.join("log.pub").exists());
}
