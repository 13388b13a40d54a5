//! A log edited behind its back: `armory verify` fails and names the first thing that is wrong.

use crate::common::{
    ORIGIN, Rng, armory, assert_fails_with, copy_dir, make_log, raw, signer, stderr, stdout,
};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::merkle::RightEdge;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// A fresh copy of `base` to damage.
fn copy(base: &Path, scratch: &Path, name: &str) -> PathBuf {
    let to = scratch.join(name);
    copy_dir(base, &to);
    to
}

async fn entry(conn: &mut Connection, idx: i64) -> Vec<u8> {
    conn.query_row("SELECT data FROM entries WHERE idx = ?", [idx], |r| {
        r.get(0)
    })
    .unwrap()
}

async fn exec(conn: &mut Connection, sql: &str) {
    conn.execute_batch(sql).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_flipped_byte_of_any_entry_is_named() {
    let (dir, base) = make_log(40, 3).await;
    assert!(armory(&base, &["verify"]).status.success());
    let mut rng = Rng::from_env();
    for case in 0..25 {
        let data = copy(&base, dir.path(), &format!("flip{case}"));
        let mut conn = raw(&data).await;
        let idx = rng.below(40) as i64;
        let mut bytes = entry(&mut conn, idx).await;
        let at = rng.below(bytes.len() as u64) as usize;
        bytes[at] ^= 1 << rng.below(8);
        conn.execute("UPDATE entries SET data = ? WHERE idx = ?", (&bytes, idx))
            .unwrap();
        drop(conn);
        let out = armory(&data, &["verify"]);
        assert_fails_with(&out, &format!("entry {idx}: "));
    }
}

/// Entries that a reader joining or splitting rows on newlines could misread (a canonical entry
/// holds no raw newline): each odd one is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_with_a_raw_newline_an_empty_one_and_two_run_together_are_named() {
    let (dir, base) = make_log(40, 3).await;
    let data = copy(&base, dir.path(), "newline");
    let mut conn = raw(&data).await;
    let mut bytes = entry(&mut conn, 12).await;
    bytes.insert(1, b'\n');
    conn.execute("UPDATE entries SET data = ? WHERE idx = 12", (&bytes,))
        .unwrap();
    drop(conn);
    assert_fails_with(&armory(&data, &["verify"]), "entry 12: ");

    let data = copy(&base, dir.path(), "empty");
    exec(
        &mut raw(&data).await,
        "UPDATE entries SET data = x'' WHERE idx = 20",
    )
    .await;
    assert_fails_with(&armory(&data, &["verify"]), "entry 20: ");

    // Entry 30 and 31 in one row (joined as the packed read joins them), 31 gone.
    let data = copy(&base, dir.path(), "run-together");
    let mut conn = raw(&data).await;
    let mut both = entry(&mut conn, 30).await;
    both.push(b'\n');
    both.extend(entry(&mut conn, 31).await);
    conn.execute("UPDATE entries SET data = ? WHERE idx = 30", (&both,))
        .unwrap();
    exec(&mut conn, "DELETE FROM entries WHERE idx = 31").await;
    drop(conn);
    assert_fails_with(&armory(&data, &["verify"]), "entry 30: ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_reordered_and_truncated_entries_are_named() {
    let (dir, base) = make_log(40, 3).await;

    let data = copy(&base, dir.path(), "delete");
    exec(&mut raw(&data).await, "DELETE FROM entries WHERE idx = 17").await;
    assert_fails_with(&armory(&data, &["verify"]), "entry 17: missing");

    let data = copy(&base, dir.path(), "reorder");
    exec(
        &mut raw(&data).await,
        "UPDATE entries SET idx = -1 WHERE idx = 5; UPDATE entries SET idx = 5 WHERE idx = 9; UPDATE entries SET idx = 9 WHERE idx = -1;",
    )
    .await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        "entry 5: it says it is entry 9",
    );

    let data = copy(&base, dir.path(), "truncate");
    exec(&mut raw(&data).await, "DELETE FROM entries WHERE idx >= 30").await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        "entry 30: missing: the log ends at 30 entries",
    );

    // Truncating everything consistently (entries, hashes, checkpoints) leaves a valid shorter log;
    // only a checkpoint someone kept can tell. `verify --checkpoint` is how they tell.
    let kept = dir.path().join("kept.checkpoint");
    std::fs::write(&kept, armory(&base, &["log"]).stdout).unwrap();
    let data = copy(&base, dir.path(), "truncate-all");
    exec(
        &mut raw(&data).await,
        "DELETE FROM entries WHERE idx >= 30; DELETE FROM hashes WHERE id >= 56; DELETE FROM checkpoints WHERE size > 30;",
    )
    .await;
    assert_eq!(armory_ledger::merkle::stored_hash_count(30), 56);
    // The checkpoint the node kept beside its database exposes it.
    let out = armory(&data, &["verify"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("holds 30 entries, but this node signed a checkpoint of 40"),
        "{}",
        stderr(&out)
    );
    // Without that file (removed too), the shortened log checks out on its own, and only a
    // checkpoint kept elsewhere exposes it.
    std::fs::remove_file(data.join("armory.db.checkpoint")).unwrap();
    assert!(armory(&data, &["verify"]).status.success());
    let kept_arg = kept.to_str().unwrap();
    assert_fails_with(
        &armory(&data, &["verify", "--checkpoint", kept_arg]),
        "entries were removed",
    );
    let out = armory(&base, &["verify", "--checkpoint", kept_arg]);
    assert!(
        stdout(&out).contains("contains the kept checkpoint of size 40 unchanged"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_and_foreign_checkpoints_are_named() {
    let (dir, base) = make_log(40, 3).await;
    // make_log appends in batches of 3: checkpoints at 0, 3, 6, ..., 39, 40.
    let data = copy(&base, dir.path(), "replace");
    exec(&mut raw(&data).await, "UPDATE checkpoints SET note = (SELECT note FROM checkpoints WHERE size = 9) WHERE size = 12").await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        "checkpoint for size 12: it says size 9",
    );

    let data = copy(&base, dir.path(), "garbled");
    exec(&mut raw(&data).await, "UPDATE checkpoints SET note = CAST(replace(note, X'0A390A', X'0A380A') AS BLOB) WHERE size = 9").await;
    assert_fails_with(&armory(&data, &["verify"]), "checkpoint for size 9: ");

    // A checkpoint with the right size and root, signed by another key of the same name.
    let data = copy(&base, dir.path(), "foreign");
    let conn = raw(&data).await;
    let note: Vec<u8> = conn
        .query_row("SELECT note FROM checkpoints WHERE size = 21", [], |r| {
            r.get(0)
        })
        .unwrap();
    let real = Checkpoint::open(&note, &signer(&base).verifier().unwrap()).unwrap();
    let impostor = armory_ledger::keys::LogSigner::generate(ORIGIN).unwrap();
    let forged = real.sign(&impostor).unwrap();
    conn.execute(
        "UPDATE checkpoints SET note = ? WHERE size = 21",
        (&forged,),
    )
    .unwrap();
    drop(conn);
    assert_fails_with(
        &armory(&data, &["verify"]),
        "checkpoint for size 21: no signature by the log's key",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_hashes_and_entries_added_behind_the_logs_back_are_named() {
    let (dir, base) = make_log(40, 3).await;
    let data = copy(&base, dir.path(), "hash");
    // Id 6 is the level-2 hash over entries 0..4.
    exec(
        &mut raw(&data).await,
        "UPDATE hashes SET hash = zeroblob(32) WHERE id = 6",
    )
    .await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        "stored hash 6 (tree level 2, position 0)",
    );

    // An entry appended directly, with its hashes, but no checkpoint signed by the node.
    let data = copy(&base, dir.path(), "extra");
    let mut conn = raw(&data).await;
    let mut entry: serde_json::Value = serde_json::from_slice(&entry(&mut conn, 39).await).unwrap();
    entry["index"] = 40.into();
    append_behind_the_back(&conn, &entry);
    drop(conn);
    assert_fails_with(
        &armory(&data, &["verify"]),
        "no signed checkpoint covers entries 40..41",
    );
    // And the node refuses to write on top of it.
    assert_fails_with(
        &armory(&data, &["note", "more"]),
        "does not match the stored tree",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_append_only_triggers_refuse_edits_through_sqlite() {
    let (_dir, data) = make_log(3, 3).await;
    let conn = Connection::open(data.join("armory.db")).unwrap();
    for sql in [
        "UPDATE entries SET data = x'00' WHERE idx = 0",
        "DELETE FROM checkpoints",
        "DELETE FROM hashes WHERE id = 0",
    ] {
        let err = conn.execute_batch(sql).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_stored_hash_rows_are_named_too() {
    let (dir, base) = make_log(40, 3).await;
    let data = copy(&base, dir.path(), "short-hash");
    exec(
        &mut raw(&data).await,
        "UPDATE hashes SET hash = x'00' WHERE id = 9",
    )
    .await;
    assert_fails_with(&armory(&data, &["verify"]), "stored hash 9 ");
    let data = copy(&base, dir.path(), "empty-hash");
    exec(
        &mut raw(&data).await,
        "UPDATE hashes SET hash = x'' WHERE id = 9",
    )
    .await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        "stored hash 9 (tree level 1, position 2): differs",
    );
    // And the store hands it back as stored: one hash of no bytes.
    let log = crate::common::open_reader(&data).await;
    let around = armory_store::Store::stored_hashes(&log, 8..11)
        .await
        .unwrap();
    assert_eq!(
        around
            .iter()
            .map(|(id, h)| (*id, h.len()))
            .collect::<Vec<_>>(),
        [(8, 32), (9, 0), (10, 32)]
    );
    let data = copy(&base, dir.path(), "missing-hash");
    exec(&mut raw(&data).await, "DELETE FROM hashes WHERE id = 5").await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        "stored hash 5 (tree level 1, position 1): missing",
    );
}

/// Appends `entry` as entry 40 of a 40-entry log, with its stored hashes, straight into the
/// tables (no checkpoint); returns the tree's edge after it.
fn append_behind_the_back(conn: &Connection, entry: &serde_json::Value) -> RightEdge {
    let bytes = armory_ledger::canonical::encode(entry).unwrap();
    let hashes: Vec<armory_ledger::Hash> = RightEdge::ids_for_size(40)
        .iter()
        .map(|id| {
            let h: Vec<u8> = conn
                .query_row("SELECT hash FROM hashes WHERE id = ?", [*id as i64], |r| {
                    r.get(0)
                })
                .unwrap();
            armory_ledger::Hash::from_slice(&h).unwrap()
        })
        .collect();
    let mut edge = RightEdge::from_hashes(40, &hashes).unwrap();
    let first = armory_ledger::merkle::stored_hash_count(40);
    conn.execute("INSERT INTO entries (idx, data) VALUES (40, ?)", (&bytes,))
        .unwrap();
    for (k, h) in edge
        .push(armory_ledger::merkle::leaf_hash(&bytes))
        .iter()
        .enumerate()
    {
        conn.execute(
            "INSERT INTO hashes (id, hash) VALUES (?1, ?2)",
            ((first + k as u64) as i64, &h.0[..]),
        )
        .unwrap();
    }
    edge
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_timed_before_the_one_before_it_is_named() {
    // An insider with the node's key appends an entry timed an hour before the last one (a clock
    // set back), with its hashes and a checkpoint signed over it: every hash and signature checks
    // out, only the order of time does not.
    let (dir, base) = crate::common::make_log(40, 40).await;
    let data = copy(&base, dir.path(), "clock-back");
    let mut conn = raw(&data).await;
    let mut entry: serde_json::Value = serde_json::from_slice(&entry(&mut conn, 39).await).unwrap();
    entry["index"] = 40.into();
    entry["time"] = "2026-11-23T07:00:00.000Z".into();
    let edge = append_behind_the_back(&conn, &entry);
    let checkpoint = armory_ledger::checkpoint::Checkpoint {
        origin: crate::common::ORIGIN.into(),
        size: 41,
        root: edge.root(),
        extensions: vec![],
    };
    let note = checkpoint.sign(&crate::common::signer(&data)).unwrap();
    conn.execute(
        "INSERT INTO checkpoints (size, note) VALUES (41, ?)",
        (&note,),
    )
    .unwrap();
    drop(conn);
    let named = "entry 40: it is timed 2026-11-23T07:00:00.000Z, before entry 39 (2026-11-23T08:00:00.000Z)";
    assert_fails_with(&armory(&data, &["verify"]), named);
    // The same in an export, checked offline.
    let export = dir.path().join("clock-back-export");
    assert!(
        armory(&data, &["export", export.to_str().unwrap()])
            .status
            .success()
    );
    assert_fails_with(
        &armory(
            Path::new("/nonexistent"),
            &[
                "verify",
                export.to_str().unwrap(),
                "--key",
                data.join("log.pub").to_str().unwrap(),
            ],
        ),
        named,
    );
    // The untouched log passes.
    assert!(armory(&base, &["verify"]).status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_edited_in_the_file_is_refused_before_anything_is_written_on_top() {
    // 300 entries: bundle 0 sealed (entries 0..256), 44 entries after it as rows.
    let (dir, base) = crate::common::make_log(300, 50).await;
    let edit = |bytes: &[u8]| {
        let mut entry: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        entry["event"]["text"] = "lot DUM-9 verified, every round rattled".into();
        armory_ledger::canonical::encode(&entry).unwrap()
    };
    // An entry after the last bundle, edited in place.
    let data = copy(&base, dir.path(), "tail");
    let mut conn = raw(&data).await;
    let edited = edit(&entry(&mut conn, 270).await);
    conn.execute("UPDATE entries SET data = ?1 WHERE idx = 270", (&edited,))
        .unwrap();
    drop(conn);
    let refused =
        "entry 270 is not the entry the log's stored hashes and signed checkpoint describe";
    assert_fails_with(&armory(&data, &["note", "on top"]), refused);
    let before = std::fs::read(data.join("armory.db")).unwrap();
    assert_fails_with(
        &armory(&data, &["serve", "--listen", "127.0.0.1:0"]),
        refused,
    );
    assert_eq!(
        std::fs::read(data.join("armory.db")).unwrap(),
        before,
        "nothing written"
    );
    // An entry inside the last sealed bundle.
    let data = copy(&base, dir.path(), "bundle");
    let conn = raw(&data).await;
    let bundle: Vec<u8> = conn
        .query_row("SELECT data FROM bundles WHERE n = 0", [], |r| r.get(0))
        .unwrap();
    let mut entries: Vec<Vec<u8>> = armory_ledger::tiles::decode_bundle(&bundle)
        .unwrap()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    entries[100] = edit(&entries[100]);
    let rebuilt = armory_ledger::tiles::encode_bundle(entries.iter().map(Vec::as_slice)).unwrap();
    conn.execute("UPDATE bundles SET data = ?1 WHERE n = 0", (&rebuilt,))
        .unwrap();
    drop(conn);
    assert_fails_with(
        &armory(&data, &["note", "on top"]),
        "entry 100 is not the entry the log's stored hashes and signed checkpoint describe",
    );
    // The untouched log takes the note.
    assert!(armory(&base, &["note", "on top"]).status.success());
}
