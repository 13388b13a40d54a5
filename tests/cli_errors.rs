//! Bad input to every command: a one-line error that says what to do, a non-zero exit, nothing changed.

use crate::common::{armory, assert_fails_with, make_log, stderr, stdout};

#[test]
fn a_missing_data_directory_says_to_init() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    for args in [
        &["log"][..],
        &["note", "x"],
        &["verify"],
        &["export", "/tmp/x"],
        &["log", "entry", "0"],
    ] {
        assert_fails_with(&armory(&missing, args), "run `armory init`");
    }
    assert!(
        !missing.exists(),
        "a failed command created the data directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_key_file_is_named_and_the_log_is_untouched() {
    let (_dir, data) = make_log(3, 1).await;
    let before = std::fs::read(data.join("armory.db")).unwrap();
    std::fs::write(data.join("node.key"), "PRIVATE+KEY+garbage\n").unwrap();
    assert_fails_with(
        &armory(&data, &["note", "x"]),
        "node.key is not a valid signing key",
    );
    std::fs::write(data.join("log.pub"), "not a key\n").unwrap();
    assert_fails_with(
        &armory(&data, &["verify"]),
        "log.pub does not hold a log public key",
    );
    assert_eq!(std::fs::read(data.join("armory.db")).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pair_that_does_not_match_is_refused() {
    let (_dir, data) = make_log(1, 1).await;
    let (_other_dir, other) = make_log(1, 1).await;
    std::fs::copy(other.join("log.pub"), data.join("log.pub")).unwrap();
    assert_fails_with(&armory(&data, &["note", "x"]), "are not a key pair");
    std::fs::copy(other.join("node.key"), data.join("node.key")).unwrap();
    assert_fails_with(
        &armory(&data, &["note", "x"]),
        "does not belong to this log",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_from_another_log_is_refused() {
    let (dir, data) = make_log(4, 1).await;
    let (_other_dir, other) = make_log(4, 1).await;
    let foreign = dir.path().join("foreign.checkpoint");
    std::fs::write(&foreign, armory(&other, &["log"]).stdout).unwrap();
    assert_fails_with(
        &armory(
            &data,
            &["verify", "--checkpoint", foreign.to_str().unwrap()],
        ),
        "is not a checkpoint signed by this log's key: no signature by the log's key",
    );
    std::fs::write(&foreign, "hello\n").unwrap();
    assert_fails_with(
        &armory(
            &data,
            &["verify", "--checkpoint", foreign.to_str().unwrap()],
        ),
        "is not a checkpoint signed by this log's key",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_named() {
    let (dir, data) = make_log(2, 1).await;
    assert_fails_with(
        &armory(&data, &["log", "entry", "7"]),
        "entry 7 does not exist; the log has 2 entries",
    );
    assert_fails_with(
        &armory(&data, &["log", "proof", "2"]),
        "entry 2 does not exist",
    );
    assert_fails_with(&armory(&data, &["init"]), "already holds an Armory log");
    assert_fails_with(&armory(&data, &["note", "  "]), "the note is empty");
    assert_fails_with(
        &armory(
            &data,
            &["verify", dir.path().join("none").to_str().unwrap()],
        ),
        "is not a directory",
    );
    let fresh = dir.path().join("fresh");
    assert_fails_with(
        &armory(&fresh, &["init", "--origin", "has space"]),
        "is not allowed",
    );
    // clap's own errors exit non-zero too.
    assert!(
        !armory(&data, &["log", "entry", "minus-one"])
            .status
            .success()
    );
    assert_eq!(stdout(&armory(&data, &["log"])).lines().nth(1), Some("2"));
}

#[test]
fn a_file_that_is_not_a_log_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "armory.test/x"])
            .status
            .success()
    );
    std::fs::remove_file(data.join("armory.db-wal")).ok();
    std::fs::remove_file(data.join("armory.db-shm")).ok();
    std::fs::write(data.join("armory.db"), b"this is not sqlite at all, just some bytes on a disk....................................................").unwrap();
    for args in [&["log"][..], &["verify"], &["note", "x"]] {
        assert_fails_with(&armory(&data, args), "is not an Armory log database");
    }
}

/// `armory status | head`: a reader that stops reading ends the command quietly, with no panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_a_command_quietly() {
    let (_dir, data) = make_log(3, 1).await;
    for args in [&["log"][..], &["status"], &["log", "entry", "1"]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_armory"))
            .arg("--data")
            .arg(&data)
            .args(args)
            .env_remove("ARMORY_DATA")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the command has started, so its first line meets a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn data_files_are_for_their_owner_and_a_change_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "armory.test/perm"])
            .status
            .success()
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("armory.db")), 0o600);
    assert_eq!(mode(&data.join("node.key")), 0o600);
    let out = armory(&data, &["note", "owner only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("other users"), "{}", stderr(&out));

    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    set(&data, 0o755);
    set(&data.join("armory.db"), 0o644);
    let out = armory(&data, &["note", "opened up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("can be entered by other users of this computer (mode 755); run `chmod 700"),
        "{err}"
    );
    assert!(
        err.contains(
            "armory.db is open to other users of this computer (mode 644); run `chmod 600"
        ),
        "{err}"
    );
}
