//! BORE-CLEAR: after any firing, and at once after a misfire, the barrel and every chamber are
//! proven clear before the firearm is issued again (Brandon Lee, 1993: a projectile left in the
//! barrel by a badly made dummy was driven out by a blank). The round of a misfire is recovered
//! on its own and leaves the production: it never goes back into a container as a good round.
//! PERFORMER-BRIEFED lives here too: the armorer's briefing of a performer on a firearm, the
//! other thing done with the firearm in hand before it is issued.

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn bore(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::BoreCheck { firearm } => {
                self.custodian_actor(RuleId::Role, "prove a bore clear")?;
                let f = self.firearm(firearm)?;
                self.holds(&f.custodian, &format!("firearm {firearm}"))?;
                self.settled(&ItemRef::Firearm(firearm.clone()))?;
                self.not_issued(firearm, f)?;
                self.misfire_recovered(firearm, f)?;
                // No incident stops it: proving the bore clear is part of finding out.
                let empty = f
                    .chambers
                    .as_ref()
                    .is_some_and(|c| c.iter().all(|c| *c == Chamber::Empty));
                if !empty {
                    return no(
                        RuleId::State,
                        format!(
                            "firearm {firearm} is not recorded empty: a rod goes down an empty barrel only"
                        ),
                        "unload it (every chamber empty), then check the bore",
                    );
                }
                self.events.push(Event::BoreChecked {
                    firearm: firearm.clone(),
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::RecoverRound { firearm, position } => {
                self.custodian_actor(RuleId::Role, "recover a misfired round")?;
                let f = self.firearm(firearm)?;
                self.holds(&f.custodian, &format!("firearm {firearm}"))?;
                self.settled(&ItemRef::Firearm(firearm.clone()))?;
                self.not_issued(firearm, f)?;
                let held = usize::from(*position)
                    .checked_sub(1)
                    .and_then(|i| f.chambers.as_ref()?.get(i));
                let lot = match held {
                    Some(Chamber::Round { lot, .. }) if f.misfired.contains(position) => lot,
                    _ => {
                        return no(
                            RuleId::State,
                            format!(
                                "position {position} of firearm {firearm} holds no round of a reported misfire"
                            ),
                            "name a position reported in the misfire (report discharge, misfire)",
                        );
                    }
                };
                self.events.push(Event::RoundRecovered {
                    firearm: firearm.clone(),
                    position: *position,
                    lot: lot.clone(),
                });
                Ok(())
            }
            Command::BriefPerformer {
                performer,
                firearm,
                confirmation,
            } => {
                self.custodian_actor(RuleId::Role, "brief performers on firearms")?;
                self.firearm(firearm)?;
                if !self.state.person_acts_as(performer, Role::Performer) {
                    return no(
                        RuleId::State,
                        format!(
                            "{} is not a performer of this production",
                            self.who(performer)
                        ),
                        "brief the performer the scene plan names",
                    );
                }
                if let Some(who) = confirmation {
                    if &who.person != performer {
                        return no(
                            RuleId::PerformerBriefed,
                            format!(
                                "{} cannot confirm the briefing of {}",
                                self.who(&who.person),
                                self.who(performer)
                            ),
                            "the performer briefed confirms it, or nobody",
                        );
                    }
                    self.confirmer(who, Role::Performer, RuleId::PerformerBriefed, "a briefing")?;
                }
                self.events.push(Event::PerformerBriefed {
                    performer: performer.clone(),
                    firearm: firearm.clone(),
                    day: self.today,
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            _ => misrouted(command),
        }
    }

    /// PERFORMER-BRIEFED at issue: briefed today on this firearm.
    pub(super) fn briefed(&self, id: &FirearmId, performer: &PersonId) -> Result<(), Refusal> {
        let done = self
            .state
            .days
            .get(&self.today)
            .and_then(|d| d.briefed.get(performer))
            .is_some_and(|f| f.contains(id));
        if !done {
            return no(
                RuleId::PerformerBriefed,
                format!(
                    "{} has not been briefed today ({}) on firearm {id}",
                    self.who(performer),
                    self.today
                ),
                "the armorer briefs them on this firearm: safe handling, what it is loaded with, the action, where to point it (brief performer)",
            );
        }
        Ok(())
    }

    /// BORE-CLEAR at issue: fired, misfired or discharged since the last bore check.
    pub(super) fn bore_clear(&self, id: &FirearmId, f: &Firearm) -> Result<(), Refusal> {
        if let Some(fouled) = &f.bore_fouled {
            return no(
                RuleId::BoreClear,
                format!(
                    "firearm {id} {} (entry {}) and its bore has not been proven clear since",
                    fouled.cause.words(),
                    fouled.entry
                ),
                "unload it, run a rod down the barrel and through every chamber, and record the bore check",
            );
        }
        Ok(())
    }

    /// The round of a misfire is never unloaded back into its container.
    pub(super) fn misfire_recovered(&self, id: &FirearmId, f: &Firearm) -> Result<(), Refusal> {
        if let Some(p) = f.misfired.first() {
            return no(
                RuleId::BoreClear,
                format!(
                    "position {p} of firearm {id} holds the round that misfired; it must not go back into a container"
                ),
                format!("recover it (recover round, position {p}): it leaves the production"),
            );
        }
        Ok(())
    }
}
