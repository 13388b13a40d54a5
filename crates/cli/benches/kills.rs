//! SIGKILL at random moments, many times (the CI test does 50; this does ARMORY_BENCH_KILLS, 1,000
//! by default): a process appending notes in a loop (`armory note --repeat`) is killed anywhere
//! from its start to well into the loop; after each kill `armory verify` must pass. At the end
//! every acknowledged append ("appended entry N" printed after it was durable) must be in the
//! log at its index with its round's text: acknowledged, lost (must be 0), duplicated (an index
//! acknowledged twice, which only a log that went back could do; must be 0).
//!
//! Run: `cargo bench -p armory --bench kills`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn armory(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// xorshift64*: a seeded, replayable source of kill moments.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn main() {
    let kills: u64 = std::env::var("ARMORY_BENCH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let dir =
        tempfile::tempdir_in(std::env::var("ARMORY_BENCH_DIR").unwrap_or_else(|_| ".".into()))
            .unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "bench.example/kills"])
            .status
            .success()
    );
    let started = Instant::now();
    // index -> the rounds that were told it was theirs.
    let mut acknowledged: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut verify_failures = 0;
    for round in 0..kills {
        let text = format!("round {round}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_armory"))
            .arg("--data")
            .arg(&data)
            .args(["note", &text, "--repeat", "100000000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line
                    .strip_prefix("appended entry ")
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    && tx.send(n).is_err()
                {
                    break;
                }
            }
        });
        std::thread::sleep(Duration::from_millis(rng.below(150)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        for n in rx.try_iter() {
            acknowledged.entry(n).or_default().push(round);
        }
        if !armory(&data, &["verify"]).status.success() {
            verify_failures += 1;
        }
    }
    // Every acknowledged index holds its round's note.
    let notes: HashMap<u64, String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use armory_store::Store;
        let key = std::fs::read_to_string(data.join("log.pub")).unwrap();
        let verifier = armory_ledger::keys::LogVerifier::from_text(key.trim()).unwrap();
        let log = armory_store::sqlite::SqliteLog::open_reader(&data.join("armory.db"), verifier)
            .await
            .unwrap();
        let end = log.extent().await.unwrap().entries_end;
        let entries = log.entries(0..end).await.unwrap();
        entries
            .into_iter()
            .map(|(i, bytes)| {
                let entry: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                (i, entry["event"]["text"].as_str().unwrap_or("").to_owned())
            })
            .collect()
    });
    let lost = acknowledged
        .iter()
        .filter(|(index, rounds)| {
            notes.get(index).map(String::as_str) != Some(format!("round {}", rounds[0]).as_str())
        })
        .count();
    let duplicated = acknowledged.values().filter(|r| r.len() > 1).count();
    let total: usize = acknowledged.values().map(Vec::len).sum();
    println!(
        "{kills} SIGKILLs in {:.0} s (seed {seed}): acts acknowledged {total}, lost {lost} (must be 0), duplicated {duplicated} (must be 0), verify failed after {verify_failures} kills (must be 0)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!((lost, duplicated, verify_failures), (0, 0, 0));
}
