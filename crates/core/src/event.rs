//! Events: what happened, as appended to the log. `decide` produces them, `apply` folds them into
//! `State`. JSON shape: internally tagged (`{"type":"firearm_issued",...}`), unknown fields refused,
//! integers only, times as RFC 3339 strings. Events are facts in the past tense; anything `apply`
//! needs (lots of chambered rounds, due times, incident ids) is written into the event so that
//! replay needs neither the policy nor the clock.

use crate::ids::{
    ContainerId, FirearmId, IncidentId, LocationId, LotId, PersonId, ProductionId, SceneId,
};
use crate::incident::{Cover, IncidentKind, Severity};
use crate::items::{
    AmmoKind, Calibre, Chamber, Condition, FirearmClass, ItemRef, Positions, RoundCount,
    SerialNumber,
};
use crate::overrides::{Approver, OverrideTarget};
use crate::people::{CredentialKind, CredentialNumber, Role, SecretKind};
use crate::rules::RuleId;
use crate::scene::{FirearmPlan, SceneKind};
use crate::state::{FoulCause, HandoverKind};
use crate::text::{Name, Text};
use crate::time::{Date, Timestamp};

/// One container's line of a wrap reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountResult {
    /// The container.
    pub container: ContainerId,
    /// Its lot.
    pub lot: LotId,
    /// What the record says it holds.
    pub expected: u32,
    /// What was counted.
    pub counted: u32,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The production's log began; `admin` is its first admin.
    ProductionOpened {
        production: ProductionId,
        title: Name,
        admin: PersonId,
        admin_name: Name,
    },
    /// A person joined.
    PersonAdded {
        person: PersonId,
        name: Name,
        roles: Vec<Role>,
    },
    /// A person gained a role.
    RoleGranted { person: PersonId, role: Role },
    /// A person lost a role.
    RoleRevoked { person: PersonId, role: Role },
    /// A person left the production.
    PersonRemoved { person: PersonId },
    /// A credential was recorded (replaces an earlier one of the same kind).
    CredentialRecorded {
        person: PersonId,
        kind: CredentialKind,
        number: CredentialNumber,
        expires: Date,
    },
    /// A person works in `duty` on `day`.
    DutyAssigned {
        day: Date,
        person: PersonId,
        duty: Role,
    },
    /// A person no longer works in `duty` on `day`.
    DutyReleased {
        day: Date,
        person: PersonId,
        duty: Role,
    },
    /// The day's armorer was designated.
    ArmorerDesignated { day: Date, person: PersonId },
    /// A location was added.
    LocationAdded {
        location: LocationId,
        name: Name,
        locked: bool,
    },
    /// A location now locks, or no longer does.
    LocationLockSet { location: LocationId, locked: bool },
    /// A firearm entered custody, stored at `location` under `custodian`.
    FirearmRegistered {
        firearm: FirearmId,
        serial: SerialNumber,
        make: Name,
        model: Name,
        calibre: Calibre,
        class: FirearmClass,
        positions: Positions,
        location: LocationId,
        custodian: PersonId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier: Option<Name>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier_licence: Option<Name>,
    },
    /// An ammunition lot arrived in a new container; unverified until checked.
    LotReceived {
        lot: LotId,
        kind: AmmoKind,
        calibre: Calibre,
        maker: Name,
        headstamp: Name,
        supplier: Name,
        shipment: Option<Name>,
        count: RoundCount,
        container: ContainerId,
        location: LocationId,
        received_by: PersonId,
        leftover_from: Option<Name>,
    },
    /// Every round of a lot was checked. `verified` only if none was live or defective.
    LotVerified {
        lot: LotId,
        checked: u32,
        live: u32,
        defective: u32,
        verified: bool,
        by: PersonId,
    },
    /// A lot was re-opened and must be verified again.
    LotReopened { lot: LotId, reason: Text },
    /// A lot held by an incident until it is closed (a dummy from it fired).
    LotHeld { lot: LotId, incident: IncidentId },
    /// Rounds moved between containers of one lot (`to` is created if new, where `from` is).
    RoundsTransferred {
        from: ContainerId,
        to: ContainerId,
        lot: LotId,
        count: RoundCount,
    },
    /// Rounds left the production (returned to supplier, destroyed).
    RoundsRemoved {
        container: ContainerId,
        lot: LotId,
        count: RoundCount,
        reason: Text,
    },
    /// An item was put into a location.
    ItemStored {
        item: ItemRef,
        location: LocationId,
        by: PersonId,
    },
    /// An item was taken out of storage by its custodian.
    ItemTakenOut { item: ItemRef, by: PersonId },
    /// An item has a new custodian.
    CustodianAssigned { item: ItemRef, person: PersonId },
    /// A handover (issue, custody, return) was offered; it completes when `to` confirms.
    HandoverOffered {
        item: ItemRef,
        handover: HandoverKind,
        from: PersonId,
        to: PersonId,
        at: Timestamp,
    },
    /// A handover that was never confirmed was called off (by either side or a custodian).
    HandoverCancelled {
        item: ItemRef,
        by: PersonId,
        reason: Text,
    },
    /// A scene was planned (or re-planned).
    ScenePlanned {
        scene: SceneId,
        day: Date,
        kind: SceneKind,
        window_minutes: u32,
        plan: FirearmPlan,
    },
    /// The armorer approved the close-range blank load of a scene's plan for a firearm.
    CloseRangeLoadApproved {
        scene: SceneId,
        firearm: FirearmId,
        load: Name,
        min_distance_ft: u16,
        by: PersonId,
    },
    /// The permit and police notification for blanks at a public location on a day.
    PublicNoticeRecorded {
        day: Date,
        location: Name,
        permit: Name,
        police_notice: Name,
        call_time: crate::time::ClockTime,
        by: PersonId,
    },
    /// A risk assessment, of a scene or the day.
    RiskAssessed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scene: Option<SceneId>,
        assessment: Text,
        day: Date,
        by: PersonId,
    },
    /// A safety meeting was held.
    MeetingHeld {
        day: Date,
        scenes: Vec<SceneId>,
        attendees: Vec<PersonId>,
        topics: Vec<Text>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        items: Vec<crate::scene::MeetingItem>,
        run_by: PersonId,
        confirmed_by: Option<PersonId>,
    },
    /// The police report number of a missing firearm's incident (and the ATF incident number).
    PoliceReportRecorded {
        incident: IncidentId,
        police_report: Name,
        atf_incident: Option<Name>,
    },
    /// A firearm's every chamber was recorded; rounds left their containers.
    FirearmLoaded {
        firearm: FirearmId,
        chambers: Vec<Chamber>,
        by: PersonId,
    },
    /// A firearm was unloaded: rounds back to their containers, spent casings out, every chamber empty.
    FirearmUnloaded { firearm: FirearmId, by: PersonId },
    /// The custodian showed every chamber; the performer and the 1st AD confirmed.
    ShowChecked {
        firearm: FirearmId,
        scene: SceneId,
        performer: PersonId,
        first_ad: PersonId,
        custodian: PersonId,
        condition: Condition,
    },
    /// A firearm was handed to a performer; due back by `due`.
    FirearmIssued {
        firearm: FirearmId,
        performer: PersonId,
        scene: SceneId,
        day: Date,
        by: PersonId,
        at: Timestamp,
        due: Timestamp,
    },
    /// A firearm came back from the performer to the custodian `to`.
    FirearmReturned {
        firearm: FirearmId,
        performer: PersonId,
        to: PersonId,
        at: Timestamp,
    },
    /// The armorer briefed a performer on a firearm for the day: safe handling, what it is
    /// loaded with, the action, where to point it (PERFORMER-BRIEFED).
    PerformerBriefed {
        performer: PersonId,
        firearm: FirearmId,
        day: Date,
        by: PersonId,
    },
    /// The barrel and every chamber were proven clear of any obstruction (BORE-CLEAR).
    BoreChecked { firearm: FirearmId, by: PersonId },
    /// The bore must be proven clear again: a misfire (its rounds still in `positions`) or an
    /// unplanned discharge.
    BoreFouled {
        firearm: FirearmId,
        cause: FoulCause,
        positions: Vec<u16>,
    },
    /// The round of a misfire was taken out of the firearm and out of the production (counted
    /// as removed, not fired, never back into a container).
    RoundRecovered {
        firearm: FirearmId,
        position: u16,
        lot: LotId,
    },
    /// Rounds in these positions were fired (planned, or as reported with an incident).
    RoundsExpended {
        firearm: FirearmId,
        positions: Vec<u16>,
        planned: bool,
    },
    /// An incident was opened. `reported_by` is absent for anonymous reports.
    IncidentOpened {
        incident: IncidentId,
        kind: IncidentKind,
        severity: Severity,
        covers: Cover,
        description: Text,
        reported_by: Option<PersonId>,
        at: Timestamp,
        /// The firearm a missing-firearm incident is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        firearm: Option<FirearmId>,
    },
    /// An incident was closed with findings.
    IncidentClosed {
        incident: IncidentId,
        findings: Text,
        closed_by: PersonId,
        safety_rep: PersonId,
        at: Timestamp,
    },
    /// Wrap reconciliation of a day; containers are set to what was counted.
    Reconciled {
        day: Date,
        counts: Vec<CountResult>,
        firearms_out: Vec<FirearmId>,
        balanced: bool,
        by: PersonId,
    },
    /// A rule was loosened once; the override is known by this event's entry index.
    OverrideGranted {
        rule: RuleId,
        reason: Text,
        target: OverrideTarget,
        approvers: Vec<Approver>,
        at: Timestamp,
    },
    /// The override granted at entry `entry` let this act through.
    OverrideUsed {
        entry: u64,
        rule: RuleId,
        command: String,
    },
    /// An earlier entry is corrected by this one.
    Corrected {
        entry: u64,
        reason: Text,
        by: PersonId,
    },
    /// A command was refused (a near miss): who tried what, which rule stopped it.
    Refused {
        command: String,
        rule: RuleId,
        why: String,
        needed: String,
        by: PersonId,
        role: Role,
        /// The firearm the refused act was about, if one (a near miss in its story).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        firearm: Option<FirearmId>,
    },
    /// A free-text remark.
    Note { text: String },
    /// This log continues a log that went back in time (put back from an older copy, or a
    /// damaged WAL), by the choice of an admin who accepted the loss: the entries before this
    /// one are that log's surviving entries, copied at their indexes with their times, events
    /// and actors; entries `survived..signed` of it are lost.
    LogContinued {
        previous_origin: String,
        /// The previous log's latest checkpoint that survived (signed-note text).
        survived_checkpoint: String,
        survived: u64,
        /// The checkpoint it had signed beyond what survived (kept beside its database).
        lost_checkpoint: String,
        signed: u64,
    },
    /// The production's policy was set: the whole policy now in force, who set it, and the
    /// settings it loosened (approved by the people the entry names besides its author).
    PolicySet {
        policy: crate::Policy,
        by: PersonId,
        loosened: Vec<String>,
    },
    /// A sign-in secret was set or reset (by the person, or by someone else for them).
    SecretSet {
        person: PersonId,
        kind: SecretKind,
        by: PersonId,
    },
    /// A person registered a passkey (on their own device, signed in): confirmations they sign
    /// with it are checked against this key, from the log alone.
    PasskeyRegistered {
        person: PersonId,
        /// The credential id, base64url.
        credential: String,
        /// The COSE public key, base64url.
        public_key: String,
        /// The site it is bound to (WebAuthn relying party id).
        rp_id: String,
    },
    /// A passkey was removed (a lost or replaced phone), by its owner or an admin: it confirms
    /// nothing from here on.
    PasskeyRemoved {
        person: PersonId,
        /// The credential id, base64url.
        credential: String,
        by: PersonId,
    },
    /// An API token was revoked (by its owner or an admin): it lets nobody in from here on.
    TokenRevoked {
        person: PersonId,
        /// The token's short id (the first 12 hex digits of its hash) and its name.
        token: String,
        by: PersonId,
    },
    /// Too many wrong attempts locked a person's secret for a while.
    LockedOut {
        person: PersonId,
        kind: SecretKind,
        seconds: u64,
    },
    /// The projection tables were found to disagree with the log (edited behind its back) and
    /// were rebuilt from it: how many differences, and the first of them, kept as evidence.
    ProjectionRepaired {
        differences: u64,
        first: Vec<String>,
    },
}

impl Event {
    /// The event's type tag, as in its JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ProductionOpened { .. } => "production_opened",
            Event::PersonAdded { .. } => "person_added",
            Event::RoleGranted { .. } => "role_granted",
            Event::RoleRevoked { .. } => "role_revoked",
            Event::PersonRemoved { .. } => "person_removed",
            Event::CredentialRecorded { .. } => "credential_recorded",
            Event::DutyAssigned { .. } => "duty_assigned",
            Event::DutyReleased { .. } => "duty_released",
            Event::ArmorerDesignated { .. } => "armorer_designated",
            Event::LocationAdded { .. } => "location_added",
            Event::LocationLockSet { .. } => "location_lock_set",
            Event::FirearmRegistered { .. } => "firearm_registered",
            Event::LotReceived { .. } => "lot_received",
            Event::LotVerified { .. } => "lot_verified",
            Event::LotReopened { .. } => "lot_reopened",
            Event::LotHeld { .. } => "lot_held",
            Event::RoundsTransferred { .. } => "rounds_transferred",
            Event::RoundsRemoved { .. } => "rounds_removed",
            Event::ItemStored { .. } => "item_stored",
            Event::ItemTakenOut { .. } => "item_taken_out",
            Event::CustodianAssigned { .. } => "custodian_assigned",
            Event::HandoverOffered { .. } => "handover_offered",
            Event::HandoverCancelled { .. } => "handover_cancelled",
            Event::ScenePlanned { .. } => "scene_planned",
            Event::CloseRangeLoadApproved { .. } => "close_range_load_approved",
            Event::PublicNoticeRecorded { .. } => "public_notice_recorded",
            Event::RiskAssessed { .. } => "risk_assessed",
            Event::MeetingHeld { .. } => "meeting_held",
            Event::PoliceReportRecorded { .. } => "police_report_recorded",
            Event::FirearmLoaded { .. } => "firearm_loaded",
            Event::FirearmUnloaded { .. } => "firearm_unloaded",
            Event::ShowChecked { .. } => "show_checked",
            Event::FirearmIssued { .. } => "firearm_issued",
            Event::FirearmReturned { .. } => "firearm_returned",
            Event::RoundsExpended { .. } => "rounds_expended",
            Event::BoreChecked { .. } => "bore_checked",
            Event::PerformerBriefed { .. } => "performer_briefed",
            Event::BoreFouled { .. } => "bore_fouled",
            Event::RoundRecovered { .. } => "round_recovered",
            Event::IncidentOpened { .. } => "incident_opened",
            Event::IncidentClosed { .. } => "incident_closed",
            Event::Reconciled { .. } => "reconciled",
            Event::OverrideGranted { .. } => "override_granted",
            Event::OverrideUsed { .. } => "override_used",
            Event::Corrected { .. } => "corrected",
            Event::Refused { .. } => "refused",
            Event::Note { .. } => "note",
            Event::LogContinued { .. } => "log_continued",
            Event::ProjectionRepaired { .. } => "projection_repaired",
            Event::SecretSet { .. } => "secret_set",
            Event::PasskeyRegistered { .. } => "passkey_registered",
            Event::PasskeyRemoved { .. } => "passkey_removed",
            Event::TokenRevoked { .. } => "token_revoked",
            Event::PolicySet { .. } => "policy_set",
            Event::LockedOut { .. } => "locked_out",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_has_the_log_layers_shape() {
        let e = Event::Note {
            text: "camera B moved".to_owned(),
        };
        assert_eq!(
            serde_json::to_string(&e).ok(),
            Some(r#"{"type":"note","text":"camera B moved"}"#.to_owned())
        );
        let back: Result<Event, _> =
            serde_json::from_str(r#"{"type":"note","text":"camera B moved"}"#);
        assert_eq!(back.ok(), Some(e));
        assert!(serde_json::from_str::<Event>(r#"{"type":"note","text":"x","extra":1}"#).is_err());
        assert!(serde_json::from_str::<Event>(r#"{"type":"teleported"}"#).is_err());
    }

    #[test]
    fn refused_names_the_rule_by_its_id() {
        let Ok(p) = PersonId::parse("ad-1") else {
            panic!()
        };
        let e = Event::Refused {
            command: "issue".to_owned(),
            rule: RuleId::CustodianOnly,
            why: "w".to_owned(),
            needed: "n".to_owned(),
            by: p,
            role: Role::FirstAd,
            firearm: None,
        };
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert!(
            json.contains(r#""type":"refused""#) && json.contains(r#""rule":"CUSTODIAN-ONLY""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Event>(&json).ok(), Some(e));
    }
}
