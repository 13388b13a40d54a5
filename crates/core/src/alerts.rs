//! Alerts the system raises by itself, without anyone acting: a firearm issued past its scene
//! window (RETURN-AFTER-TAKE), a firearm outside locked storage with no custodian at hand
//! (LOCKED-STORAGE), counts that do not balance (WRAP-RECONCILE), credentials expiring within the
//! policy's warning period (CREDENTIALS), a handover waiting for its receiver (CUSTODIAN-ONLY), a
//! missing firearm's police report due (MISSING-REPORT). Pure: computed from the policy, the state and `now`.

use crate::ids::{FirearmId, LotId, PersonId};
use crate::items::ItemRef;
use crate::people::{CredentialKind, Role};
use crate::policy::Policy;
use crate::rules::RuleId;
use crate::state::{Custody, Handover, State};
use crate::time::{Date, Timestamp};

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// A firearm is still with a performer past its scene window.
    IssuedPastWindow {
        firearm: FirearmId,
        performer: PersonId,
        due: Timestamp,
    },
    /// A handover waits for its receiver's confirmation (the giver still holds the item).
    HandoverWaiting {
        item: ItemRef,
        from: PersonId,
        to: PersonId,
        since: Timestamp,
    },
    /// A firearm is not issued and not in locked storage under an active custodian.
    OutsideLockedStorage { firearm: FirearmId },
    /// A lot's rounds do not add up (missing or extra rounds found, or records that disagree).
    CountsUnbalanced { lot: LotId, unaccounted: i64 },
    /// The node records no acts: its log failed the check at start (tampered with, damaged) or
    /// its storage fails. Raised by the node, not by the rules.
    NotRecording { why: String },
    /// A missing firearm's incident has no police report number yet: a warning until 48 hours
    /// after it opened, critical from then on.
    PoliceReportDue {
        incident: crate::ids::IncidentId,
        due: Timestamp,
    },
    /// A credential a person's role requires expires soon, has expired, or is missing.
    CredentialExpiring {
        person: PersonId,
        credential: CredentialKind,
        expires: Option<Date>,
    },
}

/// Something that needs attention now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Alert {
    /// The rule it concerns.
    pub rule: RuleId,
    /// Needs action now (a firearm out of place or overdue, counts that do not balance, the
    /// node not recording); otherwise a warning (a credential expiring, a handover waiting).
    pub critical: bool,
    /// What it is about.
    pub kind: AlertKind,
    /// In plain words, for the set.
    pub message: String,
}

/// Every alert for this state at `now`, in a stable order.
pub fn alerts(policy: &Policy, state: &State, now: Timestamp) -> Vec<Alert> {
    let mut out = Vec::new();
    let today = policy.day_of(now);
    for (id, f) in &state.firearms {
        let custodian_ok = state
            .people
            .get(&f.custodian)
            .is_some_and(|p| policy.custodian_roles().iter().any(|r| p.acts_as(*r)));
        match &f.custody {
            Custody::Issued { performer, due, .. } => {
                if *due < now {
                    out.push(Alert {
                        rule: RuleId::ReturnAfterTake,
                        critical: true,
                        kind: AlertKind::IssuedPastWindow { firearm: id.clone(), performer: performer.clone(), due: *due },
                        message: format!("firearm {id} is still with {performer}; it was due back at {}. Take it back now.", set_time(policy, *due)),
                    });
                }
            }
            Custody::Stored { location } => {
                let locked = state.locations.get(location).is_some_and(|l| l.locked);
                if !locked || !custodian_ok {
                    let why = if !locked {
                        format!("{location} does not lock")
                    } else {
                        format!("its custodian {} is no longer a custodian", f.custodian)
                    };
                    out.push(Alert {
                        rule: RuleId::LockedStorage,
                        critical: true,
                        kind: AlertKind::OutsideLockedStorage { firearm: id.clone() },
                        message: format!("firearm {id} is outside locked storage: {why}. Lock it away under a named custodian."),
                    });
                }
            }
            Custody::AtHand => {
                if !custodian_ok {
                    out.push(Alert {
                        rule: RuleId::LockedStorage,
                        critical: true,
                        kind: AlertKind::OutsideLockedStorage { firearm: id.clone() },
                        message: format!("firearm {id} is out of storage and {} is no longer a custodian. An armorer takes it and locks it away.", f.custodian),
                    });
                }
            }
        }
    }
    // The ATF incident number is due too when the firearm came from a licensed supplier.
    let atf_due = |i: &crate::state::Incident| {
        i.atf_incident.is_none()
            && i.firearm
                .as_ref()
                .and_then(|f| state.firearms.get(f))
                .is_some_and(|f| f.supplier_licence.is_some())
    };
    for (id, i) in state.incidents.iter().filter(|(_, i)| {
        i.kind == crate::incident::IncidentKind::MissingFirearm
            && (i.police_report.is_none() || atf_due(i))
            && i.closed.is_none()
    }) {
        let what = match (i.police_report.is_none(), atf_due(i)) {
            (true, true) => "police report number and ATF incident number",
            (true, false) => "police report number",
            _ => "ATF incident number (the firearm came from a licensed supplier)",
        };
        let due = i.opened_at.plus_minutes(48 * 60);
        let late = due < now;
        out.push(Alert {
            rule: RuleId::MissingReport,
            critical: late,
            kind: AlertKind::PoliceReportDue {
                incident: id.clone(),
                due,
            },
            message: if late {
                format!(
                    "{} (incident {id}): no {what} after 48 hours (due {}). Report it now and record the number.",
                    i.description,
                    set_time(policy, due)
                )
            } else {
                format!(
                    "{} (incident {id}): report it and record the {what} by {}.",
                    i.description,
                    set_time(policy, due)
                )
            },
        });
    }
    let waiting =
        state
            .firearms
            .iter()
            .filter_map(|(id, f)| Some((ItemRef::Firearm(id.clone()), f.handover.as_ref()?)))
            .chain(state.containers.iter().filter_map(|(id, c)| {
                Some((ItemRef::Container(id.clone()), c.handover.as_ref()?))
            }));
    for (item, h) in waiting {
        out.push(handover_alert(policy, item, h));
    }
    for id in state.lots.keys() {
        let Some(b) = state.lot_balance(id) else {
            continue;
        };
        if b.unaccounted != 0 || !b.balances() {
            out.push(Alert {
                rule: RuleId::WrapReconcile,
                        critical: true,
                kind: AlertKind::CountsUnbalanced { lot: id.clone(), unaccounted: b.unaccounted },
                message: format!(
                    "lot {id} does not balance: received {} = {} in containers + {} in firearms + {} fired + {} removed, with {} unaccounted",
                    b.received, b.in_containers, b.in_chambers, b.expended, b.removed, b.unaccounted
                ),
            });
        }
    }
    let horizon = today.plus_days(i64::from(policy.credential_warning_days));
    for (pid, p) in state.people.iter().filter(|(_, p)| p.active) {
        // A property master (or assistant) needs the credentials only to handle firearms, which
        // they may then do: missing ones are not an alert, expiring ones are.
        let optional = |r: &Role| matches!(r, Role::PropertyMaster | Role::AssistantPropertyMaster);
        let kinds: std::collections::BTreeSet<&CredentialKind> = p
            .roles
            .iter()
            .filter(|r| !optional(r) || policy.property_master_may_be_custodian)
            .flat_map(|r| policy.credentials_for(*r))
            .collect();
        for kind in kinds {
            let held = p.credentials.get(kind);
            let required = p
                .roles
                .iter()
                .any(|r| !optional(r) && policy.credentials_for(*r).any(|k| k == kind));
            let message = match held {
                None if !required => continue,
                None => format!("{} ({pid}) has no {kind} on record", p.name),
                Some(c) if c.expires < today => {
                    format!("{} ({pid})'s {kind} expired on {}", p.name, c.expires)
                }
                Some(c) if c.expires <= horizon => {
                    format!(
                        "{} ({pid})'s {kind} expires on {}, in {} days",
                        p.name,
                        c.expires,
                        today.days_until(c.expires)
                    )
                }
                Some(_) => continue,
            };
            out.push(Alert {
                rule: RuleId::Credentials,
                critical: false,
                kind: AlertKind::CredentialExpiring {
                    person: pid.clone(),
                    credential: kind.clone(),
                    expires: held.map(|c| c.expires),
                },
                message: format!("{message}. Record a renewed credential."),
            });
        }
    }
    out
}

/// An instant on the set's clock, as people on set read it: `2021-10-21 07:46 (UTC-06:00)`.
pub fn set_time(policy: &Policy, t: Timestamp) -> String {
    let off = policy.utc_offset_minutes;
    format!(
        "{} ({})",
        t.local_minute(off),
        crate::time::utc_offset_words(off)
    )
}

fn handover_alert(policy: &Policy, item: ItemRef, h: &Handover) -> Alert {
    Alert {
        rule: RuleId::CustodianOnly,
        critical: false,
        message: format!(
            "the {} of {item} from {} to {} waits for {} to confirm receiving it (offered at {}); until then {} holds it",
            h.kind.words(),
            h.from,
            h.to,
            h.to,
            set_time(policy, h.at),
            h.from
        ),
        kind: AlertKind::HandoverWaiting {
            item,
            from: h.from.clone(),
            to: h.to.clone(),
            since: h.at,
        },
    }
}

/// The critical alert of a node that records nothing: its log failed the check at start, or
/// its storage fails (`why` says which, and what to do).
pub fn not_recording(why: &str) -> Alert {
    Alert {
        rule: RuleId::State,
        critical: true,
        kind: AlertKind::NotRecording {
            why: why.to_owned(),
        },
        message: format!("ACTS ARE NOT BEING RECORDED: {why}"),
    }
}
