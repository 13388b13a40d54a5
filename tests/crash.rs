//! Crashes and concurrent writers: a process appending in a loop is SIGKILLed at random moments;
//! after each kill the log reopens, verifies, and holds every append acknowledged before the kill.

use crate::common::{Rng, armory, assert_fails_with, stderr};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn appender(data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_armory"))
        .arg("--data")
        .arg(data)
        .args(["note", "appending until killed", "--repeat", "100000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Reads "appended entry N" lines on a thread, so the test can kill at any moment.
fn acks(child: &mut Child) -> mpsc::Receiver<u64> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line
                .strip_prefix("appended entry ")
                .and_then(|r| r.split(' ').next())
                && tx.send(n.parse().unwrap()).is_err()
            {
                break;
            }
        }
    });
    rx
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_append() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "armory.test/crash"])
            .status
            .success()
    );
    let mut rng = Rng::from_env();
    let mut acknowledged: Vec<u64> = Vec::new();
    let kills = 50;
    for round in 0..kills {
        let mut child = appender(&data);
        let rx = acks(&mut child);
        // Kill anywhere from during start-up to well into the loop.
        let wait = Duration::from_millis(rng.below(120));
        let start = Instant::now();
        while start.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Every line printed was printed after its append was durable.
        acknowledged.extend(rx.try_iter());
        while let Ok(n) = rx.recv_timeout(Duration::from_millis(50)) {
            acknowledged.push(n);
        }
        let out = armory(&data, &["verify"]);
        assert!(
            out.status.success(),
            "round {round}: verify failed after kill: {}",
            stderr(&out)
        );
        let size: u64 = String::from_utf8_lossy(&armory(&data, &["log"]).stdout)
            .lines()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        if let Some(&max) = acknowledged.iter().max() {
            assert!(
                size > max,
                "round {round}: entry {max} was acknowledged but the log has {size} entries"
            );
        }
    }
    // Every acknowledged index is an entry in the log, once.
    acknowledged.sort_unstable();
    let distinct = acknowledged.len();
    acknowledged.dedup();
    assert_eq!(
        distinct,
        acknowledged.len(),
        "an index was acknowledged twice"
    );
    for &n in acknowledged.iter().step_by(7) {
        let out = armory(&data, &["log", "entry", &n.to_string()]);
        assert!(out.status.success(), "acknowledged entry {n} is missing");
        assert!(String::from_utf8_lossy(&out.stdout).contains("appending until killed"));
    }
    eprintln!(
        "{kills} kills, {} acknowledged appends survived",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > kills,
        "too few appends were made to test anything"
    );
}

#[test]
fn a_second_writer_is_refused_and_corrupts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "armory.test/two-writers"])
            .status
            .success()
    );
    let mut first = appender(&data);
    let rx = acks(&mut first);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the first writer appends");
    let out = armory(&data, &["note", "second writer"]);
    assert_fails_with(&out, "is in use by another Armory process (pid ");
    // Readers are not writers: they work while the writer writes.
    assert!(armory(&data, &["verify"]).status.success());
    first.kill().unwrap();
    first.wait().unwrap();
    let out = armory(&data, &["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Once the first writer is gone the lock is free again.
    assert!(armory(&data, &["note", "after"]).status.success());
}
