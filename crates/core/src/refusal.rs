//! A refusal: the value `decide` returns when an act breaks a rule. It names the rule, says why in
//! the words of the set, and says what would satisfy the rule. It reaches the user intact and is
//! itself logged (as a `refused` event, see `Refusal::to_event`).

use std::fmt;

use crate::command::Command;
use crate::event::Event;
use crate::people::Actor;
use crate::rules::RuleId;

/// Why an act was refused, and what would let it through.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// The rule that stopped the act.
    pub rule: RuleId,
    /// Why, about this act ("revolver REV-2 has no confirmed show check for Alec").
    pub why: String,
    /// What would satisfy the rule ("show every chamber to the performer and the 1st AD").
    pub needed: String,
}

impl Refusal {
    /// A refusal.
    pub fn new(rule: RuleId, why: impl Into<String>, needed: impl Into<String>) -> Self {
        Self {
            rule,
            why: why.into(),
            needed: needed.into(),
        }
    }

    /// The `refused` event to append for this refusal, so the near miss is on record.
    pub fn to_event(&self, actor: &Actor, command: &Command) -> Event {
        Event::Refused {
            command: command.kind().to_owned(),
            rule: self.rule,
            why: self.why.clone(),
            needed: self.needed.clone(),
            by: actor.person.clone(),
            role: actor.role,
            firearm: command.firearm().cloned(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Refused by rule {}: {}. Needed: {}.",
            self.rule, self.why, self.needed
        )
    }
}

impl std::error::Error for Refusal {}
