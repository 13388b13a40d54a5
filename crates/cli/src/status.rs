//! `armory status`: where every firearm is and with whom, open incidents, and the alerts the rules
//! raise by themselves (issued past the scene window, outside locked storage, counts that do not
//! balance, credentials expiring), from the state replayed out of the log.

use crate::datadir::DataDir;
use anyhow::{Context, Result};
use armory_core::state::Custody;
use armory_core::time::Timestamp;
use armory_core::{alerts, incident::Cover};
use armory_store::Store;

pub async fn run(data: &DataDir, at: Option<String>) -> Result<()> {
    let log = data.reader().await?;
    let policy = data.policy()?;
    let now = match &at {
        Some(text) => Timestamp::parse_rfc3339(text).map_err(|e| {
            anyhow::anyhow!("--at {text:?}: {e} (write it like 2026-11-23T14:00:00Z)")
        })?,
        None => Timestamp::parse_rfc3339(&crate::now()?)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("clock")?,
    };
    // At another time, the state as it was then: the entries recorded by then.
    let (state, of) = match at {
        Some(_) => {
            let total = log.extent().await?.entries_end;
            let (state, _) = armory_store::node::replay_as_of(&log, now).await?;
            (state, Some(total))
        }
        None => (armory_store::node::replay(&log).await?, None),
    };
    let entries = match of {
        Some(total) => format!(
            "the {} entries recorded by then, of {total}",
            state.next_index
        ),
        None => format!("{} entries", state.next_index),
    };
    match &state.production {
        Some(p) => out!(
            "{} ({}), {entries}, as of {}",
            p.title.as_str(),
            p.id.as_str(),
            now.to_rfc3339()
        ),
        None => out!(
            "no production opened yet ({entries}), as of {}",
            now.to_rfc3339()
        ),
    }
    // The policy in force is the log's (a `policy_set` entry); the file only before it set one.
    let policy = match &state.policy {
        Some(p) => {
            out!("policy: set by entry {} (by {})", p.entry, p.by);
            p.policy.clone()
        }
        None => {
            out!("policy: policy.json (not in the log; record it with `armory policy set`)");
            policy
        }
    };
    out!("\nFirearms ({}):", state.firearms.len());
    for (id, f) in &state.firearms {
        let custodian = f.custodian.as_str();
        let place = match &f.custody {
            Custody::Stored { location } => {
                let locked = state.locations.get(location).is_some_and(|l| l.locked);
                format!(
                    "stored in {}{}",
                    location.as_str(),
                    if locked { " (locked)" } else { " (NOT LOCKED)" }
                )
            }
            Custody::AtHand => "out of storage, in the custodian's hands".to_owned(),
            Custody::Issued {
                performer,
                scene,
                due,
                ..
            } => format!(
                "ISSUED to {} for scene {}, due back {}",
                performer.as_str(),
                scene.as_str(),
                due.to_rfc3339()
            ),
        };
        let waiting = f.handover.as_ref().map_or(String::new(), |h| {
            format!(
                "; WAITING: {} from {} to {}, not yet confirmed by {} (since {})",
                h.kind.words(),
                h.from.as_str(),
                h.to.as_str(),
                h.to.as_str(),
                h.at.to_rfc3339()
            )
        });
        let bore = match &f.bore_fouled {
            Some(x) => format!(
                "; BORE NOT PROVEN CLEAR since it {} (entry {})",
                x.cause.words(),
                x.entry
            ),
            None => String::new(),
        };
        out!(
            "  {:<10} custodian {:<10} {place}{waiting}{bore}",
            id.as_str(),
            custodian
        );
    }
    let open: Vec<_> = state.open_incidents().collect();
    out!("\nOpen incidents ({}):", open.len());
    for (id, incident) in open {
        let covers = match &incident.covers {
            Cover::All => "every firearm".to_owned(),
            Cover::Firearms(list) => list
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        out!(
            "  {} ({:?}, {:?}) stops {covers}: {}",
            id.as_str(),
            incident.kind,
            incident.severity,
            incident.description.as_str()
        );
    }
    let (critical, warnings): (Vec<_>, Vec<_>) = alerts(&policy, &state, now)
        .into_iter()
        .partition(|a| a.critical);
    out!("\nAlerts ({}):", critical.len() + warnings.len());
    for alert in critical {
        out!("  CRITICAL [{}] {}", alert.rule, alert.message);
    }
    for alert in warnings {
        out!("  warning  [{}] {}", alert.rule, alert.message);
    }
    Ok(())
}
