//! Rules-engine benchmarks, each against the bare log append measured in the same run:
//!
//! 1. `decide` + `apply` alone (in memory) over the safe shoot day (intake, verification, staffing,
//!    meeting, plans, loads, show checks, issues, blanks fired, returns, wrap);
//! 2. the same day end to end through `Node::execute` (decide, append durably, apply, projection
//!    rows), one command after another, vs appending the same entries with `Store::append`;
//! 3. 64 concurrent clients after the day's setup: a mix of accepted remarks and refused unsafe
//!    acts (a performer trying to issue a firearm: refused and logged), vs 64 concurrent bare appends.
//!
//! Run: `cargo bench -p armory-store --bench node`. Target (issue 3): the rules cost at most 30%
//! of append throughput, i.e. ratio >= 0.7.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{median, scratch};

use armory_core::demo::{Scenario, policy, script};
use armory_core::text::Text;
use armory_core::{Actor, AuthMethod, Command, PersonId, Role, State, apply_at, decide};
use armory_store::node::{Node, Outcome};
use armory_store::{Draft, Store};
use std::path::Path;
use std::time::Instant;

fn decide_apply_alone(rounds: usize) -> f64 {
    let steps = script(Scenario::Safe).unwrap();
    let policy = policy();
    let start = Instant::now();
    let mut commands = 0u64;
    for _ in 0..rounds {
        let mut state = State::new();
        for step in &steps {
            let events = match decide(&policy, &state, &step.actor, &step.command, step.at) {
                Ok(events) => events,
                Err(refusal) => vec![refusal.to_event(&step.actor, &step.command)],
            };
            for event in &events {
                let index = state.next_index;
                apply_at(&mut state, index, event).unwrap();
            }
            commands += 1;
        }
        std::hint::black_box(&state);
    }
    commands as f64 / start.elapsed().as_secs_f64()
}

/// The day end to end, and the same entries appended bare: (node cmds/s, bare appends/s).
async fn day_end_to_end(dir: &Path, round: usize) -> (f64, f64) {
    let steps = script(Scenario::Safe).unwrap();
    let node = Node::open(
        common::new_log(dir, &format!("day{round}"), "bench.example/rules").await,
        policy(),
    )
    .await
    .unwrap();
    let start = Instant::now();
    for step in &steps {
        node.execute(&step.actor, &step.command, step.at)
            .await
            .unwrap();
    }
    let ours = steps.len() as f64 / start.elapsed().as_secs_f64();
    let entries = node.store().entries(0..u64::MAX / 2).await.unwrap();
    node.store().clone().close().await;

    let bare = common::new_log(dir, &format!("bare{round}"), "bench.example/rules").await;
    let drafts: Vec<Draft> = entries
        .iter()
        .map(|(_, bytes)| {
            let e = armory_ledger::Entry::decode(bytes).unwrap();
            Draft {
                time: e.time,
                event: e.event,
                actors: e.actors,
            }
        })
        .collect();
    let start = Instant::now();
    for d in &drafts {
        bare.append(vec![d.clone()]).await.unwrap();
    }
    let baseline = drafts.len() as f64 / start.elapsed().as_secs_f64();
    bare.close().await;
    (ours, baseline)
}

async fn concurrent(dir: &Path, round: usize, clients: usize, each: usize) -> (f64, f64, f64) {
    let steps = script(Scenario::Safe).unwrap();
    let node = Node::open(
        common::new_log(dir, &format!("conc{round}"), "bench.example/rules").await,
        policy(),
    )
    .await
    .unwrap();
    // The day's setup up to the first issue: people, firearms, lots, meeting, plan, loads.
    let mut at = steps[0].at;
    for step in steps.iter().take(30) {
        node.execute(&step.actor, &step.command, step.at)
            .await
            .unwrap();
        at = step.at;
    }
    let armorer = steps[0].actor.clone();
    let performer = Actor::new(
        PersonId::parse("alec").unwrap(),
        Role::Performer,
        AuthMethod::Pin,
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (node, armorer, performer) = (node.clone(), armorer.clone(), performer.clone());
        tasks.push(tokio::spawn(async move {
            let mut refused = 0u64;
            for k in 0..each {
                let outcome = if k % 4 == 3 {
                    // An unsafe act: a performer adding a crew member. Refused (ROLE) and logged.
                    let bad = Command::AddPerson {
                        person: PersonId::parse(&format!("x{c}-{k}")).unwrap(),
                        name: armory_core::text::Name::parse("Someone").unwrap(),
                        roles: vec![Role::Armorer],
                    };
                    node.execute(&performer, &bad, at).await.unwrap()
                } else {
                    let note = Command::Note {
                        text: Text::parse(&format!("client {c} remark {k}")).unwrap(),
                    };
                    node.execute(&armorer, &note, at).await.unwrap()
                };
                if matches!(outcome, Outcome::Refused { .. }) {
                    refused += 1;
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for t in tasks {
        refused += t.await.unwrap();
    }
    let ours = (clients * each) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(
        refused,
        (clients * each / 4) as u64,
        "the unsafe acts were not all refused"
    );
    node.store().clone().close().await;

    let bare = common::new_log(dir, &format!("conc-bare{round}"), "bench.example/rules").await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let bare = bare.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..each {
                let d = Draft {
                    time: "2021-10-21T12:00:00.000Z".into(),
                    event: serde_json::json!({"type": "note", "text": format!("client {c} remark {k}")}),
                    actors: vec![armory_ledger::Actor { person: "hannah".into(), role: "armorer".into(), method: "pin".into(), assertion: None }],
                };
                bare.append(vec![d]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let baseline = (clients * each) as f64 / start.elapsed().as_secs_f64();
    bare.close().await;
    (ours, baseline, refused as f64)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = scratch();
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let alone: Vec<f64> = (0..5).map(|_| decide_apply_alone(200)).collect();
    println!(
        "decide + apply alone, safe shoot day (52 acts): {:.0} commands/s (median of 5; in memory, no IO)",
        median(alone)
    );
    rt.block_on(async {
        let rounds = 5;
        let (mut ours, mut bare, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            let (o, b) = day_end_to_end(dir.path(), r).await;
            ours.push(o);
            bare.push(b);
            ratio.push(o / b);
        }
        println!(
            "safe shoot day end to end, 1 client: node {:.0} commands/s, bare durable append of the same entries {:.0}/s, ratio {:.2} (median of {rounds}; target >= 0.7)",
            median(ours),
            median(bare),
            median(ratio)
        );
        let (mut ours, mut bare, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            let (o, b, _) = concurrent(dir.path(), r, 64, 40).await;
            ours.push(o);
            bare.push(b);
            ratio.push(o / b);
        }
        println!(
            "64 concurrent clients (3/4 remarks accepted, 1/4 unsafe acts refused and logged): node {:.0} commands/s, bare durable append {:.0}/s, ratio {:.2} (median of {rounds}; target >= 0.7)",
            median(ours),
            median(bare),
            median(ratio)
        );
    });
}
