//! Acts about the record itself: overrides (RULES.md §3 "who may override"), corrections, notes.

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn record(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::Override {
                rule,
                reason,
                target,
                confirmations,
            } => self.grant_override(*rule, reason, target, confirmations),
            Command::Correct { entry, reason } => {
                self.actor_for("correct entries")?;
                if *entry >= self.state.next_index {
                    return no(
                        RuleId::State,
                        format!(
                            "there is no entry {entry} yet (the log has {} entries)",
                            self.state.next_index
                        ),
                        "name the index of an existing entry",
                    );
                }
                self.events.push(Event::Corrected {
                    entry: *entry,
                    reason: reason.clone(),
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::Note { text } => {
                self.actor_for("add notes")?;
                self.events.push(Event::Note {
                    text: text.to_string(),
                });
                Ok(())
            }
            _ => misrouted(command),
        }
    }

    fn grant_override(
        &mut self,
        rule: RuleId,
        reason: &Text,
        target: &OverrideTarget,
        confirmations: &[Actor],
    ) -> Result<(), Refusal> {
        self.actor_for("approve overrides")?;
        let Some(needed) = rule.override_roles() else {
            let how = match rule {
                RuleId::IncidentStop | RuleId::WrapReconcile => {
                    "it is lifted only by closing its incident with findings (the armorer and the safety representative)"
                }
                _ => "the act has to meet the rule",
            };
            return no(rule, format!("{rule} cannot be overridden by anyone"), how);
        };
        // What the jurisdiction's law requires has no override there. ARMORER-DEDICATED stays
        // overridable for what only the policy asks (the whole day, the designation); its
        // window is checked without consulting overrides.
        if rule != RuleId::ArmorerDedicated
            && let Some(law) = self.policy.law_for(rule)
        {
            let place = self.policy.jurisdiction.map_or("", |j| j.as_str());
            return no(
                rule,
                format!(
                    "{rule} cannot be overridden where this production shoots ({place}): {law} requires it"
                ),
                "the act has to meet the rule",
            );
        }
        if target.is_empty() {
            return no(
                RuleId::State,
                "the override names no firearm, scene, day or person",
                "say which act the override is for: an override lets one specific act pass",
            );
        }
        let mut approvers = vec![Approver {
            person: self.actor.person.clone(),
            role: self.actor.role,
        }];
        for c in confirmations {
            let p = self.state.people.get(&c.person);
            if !p.is_some_and(|p| p.acts_as(c.role)) {
                return no(
                    rule,
                    format!(
                        "{} is not on record as {}",
                        self.who(&c.person),
                        c.role.title()
                    ),
                    "each approver confirms in a role they hold",
                );
            }
            if approvers.iter().any(|a| a.person == c.person) {
                return no(
                    rule,
                    format!("{} approves twice", self.who(&c.person)),
                    format!(
                        "an override of {rule} needs different people for {}",
                        titles(needed)
                    ),
                );
            }
            approvers.push(Approver {
                person: c.person.clone(),
                role: c.role,
            });
        }
        let missing: Vec<Role> = needed
            .iter()
            .copied()
            .filter(|r| !approvers.iter().any(|a| a.role == *r))
            .collect();
        if !missing.is_empty() {
            return no(
                rule,
                format!(
                    "an override of {rule} needs the approval of {}, and {} has not approved",
                    titles(needed),
                    titles(&missing)
                ),
                format!(
                    "{} confirm(s) the override with a written reason",
                    titles(&missing)
                ),
            );
        }
        self.events.push(Event::OverrideGranted {
            rule,
            reason: reason.clone(),
            target: target.clone(),
            approvers,
            at: self.now,
        });
        Ok(())
    }
}
