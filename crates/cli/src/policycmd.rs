//! `armory policy`: the production's safety policy is set by the log (a `policy_set` entry), and
//! `policy.json` is only an input to that. A file that differs from the log's policy is refused at
//! start, with the difference named.

use crate::datadir::{DataDir, POLICY_FILE};
use anyhow::{Context, Result, bail};
use armory_core::{Actor, AuthMethod, Command, PersonId, Policy, Role};
use armory_store::node::{Node, Outcome};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the policy in force (JSON), and on stderr the entry that set it.
    Show,
    /// Record FILE as the production's policy. Tightening is the armorer's or an admin's act;
    /// a loosening also needs the producer, the safety rep and the armorer to approve with their
    /// PINs, which only the API takes (`set_policy` with `approvals` and `pins`).
    Set {
        /// A policy in JSON (as `armory policy show` prints it).
        file: PathBuf,
        /// Who sets it (their id on the production).
        #[arg(long)]
        by: String,
        /// The role they act in: armorer or admin [default: the first of those they hold].
        #[arg(long)]
        role: Option<String>,
    },
}

pub async fn run(data: &DataDir, what: PolicyCommand) -> Result<()> {
    match what {
        PolicyCommand::Show => show(data).await,
        PolicyCommand::Set { file, by, role } => set(data, &file, &by, role.as_deref()).await,
    }
}

async fn show(data: &DataDir) -> Result<()> {
    let log = data.reader().await?;
    let state = armory_store::node::replay(&log).await?;
    let policy = match &state.policy {
        Some(p) => {
            eprintln!("the policy set by entry {} (by {})", p.entry, p.by);
            p.policy.clone()
        }
        None => {
            eprintln!(
                "this log has set no policy: in force is {} (RULES.md's defaults where it says nothing)",
                POLICY_FILE
            );
            data.policy()?
        }
    };
    out!("{}", serde_json::to_string_pretty(&policy)?);
    Ok(())
}

async fn set(data: &DataDir, file: &Path, by: &str, role: Option<&str>) -> Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the policy {}", file.display()))?;
    let policy: Policy = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a policy: {e}", file.display()))?;
    let person = PersonId::parse(by).map_err(|e| anyhow::anyhow!("--by {by:?}: {e}"))?;
    let log = data.writer().await?;
    let node = Node::open(log.clone(), data.policy()?).await?;
    let held = node
        .with_state(|s| s.people.get(&person).map(|p| p.roles.clone()))
        .await
        .unwrap_or_default();
    let role = match role {
        Some(r) => Role::parse(r).map_err(|e| anyhow::anyhow!("--role {r:?}: {e}"))?,
        None => [Role::Armorer, Role::Admin]
            .into_iter()
            .find(|r| held.contains(r))
            .unwrap_or(Role::Armorer),
    };
    let at = armory_server::now().map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = Actor::new(person, role, AuthMethod::Local);
    let command = Command::SetPolicy {
        policy: policy.clone(),
        approvals: Vec::new(),
    };
    let outcome = node.execute(&actor, &command, at).await;
    drop(node);
    log.close().await;
    match outcome? {
        Outcome::Refused { refusal, appended } => bail!(
            "refused (logged as entry {}): {refusal}",
            appended.first_index
        ),
        Outcome::Done { appended, .. } => {
            // The file beside the log now says what the log says.
            let path = data.path.join(POLICY_FILE);
            std::fs::write(&path, serde_json::to_string_pretty(&policy)? + "\n")
                .with_context(|| format!("cannot write {}", path.display()))?;
            out!("policy set by entry {}", appended.first_index);
        }
        Outcome::Repeated(_) => {}
    }
    Ok(())
}

/// Refuses a `policy.json` that differs from the policy the log set, naming each setting that
/// differs; warns when an opened production's log has set none (a log begun before policies were
/// logged). Before a production is opened, the file is what opening it will record.
pub fn check_policy_file(
    data: &DataDir,
    in_log: Option<&armory_core::state::PolicyInForce>,
    opened: bool,
) -> Result<()> {
    let path = data.path.join(POLICY_FILE);
    let Some(in_log) = in_log else {
        if path.exists() && opened {
            tracing::warn!(
                "the policy in force ({}) is not in the log; record it with `armory policy set {} --by PERSON`",
                path.display(),
                path.display()
            );
        }
        return Ok(());
    };
    if !path.exists() {
        return Ok(());
    }
    let file = data.policy()?;
    if file == in_log.policy {
        return Ok(());
    }
    let (a, b) = (
        serde_json::to_value(&in_log.policy)?,
        serde_json::to_value(&file)?,
    );
    let mut differ = Vec::new();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (k, va) in a {
            let vb = b.get(k).cloned().unwrap_or_default();
            if *va != vb {
                differ.push(format!("{k}: the log has {va}, the file has {vb}"));
            }
        }
    }
    bail!(
        "{} differs from the policy the log set at entry {} (by {}): {}. Record the file with `armory policy set {} --by PERSON` (loosening needs the producer, safety rep and armorer), or put the log's back with `armory policy show > {}`",
        path.display(),
        in_log.entry,
        in_log.by,
        differ.join("; "),
        path.display(),
        path.display()
    )
}
