//! Per-production settings. A policy may tighten the rules of RULES.md §3 (never loosen them:
//! loosening is an override, which is an event). `Policy::default()` is RULES.md's defaults.

use std::collections::{BTreeMap, BTreeSet};

use crate::people::{CredentialKind, Role};
use crate::rules::RuleId;
use crate::time::{Date, Timestamp};

/// Where the production shoots, for the rules its law requires (RULES.md §3: such a rule cannot
/// be overridden there).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Jurisdiction {
    /// California (Labor Code 9150-9161).
    #[serde(rename = "US-CA")]
    California,
}

impl Jurisdiction {
    /// The name used in the policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::California => "US-CA",
        }
    }

    /// The law that requires `rule` here, if any. For ARMORER-DEDICATED the law requires the
    /// window (no other duty while firearms are out), not a whole day a policy may ask for.
    pub fn law_for(self, rule: RuleId) -> Option<&'static str> {
        match (self, rule) {
            (Jurisdiction::California, RuleId::Credentials) => Some("CA Labor Code 9153"),
            (Jurisdiction::California, RuleId::TrainedNear) => Some("CA Labor Code 9156"),
            (Jurisdiction::California, RuleId::ArmorerDedicated) => {
                Some("CA Labor Code 9153(a)(3)")
            }
            _ => None,
        }
    }
}

/// The credential kind required of armorers by default (CA Labor Code 9153).
pub const ENTERTAINMENT_FIREARMS_PERMIT: &str = "entertainment_firearms_permit";

/// A production's settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// A property master or assistant property master may act as custodian (issue, receive,
    /// load...) when holding the credentials `required_credentials` names for their role (CA
    /// Labor Code 9153). Default: yes; a policy may forbid it.
    pub property_master_may_be_custodian: bool,
    /// Incidents may be reported anonymously. Default: yes.
    pub anonymous_incident_reports: bool,
    /// Credential kinds each role must hold, unexpired, to handle firearms. Default: armorers and
    /// property masters need an entertainment firearms permit.
    pub required_credentials: BTreeMap<Role, BTreeSet<CredentialKind>>,
    /// Minutes an issued firearm may stay out when the scene plan names no window. Default: 60.
    pub scene_window_minutes: u32,
    /// Warn this many days before a credential expires. Default: 14.
    pub credential_warning_days: u32,
    /// The set's offset from UTC in minutes, which decides what "today" is (e.g. -360 for MDT).
    pub utc_offset_minutes: i32,
    /// When the shoot day turns over, in minutes after local midnight (0..1440). A night shoot
    /// from 18:00 to 06:00 is one shoot day with e.g. 600 (10:00). Default: 0.
    pub day_starts_at_minutes: u32,
    /// Tightens LOCKED-STORAGE from an alert to a refusal: storing in an unlocked place is refused.
    pub refuse_unlocked_storage: bool,
    /// Tightens DAILY-MEETING: the performer receiving a firearm must have attended the meeting.
    pub meeting_must_include_performer: bool,
    /// Rehearsals may use dummies (they are cold: no powder). Default: yes. Off: only empty
    /// chambers or non-firing firearms in rehearsal.
    pub rehearsal_allows_dummies: bool,
    /// Tightens every confirmation (show check, handovers, approvals, incident close): a person
    /// who has registered a passkey confirms with it, not with a PIN. People without one still
    /// confirm by PIN (recorded as such, the weaker method). Default: no.
    pub passkeys_for_confirmations: bool,
    /// The firearms safety course (a credential kind, e.g. `firearms_safety_course` for CSATF's
    /// or an equivalent) that everyone in a firearm scene must hold: its plan's handlers and
    /// the meeting's attendees (TRAINED-NEAR). Default: none named, the rule is off.
    pub safety_course: Option<CredentialKind>,
    /// Where the production shoots: the rules its law requires cannot be overridden there
    /// (`US-CA`: CREDENTIALS, TRAINED-NEAR, ARMORER-DEDICATED's window). Default: none.
    pub jurisdiction: Option<Jurisdiction>,
    /// Tightens ARMORER-DEDICATED from a window (no other duty from the first take-out of a
    /// firearm until all are locked away) to the whole shoot day. Default: the window.
    pub armorer_dedicated_all_day: bool,
}

impl Default for Policy {
    fn default() -> Self {
        let mut required_credentials = BTreeMap::new();
        if let Ok(permit) = CredentialKind::parse(ENTERTAINMENT_FIREARMS_PERMIT) {
            required_credentials.insert(Role::Armorer, BTreeSet::from([permit.clone()]));
            required_credentials.insert(Role::PropertyMaster, BTreeSet::from([permit.clone()]));
            required_credentials.insert(Role::AssistantPropertyMaster, BTreeSet::from([permit]));
        }
        Self {
            property_master_may_be_custodian: true,
            anonymous_incident_reports: true,
            required_credentials,
            scene_window_minutes: 60,
            credential_warning_days: 14,
            utc_offset_minutes: 0,
            day_starts_at_minutes: 0,
            refuse_unlocked_storage: false,
            meeting_must_include_performer: false,
            rehearsal_allows_dummies: true,
            passkeys_for_confirmations: false,
            safety_course: None,
            jurisdiction: None,
            armorer_dedicated_all_day: false,
        }
    }
}

impl Policy {
    /// The settings `new` loosens against this policy, named (empty when it only tightens or
    /// keeps them). A shorter list of required credentials, a longer scene window, a warning
    /// later, a rule turned from a refusal back to an alert, a custodian role allowed: looser.
    /// What decides which day it is (offset, turnover) counts as loosening too: moving it can move
    /// acts out of the day whose meeting and wrap they belong to.
    pub fn loosenings(&self, new: &Policy) -> Vec<String> {
        let mut out = Vec::new();
        let mut flag = |looser: bool, what: String| {
            if looser {
                out.push(what);
            }
        };
        flag(
            new.property_master_may_be_custodian && !self.property_master_may_be_custodian,
            "property_master_may_be_custodian: a property master may be custodian".into(),
        );
        flag(
            self.jurisdiction.is_some() && new.jurisdiction != self.jurisdiction,
            format!(
                "jurisdiction: {} -> {} (rules its law requires could be overridden)",
                self.jurisdiction.map_or("none", Jurisdiction::as_str),
                new.jurisdiction.map_or("none", Jurisdiction::as_str)
            ),
        );
        flag(
            !new.armorer_dedicated_all_day && self.armorer_dedicated_all_day,
            "armorer_dedicated_all_day: the armorer is dedicated only while firearms are out"
                .into(),
        );
        flag(
            !new.anonymous_incident_reports && self.anonymous_incident_reports,
            "anonymous_incident_reports: incidents can no longer be reported anonymously".into(),
        );
        for (role, kinds) in &self.required_credentials {
            let kept = new.required_credentials.get(role);
            for kind in kinds {
                flag(
                    !kept.is_some_and(|k| k.contains(kind)),
                    format!(
                        "required_credentials: {} no longer needs {kind}",
                        role.as_str()
                    ),
                );
            }
        }
        flag(
            new.scene_window_minutes > self.scene_window_minutes,
            format!(
                "scene_window_minutes: {} -> {}",
                self.scene_window_minutes, new.scene_window_minutes
            ),
        );
        flag(
            new.credential_warning_days < self.credential_warning_days,
            format!(
                "credential_warning_days: {} -> {}",
                self.credential_warning_days, new.credential_warning_days
            ),
        );
        flag(
            new.utc_offset_minutes != self.utc_offset_minutes,
            format!(
                "utc_offset_minutes: {} -> {}",
                self.utc_offset_minutes, new.utc_offset_minutes
            ),
        );
        flag(
            new.day_starts_at_minutes != self.day_starts_at_minutes,
            format!(
                "day_starts_at_minutes: {} -> {}",
                self.day_starts_at_minutes, new.day_starts_at_minutes
            ),
        );
        flag(
            !new.refuse_unlocked_storage && self.refuse_unlocked_storage,
            "refuse_unlocked_storage: storing in an unlocked place is no longer refused".into(),
        );
        flag(
            self.safety_course.is_some() && new.safety_course != self.safety_course,
            format!(
                "safety_course: {} -> {}",
                self.safety_course.as_ref().map_or("none", |c| c.as_str()),
                new.safety_course.as_ref().map_or("none", |c| c.as_str())
            ),
        );
        flag(
            !new.passkeys_for_confirmations && self.passkeys_for_confirmations,
            "passkeys_for_confirmations: PINs confirm again where a passkey is registered".into(),
        );
        flag(
            !new.meeting_must_include_performer && self.meeting_must_include_performer,
            "meeting_must_include_performer: no longer required".into(),
        );
        flag(
            new.rehearsal_allows_dummies && !self.rehearsal_allows_dummies,
            "rehearsal_allows_dummies: dummies allowed in rehearsal".into(),
        );
        out
    }

    /// The shoot day an instant falls on, at the set's offset and day turnover.
    pub fn day_of(&self, t: Timestamp) -> Date {
        let start = i64::from(self.day_starts_at_minutes.min(1439));
        t.plus_minutes(-start)
            .date_at_offset(self.utc_offset_minutes)
    }

    /// Roles that may be a firearm's custodian: armorer, and property master and assistant
    /// property master where allowed.
    pub fn custodian_roles(&self) -> &'static [Role] {
        if self.property_master_may_be_custodian {
            &[
                Role::Armorer,
                Role::PropertyMaster,
                Role::AssistantPropertyMaster,
            ]
        } else {
            &[Role::Armorer]
        }
    }

    /// Whether `role` may act as custodian.
    pub fn is_custodian_role(&self, role: Role) -> bool {
        self.custodian_roles().contains(&role)
    }

    /// The law of the production's jurisdiction that requires `rule`, if any: no override.
    pub fn law_for(&self, rule: RuleId) -> Option<&'static str> {
        self.jurisdiction.and_then(|j| j.law_for(rule))
    }

    /// Credential kinds `role` must hold.
    pub fn credentials_for(&self, role: Role) -> impl Iterator<Item = &CredentialKind> {
        self.required_credentials.get(&role).into_iter().flatten()
    }
}
