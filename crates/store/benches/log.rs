//! Log benchmarks, each printed against its baseline measured in the same run on the same machine:
//!
//! 1. durable append, one writer: `SqliteLog::append` vs plain SQLite inserts of the same bytes,
//!    one row per transaction, WAL, `synchronous=FULL`, the two taking turns;
//! 2. durable append, 64 concurrent writers: group commit vs plain one-insert-per-commit (the best
//!    case for that: one connection, no lock contention);
//! 3. verify of a 1,000,000-entry log vs raw SHA-256 over the same entry bytes (in memory, and read
//!    from the same SQLite file);
//! 4. verify of a 20,000-entry log with a checkpoint per entry (what single acts make): its
//!    checkpoints' signatures checked one by one against in batches, alone and in the whole check;
//! 5. recovery after a storage fault (a one-byte file-size limit on this process, lifted): the
//!    first acknowledged append after it, against a normal durable append;
//! 6. restart: `Node::open` (replay and projection check) of the 1,000,000-entry log.
//!
//! Run: `cargo bench -p armory-store --bench log` (ARMORY_BENCH_ENTRIES=N to change the verify size,
//! ARMORY_BENCH_ONLY=verify for the verify benchmarks alone, =signatures for 4 alone, =append for
//! the appends alone).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{median, scratch};

use armory_ledger::Actor;
use armory_store::check::{Signatures, check_log, check_log_with};
use armory_store::sqlite::SqliteLog;
use armory_store::{Draft, Rows, Store};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn draft(i: u64) -> Draft {
    Draft {
        time: "2026-11-23T08:00:00.000Z".into(),
        event: serde_json::json!({
            "type": "note",
            "text": format!("act {i}: revolver SN-4471 returned to the armorer after take 3, all six chambers shown empty"),
        }),
        actors: vec![Actor {
            person: "p-armorer-1".into(),
            role: "armorer".into(),
            method: "password".into(),
            assertion: None,
        }],
    }
}

/// A plain SQLite file with one table, WAL and `synchronous=FULL`, as the log's own settings.
fn plain_db(dir: &Path, name: &str) -> Connection {
    let conn = Connection::open(dir.join(format!("{name}.db"))).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS t (idx INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT",
    )
    .unwrap();
    conn
}

/// The bytes our log writes for entry i (same size as the plain baseline's rows).
fn entry_bytes(i: u64) -> Vec<u8> {
    let d = draft(i);
    armory_ledger::Entry {
        v: 1,
        origin: "bench.example/log".into(),
        index: i,
        time: d.time,
        event: d.event,
        actors: d.actors,
    }
    .encode()
    .unwrap()
}

/// One row in one transaction: the plain baseline of a durable append.
fn plain_insert(conn: &mut Connection, i: u64, bytes: &[u8]) {
    let tx = conn.transaction().unwrap();
    tx.prepare_cached("INSERT INTO t (idx, data) VALUES (?1, ?2)")
        .unwrap()
        .execute((i as i64, bytes))
        .unwrap();
    tx.commit().unwrap();
}

/// One writer, ours and plain SQLite taking turns by runs of [`TURN`] appends, so that both see
/// the same disk (a shared disk's fsync time drifts by 2x within seconds).
async fn one_writer(dir: &Path, n: u64, round: usize) -> (f64, f64) {
    const TURN: u64 = 20;
    let log = common::new_log(dir, &format!("one{round}"), "bench.example/log").await;
    let mut conn = plain_db(dir, &format!("plain-one{round}"));
    let rows: Vec<Vec<u8>> = (0..n).map(entry_bytes).collect();
    let (mut ours, mut plain) = (Duration::ZERO, Duration::ZERO);
    let mut i = 0;
    while i < n {
        let turn = i..(i + TURN).min(n);
        let start = Instant::now();
        for k in turn.clone() {
            log.append(vec![draft(k)]).await.unwrap();
        }
        ours += start.elapsed();
        let start = Instant::now();
        for k in turn.clone() {
            plain_insert(&mut conn, k, &rows[k as usize]);
        }
        plain += start.elapsed();
        i = turn.end;
    }
    log.close().await;
    (
        n as f64 / ours.as_secs_f64(),
        n as f64 / plain.as_secs_f64(),
    )
}

async fn many_writers(dir: &Path, writers: u64, each: u64, round: usize) -> (f64, f64, u64) {
    let log = common::new_log(dir, &format!("many{round}"), "bench.example/log").await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..each {
                log.append(vec![draft(w * each + k)]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ours = (writers * each) as f64 / start.elapsed().as_secs_f64();
    let commits = log.checkpoints(1..u64::MAX / 2).await.unwrap().len() as u64;
    log.close().await;

    let conn = Arc::new(std::sync::Mutex::new(plain_db(
        dir,
        &format!("plain-many{round}"),
    )));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..each {
                let i = w * each + k;
                let bytes = entry_bytes(i);
                plain_insert(&mut conn.lock().unwrap(), i, &bytes);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let plain = (writers * each) as f64 / start.elapsed().as_secs_f64();
    (ours, plain, commits)
}

async fn verify(dir: &Path, n: u64) {
    let log = common::new_log(dir, "verify", "bench.example/log").await;
    let build = Instant::now();
    let batch = 1000;
    let mut i = 0;
    while i < n {
        let k = batch.min(n - i);
        log.append((i..i + k).map(draft).collect()).await.unwrap();
        i += k;
    }
    eprintln!(
        "built a {n}-entry log in {:.1} s",
        build.elapsed().as_secs_f64()
    );
    restart(&log, n).await;
    let log = reopen_read_only(log, dir, "verify").await;
    let rows = log.entries(0..n).await.unwrap();
    let bytes: u64 = rows.iter().map(|(_, d)| d.len() as u64).sum();
    let checkpoints = log.checkpoints(0..n + 1).await.unwrap().len();
    let mut ours = Vec::new();
    let mut raw_mem = Vec::new();
    let mut raw_db = Vec::new();
    let mut cores = Vec::new();
    // CPU time an entry (µs), ours and raw: what the two cost whatever else the machine runs
    // (another process's load takes one of verify's two cores, not the raw loop's one).
    let (mut cpu_ours, mut cpu_raw) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        let cpu = cpu_seconds();
        let report = check_log(&log, &mut |_, _| {}).await.unwrap();
        assert_eq!(report.entries, n);
        ours.push(n as f64 / start.elapsed().as_secs_f64());
        if let (Some(before), Some(after)) = (cpu, cpu_seconds()) {
            cores.push((after - before) / start.elapsed().as_secs_f64());
            cpu_ours.push((after - before) / n as f64 * 1e6);
        }

        let start = Instant::now();
        let cpu = cpu_seconds();
        let mut acc = 0u8;
        for (_, d) in &rows {
            acc ^= Sha256::digest(d)[0];
        }
        std::hint::black_box(acc);
        raw_mem.push(n as f64 / start.elapsed().as_secs_f64());
        if let (Some(before), Some(after)) = (cpu, cpu_seconds()) {
            cpu_raw.push((after - before) / n as f64 * 1e6);
        }

        let start = Instant::now();
        let mut acc = 0u8;
        let mut at = 0;
        let mut block = Rows::default();
        while at < n {
            block = log
                .read_entries(at..(at + 4096).min(n), block)
                .await
                .unwrap();
            for (_, d) in block.iter() {
                acc ^= Sha256::digest(d)[0];
            }
            at += 4096;
        }
        std::hint::black_box(acc);
        raw_db.push(n as f64 / start.elapsed().as_secs_f64());
    }
    parts(&log, &rows).await;
    let ratios: Vec<f64> = ours.iter().zip(&raw_mem).map(|(o, m)| o / m).collect();
    let (o, m, d) = (median(ours), median(raw_mem), median(raw_db));
    let cores = if cores.is_empty() || cpu_raw.is_empty() {
        String::new()
    } else {
        format!(
            ", on {:.2} cores ({:.3} µs of CPU an entry; raw SHA-256 {:.3})",
            median(cores),
            median(cpu_ours),
            median(cpu_raw)
        )
    };
    println!(
        "verify {n} entries ({:.0} MB, {checkpoints} checkpoints): armory verify {o:.0} entries/s{cores}; raw SHA-256 in memory {m:.0}/s (ratio {:.2}, median of the rounds' {:.2}; target >= 0.5); read from SQLite + SHA-256 {d:.0}/s (ratio {:.2}) (medians of 5)",
        bytes as f64 / 1e6,
        o / m,
        median(ratios),
        o / d
    );
    log.close().await;
}

/// What a restart of `armory serve` costs on this log: `Node::open`. The first open finds no
/// projection tables (the log was written without a node) and rebuilds them from a replay; the
/// next ones start from the tables and check them by a replay in the background (timed apart).
async fn restart(log: &SqliteLog, n: u64) {
    use armory_store::node::{Checked, Node};
    let (mut opens, mut checks) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let start = Instant::now();
        let node = Node::open(log.clone(), armory_core::Policy::default())
            .await
            .unwrap();
        opens.push(start.elapsed().as_secs_f64());
        let checked = node.checked().await;
        checks.push(start.elapsed().as_secs_f64());
        assert!(
            matches!(checked, Checked::Replayed | Checked::Matches),
            "{checked:?}"
        );
    }
    println!(
        "restart of a {n}-entry log (Node::open): {:.2} s with no projection tables (replay, then the tables written); {:.2} s from the tables (median of 2; target < 2 s), their check by a full replay in the background done {:.2} s after open",
        opens[0],
        median(opens[1..].to_vec()),
        median(checks[1..].to_vec())
    );
}

/// Recovery after a storage fault: the log's own process gets a file-size limit of one byte
/// (every write fails with EFBIG, as on a full disk), one append fails, the limit is lifted, and
/// the time to the first acknowledged append after that is measured, against a normal durable
/// append in the same run.
async fn recovery(dir: &Path, rounds: usize) {
    // A file-size limit must fail writes, not end the bench (SIGXFSZ's default action).
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(25)).unwrap();
    let pid = std::process::id().to_string();
    let limit = |fsize: &str| {
        let ok = std::process::Command::new("prlimit")
            .args(["--pid", &pid, &format!("--fsize={fsize}:")])
            .status()
            .unwrap()
            .success();
        assert!(ok, "prlimit failed");
    };
    let log = common::new_log(dir, "recovery", "bench.example/log").await;
    let (mut normal, mut first_after) = (Vec::new(), Vec::new());
    for i in 0..rounds as u64 {
        let start = Instant::now();
        log.append(vec![draft(3 * i)]).await.unwrap();
        normal.push(start.elapsed().as_secs_f64() * 1e3);
        limit("1");
        let failed = log.append(vec![draft(3 * i + 1)]).await;
        assert!(
            failed.is_err(),
            "an append succeeded under a one-byte file-size limit"
        );
        limit("unlimited");
        let start = Instant::now();
        log.append(vec![draft(3 * i + 2)]).await.unwrap();
        first_after.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "recovery after a storage fault clears: first acknowledged append {:.1} ms after the limit is lifted; a normal durable append {:.1} ms (medians of {rounds}); storage errors counted: {}",
        median(first_after),
        median(normal),
        log.health().errors()
    );
    log.close().await;
}

/// Closes `log` (the log `name` in `dir`) and opens it read-only, as `armory verify` does.
async fn reopen_read_only(log: SqliteLog, dir: &Path, name: &str) -> SqliteLog {
    let verifier = log.verifier().clone();
    log.close().await;
    SqliteLog::open_reader(&dir.join(format!("{name}.db")), verifier)
        .await
        .unwrap()
}

/// Verify of a log written the way a set node writes when acts come one at a time: one entry and
/// one signed checkpoint per commit, so one Ed25519 check per entry (built with
/// `synchronous=NORMAL`, which changes nothing in the file, only how long building it takes).
/// Its checkpoints' signatures checked one by one and in batches, the two taking turns in each
/// round: the notes alone on two threads, and the whole check.
async fn verify_one_per_commit(dir: &Path, n: u64) {
    let log = common::new_log_with(
        dir,
        "per-commit",
        "bench.example/log",
        armory_store::sqlite::Durability::Normal,
    )
    .await;
    for i in 0..n {
        log.append(vec![draft(i)]).await.unwrap();
    }
    let log = reopen_read_only(log, dir, "per-commit").await;
    let notes: Vec<Vec<u8>> = log
        .checkpoints(0..n + 1)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, note)| note)
        .collect();
    let notes: Vec<&[u8]> = notes.iter().map(Vec::as_slice).collect();
    let (mut single, mut batch) = (Vec::new(), Vec::new());
    let (mut check_single, mut check_batch) = (Vec::new(), Vec::new());
    for round in 0..5 {
        for batched in [round % 2 == 0, round % 2 == 1] {
            let rate = open_notes(log.verifier(), &notes, batched);
            if batched { &mut batch } else { &mut single }.push(rate);
        }
        for batched in [round % 2 == 1, round % 2 == 0] {
            let how = if batched {
                Signatures::Batch
            } else {
                Signatures::OneByOne
            };
            let start = Instant::now();
            let report = check_log_with(&log, how, &mut |_, _| {}).await.unwrap();
            assert_eq!(report.checkpoints, n + 1);
            let rate = n as f64 / start.elapsed().as_secs_f64();
            if batched {
                &mut check_batch
            } else {
                &mut check_single
            }
            .push(rate);
        }
    }
    let ratio = |a: &[f64], b: &[f64]| median(a.iter().zip(b).map(|(a, b)| a / b).collect());
    println!(
        "checkpoint signatures, {} notes on 2 threads: one by one {:.0} notes/s, in batches {:.0} notes/s, ratio {:.2} (median of 5 rounds' ratios; target >= 1.5)",
        notes.len(),
        median(single.clone()),
        median(batch.clone()),
        ratio(&batch, &single)
    );
    println!(
        "verify {n} entries with a signed checkpoint each (one commit an entry): signatures one by one {:.0} entries/s, in batches {:.0} entries/s, ratio {:.2} (median of 5)",
        median(check_single.clone()),
        median(check_batch.clone()),
        ratio(&check_batch, &check_single)
    );
    log.close().await;
}

/// Opens every note, half on each of two threads, one by one or in batches of 512 (as a
/// check's chunk holds them): notes/s.
fn open_notes(verifier: &armory_ledger::LogVerifier, notes: &[&[u8]], batched: bool) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for half in notes.chunks(notes.len().div_ceil(2)) {
            s.spawn(move || {
                if batched {
                    for group in half.chunks(512) {
                        let opened = verifier.open_all(group);
                        assert!(opened.iter().all(Result::is_ok));
                    }
                } else {
                    for note in half {
                        verifier.open(note).unwrap();
                    }
                }
            });
        }
    });
    notes.len() as f64 / start.elapsed().as_secs_f64()
}

/// Where verify's time goes: each part alone, on one thread, in µs per entry (median of 3).
async fn parts(log: &SqliteLog, rows: &[(u64, Vec<u8>)]) {
    use armory_ledger::merkle::{RightEdge, stored_hash_count};
    let n = rows.len() as u64;
    let per_entry = |start: Instant| start.elapsed().as_secs_f64() / n as f64 * 1e6;
    let (mut entries, mut hashes, mut check, mut tree) = (vec![], vec![], vec![], vec![]);
    let (mut block, mut runs) = (Rows::default(), Rows::default());
    for _ in 0..3 {
        let start = Instant::now();
        for at in (0..n).step_by(16384) {
            block = log
                .read_entries(at..(at + 16384).min(n), block)
                .await
                .unwrap();
        }
        entries.push(per_entry(start));
        let start = Instant::now();
        for at in (0..n).step_by(16384) {
            let ids = stored_hash_count(at)..stored_hash_count((at + 16384).min(n));
            runs = log.read_hashes(ids, runs).await.unwrap();
        }
        hashes.push(per_entry(start));
        let start = Instant::now();
        let leaves: Vec<_> = rows
            .iter()
            .map(|(i, d)| armory_ledger::verify::check_entry(log.origin(), *i, d).unwrap())
            .collect();
        check.push(per_entry(start));
        let start = Instant::now();
        let mut edge = RightEdge::new();
        for leaf in leaves {
            edge.push_each(leaf, |h| {
                std::hint::black_box(h);
            });
        }
        tree.push(per_entry(start));
    }
    println!(
        "verify's parts, each alone on one thread, per entry: read entries {:.3} µs, read stored hashes {:.3} µs, check canonical + leaf hash {:.3} µs, interior hashes {:.3} µs",
        median(entries),
        median(hashes),
        median(check),
        median(tree)
    );
}

/// CPU time used by this process so far (user + system, from /proc; Linux only).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime, in clock ticks of 1/100 s (USER_HZ).
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = scratch();
    let entries: u64 = std::env::var("ARMORY_BENCH_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "machine: {} cores; data in {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.path().display()
    );
    // ARMORY_BENCH_ONLY=verify skips the append benchmarks.
    let only_verify = std::env::var("ARMORY_BENCH_ONLY").is_ok_and(|v| v == "verify");
    // ARMORY_BENCH_ONLY=signatures: the log with a checkpoint per entry alone.
    let only_signatures = std::env::var("ARMORY_BENCH_ONLY").is_ok_and(|v| v == "signatures");
    rt.block_on(async {
        if only_signatures {
            verify_one_per_commit(dir.path(), 20_000).await;
            return;
        }
        if only_verify {
            verify(dir.path(), entries).await;
            verify_one_per_commit(dir.path(), 20_000).await;
            return;
        }
        let rounds = 5;
        // ARMORY_BENCH_ONLY=append: the append benchmarks alone.
        let only_append = std::env::var("ARMORY_BENCH_ONLY").is_ok_and(|v| v == "append");
        let (mut ours, mut plain) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            let (o, p) = one_writer(dir.path(), 400, r).await;
            ours.push(o);
            plain.push(p);
        }
        let ratios: Vec<f64> = ours.iter().zip(&plain).map(|(o, p)| o / p).collect();
        let added: Vec<f64> = ours.iter().zip(&plain).map(|(o, p)| 1e6 / o - 1e6 / p).collect();
        println!(
            "durable append, 1 writer: armory {:.0}/s, plain SQLite insert+commit {:.0}/s, ratio {:.2} (median of {rounds}; target >= 0.8); the append adds {:.0} us to the plain commit's {:.0} us",
            median(ours),
            median(plain.clone()),
            median(ratios),
            median(added),
            1e6 / median(plain)
        );
        let (mut ours, mut plain, mut commits) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            let (o, p, c) = many_writers(dir.path(), 64, 40, r).await;
            ours.push(o);
            plain.push(p);
            commits.push(c as f64);
        }
        let ratios: Vec<f64> = ours.iter().zip(&plain).map(|(o, p)| o / p).collect();
        println!(
            "durable append, 64 writers: armory {:.0}/s ({:.0} commits for 2560 appends), plain one-insert-per-commit {:.0}/s, ratio {:.2} (median of {rounds}; target >= 2)",
            median(ours),
            median(commits),
            median(plain),
            median(ratios)
        );
        if only_append {
            return;
        }
        recovery(dir.path(), rounds).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        verify(dir.path(), entries).await;
        verify_one_per_commit(dir.path(), 20_000).await;
    });
}
