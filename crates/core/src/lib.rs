//! armory-core: the domain of firearm safety and chain of custody on film and TV sets, as pure code.
//!
//! Types that cannot hold bad data (ids, serials, calibres, counts, times), the commands people
//! attempt, the events the log records, the `State` projected from them, and the two pure
//! functions of the hot path (DESIGN.md §3): `decide` (every rule of RULES.md §3 and §4) and
//! `apply` (fold an event into the state). `alerts` lists what needs attention without anyone
//! asking. No IO, no clock, no randomness: time is always passed in.
//!
//! # Playing a command (what the store does, in one transaction)
//!
//! ```text
//! match decide(&policy, &state, &actor, &command, now) {
//!     Ok(events)   => for e in events { index = ledger.append(e); apply_at(&mut state, index, &e)? }
//!     Err(refusal) => { let e = refusal.to_event(&actor, &command);   // the near miss is logged
//!                       index = ledger.append(e); apply_at(&mut state, index, &e)?;
//!                       respond with refusal (Display reads: rule, why, needed) }
//! }
//! ```
//!
//! - One log entry per event, in order. `apply` records the entry index (`state.next_index`) in
//!   each item's history, so every entry of the log, including `refused` and `note`, must be
//!   applied; entries the core does not know may be skipped with `apply_at(state, index, e)`.
//! - `decide` reads the whole `State` (open incidents, unreconciled days, serial uniqueness,
//!   every container at wrap), so keep the `State` in memory and write the projection tables from
//!   it; rebuild it at start-up with `replay` (or load a snapshot: `State` is serde).
//! - `verify --replay`: `differences(&replay(&events)?, &state_from_tables)` names every path
//!   that disagrees (`firearms.REV-1.custodian: "hgr" != "pm"`).
//! - The entry carries the actor; for `incident_opened` with `reported_by: null` (an anonymous
//!   report) the store must not record who reported it.
//! - `demo::script(Scenario::Safe | Scenario::Unsafe)` is a shoot day as steps for `armory demo`
//!   and for benchmarks.

#![forbid(unsafe_code)]

mod parse;

pub mod alerts;
pub mod apply;
pub mod command;
pub mod decide;
pub mod demo;
pub mod diff;
pub mod event;
pub mod ids;
pub mod incident;
pub mod items;
pub mod overrides;
pub mod people;
pub mod policy;
pub mod refusal;
pub mod roles;
pub mod rules;
pub mod scene;
pub mod state;
pub mod text;
pub mod time;

#[cfg(test)]
mod tests;

pub use alerts::{Alert, AlertKind, alerts};
pub use apply::{ApplyError, apply, apply_all, apply_at, replay};
pub use command::{Command, ContainerCount};
pub use decide::decide;
pub use diff::differences;
pub use event::{CountResult, Event};
pub use ids::{
    ContainerId, FirearmId, IncidentId, LocationId, LotId, PersonId, ProductionId, SceneId,
};
pub use incident::{Cover, DischargeKind, IncidentKind, Severity};
pub use items::{
    AmmoKind, BlankLoad, Calibre, Chamber, ChamberLoad, Condition, FirearmClass, ItemRef,
    Positions, RoundCheck, RoundCount, SerialNumber,
};
pub use overrides::{Approver, Override, OverrideTarget};
pub use parse::ParseError;
pub use people::{
    Actor, AuthMethod, Credential, CredentialKind, CredentialNumber, Role, SecretKind,
};
pub use policy::{Jurisdiction, Policy};
pub use refusal::Refusal;
pub use rules::RuleId;
pub use scene::{BlankPlan, BlankStrength, FirearmPlan, PlannedFirearm, PlannedLoad, SceneKind};
pub use state::State;
pub use text::{Name, Text};
pub use time::{ClockTime, Date, TimeError, Timestamp};
