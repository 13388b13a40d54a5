//! People, roles, credentials and staffing (RULES.md §4; ARMORER-DEDICATED, CREDENTIALS at designation).

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn crew(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::AddPerson {
                person,
                name,
                roles,
            } => {
                self.actor_for("add people")?;
                if self.state.people.contains_key(person) {
                    return no(
                        RuleId::State,
                        format!("{} is already on this production", self.who(person)),
                        "grant them another role instead",
                    );
                }
                let mut unique: Vec<Role> = roles
                    .iter()
                    .copied()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                unique.sort();
                if unique.is_empty() {
                    return no(
                        RuleId::State,
                        format!("{name} would have no role"),
                        "give the person at least one role",
                    );
                }
                self.events.push(Event::PersonAdded {
                    person: person.clone(),
                    name: name.clone(),
                    roles: unique,
                });
                Ok(())
            }
            Command::GrantRole { person, role } => {
                self.actor_for("grant roles")?;
                let p = self.person(person)?;
                if p.roles.contains(role) {
                    return no(
                        RuleId::State,
                        format!(
                            "{} already holds the role {}",
                            self.who(person),
                            role.title()
                        ),
                        "nothing to do",
                    );
                }
                self.events.push(Event::RoleGranted {
                    person: person.clone(),
                    role: *role,
                });
                Ok(())
            }
            Command::RevokeRole { person, role } => {
                self.actor_for("revoke roles")?;
                let p = self.person(person)?;
                if !p.roles.contains(role) {
                    return no(
                        RuleId::State,
                        format!(
                            "{} does not hold the role {}",
                            self.who(person),
                            role.title()
                        ),
                        "nothing to do",
                    );
                }
                // Every item keeps a custodian who may hold it, and an issued firearm stays with a performer.
                let remaining: Vec<Role> = p.roles.iter().copied().filter(|r| r != role).collect();
                let still_custodian = self
                    .policy
                    .custodian_roles()
                    .iter()
                    .any(|r| remaining.contains(r));
                let holds_items = self.state.firearms.values().any(|f| &f.custodian == person)
                    || self
                        .state
                        .containers
                        .values()
                        .any(|c| &c.custodian == person && c.count > 0);
                let holds_issued = self.state.firearms.values().any(
                    |f| matches!(&f.custody, Custody::Issued { performer, .. } if performer == person),
                );
                if (holds_items && !still_custodian) || (holds_issued && *role == Role::Performer) {
                    return no(
                        RuleId::CustodianOnly,
                        format!(
                            "{} still holds firearms or ammunition and would no longer be allowed to",
                            self.who(person)
                        ),
                        "take back what they hold, or assign another custodian, before revoking the role",
                    );
                }
                self.events.push(Event::RoleRevoked {
                    person: person.clone(),
                    role: *role,
                });
                Ok(())
            }
            Command::RemovePerson { person } => {
                self.actor_for("remove people")?;
                self.person(person)?;
                let holds_items = self.state.firearms.values().any(|f| &f.custodian == person)
                    || self
                        .state
                        .containers
                        .values()
                        .any(|c| &c.custodian == person && c.count > 0);
                let holds_issued = self.state.firearms.values().any(|f| matches!(&f.custody, Custody::Issued { performer, .. } if performer == person));
                if holds_items || holds_issued {
                    return no(
                        RuleId::CustodianOnly,
                        format!("{} still holds firearms or ammunition", self.who(person)),
                        "take back what they hold, or assign another custodian, before removing them",
                    );
                }
                self.events.push(Event::PersonRemoved {
                    person: person.clone(),
                });
                Ok(())
            }
            Command::RecordCredential {
                person,
                kind,
                number,
                expires,
            } => {
                self.actor_for("record credentials")?;
                self.person(person)?;
                self.events.push(Event::CredentialRecorded {
                    person: person.clone(),
                    kind: kind.clone(),
                    number: number.clone(),
                    expires: *expires,
                });
                Ok(())
            }
            Command::AssignDuty { day, person, duty } => {
                self.actor_for("assign duties")?;
                let p = self.person(person)?;
                if !p.roles.contains(duty) {
                    return no(
                        RuleId::State,
                        format!(
                            "{} does not hold the role {}",
                            self.who(person),
                            duty.title()
                        ),
                        "an admin grants the role first",
                    );
                }
                let armorer = self.state.days.get(day).and_then(|d| d.armorer.as_ref());
                if armorer == Some(person) && *duty != Role::Armorer {
                    let act = OverrideTarget {
                        day: Some(*day),
                        person: Some(person.clone()),
                        ..Default::default()
                    };
                    let out = self.state.firearms_out();
                    if *day == self.today && !out.is_empty() {
                        let r = Refusal::new(
                            RuleId::ArmorerDedicated,
                            format!(
                                "{} is the designated armorer on {day} and firearms are out of locked storage ({} of them): no other duty until all are locked away",
                                self.who(person),
                                out.len()
                            ),
                            "give the duty to someone else, or wait until the armorer has locked every firearm away",
                        );
                        self.window_overridable(act.clone(), Err(r))?;
                    } else if self.policy.armorer_dedicated_all_day {
                        let r = Refusal::new(
                            RuleId::ArmorerDedicated,
                            format!(
                                "{} is the designated armorer on {day}, and this production's policy gives them no other duty that day",
                                self.who(person)
                            ),
                            "give the duty to someone else",
                        );
                        self.overridable(act, Err(r))?;
                    }
                }
                self.events.push(Event::DutyAssigned {
                    day: *day,
                    person: person.clone(),
                    duty: *duty,
                });
                Ok(())
            }
            Command::ReleaseDuty { day, person, duty } => {
                self.actor_for("change duties")?;
                let has = self
                    .state
                    .days
                    .get(day)
                    .and_then(|d| d.duties.get(person))
                    .is_some_and(|d| d.contains(duty));
                if !has {
                    return no(
                        RuleId::State,
                        format!("{} has no {} duty on {day}", self.who(person), duty.title()),
                        "nothing to release",
                    );
                }
                self.events.push(Event::DutyReleased {
                    day: *day,
                    person: person.clone(),
                    duty: *duty,
                });
                Ok(())
            }
            Command::DesignateArmorer { day, person } => {
                self.actor_for("designate the day's armorer")?;
                let p = self.person(person)?;
                if !p.roles.contains(&Role::Armorer) {
                    return no(
                        RuleId::ArmorerDedicated,
                        format!("{} is not an armorer", self.who(person)),
                        "designate a person who holds the armorer role",
                    );
                }
                let act = OverrideTarget {
                    day: Some(*day),
                    person: Some(person.clone()),
                    ..Default::default()
                };
                let other: Vec<&str> = self
                    .state
                    .days
                    .get(day)
                    .and_then(|d| d.duties.get(person))
                    .into_iter()
                    .flatten()
                    .filter(|r| **r != Role::Armorer)
                    .map(|r| r.title())
                    .collect();
                // The window (CA Labor Code 9153(a)(3)) is kept act by act: while firearms are
                // out the armorer acts in no other role. A policy may ask for the whole day.
                if !other.is_empty() && self.policy.armorer_dedicated_all_day {
                    let r = Refusal::new(
                        RuleId::ArmorerDedicated,
                        format!(
                            "{} is also assigned as {} on {day}; this production's policy gives the armorer of a firearm day no other duty that day",
                            self.who(person),
                            other.join(", ")
                        ),
                        "give the other duty to someone else, or designate another armorer",
                    );
                    self.overridable(act.clone(), Err(r))?;
                }
                self.credentials(person, Role::Armorer, *day, act)?;
                self.events.push(Event::ArmorerDesignated {
                    day: *day,
                    person: person.clone(),
                });
                Ok(())
            }
            _ => misrouted(command),
        }
    }
}
