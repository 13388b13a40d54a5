//! Overrides: a rule loosened once, for one specific later act, by the roles RULES.md §3 lists,
//! with a written reason. The override is its own event; the act it lets through records its use.

use crate::ids::{FirearmId, PersonId, SceneId};
use crate::people::Role;
use crate::rules::RuleId;
use crate::text::Text;
use crate::time::{Date, Timestamp};

/// What an override is for. Every named field must match the later act; at least one is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OverrideTarget {
    /// The firearm of the act.
    pub firearm: Option<FirearmId>,
    /// The scene of the act.
    pub scene: Option<SceneId>,
    /// The shoot day of the act.
    pub day: Option<Date>,
    /// The person the act is about (the performer, the designated armorer, the credential holder).
    pub person: Option<PersonId>,
}

impl OverrideTarget {
    /// Whether nothing is named.
    pub fn is_empty(&self) -> bool {
        self.firearm.is_none()
            && self.scene.is_none()
            && self.day.is_none()
            && self.person.is_none()
    }

    /// Whether an act about `act` is one this override is for.
    pub fn matches(&self, act: &OverrideTarget) -> bool {
        fn ok<T: PartialEq>(want: &Option<T>, have: &Option<T>) -> bool {
            want.is_none() || want == have
        }
        !self.is_empty()
            && ok(&self.firearm, &act.firearm)
            && ok(&self.scene, &act.scene)
            && ok(&self.day, &act.day)
            && ok(&self.person, &act.person)
    }
}

/// Someone who approved an override, in a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approver {
    /// Who.
    pub person: PersonId,
    /// As what.
    pub role: Role,
}

/// A granted override, waiting for the act it lets through.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The rule loosened.
    pub rule: RuleId,
    /// Why.
    pub reason: Text,
    /// For which act.
    pub target: OverrideTarget,
    /// Who approved.
    pub approvers: Vec<Approver>,
    /// When.
    pub at: Timestamp,
    /// The log entry that granted it.
    pub entry: u64,
    /// The entry whose act used it, once used.
    pub used_by: Option<u64>,
}
