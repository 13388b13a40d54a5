//! The current projection of a production's log: where every item is and who holds it, counts per
//! lot and container, people with roles and credentials, scenes, meetings, staffing per day, open
//! incidents, pending overrides, and each item's history as log entry indexes. It is a cache of
//! `fold(apply, events)`: serializable, comparable, and rebuildable from the log at any time.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{
    ContainerId, FirearmId, IncidentId, LocationId, LotId, PersonId, ProductionId, SceneId,
};
use crate::incident::{Cover, IncidentKind, Severity};
use crate::items::{AmmoKind, Calibre, Chamber, Condition, FirearmClass, Positions, SerialNumber};
use crate::overrides::Override;
use crate::people::{Credential, CredentialKind, Role};
use crate::scene::{FirearmPlan, SceneKind};
use crate::text::{Name, Text};
use crate::time::{Date, Timestamp};

/// The production this state belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Production {
    /// Its id.
    pub id: ProductionId,
    /// Its title.
    pub title: Name,
}

/// A member of the crew or cast.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    /// Name.
    pub name: Name,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Still on the production.
    pub active: bool,
    /// Latest credential of each kind.
    pub credentials: BTreeMap<CredentialKind, Credential>,
    /// Who last set this person's PIN, when it was someone else: a confirmation with that PIN
    /// may not be theirs, and is flagged until they set it themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_set_by: Option<PersonId>,
    /// Passkeys registered, by credential id (base64url).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub passkeys: BTreeMap<String, Passkey>,
}

/// A passkey a person registered (the `passkey_registered` entry holds the same).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Passkey {
    /// The COSE public key, base64url.
    pub public_key: String,
    /// The site (WebAuthn relying party id) it was registered on.
    pub rp_id: String,
}

impl Person {
    /// Active and holding `role`.
    pub fn acts_as(&self, role: Role) -> bool {
        self.active && self.roles.contains(&role)
    }
}

/// A place items are kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// Name.
    pub name: Name,
    /// Locks.
    pub locked: bool,
}

/// Where an item is, from the custody point of view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Custody {
    /// In a location (locked or not), under its custodian.
    Stored {
        /// Where.
        location: LocationId,
    },
    /// Out of storage, in its custodian's hands.
    AtHand,
    /// A firearm handed to a performer for a scene.
    Issued {
        /// Who holds it.
        performer: PersonId,
        /// For which scene.
        scene: SceneId,
        /// When.
        at: Timestamp,
        /// Due back by.
        due: Timestamp,
    },
}

/// A confirmed show check, valid until the load changes or the firearm comes back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShowCheckRecord {
    /// For which scene.
    pub scene: SceneId,
    /// The performer who confirmed.
    pub performer: PersonId,
    /// The 1st AD who confirmed.
    pub first_ad: PersonId,
    /// What they were shown.
    pub condition: Condition,
    /// The show check's entry: any later act on the firearm before the handover voids it for
    /// HANDOVER-SCAN.
    #[serde(default)]
    pub entry: u64,
}

/// A firearm in custody.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Firearm {
    /// Serial.
    pub serial: SerialNumber,
    /// Maker.
    pub make: Name,
    /// Model.
    pub model: Name,
    /// Calibre.
    pub calibre: Calibre,
    /// Class.
    pub class: FirearmClass,
    /// Chambers or positions.
    pub positions: Positions,
    /// The named custodian (an armorer or property master).
    pub custodian: PersonId,
    /// Where it is.
    pub custody: Custody,
    /// Every chamber as last recorded; `None` until first inspected (loaded or unloaded).
    pub chambers: Option<Vec<Chamber>>,
    /// The confirmed show check for the current load, if any.
    pub show_check: Option<ShowCheckRecord>,
    /// A handover waiting for its receiver's confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<Handover>,
    /// Fired, misfired or discharged since its bore was last proven clear (BORE-CLEAR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bore_fouled: Option<Fouled>,
    /// The entry of the last bore check that proved it clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bore_proven: Option<u64>,
    /// Positions holding the round of a misfire, to be recovered (never unloaded back into a
    /// container).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misfired: Vec<u16>,
    /// Who supplied it, and their firearms licence number when a licensed dealer did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<Name>,
    /// The supplier's firearms licence (a missing firearm then needs the ATF incident number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_licence: Option<Name>,
    /// Log entries about this firearm.
    pub history: Vec<u64>,
}

/// Why a bore must be proven clear again, and since which entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fouled {
    /// What happened.
    pub cause: FoulCause,
    /// The entry that recorded it.
    pub entry: u64,
}

/// What leaves a bore to be proven clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoulCause {
    /// Rounds fired (planned).
    Fired,
    /// A round did not fire (or a squib): something may be lodged in the barrel.
    Misfire,
    /// A discharge nobody planned.
    Discharge,
}

impl FoulCause {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            FoulCause::Fired => "fired",
            FoulCause::Misfire => "misfired",
            FoulCause::Discharge => "discharged unplanned",
        }
    }
}

/// A handover offered and not yet confirmed by the one receiving the item (both legs of
/// custody): until the receiver confirms, the giver stays the custodian (or, for a return, the
/// performer keeps the firearm) and nothing else may be done with the item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Handover {
    /// What kind of handover.
    pub kind: HandoverKind,
    /// Who hands the item over.
    pub from: PersonId,
    /// Who is to confirm receiving it (for a return: the custodian; any custodian may take it).
    pub to: PersonId,
    /// When it was offered.
    pub at: Timestamp,
    /// The entry offering it.
    pub entry: u64,
}

/// The three handovers of custody.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandoverKind {
    /// A firearm issued to a performer for a scene.
    Issue {
        /// The scene.
        scene: SceneId,
    },
    /// An item handed to another custodian.
    Custody,
    /// A firearm given back by its performer.
    Return,
}

impl HandoverKind {
    /// In words: "issue", "custody handover", "return".
    pub fn words(&self) -> &'static str {
        match self {
            HandoverKind::Issue { .. } => "issue",
            HandoverKind::Custody => "custody handover",
            HandoverKind::Return => "return",
        }
    }
}

/// Where a lot stands in verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotStatus {
    /// Not (or no longer) verified: quarantined.
    Unverified,
    /// Every round verified.
    Verified,
    /// Verification found defective rounds: remove them and verify again.
    Defective,
    /// A live round was found: never loadable.
    LiveFound,
    /// Held by an open incident (a round from it sold as a dummy fired): not loadable, and not
    /// verified again until the incident is closed with findings.
    Held,
}

/// An ammunition lot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lot {
    /// Kind.
    pub kind: AmmoKind,
    /// Calibre.
    pub calibre: Calibre,
    /// Maker.
    pub maker: Name,
    /// Headstamp.
    pub headstamp: Name,
    /// Supplier.
    pub supplier: Name,
    /// Shipment.
    pub shipment: Option<Name>,
    /// Leftovers from this other production.
    pub leftover_from: Option<Name>,
    /// Who received it.
    pub received_by: PersonId,
    /// Rounds received.
    pub received: u64,
    /// Rounds fired.
    pub expended: u64,
    /// Rounds removed (returned to supplier, destroyed).
    pub removed: u64,
    /// Rounds found missing (positive) or extra (negative) at reconciliations.
    pub unaccounted: i64,
    /// Verification.
    pub status: LotStatus,
    /// The open incident holding the lot ([`LotStatus::Held`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<IncidentId>,
    /// Log entries about this lot.
    pub history: Vec<u64>,
}

/// A container of rounds of one lot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Container {
    /// The one lot it holds (CONTAINER-PURE).
    pub lot: LotId,
    /// Rounds in it.
    pub count: u64,
    /// Its custodian.
    pub custodian: PersonId,
    /// Where it is.
    pub custody: Custody,
    /// A handover to another custodian waiting for their confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<Handover>,
    /// Log entries about this container.
    pub history: Vec<u64>,
}

/// A planned scene.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scene {
    /// Shoot day.
    pub day: Date,
    /// Rehearsal or take.
    pub kind: SceneKind,
    /// Minutes a firearm may stay issued.
    pub window_minutes: u32,
    /// The plan.
    pub plan: FirearmPlan,
    /// Close-range blank loads of this plan the armorer approved: firearm, approving entry
    /// (a re-plan clears them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub close_range_approved: BTreeMap<FirearmId, u64>,
    /// Log entries about this scene.
    pub history: Vec<u64>,
}

/// A permit and police notification for blanks at a public location (PUBLIC-NOTICE).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicNotice {
    /// The public location.
    pub location: Name,
    /// The permit.
    pub permit: Name,
    /// The police notification.
    pub police_notice: Name,
    /// The day's call time it was recorded before.
    pub call_time: crate::time::ClockTime,
    /// Its log entry.
    pub entry: u64,
}

/// A recorded safety meeting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meeting {
    /// Scenes covered.
    pub scenes: Vec<SceneId>,
    /// Who attended.
    pub attendees: Vec<PersonId>,
    /// Topics covered.
    pub topics: Vec<Text>,
    /// The MEETING-CONTENT items it went through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<crate::scene::MeetingItem>,
    /// Who ran it.
    pub run_by: PersonId,
    /// The safety rep who confirmed it.
    pub confirmed_by: Option<PersonId>,
    /// Its log entry.
    pub entry: u64,
}

/// Staffing and safety records of one shoot day.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Day {
    /// The designated armorer.
    pub armorer: Option<PersonId>,
    /// Other duties assigned that day.
    pub duties: BTreeMap<PersonId, BTreeSet<Role>>,
    /// Safety meetings.
    pub meetings: Vec<Meeting>,
    /// A firearm was issued that day (so it must be reconciled).
    pub firearm_work: bool,
    /// Reconciled at wrap: `Some(balanced)`.
    pub reconciled: Option<bool>,
    /// Performers briefed by the armorer that day, on which firearms (PERFORMER-BRIEFED).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub briefed: BTreeMap<PersonId, BTreeSet<FirearmId>>,
    /// Permits and police notifications for blanks at public locations (PUBLIC-NOTICE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_notices: Vec<PublicNotice>,
    /// Risk assessments recorded that day (their entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_assessments: Vec<u64>,
}

/// How an incident was closed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Closure {
    /// Findings.
    pub findings: Text,
    /// The custodian who closed it.
    pub closed_by: PersonId,
    /// The safety rep who confirmed.
    pub safety_rep: PersonId,
    /// When.
    pub at: Timestamp,
    /// Its log entry.
    pub entry: u64,
}

/// An incident (never deleted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Incident {
    /// Kind.
    pub kind: IncidentKind,
    /// Severity.
    pub severity: Severity,
    /// Firearms it stops.
    pub covers: Cover,
    /// What happened.
    pub description: Text,
    /// Reporter, unless anonymous.
    pub reported_by: Option<PersonId>,
    /// When opened.
    pub opened_at: Timestamp,
    /// The entry that opened it.
    pub entry: u64,
    /// Closure, once closed.
    pub closed: Option<Closure>,
    /// The police report number (MISSING-REPORT), once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_report: Option<Name>,
    /// The ATF incident number, for a firearm from a licensed supplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atf_incident: Option<Name>,
    /// The firearm of a missing-firearm incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firearm: Option<FirearmId>,
}

impl Incident {
    /// Open and of a severity that stops work on `firearm`.
    pub fn stops(&self, firearm: &FirearmId) -> bool {
        self.closed.is_none() && self.severity >= Severity::Stop && self.covers.covers(firearm)
    }
}

/// Where a lot's rounds are: the terms of the conservation law
/// `received = in_containers + in_chambers + expended + removed + unaccounted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LotBalance {
    /// Received.
    pub received: u64,
    /// In containers.
    pub in_containers: u64,
    /// In chambers (unfired).
    pub in_chambers: u64,
    /// Fired.
    pub expended: u64,
    /// Removed.
    pub removed: u64,
    /// Missing (or extra, negative) as found at wrap.
    pub unaccounted: i64,
}

impl LotBalance {
    /// Whether the conservation law holds.
    pub fn balances(&self) -> bool {
        let accounted = i128::from(self.in_containers)
            + i128::from(self.in_chambers)
            + i128::from(self.expended)
            + i128::from(self.removed)
            + i128::from(self.unaccounted);
        accounted == i128::from(self.received)
    }
}

/// The projection of one production's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// The production, once opened.
    pub production: Option<Production>,
    /// The index the next applied entry gets.
    pub next_index: u64,
    /// People.
    pub people: BTreeMap<PersonId, Person>,
    /// Locations.
    pub locations: BTreeMap<LocationId, Location>,
    /// Firearms.
    pub firearms: BTreeMap<FirearmId, Firearm>,
    /// Lots.
    pub lots: BTreeMap<LotId, Lot>,
    /// Containers.
    pub containers: BTreeMap<ContainerId, Container>,
    /// Scenes.
    pub scenes: BTreeMap<SceneId, Scene>,
    /// Shoot days with staffing, meetings, reconciliation.
    pub days: BTreeMap<Date, Day>,
    /// Incidents, open and closed.
    pub incidents: BTreeMap<IncidentId, Incident>,
    /// Overrides by the entry that granted them.
    pub overrides: BTreeMap<u64, Override>,
    /// Corrected entry -> the entries correcting it.
    pub corrections: BTreeMap<u64, Vec<u64>>,
    /// Entries recording refusals (near misses).
    pub refusals: Vec<u64>,
    /// Entries holding notes.
    pub notes: Vec<u64>,
    /// The policy in force, as the log set it (none set: the node's, RULES.md's defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyInForce>,
}

/// A policy set by the log, and the entry that set it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyInForce {
    pub policy: crate::Policy,
    /// The `policy_set` entry.
    pub entry: u64,
    /// Who set it.
    pub by: PersonId,
}

impl State {
    /// The confirmations of `command` made with a PIN that someone else set for the person since
    /// they last set it themselves: (who confirmed, who set their PIN). Such a confirmation may
    /// not be theirs; it is flagged in the entry and on screen.
    pub fn pins_set_by_others(&self, command: &crate::Command) -> Vec<(PersonId, PersonId)> {
        command
            .confirmations()
            .into_iter()
            .filter(|a| a.method == crate::AuthMethod::Pin)
            .filter_map(|a| {
                let by = self.people.get(&a.person)?.pin_set_by.clone()?;
                Some((a.person.clone(), by))
            })
            .collect()
    }

    /// An empty state (before the production is opened).
    pub fn new() -> Self {
        Self::default()
    }

    /// Firearms not in a locked location (taken out, issued, or put somewhere that does not
    /// lock), in id order: while there are any, the day's armorer is on firearms only.
    pub fn firearms_out(&self) -> Vec<&FirearmId> {
        self.firearms
            .iter()
            .filter(|(_, f)| match &f.custody {
                Custody::Stored { location } => {
                    !self.locations.get(location).is_some_and(|l| l.locked)
                }
                _ => true,
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// An active person holding `role`.
    pub fn person_acts_as(&self, person: &PersonId, role: Role) -> bool {
        self.people.get(person).is_some_and(|p| p.acts_as(role))
    }

    /// Open incidents that stop work on `firearm`.
    pub fn stopping_incidents<'a>(
        &'a self,
        firearm: &'a FirearmId,
    ) -> impl Iterator<Item = (&'a IncidentId, &'a Incident)> {
        self.incidents.iter().filter(move |(_, i)| i.stops(firearm))
    }

    /// Open incidents.
    pub fn open_incidents(&self) -> impl Iterator<Item = (&IncidentId, &Incident)> {
        self.incidents.iter().filter(|(_, i)| i.closed.is_none())
    }

    /// Where the rounds of `lot` are.
    pub fn lot_balance(&self, lot_id: &LotId) -> Option<LotBalance> {
        let lot = self.lots.get(lot_id)?;
        let in_containers = self
            .containers
            .values()
            .filter(|c| &c.lot == lot_id)
            .map(|c| c.count)
            .sum();
        let in_chambers = self
            .firearms
            .values()
            .filter_map(|f| f.chambers.as_ref())
            .flatten()
            .filter(|c| matches!(c, Chamber::Round { lot, .. } if lot == lot_id))
            .count() as u64;
        Some(LotBalance {
            received: lot.received,
            in_containers,
            in_chambers,
            expended: lot.expended,
            removed: lot.removed,
            unaccounted: lot.unaccounted,
        })
    }

    /// The day record, if any.
    pub fn day(&self, day: Date) -> Option<&Day> {
        self.days.get(&day)
    }
}
