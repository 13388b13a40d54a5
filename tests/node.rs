//! The rules engine over a real store: the Rust day and the safe day played through `Node` on a
//! SQLite file, refusals logged, projection tables checked against a replay of the log.

use crate::common::{armory, assert_fails_with, raw, stdout};
use armory_core::demo::{Scenario, policy, script};
use armory_core::event::Event;
use armory_core::text::Text;
use armory_core::{Command, State};
use armory_store::Store;
use armory_store::node::{Checked, Node, Outcome, projection_differences, replay};
use armory_store::sqlite::SqliteLog;
use std::path::Path;

async fn open_node(data: &Path) -> Node<SqliteLog> {
    Node::open(crate::common::open_writer(data).await, policy())
        .await
        .unwrap()
}

fn fresh() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "armory.test/rust-day"])
            .status
            .success()
    );
    (dir, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_day_is_refused_rule_by_rule_and_the_safe_day_is_accepted() {
    for scenario in [Scenario::Unsafe, Scenario::Safe] {
        let (_dir, data) = fresh();
        let node = open_node(&data).await;
        let steps = script(scenario).unwrap();
        let mut refused_rules = Vec::new();
        let mut entries = 0;
        for (n, step) in steps.iter().enumerate() {
            let outcome = node
                .execute(&step.actor, &step.command, step.at)
                .await
                .unwrap();
            let index = outcome.first_index();
            assert_eq!(
                index, entries,
                "step {n} was not appended right after the previous one"
            );
            entries += outcome.recorded().count;
            let entry = &node.store().entries(index..index + 1).await.unwrap()[0].1;
            let entry = armory_ledger::Entry::decode(entry).unwrap();
            match (outcome, step.refused_by) {
                (Outcome::Done { events, .. }, None) => {
                    assert_eq!(entry.event_type(), events[0].kind(), "step {n}");
                }
                (Outcome::Refused { refusal, .. }, Some(rule)) => {
                    assert_eq!(refusal.rule, rule, "step {n}: {}", step.says);
                    // The near miss is in the log: who tried what, which rule stopped it.
                    assert_eq!(entry.event_type(), "refused");
                    assert_eq!(entry.event["rule"], serde_json::json!(rule));
                    assert_eq!(entry.event["command"], step.command.kind());
                    assert_eq!(
                        entry.actors[0].person,
                        String::from(step.actor.person.clone())
                    );
                    refused_rules.push(rule);
                }
                (outcome, expected) => panic!(
                    "step {n} ({}): got {outcome:?}, expected refusal by {expected:?}",
                    step.says
                ),
            }
        }
        if scenario == Scenario::Unsafe {
            let ids: Vec<String> = refused_rules.iter().map(|r| r.to_string()).collect();
            for rule in [
                "LIVE-NEVER",
                "LOT-VERIFIED",
                "CUSTODIAN-ONLY",
                "SHOW-CHECK",
                "DAILY-MEETING",
                "ARMORER-DEDICATED",
                "INCIDENT-STOP",
                "REHEARSAL-COLD",
            ] {
                assert!(
                    ids.iter().any(|i| i == rule),
                    "{rule} never refused: {ids:?}"
                );
            }
        } else {
            assert!(refused_rules.is_empty());
        }
        // The state in memory is what the log replays to, and what the tables say.
        let replayed = replay(node.store()).await.unwrap();
        assert_eq!(replayed, node.state().await);
        assert!(
            projection_differences(node.store(), &replayed)
                .await
                .unwrap()
                .is_empty()
        );
        let state = node.state().await;
        assert_eq!(state.next_index, entries);
        assert_eq!(state.refusals.len(), refused_rules.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_changes_nothing_but_its_refused_entry() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    let steps = script(Scenario::Unsafe).unwrap();
    for step in &steps {
        let before: State = node.state().await;
        let outcome = node
            .execute(&step.actor, &step.command, step.at)
            .await
            .unwrap();
        if let Outcome::Refused { appended, .. } = outcome {
            let mut after = node.state().await;
            assert_eq!(after.refusals.last(), Some(&appended.first_index));
            after.refusals.pop();
            after.next_index -= 1;
            assert_eq!(
                after,
                before,
                "refused {:?} changed the state",
                step.command.kind()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_tables_edited_behind_the_logs_back_are_found_and_rebuilt() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    for step in script(Scenario::Safe).unwrap() {
        node.execute(&step.actor, &step.command, step.at)
            .await
            .unwrap();
    }
    node.store().clone().close().await;
    drop(node);
    let out = armory(&data, &["verify", "--replay"]);
    assert!(
        stdout(&out).contains("matches the projection tables"),
        "{}",
        stdout(&out)
    );
    // Someone moves a firearm's custodian in the table.
    let conn = raw(&data).await;
    let n = conn.execute("UPDATE projection SET value = replace(value, '\"custodian\":\"hannah\"', '\"custodian\":\"dave\"') WHERE collection = 'firearms'", [])
        .unwrap();
    assert!(n > 0);
    drop(conn);
    assert_fails_with(
        &armory(&data, &["verify", "--replay"]),
        "the projection tables differ from the log",
    );
    // Opening the node starts from the tables, finds them wrong against a replay in the
    // background, and rebuilds them from the log.
    let node = open_node(&data).await;
    let checked = node.checked().await;
    assert!(
        matches!(&checked, Checked::Rebuilt(found) if found.iter().any(|d| d.contains("custodian"))),
        "{checked:?}"
    );
    assert_eq!(node.state().await, replay(node.store()).await.unwrap());
    let replayed = replay(node.store()).await.unwrap();
    assert!(
        projection_differences(node.store(), &replayed)
            .await
            .unwrap()
            .is_empty()
    );
    // The repair is in the log, naming what differed: the evidence is kept.
    let end = node.store().extent().await.unwrap().entries_end;
    let last = &node.store().entries(end - 1..end).await.unwrap()[0].1;
    let last = armory_ledger::Entry::decode(last).unwrap();
    assert_eq!(last.event_type(), "projection_repaired");
    assert!(last.event["differences"].as_u64().unwrap() > 0);
    assert!(
        last.event["first"][0]
            .as_str()
            .unwrap()
            .contains("custodian"),
        "{}",
        last.event
    );
    assert_eq!(last.actors[0].person, "node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_share_commits_and_the_log_replays_to_the_same_state() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    let steps = script(Scenario::Safe).unwrap();
    let (setup, _) = steps.split_at(8);
    for step in setup {
        node.execute(&step.actor, &step.command, step.at)
            .await
            .unwrap();
    }
    let actor = steps[0].actor.clone();
    let at = steps[7].at;
    let mut tasks = Vec::new();
    for t in 0..32 {
        let (node, actor) = (node.clone(), actor.clone());
        tasks.push(tokio::spawn(async move {
            for k in 0..10 {
                let command = Command::Note { text: Text::parse(&format!("remark {t}/{k}")).unwrap() };
                let outcome = node.execute(&actor, &command, at).await.unwrap();
                assert!(matches!(outcome, Outcome::Done { ref events, .. } if matches!(events[0], Event::Note { .. })));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let state = node.state().await;
    assert_eq!(state.notes.len(), 320);
    let checkpoints = node
        .store()
        .checkpoints(9..state.next_index + 1)
        .await
        .unwrap()
        .len();
    assert!(checkpoints < 320, "no command shared a commit");
    assert_eq!(replay(node.store()).await.unwrap(), state);
    assert!(
        projection_differences(node.store(), &state)
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn armory_demo_plays_both_days() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("unsafe");
    let out = armory(&data, &["demo", "--scenario", "unsafe"]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        crate::common::stderr(&out)
    );
    assert!(text.contains("STOPPED (LIVE-NEVER)"), "{text}");
    // The second pass of the rules: the wrong revolver, and a bore never looked down.
    assert!(text.contains("STOPPED (HANDOVER-SCAN)"), "{text}");
    assert!(text.contains("STOPPED (BORE-CLEAR)"), "{text}");
    assert!(text.contains("STOPPED (BLANK-DISTANCE)"), "{text}");
    assert!(text.contains("STOPPED (MISSING-REPORT)"), "{text}");
    assert!(text.contains("unsafe acts stopped and logged"));
    assert!(armory(&data, &["verify", "--replay"]).status.success());
    let data = dir.path().join("safe");
    let out = armory(&data, &["demo"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains(" 0 unsafe acts stopped"));
    // A day with handovers offered and confirmed, briefings, meeting items, a bore check, a
    // close-range load approved, a public notice, a risk assessment.
    let export = dir.path().join("safe-export");
    let out = armory(&data, &["export", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let mut log = String::new();
    let mut dirs = vec![export.join("tile").join("entries")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                log.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    for kind in [
        "close_range_load_approved",
        "public_notice_recorded",
        "risk_assessed",
        "performer_briefed",
        "bore_checked",
    ] {
        assert!(log.contains(kind), "the safe day has no {kind}");
    }
    let replay = armory(&data, &["verify", "--replay"]);
    assert!(
        replay.status.success(),
        "{}",
        crate::common::stderr(&replay)
    );
    // A note by a person of the production carries their role.
    let out = armory(&data, &["note", "end of day", "--by", "hannah"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let size: u64 = stdout(&armory(&data, &["log"]))
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let entry: serde_json::Value =
        serde_json::from_slice(&armory(&data, &["log", "entry", &(size - 1).to_string()]).stdout)
            .unwrap();
    assert_eq!(entry["actors"][0]["role"], "armorer");
    assert_fails_with(&armory(&data, &["demo"]), "already holds an Armory log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_twice_records_one_act() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    let steps = script(Scenario::Safe).unwrap();
    let first = &steps[0];
    let a = node
        .execute_once(Some("retry-1"), &first.actor, &first.command, first.at)
        .await
        .unwrap();
    // Concurrent and later retries of the same key record nothing new.
    let (b, c) = tokio::join!(
        node.execute_once(Some("retry-1"), &first.actor, &first.command, first.at),
        node.execute_once(Some("retry-1"), &first.actor, &first.command, first.at)
    );
    for retry in [b.unwrap(), c.unwrap()] {
        assert!(matches!(retry, Outcome::Repeated(_)));
        assert_eq!(retry.recorded(), a.recorded());
    }
    // Opening the production records it and the policy it starts with: two entries, once.
    let recorded = a.recorded().count;
    assert_eq!(node.state().await.next_index, recorded);
    node.store().clone().close().await;
    drop(node);
    // After a restart the key is still known: it was stored with the entry.
    let node = open_node(&data).await;
    let again = node
        .execute_once(Some("retry-1"), &first.actor, &first.command, first.at)
        .await
        .unwrap();
    assert_eq!(again.recorded(), a.recorded());
    assert_eq!(node.state().await.next_index, recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_custody_and_raises_the_window_alert_by_itself() {
    let (_dir, data) = fresh();
    std::fs::write(
        data.join("policy.json"),
        serde_json::to_string(&policy()).unwrap(),
    )
    .unwrap();
    let node = open_node(&data).await;
    let mut due = None;
    let mut issued_at = None;
    let first_at = script(Scenario::Safe).unwrap()[0].at;
    for step in script(Scenario::Safe).unwrap() {
        if let Outcome::Done { events, .. } = node
            .execute(&step.actor, &step.command, step.at)
            .await
            .unwrap()
            && let Some(Event::FirearmIssued { due: d, .. }) = events.first()
        {
            due = Some(*d);
            issued_at = Some(step.at);
            break;
        }
    }
    let due = due.expect("the safe day issues a firearm");
    let issued_at = issued_at.unwrap();
    node.store().clone().close().await;
    drop(node);
    let before = armory(&data, &["status", "--at", &due.to_rfc3339()]);
    assert!(stdout(&before).contains("ISSUED to"), "{}", stdout(&before));
    assert!(
        !stdout(&before).contains("RETURN-AFTER-TAKE"),
        "{}",
        stdout(&before)
    );
    let late = due.plus_minutes(30).to_rfc3339();
    let after = armory(&data, &["status", "--at", &late]);
    assert!(
        stdout(&after).contains("[RETURN-AFTER-TAKE]"),
        "{}",
        stdout(&after)
    );
    assert_fails_with(
        &armory(&data, &["status", "--at", "tomorrow"]),
        "--at \"tomorrow\"",
    );
    // A minute before the issue, the state is the one of then (the log ends with the firearm
    // issued; `status --at` used to print the latest state under the past time).
    let earlier = issued_at.plus_minutes(-1).to_rfc3339();
    let then = stdout(&armory(&data, &["status", "--at", &earlier]));
    assert!(!then.contains("ISSUED to"), "{then}");
    assert!(then.contains("entries recorded by then, of"), "{then}");
    assert!(then.contains(&format!("as of {earlier}")), "{then}");
    let before_all = first_at.plus_minutes(-1).to_rfc3339();
    let nothing = stdout(&armory(&data, &["status", "--at", &before_all]));
    assert!(
        nothing.contains("no production opened yet (the 0 entries recorded by then"),
        "{nothing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_does_not_fit_the_state_is_answered_and_not_logged() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    let steps = script(Scenario::Safe).unwrap();
    // Before the production is opened, nothing else fits: refused by STATE, nothing appended.
    let later = steps
        .iter()
        .find(|s| s.command.kind() == "register_firearm")
        .unwrap();
    match node.execute(&later.actor, &later.command, later.at).await {
        Err(armory_store::node::NodeError::Invalid(refusal)) => {
            assert_eq!(refusal.rule.to_string(), "STATE");
            assert!(!refusal.why.is_empty() && !refusal.needed.is_empty());
        }
        other => panic!("expected a STATE refusal, got {other:?}"),
    }
    assert_eq!(node.state().await.next_index, 0);
    assert_eq!(node.store().extent().await.unwrap().entries_end, 0);
}

#[test]
fn remarks_from_the_command_line_keep_the_projection_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        armory(&data, &["init", "--origin", "armory.test/remarks"])
            .status
            .success()
    );
    let out = armory(&data, &["note", "the prop truck arrived", "--repeat", "2"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    // Named by someone the log does not know (no production yet): an operator, never an admin.
    let out = armory(&data, &["note", "keys handed over", "--by", "hannah"]);
    assert!(
        crate::common::stderr(&out).contains("hannah is not a person of this production"),
        "{}",
        crate::common::stderr(&out)
    );
    let entry: serde_json::Value =
        serde_json::from_slice(&armory(&data, &["log", "entry", "2"]).stdout).unwrap();
    assert_eq!(entry["actors"][0]["person"], "hannah");
    assert_eq!(entry["actors"][0]["role"], "operator");
    let out = armory(&data, &["verify", "--replay"]);
    assert!(
        out.status.success() && stdout(&out).contains("matches the projection tables"),
        "{}{}",
        stdout(&out),
        crate::common::stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_set_back_is_refused_and_a_moment_behind_keeps_the_order() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    let steps = script(Scenario::Safe).unwrap();
    let (actor, at) = (&steps[0].actor, steps[0].at);
    let note = |text: &str| Command::Note {
        text: Text::parse(text).unwrap(),
    };
    let time_of = |bytes: &[u8]| armory_ledger::Entry::decode(bytes).unwrap().time;
    let first = node.execute(actor, &steps[0].command, at).await.unwrap();
    assert_eq!(first.first_index(), 0);

    // A command that read the clock a moment before the last entry was written (it waited its
    // turn) is timed with the last entry, not before it.
    let behind =
        armory_core::time::Timestamp::from_unix_millis(at.as_unix_millis() - 1_500).unwrap();
    let second = node.execute(actor, &note("second"), behind).await.unwrap();
    // Opening the production is two entries (the production, its policy).
    let opened = first.recorded().count;
    let entries = node.store().entries(0..opened + 1).await.unwrap();
    assert_eq!(time_of(&entries[opened as usize].1), time_of(&entries[0].1));
    assert_eq!(second.first_index(), opened);

    // A clock set back by ten minutes: refused before anything is decided or written, saying
    // what to fix; the log and the state are unchanged.
    let set_back = at.plus_minutes(-10);
    let err = node
        .execute(actor, &note("third"), set_back)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!("entry {} would be timed", opened + 1))
            && message.contains("This computer's clock is behind the log: set it right"),
        "{message}"
    );
    assert_eq!(node.state().await.next_index, opened + 1);
    assert_eq!(node.store().extent().await.unwrap().entries_end, opened + 1);

    // After a restart the node reads the last entry's time back from the log.
    node.store().clone().close().await;
    drop(node);
    let node = open_node(&data).await;
    assert!(node.execute(actor, &note("third"), set_back).await.is_err());
    // The store refuses on its own too (a caller that skips the node).
    let store = node.store().clone();
    let mut early = crate::common::draft("early");
    early.time = set_back.to_rfc3339();
    let refused = store.append(vec![early]).await.unwrap_err();
    assert!(
        matches!(
            refused,
            armory_store::StoreError::ClockBehind { index, .. } if index == opened + 1
        ),
        "{refused}"
    );
    // A clock that is right again records.
    let later = node
        .execute(actor, &note("third"), at.plus_minutes(1))
        .await
        .unwrap();
    assert_eq!(later.first_index(), opened + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_fails_its_check_at_start_refuses_every_write() {
    let (_dir, data) = fresh();
    let node = open_node(&data).await;
    let steps = script(Scenario::Safe).unwrap();
    for step in &steps[..10] {
        node.execute(&step.actor, &step.command, step.at)
            .await
            .unwrap();
    }
    node.store().clone().close().await;
    drop(node);
    // A checkpoint in the middle of the log garbled in the file: the tail and the latest
    // checkpoint are whole, so the node opens; the full check finds it.
    let conn = raw(&data).await;
    conn.execute(
        "UPDATE checkpoints SET note = CAST(X'00' || note AS BLOB) WHERE size = 3",
        [],
    )
    .unwrap();
    drop(conn);
    let node = open_node(&data).await;
    assert_eq!(node.halted(), None);
    node.verify_in_background().await.unwrap();
    let why = node.halted().expect("the check failed");
    assert!(
        why.contains("checkpoint for size 3") && why.contains("run `armory verify`"),
        "{why}"
    );
    let note = Command::Note {
        text: Text::parse("anything").unwrap(),
    };
    let err = node
        .execute(&steps[0].actor, &note, steps[10].at)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not recorded: the log failed its check"),
        "{err}"
    );
    assert_eq!(node.store().extent().await.unwrap().entries_end, 11);
}

#[test]
fn a_policy_file_that_differs_from_the_logs_policy_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(armory(&data, &["demo"]).status.success());
    let file = data.join("policy.json");
    let original = std::fs::read_to_string(&file).unwrap();
    // Finding: emptying required_credentials in the file let an armorer without a permit be
    // designated, with no trace. Now the node refuses to start on it, naming the difference.
    let mut edited: serde_json::Value = serde_json::from_str(&original).unwrap();
    edited["required_credentials"] = serde_json::json!({});
    std::fs::write(&file, edited.to_string()).unwrap();
    let out = armory(&data, &["note", "anything"]);
    assert!(!out.status.success());
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("differs from the policy the log set at entry 1 (by adm): required_credentials: the log has"),
        "{err}"
    );
    assert!(
        !armory(&data, &["serve", "--listen", "127.0.0.1:0"])
            .status
            .success(),
        "serve starts on a policy the log did not set"
    );
    // Recording it is a loosening: refused from the shell (it needs three approvals), logged.
    let file_arg = file.to_str().unwrap();
    assert_fails_with(
        &armory(&data, &["policy", "set", file_arg, "--by", "hannah"]),
        "this loosens the policy (required_credentials: armorer no longer needs",
    );
    // The log's policy put back: the node starts.
    let shown = armory(&data, &["policy", "show"]);
    assert!(crate::common::stderr(&shown).contains("the policy set by entry 1 (by adm)"));
    std::fs::write(&file, &shown.stdout).unwrap();
    assert!(armory(&data, &["note", "anything"]).status.success());
    // A tightening is the armorer's act, recorded; the file follows the log.
    let mut tighter: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    tighter["scene_window_minutes"] = 30.into();
    std::fs::write(&file, tighter.to_string()).unwrap();
    let out = armory(&data, &["policy", "set", file_arg, "--by", "hannah"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    assert!(
        stdout(&out).starts_with("policy set by entry "),
        "{}",
        stdout(&out)
    );
    let shown = armory(&data, &["policy", "show"]);
    assert!(crate::common::stderr(&shown).contains("(by hannah)"));
    let status = stdout(&armory(&data, &["status"]));
    assert!(
        status.contains("policy: set by entry") && status.contains("(by hannah)"),
        "{status}"
    );
    let now: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(now["scene_window_minutes"], 30);
    assert!(armory(&data, &["note", "after"]).status.success());
    assert!(armory(&data, &["verify", "--replay"]).status.success());
}

/// The nice value of the calling thread, from /proc (field 19 of its stat line).
fn thread_nice() -> i64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    after.split_whitespace().nth(16).unwrap().parse().unwrap()
}

/// The check a serving node runs at start lowers its own threads only, by ten nice steps.
#[test]
fn the_background_check_threads_run_ten_nice_steps_lower() {
    let (before, after) = std::thread::spawn(|| {
        let before = thread_nice();
        armory_store::check::lower_this_thread();
        (before, thread_nice())
    })
    .join()
    .unwrap();
    assert_eq!(after, (before + 10).min(19));
    assert_eq!(thread_nice(), before, "only the thread that asked");
}

#[test]
fn the_readme_holds_the_role_table_armory_roles_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = armory(&dir.path().join("unused"), &["roles"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let printed = stdout(&out);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let (_, rest) = readme.split_once("<!-- roles:begin -->\n").unwrap();
    let (copy, _) = rest.split_once("<!-- roles:end -->").unwrap();
    assert_eq!(
        copy.trim(),
        printed.trim(),
        "README.md's role table is out of date: paste `armory roles` between its markers"
    );
}
