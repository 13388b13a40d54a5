//! Incidents (INCIDENT-STOP, DISCHARGE-REPORT, WRAP-RECONCILE, LIVE-NEVER): what happened, how
//! severe, which firearms it stops, and the kinds of discharge.

use crate::ids::FirearmId;

/// What kind of incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A live round was found.
    LiveRound,
    /// A discharge that was not planned.
    UnplannedDischarge,
    /// A misfire.
    Misfire,
    /// Counts at wrap did not balance, or a firearm was not back in locked storage.
    CountMismatch,
    /// A firearm could not be found at a count (MISSING-REPORT: a police report within 48 h).
    MissingFirearm,
    /// A near miss or unsafe practice.
    NearMiss,
    /// Anything else.
    Other,
}

/// How severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Recorded; stops nothing.
    Note,
    /// Stops firearm work on the firearms it covers until closed.
    Stop,
    /// Stops all firearm work until closed.
    Critical,
}

/// Which firearms an incident covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cover {
    /// Every firearm of the production.
    All,
    /// These firearms.
    Firearms(Vec<FirearmId>),
}

impl Cover {
    /// Whether it covers `firearm`.
    pub fn covers(&self, firearm: &FirearmId) -> bool {
        match self {
            Cover::All => true,
            Cover::Firearms(list) => list.contains(firearm),
        }
    }
}

/// A discharge that was not planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DischargeKind {
    /// The round did not fire as planned.
    Misfire,
    /// The firearm fired when nobody meant it to.
    Accidental,
}
