//! `armory demo`: a demo production in a new data directory, and a shoot day played through the
//! real rules and the real log, each act and each refusal printed in plain words.

use crate::datadir::DataDir;
use anyhow::{Result, bail};
use armory_core::demo::{Scenario, policy, script};
use armory_store::check::check_log;
use armory_store::node::{Node, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// A shoot day done right.
    Safe,
    /// The day of the Rust shooting (RULES.md §1): every failure attempted, every one stopped.
    Unsafe,
}

pub async fn run(data: &DataDir, which: Which) -> Result<()> {
    let (scenario, origin) = match which {
        Which::Safe => (Scenario::Safe, "armory.local/demo-safe-day"),
        Which::Unsafe => (Scenario::Unsafe, "armory.local/demo-rust-day"),
    };
    let steps = script(scenario).map_err(|e| anyhow::anyhow!("the demo script is broken: {e}"))?;
    data.init_with(origin, &policy()).await?;
    let node = Node::open(data.writer().await?, data.policy()?).await?;
    out!(
        "Demo production in {} ({} acts)\n",
        data.path.display(),
        steps.len()
    );
    let (mut done, mut refused, mut surprises) = (0, 0, Vec::new());
    for (n, step) in steps.iter().enumerate() {
        out!(
            "{:>3}. {}  {} as {}: {}",
            n + 1,
            step.at.to_rfc3339(),
            step.actor.person.as_str(),
            step.actor.role.title(),
            step.says
        );
        let outcome = node.execute(&step.actor, &step.command, step.at).await?;
        let index = outcome.first_index();
        match (&outcome, step.refused_by) {
            (Outcome::Done { events, .. }, None) => {
                done += 1;
                out!(
                    "     done: {} entr{} from #{index}",
                    events.len(),
                    if events.len() == 1 { "y" } else { "ies" }
                );
            }
            (Outcome::Refused { refusal, .. }, Some(rule)) if refusal.rule == rule => {
                refused += 1;
                out!("     STOPPED ({}) {}", refusal.rule, refusal.why);
                out!("     needed: {}  [logged as #{index}]", refusal.needed);
            }
            (Outcome::Refused { refusal, .. }, _) => {
                out!("     STOPPED ({}) {}", refusal.rule, refusal.why);
                surprises.push(format!(
                    "act {}: refused by {} but the script expected {:?}",
                    n + 1,
                    refusal.rule,
                    step.refused_by
                ));
            }
            (Outcome::Done { .. }, Some(rule)) => {
                surprises.push(format!(
                    "act {}: accepted but the script expected a refusal by {rule}",
                    n + 1
                ));
            }
            (Outcome::Repeated(_), _) => {
                surprises.push(format!(
                    "act {}: answered as a repeat, but no idempotency key was used",
                    n + 1
                ));
            }
        }
    }
    let report = check_log(node.store(), &mut |_, _| {}).await?;
    out!(
        "\n{done} acts done, {refused} unsafe acts stopped and logged. The log holds {} signed entries; `armory verify --data {}` checks them.",
        report.entries,
        data.path.display()
    );
    if !surprises.is_empty() {
        bail!("the demo did not go as scripted: {}", surprises.join("; "));
    }
    Ok(())
}
