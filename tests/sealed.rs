//! Sealed bundles: every 256 entries are kept as one C2SP entry bundle and one pack of the stored
//! hashes they create. The log reads back the same through them, a log written before them is
//! sealed when it is next opened for writing, and a bundle or pack edited behind the log's back is
//! named at the first entry or hash that is wrong.

use crate::common::{
    Rng, armory, assert_fails_with, copy_dir, draft, make_log, open_writer, raw, stdout,
};
use armory_ledger::merkle::stored_hash_count;
use armory_store::Store;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// 700 entries: bundles 0 and 1 sealed, 188 entries after them as rows.
const SIZE: u64 = 700;

fn copy(base: &Path, scratch: &Path, name: &str) -> PathBuf {
    let to = scratch.join(name);
    copy_dir(base, &to);
    to
}

async fn count(conn: &mut Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

async fn blob(conn: &mut Connection, sql: &str) -> Vec<u8> {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

async fn exec(conn: &mut Connection, sql: &str) {
    conn.execute_batch(sql).unwrap();
}

/// One blob from the log in `base`, with the connection closed before the directory is copied
/// (closing the last connection removes the WAL files, which must not happen during a copy).
async fn read_base(base: &Path, sql: &str) -> Vec<u8> {
    let mut conn = raw(base).await;
    let value = blob(&mut conn, sql).await;
    conn.close().unwrap();
    value
}

/// Where each entry of a bundle starts (at its two length bytes), and where the last ends.
fn framing(bundle: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    while at < bundle.len() {
        at += 2 + usize::from(u16::from_be_bytes([bundle[at], bundle[at + 1]]));
        starts.push(at);
    }
    starts
}

/// What `armory verify` names when stored hash `id` is wrong: the entry whose leaf hash it is,
/// or the hash.
fn named(id: u64) -> String {
    let mut i = 0;
    while stored_hash_count(i + 1) <= id {
        i += 1;
    }
    if stored_hash_count(i) == id {
        format!("entry {i}: it does not hash to its stored leaf hash")
    } else {
        format!("stored hash {id} ")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_bundles_are_sealed_and_read_back_as_written() {
    // Batches of 7 cross each bundle boundary inside a commit.
    let (_dir, data) = make_log(SIZE, 7).await;
    let mut conn = raw(&data).await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM bundles").await, 2);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM hash_packs").await, 2);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM entries").await, 188);
    assert_eq!(count(&mut conn, "SELECT min(idx) FROM entries").await, 512);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM hashes").await as u64,
        stored_hash_count(SIZE) - stored_hash_count(512)
    );
    // A bundle is the C2SP entry bundle of its 256 entries.
    let bundle = blob(&mut conn, "SELECT data FROM bundles WHERE n = 1").await;
    let entries = armory_ledger::tiles::decode_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    drop(conn);

    let log = open_writer(&data).await;
    let all = log.entries(0..SIZE).await.unwrap();
    assert_eq!(all.len() as u64, SIZE);
    for (i, (index, bytes)) in all.iter().enumerate() {
        assert_eq!(*index, i as u64);
        let entry = armory_ledger::Entry::decode(bytes).unwrap();
        assert_eq!(entry.index, i as u64);
        assert_eq!(entry.event["text"], format!("entry {i}"));
    }
    assert_eq!(entries[0], &all[256].1[..]);
    // Ranges that start and end inside bundles, and scattered indexes.
    let part = log.entries(250..520).await.unwrap();
    assert_eq!(part, all[250..520].to_vec());
    let picked = log.entries_at(&[699, 3, 256, 255, 3, 600]).await.unwrap();
    let want: Vec<_> = [3, 255, 256, 600, 699]
        .iter()
        .map(|&i| all[i].clone())
        .collect();
    assert_eq!(picked, want);
    // Every stored hash, through packs and rows, in id order.
    let hashes = log.stored_hashes(0..stored_hash_count(SIZE)).await.unwrap();
    assert_eq!(hashes.len() as u64, stored_hash_count(SIZE));
    assert!(
        hashes
            .iter()
            .zip(0..)
            .all(|((id, h), want)| *id == want && h.len() == 32)
    );
    let by_id = log.hashes(&[0, 510, 511, 1022, 1023, 1300]).await.unwrap();
    for (h, id) in by_id.iter().zip([0usize, 510, 511, 1022, 1023, 1300]) {
        assert_eq!(h.0[..], hashes[id].1[..]);
    }
    // Appending goes on after the tail; the next bundle seals at 768.
    log.append((SIZE..800).map(|i| draft(&format!("entry {i}"))).collect())
        .await
        .unwrap();
    log.close().await;
    let mut conn = raw(&data).await;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM bundles").await, 3);
    assert_eq!(count(&mut conn, "SELECT min(idx) FROM entries").await, 768);
    drop(conn);
    let out = armory(&data, &["verify"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    // Entries and proofs by index, from a bundle and from the rows.
    for index in ["0", "300", "799"] {
        let out = armory(&data, &["log", "entry", index]);
        assert!(
            stdout(&out).contains(&format!("\"index\":{index}")),
            "{}",
            stdout(&out)
        );
        assert!(armory(&data, &["log", "proof", index]).status.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_before_bundles_is_read_as_it_is_and_sealed_at_its_next_write() {
    let (dir, sealed) = make_log(SIZE, 50).await;
    let log = open_writer(&sealed).await;
    let entries = log.entries(0..SIZE).await.unwrap();
    let hashes = log.stored_hashes(0..stored_hash_count(SIZE)).await.unwrap();
    log.close().await;
    // The same log as schema 3 kept it: every entry and hash a row, no bundle tables.
    let data = copy(&sealed, dir.path(), "schema3");
    let mut conn = raw(&data).await;
    exec(
        &mut conn,
        "DROP TABLE bundles; DROP TABLE hash_packs; DROP TABLE probe; DELETE FROM entries; DELETE FROM hashes;",
    )
    .await;
    for (table, rows) in [
        ("entries (idx, data)", &entries),
        ("hashes (id, hash)", &hashes),
    ] {
        for (key, value) in rows {
            conn.execute(
                &format!("INSERT INTO {table} VALUES (?1, ?2)"),
                (*key as i64, value),
            )
            .unwrap();
        }
    }
    let schema1 = include_str!("../crates/store/migrations/sqlite/0001_log.sql");
    let triggers: String = schema1
        .lines()
        .filter(|l| l.starts_with("CREATE TRIGGER"))
        .collect::<Vec<_>>()
        .join("\n");
    exec(&mut conn, &triggers).await;
    exec(&mut conn, "PRAGMA user_version = 3").await;
    drop(conn);
    // Read as it is (a reader does not upgrade a file).
    let out = armory(&data, &["verify"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let out = armory(&data, &["log", "entry", "300"]);
    assert!(stdout(&out).contains("\"index\":300"), "{}", stdout(&out));
    // The next writer upgrades and seals, and the log is the same log.
    let out = armory(&data, &["note", "after the upgrade"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let mut conn = raw(&data).await;
    assert_eq!(count(&mut conn, "PRAGMA user_version").await, 5);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM bundles").await, 2);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM entries").await, 189);
    let upgraded = blob(&mut conn, "SELECT data FROM bundles WHERE n = 1").await;
    drop(conn);
    let mut conn = raw(&sealed).await;
    assert_eq!(
        upgraded,
        blob(&mut conn, "SELECT data FROM bundles WHERE n = 1").await
    );
    drop(conn);
    let out = armory(&data, &["verify"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_flipped_byte_of_a_sealed_bundle_is_named_at_its_entry() {
    let (dir, base) = make_log(SIZE, 50).await;
    let original = read_base(&base, "SELECT data FROM bundles WHERE n = 1").await;
    let starts = framing(&original);
    assert_eq!(starts.len(), 257);
    let mut rng = Rng::from_env();
    for case in 0..20 {
        let data = copy(&base, dir.path(), &format!("flip{case}"));
        let mut bytes = original.clone();
        // Every fourth case hits a length prefix.
        let at = if case % 4 == 0 {
            starts[rng.below(256) as usize] + rng.below(2) as usize
        } else {
            rng.below(bytes.len() as u64) as usize
        };
        bytes[at] ^= 1 << rng.below(8);
        let k = starts.iter().rposition(|&s| s <= at).unwrap();
        let conn = raw(&data).await;
        conn.execute("UPDATE bundles SET data = ? WHERE n = 1", (&bytes,))
            .unwrap();
        drop(conn);
        assert_fails_with(&armory(&data, &["verify"]), &format!("entry {}: ", 256 + k));
    }
}

/// The last entry of a bundle runs to its end, but its length prefix must still say so: a
/// flipped prefix bit there once passed verify (ARMORY_TEST_SEED=1796208141277624205 above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_length_prefix_of_a_bundles_last_entry_is_named() {
    let (dir, base) = make_log(SIZE, 50).await;
    let original = read_base(&base, "SELECT data FROM bundles WHERE n = 1").await;
    let starts = framing(&original);
    for (case, bit) in [(0, 0u8), (1, 1), (2, 0x80)] {
        let data = copy(&base, dir.path(), &format!("last{case}"));
        let mut bytes = original.clone();
        // The low byte for small changes, the high byte for a length far beyond the bundle.
        let at = starts[255] + usize::from(bit != 0x80);
        bytes[at] ^= if bit == 0x80 { 0x80 } else { 1 << bit };
        let conn = raw(&data).await;
        conn.execute("UPDATE bundles SET data = ? WHERE n = 1", (&bytes,))
            .unwrap();
        drop(conn);
        assert_fails_with(&armory(&data, &["verify"]), "entry 511: ");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_swapped_cut_and_doubled_bundles_are_named() {
    let (dir, base) = make_log(SIZE, 50).await;
    let cases: [(&str, &str); 6] = [
        ("DELETE FROM bundles WHERE n = 0", "entry 0: missing"),
        (
            "UPDATE bundles SET n = -1 WHERE n = 0; UPDATE bundles SET n = 0 WHERE n = 1; UPDATE bundles SET n = 1 WHERE n = -1;",
            "entry 0: it says it is entry 256",
        ),
        (
            "UPDATE bundles SET data = substr(data, 1, length(data) - 10) WHERE n = 1",
            "entry 511: ",
        ),
        (
            "UPDATE bundles SET data = CAST(data || x'0000' AS BLOB) WHERE n = 0",
            "entry 255: ",
        ),
        (
            "INSERT INTO entries (idx, data) SELECT 300, data FROM entries WHERE idx = 600",
            "entry 300: ",
        ),
        (
            "DELETE FROM bundles WHERE n = 1; DELETE FROM entries",
            "entry 256: missing",
        ),
    ];
    for (i, (sql, named)) in cases.iter().enumerate() {
        let data = copy(&base, dir.path(), &format!("case{i}"));
        exec(&mut raw(&data).await, sql).await;
        assert_fails_with(&armory(&data, &["verify"]), named);
    }
    // The same entry twice, in its bundle and as a row.
    let data = copy(&base, dir.path(), "twice");
    let conn = raw(&data).await;
    let log_entry = armory(&base, &["log", "entry", "300"]);
    let bytes = stdout(&log_entry);
    conn.execute(
        "INSERT INTO entries (idx, data) VALUES (300, ?)",
        (bytes.trim_end().as_bytes(),),
    )
    .unwrap();
    drop(conn);
    assert_fails_with(&armory(&data, &["verify"]), "entry 300: it is stored twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_of_a_sealed_hash_pack_is_named_at_its_hash() {
    let (dir, base) = make_log(SIZE, 50).await;
    let original = read_base(
        &base,
        "SELECT data FROM hash_packs WHERE first = (SELECT max(first) FROM hash_packs)",
    )
    .await;
    let first = 511; // bundle 1's pack: the stored hashes of entries 256..512
    assert_eq!(armory_ledger::merkle::stored_hash_count(256), first as u64);
    let mut rng = Rng::from_env();
    for case in 0..10 {
        let data = copy(&base, dir.path(), &format!("hash{case}"));
        let mut bytes = original.clone();
        let at = rng.below(bytes.len() as u64) as usize;
        bytes[at] ^= 1 << rng.below(8);
        let id = first as u64 + (at / 32) as u64;
        let conn = raw(&data).await;
        conn.execute(
            "UPDATE hash_packs SET data = ? WHERE first = ?",
            (&bytes, first),
        )
        .unwrap();
        drop(conn);
        assert_fails_with(&armory(&data, &["verify"]), &named(id));
    }
    // A pack cut short, and one gone.
    let data = copy(&base, dir.path(), "short");
    exec(
        &mut raw(&data).await,
        &format!("UPDATE hash_packs SET data = substr(data, 1, 100) WHERE first = {first}"),
    )
    .await;
    assert_fails_with(&armory(&data, &["verify"]), &named(first as u64 + 3));
    let data = copy(&base, dir.path(), "gone");
    exec(
        &mut raw(&data).await,
        &format!("DELETE FROM hash_packs WHERE first = {first}"),
    )
    .await;
    assert_fails_with(
        &armory(&data, &["verify"]),
        &format!("stored hash {first} "),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_rows_are_append_only_through_sqlite() {
    let (_dir, data) = make_log(300, 50).await;
    let conn = Connection::open(data.join("armory.db")).unwrap();
    for sql in [
        "UPDATE bundles SET data = x'00' WHERE n = 0",
        "DELETE FROM bundles",
        "UPDATE hash_packs SET data = x'00'",
        "DELETE FROM hash_packs",
        // Rows after the last bundle are not sealed: they cannot be deleted.
        "DELETE FROM entries WHERE idx = 299",
        "DELETE FROM hashes WHERE id = (SELECT max(id) FROM hashes)",
    ] {
        let err = conn.execute_batch(sql).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert!(armory(&data, &["verify"]).status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_while_bundles_are_sealed_see_every_entry() {
    // Appends of 1 to 40 entries cross bundle boundaries while two readers (the writer's own,
    // and one that opened the file read-only) read the whole log again and again: each read must
    // see the log whole at some moment, though a seal moves entries from rows into a bundle.
    let (_dir, data) = make_log(0, 1).await;
    let log = open_writer(&data).await;
    let reader = armory_store::sqlite::SqliteLog::open_reader(
        &data.join("armory.db"),
        log.verifier().clone(),
    )
    .await
    .unwrap();
    let writer = log.clone();
    let appends = tokio::spawn(async move {
        let mut rng = Rng::from_env();
        let mut size = 0u64;
        while size < 1500 {
            let k = 1 + rng.below(40);
            writer
                .append(
                    (size..size + k)
                        .map(|i| draft(&format!("entry {i}")))
                        .collect(),
                )
                .await
                .unwrap();
            size += k;
        }
    });
    let mut reads = 0;
    while !appends.is_finished() {
        for store in [&log, &reader] {
            let size = store.extent().await.unwrap().entries_end;
            let all = store.entries(0..u64::MAX / 2).await.unwrap();
            assert!(
                all.len() as u64 >= size,
                "read {} of {size} entries",
                all.len()
            );
            for (want, (index, _)) in all.iter().enumerate() {
                assert_eq!(*index, want as u64, "entry {want} is missing from a read");
            }
            let hashes = store
                .stored_hashes(0..stored_hash_count(all.len() as u64))
                .await
                .unwrap();
            assert_eq!(hashes.len() as u64, stored_hash_count(all.len() as u64));
            reads += 1;
        }
    }
    appends.await.unwrap();
    assert!(reads > 10, "only {reads} reads ran during the appends");
    log.close().await;
    assert!(armory(&data, &["verify"]).status.success());
}
