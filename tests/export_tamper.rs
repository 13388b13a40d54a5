//! An exported directory (C2SP tiles) is checked offline; any change to it is named.

use crate::common::{armory, assert_fails_with, copy_dir, make_log, stdout};
use armory_store::Store;
use std::path::{Path, PathBuf};

fn export(data: &Path, to: &Path) {
    let out = armory(data, &["export", to.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
}

fn verify_dir(dir: &Path, key: &Path) -> std::process::Output {
    verify_dir_with(dir, key, &[])
}

/// `armory verify DIR --key KEY` and `more` arguments.
fn verify_dir_with(dir: &Path, key: &Path, more: &[&str]) -> std::process::Output {
    // No --data: an auditor has only the export and the key.
    let mut args = vec![
        "verify",
        dir.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    armory(Path::new("/nonexistent"), &args)
}

fn damaged(base: &Path, scratch: &Path, name: &str) -> PathBuf {
    let to = scratch.join(name);
    copy_dir(base, &to);
    to
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_tiles_verify_and_every_change_is_named() {
    // 70,000 would be the spec's example; 600 entries already give full and partial tiles at two levels.
    let (dir, data) = make_log(600, 64).await;
    let out_dir = dir.path().join("export");
    export(&data, &out_dir);
    let key = data.join("log.pub");
    let ok = verify_dir(&out_dir, &key);
    assert!(ok.status.success(), "{}", crate::common::stderr(&ok));
    assert!(stdout(&ok).contains("ok: 600 entries"));
    for path in [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
        "tile/entries/002.p/88",
        "checkpoint",
        "log.pub",
    ] {
        assert!(out_dir.join(path).is_file(), "{path} missing from export");
    }
    // The files are exactly what a tlog client fetches: a level-1 hash is the root of a full level-0 tile.
    let l0 = std::fs::read(out_dir.join("tile/0/000")).unwrap();
    let l1 = std::fs::read(out_dir.join("tile/1/000.p/2")).unwrap();
    assert_eq!(l0.len(), 8192);
    let hashes: Vec<armory_ledger::Hash> = l0
        .chunks(32)
        .map(|c| armory_ledger::Hash::from_slice(c).unwrap())
        .collect();
    let mut edge = armory_ledger::merkle::RightEdge::new();
    for h in &hashes {
        edge.push(*h);
    }
    assert_eq!(&l1[..32], &edge.root().0);

    let d = damaged(&out_dir, dir.path(), "flip-tile");
    let mut bytes = std::fs::read(d.join("tile/0/001")).unwrap();
    bytes[32 * 17 + 3] ^= 0x10;
    std::fs::write(d.join("tile/0/001"), bytes).unwrap();
    assert_fails_with(&verify_dir(&d, &key), "tile/0/001: hash 17 does not match");

    let d = damaged(&out_dir, dir.path(), "drop-tile");
    std::fs::remove_file(d.join("tile/1/000.p/2")).unwrap();
    assert_fails_with(&verify_dir(&d, &key), "tile/1/000.p/2: missing");

    let d = damaged(&out_dir, dir.path(), "flip-entry");
    let mut bytes = std::fs::read(d.join("tile/entries/001")).unwrap();
    let len = bytes.len();
    bytes[len / 2] ^= 0x01;
    std::fs::write(d.join("tile/entries/001"), bytes).unwrap();
    let out = verify_dir(&d, &key);
    assert_fails_with(&out, "entry ");

    let d = damaged(&out_dir, dir.path(), "change-checkpoint");
    let cp = std::fs::read_to_string(d.join("checkpoint"))
        .unwrap()
        .replacen("\n600\n", "\n599\n", 1);
    std::fs::write(d.join("checkpoint"), cp).unwrap();
    assert_fails_with(&verify_dir(&d, &key), "checkpoint: the signature");

    // A checkpoint of another log, with that log's key in the export: refused against the trusted key.
    let (_other_dir, other) = make_log(5, 5).await;
    let d = damaged(&out_dir, dir.path(), "other-log");
    std::fs::copy(other.join("log.pub"), d.join("log.pub")).unwrap();
    std::fs::write(d.join("checkpoint"), armory(&other, &["log"]).stdout).unwrap();
    assert_fails_with(
        &verify_dir(&d, &key),
        "checkpoint: no signature by the log's key",
    );
}

/// An export rebuilt from other entries and signed with the node's own key (what an insider with
/// the laptop can do), written as `armory export` does.
async fn rewritten_export(base: &Path, scratch: &Path, name: &str, entries: u64) -> PathBuf {
    let data = scratch.join(format!("{name}-data"));
    copy_dir(base, &data);
    for f in ["armory.db", "armory.db.checkpoint"] {
        std::fs::remove_file(data.join(f)).unwrap();
    }
    armory_store::sqlite::SqliteLog::create(&data.join("armory.db"), &crate::common::signer(&data))
        .await
        .unwrap();
    let log = crate::common::open_writer(&data).await;
    for i in 0..entries {
        let text = if i == 7 {
            "entry 7, changed".to_owned()
        } else {
            format!("entry {i}")
        };
        log.append(vec![crate::common::draft(&text)]).await.unwrap();
    }
    log.close().await;
    let to = scratch.join(name);
    export(&data, &to);
    to
}

fn verify_kept(dir: &Path, key: &Path, kept: &Path) -> std::process::Output {
    verify_dir_with(dir, key, &["--checkpoint", kept.to_str().unwrap()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_checkpoint_catches_a_rewritten_or_shortened_export() {
    let (dir, data) = make_log(40, 3).await;
    let key = data.join("log.pub");
    let kept = dir.path().join("kept-40.checkpoint");
    std::fs::write(&kept, armory(&data, &["log"]).stdout).unwrap();

    // The genuine log, grown since: the kept checkpoint is a prefix of it.
    let log = crate::common::open_writer(&data).await;
    log.append(vec![crate::common::draft("entry 40")])
        .await
        .unwrap();
    log.close().await;
    let genuine = dir.path().join("genuine");
    export(&data, &genuine);
    let out = verify_kept(&genuine, &key, &kept);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    assert!(
        stdout(&out).contains("contains the kept checkpoint of size 40 unchanged"),
        "{}",
        stdout(&out)
    );

    // Rewritten and re-signed with the node's key: the export verifies on its own (the check
    // without --checkpoint passes), the kept checkpoint does not.
    let rewritten = rewritten_export(&data, dir.path(), "rewritten", 41).await;
    assert!(verify_dir(&rewritten, &key).status.success());
    assert_fails_with(
        &verify_kept(&rewritten, &key, &kept),
        "first 40 entries no longer hash to the kept root",
    );
    // Given an earlier export holding the kept checkpoint's entries, the first changed entry is
    // named, for an export and for a data directory.
    let against = |mut args: Vec<String>| {
        args.extend(["--against".to_owned(), genuine.to_str().unwrap().to_owned()]);
        args
    };
    let refused_naming_entry_7 = |data: &Path, args: Vec<String>| {
        let args = against(args);
        let out = armory(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = crate::common::stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains("the first entry that differs from")
                && err.contains("is entry 7: there note at"),
            "{err}"
        );
    };
    let kept_arg = || ["--checkpoint".to_owned(), kept.to_str().unwrap().to_owned()];
    let mut export_args = vec![
        "verify".to_owned(),
        rewritten.to_str().unwrap().to_owned(),
        "--key".to_owned(),
        key.to_str().unwrap().to_owned(),
    ];
    export_args.extend(kept_arg());
    refused_naming_entry_7(Path::new("/nonexistent"), export_args);
    let mut data_args = vec!["verify".to_owned()];
    data_args.extend(kept_arg());
    refused_naming_entry_7(&dir.path().join("rewritten-data"), data_args);
    // A fork: same size as the kept checkpoint, another root.
    let fork = rewritten_export(&data, dir.path(), "fork", 40).await;
    assert_fails_with(
        &verify_kept(&fork, &key, &kept),
        "the log was rewritten, or forked",
    );
    // Shortened.
    let short = rewritten_export(&data, dir.path(), "short", 30).await;
    assert_fails_with(
        &verify_kept(&short, &key, &kept),
        "is for size 40 but the log has 30 entries: entries were removed",
    );
    // A path that does not exist, and a checkpoint of another log: refused, not ok.
    assert_fails_with(
        &verify_kept(&genuine, &key, &dir.path().join("no-such.checkpoint")),
        "cannot read the kept checkpoint",
    );
    let (other_dir, other) = make_log(5, 5).await;
    let foreign = other_dir.path().join("foreign.checkpoint");
    std::fs::write(&foreign, armory(&other, &["log"]).stdout).unwrap();
    assert_fails_with(
        &verify_kept(&genuine, &key, &foreign),
        "is not a checkpoint signed by this log's key",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_proves_its_entry_offline_and_nothing_else() {
    let (dir, data) = make_log(10, 1).await;
    let key = data.join("log.pub");
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let receipt = file(
        "3.tlog-proof",
        &armory(&data, &["log", "proof", "3"]).stdout,
    );
    let entry = file("3.json", &armory(&data, &["log", "entry", "3"]).stdout);
    let check = |receipt: &Path, entry: &Path, key: &Path| {
        armory(
            Path::new("/nonexistent"),
            &[
                "verify",
                "--receipt",
                receipt.to_str().unwrap(),
                "--entry",
                entry.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
        )
    };
    let ok = check(&receipt, &entry, &key);
    assert!(ok.status.success(), "{}", crate::common::stderr(&ok));
    assert!(
        stdout(&ok).contains("ok: entry 3 (note, 2026-11-23T08:00:00.000Z) is in log armory.test/main-unit of 10 entries"),
        "{}",
        stdout(&ok)
    );
    // The same entry pretty-printed (as a browser shows JSON) is the same entry.
    let value: serde_json::Value =
        serde_json::from_slice(&armory(&data, &["log", "entry", "3"]).stdout).unwrap();
    let pretty = file(
        "3-pretty.json",
        serde_json::to_string_pretty(&value).unwrap().as_bytes(),
    );
    assert!(check(&receipt, &pretty, &key).status.success());

    // A changed entry, another entry, another log's key, a damaged receipt: refused, saying why.
    let mut changed = value.clone();
    changed["event"]["text"] = "entry 3, changed".into();
    let changed = file("3-changed.json", changed.to_string().as_bytes());
    assert_fails_with(&check(&receipt, &changed, &key), "does not prove");
    let other = file("4.json", &armory(&data, &["log", "entry", "4"]).stdout);
    assert_fails_with(
        &check(&receipt, &other, &key),
        "the receipt is for entry 3 but",
    );
    let (_other_dir, other_log) = make_log(2, 2).await;
    assert_fails_with(
        &check(&receipt, &entry, &other_log.join("log.pub")),
        "does not prove",
    );
    let text = String::from_utf8(std::fs::read(&receipt).unwrap()).unwrap();
    let damaged = file(
        "damaged.tlog-proof",
        text.replacen("index 3", "index 03", 1).as_bytes(),
    );
    assert_fails_with(
        &check(&damaged, &entry, &key),
        "not a c2sp.org/tlog-proof@v1 receipt: index is not a decimal",
    );
    // A receipt of a later checkpoint proves the entry as well.
    let log = crate::common::open_writer(&data).await;
    log.append(vec![crate::common::draft("entry 10")])
        .await
        .unwrap();
    log.close().await;
    let later = file(
        "3-later.tlog-proof",
        &armory(&data, &["log", "proof", "3"]).stdout,
    );
    assert!(stdout(&check(&later, &entry, &key)).contains("of 11 entries"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consistency_proof_links_an_old_checkpoint_to_a_new_one() {
    // Batches of 3: checkpoints signed at sizes 0, 3, 6, ..., 39, 40.
    let (_dir, data) = make_log(40, 3).await;
    let body = |args: &[&str]| {
        let out = armory(&data, &[&["log", "consistency"][..], args].concat());
        assert!(out.status.success(), "{}", crate::common::stderr(&out));
        stdout(&out)
    };
    let verifier = armory_ledger::keys::LogVerifier::from_text(
        std::fs::read_to_string(data.join("log.pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let parse = |text: &str| {
        let (head, note) = text.split_once("\n\n").unwrap();
        let mut lines = head.lines();
        let old: u64 = lines
            .next()
            .unwrap()
            .strip_prefix("old ")
            .unwrap()
            .parse()
            .unwrap();
        let proof: Vec<armory_ledger::Hash> = lines
            .map(|l| armory_ledger::Hash::from_base64(l).unwrap())
            .collect();
        let checkpoint =
            armory_ledger::checkpoint::Checkpoint::open(note.as_bytes(), &verifier).unwrap();
        (old, proof, checkpoint)
    };
    // From 0 the proof is empty; the checkpoint asked for is the one signed for that size.
    let (old, proof, nine) = parse(&body(&["0", "9"]));
    assert_eq!((old, proof.len(), nine.size), (0, 0, 9));
    // From 9 to the latest (40): the proof verifies against both roots, and fails against
    // another old root.
    let (old, proof, latest) = parse(&body(&["9"]));
    assert_eq!((old, latest.size), (9, 40));
    assert!(!proof.is_empty());
    armory_ledger::merkle::verify_consistency(9, 40, &nine.root, &latest.root, &proof).unwrap();
    let (_, _, six) = parse(&body(&["0", "6"]));
    assert!(
        armory_ledger::merkle::verify_consistency(9, 40, &six.root, &latest.root, &proof).is_err()
    );
    // A size never signed, and an old size past the new one, are refused with the reason.
    assert_fails_with(
        &armory(&data, &["log", "consistency", "9", "10"]),
        "the log signed no checkpoint of size 10",
    );
    assert_fails_with(
        &armory(&data, &["log", "consistency", "41"]),
        "the old size 41 is larger than the checkpoint's size 40",
    );
}
