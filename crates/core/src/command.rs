//! Commands: one variant per act a person can attempt (issue 3). A command is already parsed (its
//! fields are domain types); `decide` checks it against the rules and the current state. Acts that
//! need several people carry the confirming actors (show check, override, incident close).

use crate::ids::{
    ContainerId, FirearmId, IncidentId, LocationId, LotId, PersonId, ProductionId, SceneId,
};
use crate::incident::{Cover, DischargeKind, IncidentKind, Severity};
use crate::items::{
    AmmoKind, Calibre, ChamberLoad, FirearmClass, ItemRef, Positions, RoundCheck, RoundCount,
    SerialNumber,
};
use crate::overrides::OverrideTarget;
use crate::people::{Actor, CredentialKind, CredentialNumber, Role};
use crate::rules::RuleId;
use crate::scene::{FirearmPlan, SceneKind};
use crate::text::{Name, Text};
use crate::time::{ClockTime, Date};

/// A container's physical count at wrap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerCount {
    /// The container.
    pub container: ContainerId,
    /// Rounds counted in it.
    pub count: RoundCount,
}

/// An act someone attempts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    // --- production, people, roles, credentials, staffing ---
    /// Start the production's log; the actor becomes its first admin. Only on an empty state.
    OpenProduction {
        /// Its id.
        production: ProductionId,
        /// Its title.
        title: Name,
        /// The actor's name.
        admin_name: Name,
    },
    /// Set the production's safety policy (RULES.md §3: tighten freely; loosen only with the
    /// approval, by PIN, of the producer, the safety representative and the armorer).
    SetPolicy {
        /// The whole policy, as it is to be.
        policy: crate::Policy,
        /// Who approves a loosening (their PINs confirm it).
        #[serde(default)]
        approvals: Vec<Actor>,
    },
    /// Add a person to the crew or cast, with roles.
    AddPerson {
        /// Their id.
        person: PersonId,
        /// Their name.
        name: Name,
        /// Their roles.
        roles: Vec<Role>,
    },
    /// Give a person another role.
    GrantRole {
        /// Who.
        person: PersonId,
        /// Which role.
        role: Role,
    },
    /// Take a role away.
    RevokeRole {
        /// Who.
        person: PersonId,
        /// Which role.
        role: Role,
    },
    /// Take a person off the production (their history stays).
    RemovePerson {
        /// Who.
        person: PersonId,
    },
    /// Record a credential (permit, course certificate) a person holds.
    RecordCredential {
        /// Who.
        person: PersonId,
        /// Which kind.
        kind: CredentialKind,
        /// Its number.
        number: CredentialNumber,
        /// Last valid day.
        expires: Date,
    },
    /// Staffing: a person works in `duty` on `day`.
    AssignDuty {
        /// Which day.
        day: Date,
        /// Who.
        person: PersonId,
        /// As what.
        duty: Role,
    },
    /// Staffing: take a duty off a person for `day`.
    ReleaseDuty {
        /// Which day.
        day: Date,
        /// Who.
        person: PersonId,
        /// Which duty.
        duty: Role,
    },
    /// Designate the day's armorer (ARMORER-DEDICATED).
    DesignateArmorer {
        /// Which day.
        day: Date,
        /// Who.
        person: PersonId,
    },

    // --- places and items ---
    /// Add a storage location.
    AddLocation {
        /// Its id.
        location: LocationId,
        /// Its name.
        name: Name,
        /// Whether it locks (a safe, a locked truck) or not (a cart).
        locked: bool,
    },
    /// Record that a location now locks or no longer does.
    SetLocationLock {
        /// Which.
        location: LocationId,
        /// Locked or not.
        locked: bool,
    },
    /// Register a firearm received into custody; the actor becomes its custodian.
    RegisterFirearm {
        /// Its id.
        firearm: FirearmId,
        /// Serial number.
        serial: SerialNumber,
        /// Maker.
        make: Name,
        /// Model.
        model: Name,
        /// Calibre.
        calibre: Calibre,
        /// Class.
        class: FirearmClass,
        /// Chambers or magazine positions.
        positions: Positions,
        /// Where it is put.
        location: LocationId,
        /// Who supplied it (a rental armory, a prop house, a person).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier: Option<Name>,
        /// The supplier's firearms licence number, when a licensed dealer supplied it (a missing
        /// firearm then also needs the ATF incident number: MISSING-REPORT).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier_licence: Option<Name>,
    },
    /// Receive an ammunition lot into a new container (F2: provenance of every round).
    ReceiveLot {
        /// Its id.
        lot: LotId,
        /// Dummy or blank (live is refused).
        kind: AmmoKind,
        /// Calibre.
        calibre: Calibre,
        /// Maker.
        maker: Name,
        /// Headstamp on the cases.
        headstamp: Name,
        /// Supplier (prop house, person).
        supplier: Name,
        /// Shipment or delivery note.
        shipment: Option<Name>,
        /// Rounds received.
        count: RoundCount,
        /// The container they arrive in (a new container id).
        container: ContainerId,
        /// Where the container is put.
        location: LocationId,
        /// Set when these are leftovers from another production.
        leftover_from: Option<Name>,
    },
    /// Record the per-round verification of a lot (every round checked).
    VerifyLot {
        /// Which lot.
        lot: LotId,
        /// One result per round, in the order checked.
        results: Vec<RoundCheck>,
    },
    /// Re-open a verified lot (seal broken, rounds out of sight): it must be verified again.
    ReopenLot {
        /// Which lot.
        lot: LotId,
        /// Why.
        reason: Text,
    },
    /// Move rounds between containers of the same lot (the target may be new).
    TransferRounds {
        /// From.
        from: ContainerId,
        /// To.
        to: ContainerId,
        /// How many.
        count: RoundCount,
    },
    /// Take rounds out of the production (returned to supplier, destroyed, removed defective).
    RemoveRounds {
        /// From.
        container: ContainerId,
        /// How many.
        count: RoundCount,
        /// Why and where they went.
        reason: Text,
    },
    /// Put an item into a location (also: move it to another).
    Store {
        /// Which item.
        item: ItemRef,
        /// Where.
        location: LocationId,
    },
    /// Take an item out of storage into the custodian's hands.
    TakeOut {
        /// Which item.
        item: ItemRef,
    },
    /// Hand custody of an item to another custodian. It completes when the new custodian
    /// confirms: here (`confirmation`, their PIN on this device) or later (`confirm_handover`).
    /// Today's designated armorer taking an item over confirms by acting.
    AssignCustodian {
        /// Which item.
        item: ItemRef,
        /// The new custodian.
        person: PersonId,
        /// The new custodian, confirming they received it.
        #[serde(default)]
        confirmation: Option<Actor>,
        /// What the scanner read off the firearm handed over (its id or serial; HANDOVER-SCAN).
        #[serde(default)]
        scanned: Option<Name>,
    },
    /// Confirm receiving an item handed over (issue, custody, return): the receiver acts, or
    /// confirms on the giver's device (`confirmation`).
    ConfirmHandover {
        /// Which item.
        item: ItemRef,
        /// The receiver, confirming on another person's device.
        #[serde(default)]
        confirmation: Option<Actor>,
    },
    /// Call off a handover nobody confirmed (the giver, the receiver, or a custodian).
    CancelHandover {
        /// Which item.
        item: ItemRef,
        /// Why.
        reason: Text,
    },

    // --- scenes and meetings ---
    /// Plan (or re-plan) a firearm scene.
    PlanScene {
        /// Its id.
        scene: SceneId,
        /// Shoot day.
        day: Date,
        /// Rehearsal or take.
        kind: SceneKind,
        /// Minutes a firearm may stay issued; the policy's default if absent.
        window_minutes: Option<u32>,
        /// The firearm plan.
        plan: FirearmPlan,
    },
    /// The armorer approves the close-range blank load a scene's plan names for a firearm
    /// closer than 20 ft to anyone in the line of fire (BLANK-DISTANCE).
    ApproveCloseRangeLoad {
        /// The scene.
        scene: SceneId,
        /// The firearm.
        firearm: FirearmId,
    },
    /// The permit and the police notification for blank fire at a public location, recorded
    /// before the day's call time (PUBLIC-NOTICE).
    RecordPublicNotice {
        /// The shoot day.
        day: Date,
        /// The public location, as the scene plans name it.
        location: Name,
        /// The permit's number (film permit with firearms or blanks).
        permit: Name,
        /// The police notification: department and reference ("SFPD film unit, ref 2291").
        police_notice: Name,
        /// The day's call time on the set's clock; the notice must be on record before it.
        call_time: ClockTime,
    },
    /// A safety advisor's (or safety representative's) risk assessment of a scene or the day.
    RecordRiskAssessment {
        /// The scene assessed, if one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scene: Option<SceneId>,
        /// The hazards found and the controls asked for.
        assessment: Text,
    },
    /// Record the day's safety meeting.
    HoldMeeting {
        /// Shoot day.
        day: Date,
        /// Scenes covered.
        scenes: Vec<SceneId>,
        /// Who attended.
        attendees: Vec<PersonId>,
        /// Topics covered (checklist).
        topics: Vec<Text>,
        /// The items MEETING-CONTENT asks for that the meeting went through.
        #[serde(default)]
        items: Vec<crate::scene::MeetingItem>,
        /// The safety rep confirming it, if present.
        safety_rep: Option<Actor>,
    },

    // --- firearm handling ---
    /// Load (or inspect) a firearm: one entry per chamber or magazine position.
    Load {
        /// Which firearm.
        firearm: FirearmId,
        /// Every position, in order.
        chambers: Vec<ChamberLoad>,
    },
    /// Unload: rounds back to their containers, every chamber empty.
    Unload {
        /// Which firearm.
        firearm: FirearmId,
    },
    /// Show every chamber to the performer and the 1st AD, who each confirm.
    ShowCheck {
        /// Which firearm.
        firearm: FirearmId,
        /// For which scene.
        scene: SceneId,
        /// The performer, confirming.
        performer: Actor,
        /// The 1st AD, confirming.
        first_ad: Actor,
    },
    /// Hand a firearm to a performer. It completes when the performer confirms receiving it:
    /// here (`confirmation`, their PIN on the armorer's device) or later (`confirm_handover`).
    Issue {
        /// Which firearm.
        firearm: FirearmId,
        /// To whom.
        performer: PersonId,
        /// For which scene.
        scene: SceneId,
        /// The performer, confirming they received it.
        #[serde(default)]
        confirmation: Option<Actor>,
        /// What the scanner read off the firearm handed over (its id or serial; HANDOVER-SCAN).
        #[serde(default)]
        scanned: Option<Name>,
    },
    /// A firearm comes back from the performer. A custodian taking it back completes it at once
    /// (`confirmation`: the performer confirming they gave it); a performer giving it back
    /// completes it when a custodian confirms (here, or later with `confirm_handover`).
    Return {
        /// Which firearm.
        firearm: FirearmId,
        /// The other side of the handover, confirming.
        #[serde(default)]
        confirmation: Option<Actor>,
        /// What the scanner read off the firearm handed back (its id or serial; HANDOVER-SCAN).
        #[serde(default)]
        scanned: Option<Name>,
    },
    /// The armorer briefs a performer on a firearm for today: safe handling, what it is loaded
    /// with, the action, where to point it (PERFORMER-BRIEFED). The performer may confirm it.
    BriefPerformer {
        /// Who was briefed.
        performer: PersonId,
        /// On which firearm.
        firearm: FirearmId,
        /// The performer, confirming they were briefed.
        #[serde(default)]
        confirmation: Option<Actor>,
    },
    /// Record that the barrel and every chamber are clear (a rod down the barrel), after any
    /// firing and at once after a misfire (BORE-CLEAR). The firearm must be empty.
    BoreCheck {
        /// Which firearm.
        firearm: FirearmId,
    },
    /// Take the round of a misfire out of its position and out of the production.
    RecoverRound {
        /// Which firearm.
        firearm: FirearmId,
        /// The position that misfired (1-based).
        position: u16,
    },
    /// Count blanks fired as planned in a take.
    Expend {
        /// Which firearm.
        firearm: FirearmId,
        /// Which positions fired (1-based).
        positions: Vec<u16>,
    },
    /// Report a discharge that was not planned: opens an incident.
    ReportDischarge {
        /// Which firearm.
        firearm: FirearmId,
        /// Misfire or accidental.
        kind: DischargeKind,
        /// Which positions discharged (1-based; may be empty for a misfire).
        positions: Vec<u16>,
        /// What happened.
        description: Text,
    },
    /// Report an incident (anyone; anonymously where the policy allows).
    ReportIncident {
        /// What kind.
        kind: IncidentKind,
        /// How severe.
        severity: Severity,
        /// Which firearms it stops.
        covers: Cover,
        /// What happened.
        description: Text,
        /// Leave the reporter's name out of the record.
        anonymous: bool,
    },
    /// A firearm cannot be found: opens a critical incident that stops all firearm work and
    /// needs a police report number within 48 hours (MISSING-REPORT).
    ReportMissing {
        /// Which firearm.
        firearm: FirearmId,
        /// Where it was last seen, who looked.
        description: Text,
    },
    /// Record the police report number (and the ATF incident number, for a firearm from a
    /// licensed supplier) of a missing firearm's incident.
    RecordPoliceReport {
        /// Which incident.
        incident: IncidentId,
        /// The police report number.
        police_report: Name,
        /// The ATF incident number, where one is needed.
        #[serde(default)]
        atf_incident: Option<Name>,
    },
    /// Close an incident with findings (custodian, confirmed by the safety rep).
    CloseIncident {
        /// Which.
        incident: IncidentId,
        /// What was found and done.
        findings: Text,
        /// The safety rep, confirming.
        safety_rep: Actor,
    },
    /// Reconcile at wrap: every container counted, every firearm back in locked storage.
    Reconcile {
        /// The shoot day being closed.
        day: Date,
        /// A count for every container holding rounds.
        counts: Vec<ContainerCount>,
    },

    // --- the record itself ---
    /// Loosen a rule once, for one act, with a reason (approvers: the actor and the confirmations).
    Override {
        /// Which rule.
        rule: RuleId,
        /// Why.
        reason: Text,
        /// For which act.
        target: OverrideTarget,
        /// The other approvers, confirming.
        confirmations: Vec<Actor>,
    },
    /// Correct an earlier entry: a new entry that points at it (nothing is edited or deleted).
    Correct {
        /// The index of the entry corrected.
        entry: u64,
        /// What was wrong and what is right.
        reason: Text,
    },
    /// A free-text remark for the record.
    Note {
        /// The remark.
        text: Text,
    },
}

impl Command {
    /// The people who confirm this act besides the actor (for the log entry's `actors`): the
    /// performer and 1st AD of a show check, the safety rep of a meeting or an incident close,
    /// the other approvers of an override.
    pub fn confirmations(&self) -> Vec<&Actor> {
        match self {
            Command::ShowCheck {
                performer,
                first_ad,
                ..
            } => vec![performer, first_ad],
            Command::HoldMeeting { safety_rep, .. } => safety_rep.iter().collect(),
            Command::CloseIncident { safety_rep, .. } => vec![safety_rep],
            Command::Override { confirmations, .. } => confirmations.iter().collect(),
            Command::SetPolicy { approvals, .. } => approvals.iter().collect(),
            Command::Issue { confirmation, .. }
            | Command::Return { confirmation, .. }
            | Command::AssignCustodian { confirmation, .. }
            | Command::ConfirmHandover { confirmation, .. }
            | Command::BriefPerformer { confirmation, .. } => confirmation.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The one firearm the act is about, if it names one.
    pub fn firearm(&self) -> Option<&FirearmId> {
        match self {
            Command::RegisterFirearm { firearm, .. }
            | Command::ApproveCloseRangeLoad { firearm, .. }
            | Command::Load { firearm, .. }
            | Command::Unload { firearm }
            | Command::ShowCheck { firearm, .. }
            | Command::Issue { firearm, .. }
            | Command::Return { firearm, .. }
            | Command::BriefPerformer { firearm, .. }
            | Command::BoreCheck { firearm }
            | Command::RecoverRound { firearm, .. }
            | Command::Expend { firearm, .. }
            | Command::ReportDischarge { firearm, .. }
            | Command::ReportMissing { firearm, .. } => Some(firearm),
            Command::Store { item, .. }
            | Command::TakeOut { item }
            | Command::AssignCustodian { item, .. }
            | Command::ConfirmHandover { item, .. }
            | Command::CancelHandover { item, .. } => match item {
                ItemRef::Firearm(f) => Some(f),
                ItemRef::Container(_) => None,
            },
            _ => None,
        }
    }

    /// The command's kind in snake_case, as logged in `refused` events.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::OpenProduction { .. } => "open_production",
            Command::SetPolicy { .. } => "set_policy",
            Command::AddPerson { .. } => "add_person",
            Command::GrantRole { .. } => "grant_role",
            Command::RevokeRole { .. } => "revoke_role",
            Command::RemovePerson { .. } => "remove_person",
            Command::RecordCredential { .. } => "record_credential",
            Command::AssignDuty { .. } => "assign_duty",
            Command::ReleaseDuty { .. } => "release_duty",
            Command::DesignateArmorer { .. } => "designate_armorer",
            Command::AddLocation { .. } => "add_location",
            Command::SetLocationLock { .. } => "set_location_lock",
            Command::RegisterFirearm { .. } => "register_firearm",
            Command::ReceiveLot { .. } => "receive_lot",
            Command::VerifyLot { .. } => "verify_lot",
            Command::ReopenLot { .. } => "reopen_lot",
            Command::TransferRounds { .. } => "transfer_rounds",
            Command::RemoveRounds { .. } => "remove_rounds",
            Command::Store { .. } => "store",
            Command::TakeOut { .. } => "take_out",
            Command::AssignCustodian { .. } => "assign_custodian",
            Command::ConfirmHandover { .. } => "confirm_handover",
            Command::CancelHandover { .. } => "cancel_handover",
            Command::PlanScene { .. } => "plan_scene",
            Command::HoldMeeting { .. } => "hold_meeting",
            Command::ApproveCloseRangeLoad { .. } => "approve_close_range_load",
            Command::RecordPublicNotice { .. } => "record_public_notice",
            Command::RecordRiskAssessment { .. } => "record_risk_assessment",
            Command::Load { .. } => "load",
            Command::Unload { .. } => "unload",
            Command::ShowCheck { .. } => "show_check",
            Command::Issue { .. } => "issue",
            Command::Return { .. } => "return",
            Command::Expend { .. } => "expend",
            Command::BoreCheck { .. } => "bore_check",
            Command::BriefPerformer { .. } => "brief_performer",
            Command::RecoverRound { .. } => "recover_round",
            Command::ReportDischarge { .. } => "report_discharge",
            Command::ReportIncident { .. } => "report_incident",
            Command::CloseIncident { .. } => "close_incident",
            Command::ReportMissing { .. } => "report_missing",
            Command::RecordPoliceReport { .. } => "record_police_report",
            Command::Reconcile { .. } => "reconcile",
            Command::Override { .. } => "override",
            Command::Correct { .. } => "correct",
            Command::Note { .. } => "note",
        }
    }
}
