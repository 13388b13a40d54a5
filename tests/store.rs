//! The SQLite store: appends, group commit, receipts, reopen.

use crate::common::{ORIGIN, draft, make_log, open_writer};
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::merkle::leaf_hash;
use armory_store::check::check_log;
use armory_store::{Store, proofs};
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_commits_and_each_gets_its_own_index() {
    let (_dir, data) = make_log(0, 1).await;
    let log = open_writer(&data).await;
    let mut tasks = Vec::new();
    for w in 0..64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for k in 0..10 {
                let a = log
                    .append(vec![draft(&format!("writer {w} act {k}"))])
                    .await
                    .unwrap();
                assert_eq!(a.count, 1);
                got.push(a.first_index);
            }
            got
        }));
    }
    let mut indexes = BTreeSet::new();
    for t in tasks {
        for i in t.await.unwrap() {
            assert!(indexes.insert(i), "index {i} given twice");
        }
    }
    assert_eq!(indexes, (0..640).collect());
    // Fewer checkpoints than appends: commits were shared.
    let checkpoints = log.checkpoints(0..641).await.unwrap().len();
    assert!(
        checkpoints < 640,
        "{checkpoints} checkpoints for 640 appends: no group commit happened"
    );
    let report = check_log(&log, &mut |_, _| {}).await.unwrap();
    assert_eq!(report.entries, 640);
    // Every entry is the text its writer sent, at the index it was told.
    let rows = log.entries(0..640).await.unwrap();
    assert_eq!(rows.len(), 640);
    log.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_draft_is_refused_alone_and_the_others_land() {
    let (_dir, data) = make_log(3, 3).await;
    let log = open_writer(&data).await;
    let mut bad = draft("x");
    bad.time = "yesterday".into();
    let (good, refused) = tokio::join!(log.append(vec![draft("good")]), log.append(vec![bad]));
    assert!(refused.unwrap_err().to_string().contains("RFC 3339"));
    assert_eq!(good.unwrap().first_index, 3);
    let mut huge = draft("x");
    huge.event = serde_json::json!({"type": "note", "text": "y".repeat(70_000)});
    assert!(
        log.append(vec![huge])
            .await
            .unwrap_err()
            .to_string()
            .contains("limit is 65535")
    );
    assert_eq!(log.extent().await.unwrap().entries_end, 4);
    check_log(&log, &mut |_, _| {}).await.unwrap();
    log.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_verify_offline_and_the_log_reopens_where_it_was() {
    let (_dir, data) = make_log(300, 7).await;
    let log = open_writer(&data).await;
    let appended = log.append(vec![draft("after reopen")]).await.unwrap();
    assert_eq!(appended.first_index, 300);
    let cp = Checkpoint::open(&appended.checkpoint, log.verifier()).unwrap();
    assert_eq!((cp.origin.as_str(), cp.size), (ORIGIN, 301));
    for index in [0u64, 1, 255, 256, 299, 300] {
        let receipt = proofs::receipt(&log, index).await.unwrap();
        let text = receipt.to_text();
        let parsed = armory_ledger::proof::EntryProof::parse(&text).unwrap();
        let entry = &log.entries(index..index + 1).await.unwrap()[0].1;
        parsed.verify(entry, log.verifier()).unwrap();
        assert!(parsed.verify(b"some other entry", log.verifier()).is_err());
    }
    // Consistency between every stored checkpoint and the latest.
    let latest = Checkpoint::open(&log.latest_checkpoint().await.unwrap(), log.verifier()).unwrap();
    for (size, note) in log.checkpoints(0..301).await.unwrap() {
        let old = Checkpoint::open(&note, log.verifier()).unwrap();
        let proof = proofs::consistency_proof(&log, size, latest.size)
            .await
            .unwrap();
        armory_ledger::merkle::verify_consistency(
            size,
            latest.size,
            &old.root,
            &latest.root,
            &proof,
        )
        .unwrap();
    }
    assert_eq!(
        proofs::root(&log, 1).await.unwrap(),
        leaf_hash(&log.entries(0..1).await.unwrap()[0].1)
    );
    log.close().await;
}

/// `fields_except`, which builds projection rows and the compact `/api/state`.
mod fields {
    use armory_store::fields::fields_except;
    use serde_json::{Value, json};

    #[derive(serde::Serialize)]
    struct Item {
        name: &'static str,
        count: u32,
        history: Vec<u64>,
    }

    #[test]
    fn the_skipped_fields_are_left_out_and_the_rest_is_as_serde_json_writes_it() {
        let item = Item {
            name: "REV-1",
            count: 6,
            history: vec![1, 2, 3],
        };
        let mut whole = serde_json::to_value(&item).unwrap();
        whole.as_object_mut().unwrap().remove("history");
        let fields = fields_except(&item, &["history"]).unwrap();
        assert_eq!(Value::Object(fields), whole);
        assert_eq!(
            Value::Object(fields_except(&item, &["history", "count"]).unwrap()),
            json!({"name": "REV-1"})
        );
    }

    #[test]
    fn anything_but_a_struct_is_an_error() {
        assert!(fields_except(&vec![1u64], &["history"]).is_err());
        assert!(fields_except(&"text", &["history"]).is_err());
        assert!(fields_except(&Some(3u8), &[]).is_err());
    }
}

#[test]
fn the_bundled_sqlite_has_the_fixes_for_cve_2025_6965_and_cve_2025_29087() {
    // Both were fixed in SQLite 3.50.2; sqlx 0.8 had pinned 3.46.0.
    assert!(
        rusqlite::version_number() >= 3_050_002,
        "SQLite {} is bundled",
        rusqlite::version()
    );
}
