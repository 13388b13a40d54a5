//! The ids of the rules of RULES.md §3 that the software enforces, plus `ROLE` (who may do what,
//! RULES.md §4) and `STATE` (acts out of order or about things that do not exist). A refusal and an
//! override each name one of these.

use std::fmt;

use crate::parse::{ParseError, shown};
use crate::people::Role;

/// A rule id. Serialized as the exact id of RULES.md, e.g. `"LIVE-NEVER"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum RuleId {
    /// No live round may be registered, loaded or issued; finding one opens a critical incident.
    #[serde(rename = "LIVE-NEVER")]
    LiveNever,
    /// Rounds are loaded only from a lot whose every round was verified at intake, not re-opened since.
    #[serde(rename = "LOT-VERIFIED")]
    LotVerified,
    /// A container holds one lot: one kind, one calibre.
    #[serde(rename = "CONTAINER-PURE")]
    ContainerPure,
    /// Only an armorer or property master issues a firearm to a performer or receives it back.
    #[serde(rename = "CUSTODIAN-ONLY")]
    CustodianOnly,
    /// The custodian shows every chamber to the performer and the 1st AD, who each confirm.
    #[serde(rename = "SHOW-CHECK")]
    ShowCheck,
    /// A load lists every chamber or magazine position: empty, or a round from a named container.
    #[serde(rename = "LOAD-EXPLICIT")]
    LoadExplicit,
    /// A firearm is issued only on a day with a recorded safety meeting covering the scene.
    #[serde(rename = "DAILY-MEETING")]
    DailyMeeting,
    /// A firearm day has a designated armorer with valid credentials and no other duty.
    #[serde(rename = "ARMORER-DEDICATED")]
    ArmorerDedicated,
    /// People who handle firearms hold the credentials the policy names, unexpired.
    #[serde(rename = "CREDENTIALS")]
    Credentials,
    /// An open incident of severity stop blocks firearm work on the firearms it covers.
    #[serde(rename = "INCIDENT-STOP")]
    IncidentStop,
    /// An issued firearm comes back after each take or rehearsal (alert past the scene window).
    #[serde(rename = "RETURN-AFTER-TAKE")]
    ReturnAfterTake,
    /// In a rehearsal a firearm is non-firing or verified cold; blanks need a plan exception.
    #[serde(rename = "REHEARSAL-COLD")]
    RehearsalCold,
    /// A firearm scene has a complete plan: firearms, loads, handlers, muzzle directions, distances, shields.
    #[serde(rename = "SCENE-PLAN")]
    ScenePlan,
    /// Every unplanned discharge is an incident; a planned one is counted.
    #[serde(rename = "DISCHARGE-REPORT")]
    DischargeReport,
    /// At wrap every firearm is in locked storage and every count balances.
    #[serde(rename = "WRAP-RECONCILE")]
    WrapReconcile,
    /// Firearms not issued are in a locked location under a named custodian.
    #[serde(rename = "LOCKED-STORAGE")]
    LockedStorage,
    /// After any firing, and at once after a misfire, the bore and every chamber are proven
    /// clear before the firearm is issued again.
    #[serde(rename = "BORE-CLEAR")]
    BoreClear,
    /// At each handover the firearm is scanned and is the one show-checked, untouched since.
    #[serde(rename = "HANDOVER-SCAN")]
    HandoverScan,
    /// A performer receives a firearm only after the armorer briefed them on it that day.
    #[serde(rename = "PERFORMER-BRIEFED")]
    PerformerBriefed,
    /// The safety meeting covering a scene went through every item RULES.md names.
    #[serde(rename = "MEETING-CONTENT")]
    MeetingContent,
    /// Everyone in a firearm scene holds the safety course the policy names.
    #[serde(rename = "TRAINED-NEAR")]
    TrainedNear,
    /// Blanks in a plan carry a strength and a minimum distance; closer than 20 ft needs a
    /// named close-range load the armorer approved.
    #[serde(rename = "BLANK-DISTANCE")]
    BlankDistance,
    /// A missing firearm is reported to the police within 48 hours (an alert past it).
    #[serde(rename = "MISSING-REPORT")]
    MissingReport,
    /// Blank fire at a public location needs a permit and police notification before call time.
    #[serde(rename = "PUBLIC-NOTICE")]
    PublicNotice,
    /// The actor does not hold a role that may do this act (RULES.md §4).
    #[serde(rename = "ROLE")]
    Role,
    /// The act is out of order or names something that does not exist (return before issue, close
    /// an incident twice, an unknown firearm or a person of another production).
    #[serde(rename = "STATE")]
    State,
}

impl RuleId {
    /// Every id, in RULES.md order, then ROLE and STATE.
    pub const ALL: [RuleId; 26] = [
        RuleId::LiveNever,
        RuleId::LotVerified,
        RuleId::ContainerPure,
        RuleId::CustodianOnly,
        RuleId::ShowCheck,
        RuleId::LoadExplicit,
        RuleId::DailyMeeting,
        RuleId::ArmorerDedicated,
        RuleId::Credentials,
        RuleId::IncidentStop,
        RuleId::ReturnAfterTake,
        RuleId::RehearsalCold,
        RuleId::ScenePlan,
        RuleId::DischargeReport,
        RuleId::WrapReconcile,
        RuleId::LockedStorage,
        RuleId::BoreClear,
        RuleId::HandoverScan,
        RuleId::PerformerBriefed,
        RuleId::MeetingContent,
        RuleId::TrainedNear,
        RuleId::BlankDistance,
        RuleId::MissingReport,
        RuleId::PublicNotice,
        RuleId::Role,
        RuleId::State,
    ];

    /// The id as written in RULES.md.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::LiveNever => "LIVE-NEVER",
            RuleId::LotVerified => "LOT-VERIFIED",
            RuleId::ContainerPure => "CONTAINER-PURE",
            RuleId::CustodianOnly => "CUSTODIAN-ONLY",
            RuleId::ShowCheck => "SHOW-CHECK",
            RuleId::LoadExplicit => "LOAD-EXPLICIT",
            RuleId::DailyMeeting => "DAILY-MEETING",
            RuleId::ArmorerDedicated => "ARMORER-DEDICATED",
            RuleId::Credentials => "CREDENTIALS",
            RuleId::IncidentStop => "INCIDENT-STOP",
            RuleId::ReturnAfterTake => "RETURN-AFTER-TAKE",
            RuleId::RehearsalCold => "REHEARSAL-COLD",
            RuleId::ScenePlan => "SCENE-PLAN",
            RuleId::DischargeReport => "DISCHARGE-REPORT",
            RuleId::WrapReconcile => "WRAP-RECONCILE",
            RuleId::LockedStorage => "LOCKED-STORAGE",
            RuleId::BoreClear => "BORE-CLEAR",
            RuleId::HandoverScan => "HANDOVER-SCAN",
            RuleId::PerformerBriefed => "PERFORMER-BRIEFED",
            RuleId::MeetingContent => "MEETING-CONTENT",
            RuleId::TrainedNear => "TRAINED-NEAR",
            RuleId::BlankDistance => "BLANK-DISTANCE",
            RuleId::MissingReport => "MISSING-REPORT",
            RuleId::PublicNotice => "PUBLIC-NOTICE",
            RuleId::Role => "ROLE",
            RuleId::State => "STATE",
        }
    }

    /// Parses an id such as `LIVE-NEVER`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let t = input.trim();
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                ParseError::new(
                    "rule id",
                    format!(
                        "must be a rule id of RULES.md §3 such as LIVE-NEVER (got {})",
                        shown(t)
                    ),
                )
            })
    }

    /// The roles that must all approve an override of this rule (RULES.md §3 "who may override"),
    /// or `None` if nobody may override it. INCIDENT-STOP and WRAP-RECONCILE are lifted only by
    /// closing their incident, so they cannot be overridden either. Where a jurisdiction's law
    /// requires a rule (`Policy::law_for`), nobody may override it there whatever this says.
    pub fn override_roles(self) -> Option<&'static [Role]> {
        match self {
            RuleId::DailyMeeting => Some(&[Role::SafetyRep, Role::Armorer]),
            RuleId::MeetingContent => Some(&[Role::SafetyRep, Role::Armorer]),
            RuleId::TrainedNear => Some(&[Role::SafetyRep]),
            // The role under pressure never approves alone, and the armorer is always among
            // the approvers of a rule about firearms.
            RuleId::ArmorerDedicated => Some(&[Role::Producer, Role::SafetyRep, Role::Armorer]),
            RuleId::Credentials => Some(&[Role::SafetyRep]),
            RuleId::RehearsalCold => Some(&[Role::Armorer, Role::FirstAd]),
            RuleId::BlankDistance => Some(&[Role::Armorer, Role::FirstAd]),
            _ => None,
        }
    }

    /// How an override of this rule reads in a refusal's "needed": ", or the X and Y approve
    /// an override", or nothing where nobody may override it.
    pub fn override_clause(self) -> String {
        match self.override_roles() {
            None => String::new(),
            Some(roles) => {
                let t: Vec<String> = roles.iter().map(|r| format!("the {}", r.title())).collect();
                let who = match t.as_slice() {
                    [one] => format!("{one} approves"),
                    [rest @ .., last] => format!("{} and {last} approve", rest.join(", ")),
                    [] => return String::new(),
                };
                format!(", or {who} an override")
            }
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RuleId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_exactly_as_in_rules_md() {
        for r in RuleId::ALL {
            assert_eq!(
                serde_json::to_string(&r).ok(),
                Some(format!("\"{}\"", r.as_str()))
            );
            assert_eq!(RuleId::parse(r.as_str()), Ok(r));
        }
        assert_eq!(RuleId::LiveNever.override_roles(), None);
        assert_eq!(
            RuleId::Credentials.override_roles(),
            Some(&[Role::SafetyRep][..])
        );
    }
}
