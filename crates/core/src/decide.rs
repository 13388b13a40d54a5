//! `decide`: the rules engine. Given the policy, the current state, who acts and what they attempt,
//! it returns the events to append, or the `Refusal` naming the rule that stops the act. Pure: no
//! IO, no clock (`now` is passed in), no randomness. Every rule of RULES.md §3 and every role check
//! of RULES.md §4 lives here; overridable rules consult pending overrides (RULES.md §3 "who may
//! override"), and an override that lets an act through is consumed by an `override_used` event.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::{Command, ContainerCount};
use crate::event::{CountResult, Event};
use crate::ids::{ContainerId, FirearmId, IncidentId, LocationId, LotId, PersonId, SceneId};
use crate::incident::{Cover, DischargeKind, IncidentKind, Severity};
use crate::items::{AmmoKind, Chamber, ChamberLoad, Condition, ItemRef, RoundCheck};
use crate::overrides::{Approver, OverrideTarget};
use crate::people::{Actor, Role};
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::rules::RuleId;
use crate::scene::{FirearmPlan, PlannedLoad, SceneKind};
use crate::state::{Container, Custody, Firearm, Incident, Lot, LotStatus, Person, Scene, State};
use crate::text::Text;
use crate::time::{Date, Timestamp};

/// Decides whether `actor` may do `command` now, and if so, what happened.
pub fn decide(
    policy: &Policy,
    state: &State,
    actor: &Actor,
    command: &Command,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    let mut cx = Cx {
        policy,
        state,
        actor,
        now,
        today: policy.day_of(now),
        kind: command.kind(),
        events: Vec::new(),
        used: BTreeSet::new(),
    };
    cx.run(command)?;
    Ok(cx.events)
}

fn no<T>(rule: RuleId, why: impl Into<String>, needed: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::new(rule, why, needed))
}

fn titles(roles: &[Role]) -> String {
    let t: Vec<&str> = roles.iter().map(|r| r.title()).collect();
    match t.as_slice() {
        [] => String::new(),
        [one] => format!("the {one}"),
        [rest @ .., last] => format!("the {} or {last}", rest.join(", ")),
    }
}

/// Everyone may do these except auditors (who change nothing).
const ANYONE: &[Role] = &[
    Role::Armorer,
    Role::PropertyMaster,
    Role::FirstAd,
    Role::SafetyRep,
    Role::Performer,
    Role::Producer,
    Role::Admin,
];

struct Cx<'a> {
    policy: &'a Policy,
    state: &'a State,
    actor: &'a Actor,
    now: Timestamp,
    today: Date,
    kind: &'static str,
    events: Vec<Event>,
    used: BTreeSet<u64>,
}

impl<'a> Cx<'a> {
    // ---------- lookups ----------

    fn who(&self, id: &PersonId) -> String {
        match self.state.people.get(id) {
            Some(p) => format!("{} ({id})", p.name),
            None => id.to_string(),
        }
    }

    fn person(&self, id: &PersonId) -> Result<&'a Person, Refusal> {
        match self.state.people.get(id) {
            Some(p) if p.active => Ok(p),
            Some(_) => no(
                RuleId::State,
                format!("{} has left this production", self.who(id)),
                "name a person who is on the production now",
            ),
            None => no(
                RuleId::State,
                format!(
                    "{id} is not on this production's crew or cast (a person of another production?)"
                ),
                "an admin adds the person to this production first",
            ),
        }
    }

    fn firearm(&self, id: &FirearmId) -> Result<&'a Firearm, Refusal> {
        self.state.firearms.get(id).ok_or_else(|| {
            Refusal::new(
                RuleId::State,
                format!("no firearm {id} is registered in this production"),
                "check the label, or register the firearm at intake",
            )
        })
    }

    fn lot(&self, id: &LotId) -> Result<&'a Lot, Refusal> {
        self.state.lots.get(id).ok_or_else(|| {
            Refusal::new(
                RuleId::State,
                format!("no lot {id} has been received"),
                "check the label, or receive the lot at intake",
            )
        })
    }

    fn container(&self, id: &ContainerId) -> Result<&'a Container, Refusal> {
        self.state.containers.get(id).ok_or_else(|| {
            Refusal::new(
                RuleId::State,
                format!("no container {id} is on record"),
                "check the label; rounds arrive in a container when their lot is received",
            )
        })
    }

    fn location(&self, id: &LocationId) -> Result<&'a crate::state::Location, Refusal> {
        self.state.locations.get(id).ok_or_else(|| {
            Refusal::new(
                RuleId::State,
                format!("no location {id} is on record"),
                "add the location first, or check its label",
            )
        })
    }

    fn scene(&self, id: &SceneId) -> Result<&'a Scene, Refusal> {
        self.state.scenes.get(id).ok_or_else(|| {
            Refusal::new(
                RuleId::ScenePlan,
                format!("scene {id} has no firearm plan"),
                "the 1st AD records the scene's plan: firearms, loads, handlers, muzzle directions, distances, shields or remote camera",
            )
        })
    }

    fn incident(&self, id: &IncidentId) -> Result<&'a Incident, Refusal> {
        self.state.incidents.get(id).ok_or_else(|| {
            Refusal::new(
                RuleId::State,
                format!("no incident {id} is on record"),
                "check the incident number",
            )
        })
    }

    // ---------- who may act ----------

    /// The actor is on the production, holds the role they act in, and that role may do this act.
    fn actor_as(&mut self, allowed: &[Role], act: &str) -> Result<&'a Person, Refusal> {
        self.registered_actor()?;
        if !allowed.contains(&self.actor.role) {
            return no(
                RuleId::Role,
                format!("the {} may not {act}", self.actor.role.title()),
                format!("this is done by {}", titles(allowed)),
            );
        }
        self.dedicated_armorer()?;
        self.person(&self.actor.person)
    }

    fn registered_actor(&self) -> Result<&'a Person, Refusal> {
        let id = &self.actor.person;
        match self.state.people.get(id) {
            None => no(
                RuleId::Role,
                format!(
                    "{id} is not on this production's crew or cast (a person of another production?)"
                ),
                "an admin adds the person to this production with their roles",
            ),
            Some(p) if !p.active => no(
                RuleId::Role,
                format!("{} has left this production", self.who(id)),
                "an admin adds them back first",
            ),
            Some(p) if !p.roles.contains(&self.actor.role) => no(
                RuleId::Role,
                format!(
                    "{} does not hold the role {} on this production",
                    self.who(id),
                    self.actor.role.title()
                ),
                format!(
                    "act in a role you hold, or an admin grants the role {}",
                    self.actor.role
                ),
            ),
            Some(p) => Ok(p),
        }
    }

    /// ARMORER-DEDICATED: the day's armorer takes no other duty that day.
    fn dedicated_armorer(&mut self) -> Result<(), Refusal> {
        let today_armorer = self
            .state
            .days
            .get(&self.today)
            .and_then(|d| d.armorer.as_ref());
        if today_armorer == Some(&self.actor.person) && self.actor.role != Role::Armorer {
            let r = Refusal::new(
                RuleId::ArmorerDedicated,
                format!(
                    "{} is today's designated armorer and may have no other duty today, here as {}",
                    self.who(&self.actor.person),
                    self.actor.role.title()
                ),
                "someone else does this, or the producer and the safety representative approve an override",
            );
            let target = OverrideTarget {
                day: Some(self.today),
                person: Some(self.actor.person.clone()),
                ..Default::default()
            };
            return self.overridable(target, Err(r));
        }
        Ok(())
    }

    /// The actor may act as custodian, or the act is refused under `rule`.
    fn custodian_actor(&mut self, rule: RuleId, act: &str) -> Result<&'a Person, Refusal> {
        if !self.policy.is_custodian_role(self.actor.role) {
            let needed = if self.actor.role == Role::PropertyMaster {
                "call the armorer: this production's policy does not let a property master act as custodian".to_owned()
            } else if rule == RuleId::CustodianOnly {
                format!(
                    "call the armorer back: only {} may {act}",
                    titles(self.policy.custodian_roles())
                )
            } else {
                format!(
                    "ask the armorer: only {} may {act}",
                    titles(self.policy.custodian_roles())
                )
            };
            return no(
                rule,
                format!("the {} may not {act}", self.actor.role.title()),
                needed,
            );
        }
        self.registered_actor()?;
        self.dedicated_armorer()?;
        self.person(&self.actor.person)
    }

    /// The actor is the named custodian of the item.
    fn holds(&self, custodian: &PersonId, what: &str) -> Result<(), Refusal> {
        if custodian != &self.actor.person {
            return no(
                RuleId::CustodianOnly,
                format!(
                    "{what} is in the custody of {}, not {}",
                    self.who(custodian),
                    self.who(&self.actor.person)
                ),
                "its custodian acts, or hands custody over to you first (assign custodian)",
            );
        }
        Ok(())
    }

    /// A person confirming an act (show check, meeting, incident close, override) in `role`.
    fn confirmer(
        &self,
        confirming: &Actor,
        role: Role,
        rule: RuleId,
        act: &str,
    ) -> Result<(), Refusal> {
        let p = self.state.people.get(&confirming.person);
        let ok = confirming.role == role && p.is_some_and(|p| p.acts_as(role));
        if !ok {
            return no(
                rule,
                format!(
                    "{} cannot confirm {act} as the {}: they are not on record as the production's {}",
                    self.who(&confirming.person),
                    role.title(),
                    role.title()
                ),
                format!(
                    "the {} confirms {act} in person, signed in as {}",
                    role.title(),
                    role
                ),
            );
        }
        Ok(())
    }

    // ---------- rules shared by several acts ----------

    /// Lets a refused check through if a pending override of its rule matches this act.
    fn overridable(
        &mut self,
        act: OverrideTarget,
        result: Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let Err(refusal) = result else { return Ok(()) };
        let found = self
            .state
            .overrides
            .iter()
            .find(|(entry, o)| {
                o.used_by.is_none()
                    && o.rule == refusal.rule
                    && !self.used.contains(*entry)
                    && o.target.matches(&act)
            })
            .map(|(entry, _)| *entry);
        match found {
            Some(entry) => {
                self.used.insert(entry);
                self.events.push(Event::OverrideUsed {
                    entry,
                    rule: refusal.rule,
                    command: self.kind.to_owned(),
                });
                Ok(())
            }
            None => Err(refusal),
        }
    }

    /// CREDENTIALS: `person` holds every credential the policy requires of `role`, valid on `day`.
    fn credentials(
        &mut self,
        person: &PersonId,
        role: Role,
        day: Date,
        act: OverrideTarget,
    ) -> Result<(), Refusal> {
        let held = self.state.people.get(person).map(|p| &p.credentials);
        let missing = self.policy.credentials_for(role).find(|kind| {
            !held
                .and_then(|h| h.get(*kind))
                .is_some_and(|c| c.valid_on(day))
        });
        let result = match missing {
            None => Ok(()),
            Some(kind) => {
                let why = match held.and_then(|h| h.get(kind)) {
                    Some(c) => format!("{}'s {kind} expired on {}", self.who(person), c.expires),
                    None => format!(
                        "{} has no {kind} on record, which this production requires of a {}",
                        self.who(person),
                        role.title()
                    ),
                };
                Err(Refusal::new(
                    RuleId::Credentials,
                    why,
                    format!(
                        "record a valid {kind} for them (admin), or the safety representative approves an override"
                    ),
                ))
            }
        };
        let act = OverrideTarget {
            person: Some(person.clone()),
            ..act
        };
        self.overridable(act, result)
    }

    /// INCIDENT-STOP: no open stop or critical incident covers the firearm.
    fn no_stop(&self, id: &FirearmId) -> Result<(), Refusal> {
        if let Some((iid, i)) = self.state.stopping_incidents(id).next() {
            let scope = match i.covers {
                Cover::All => "all firearm work".to_owned(),
                Cover::Firearms(_) => format!("work with firearm {id}"),
            };
            return no(
                RuleId::IncidentStop,
                format!(
                    "incident {iid}, {} (\"{}\"), is open and stops {scope}",
                    kind_words(i.kind),
                    i.description
                ),
                "the armorer and the safety representative close the incident with findings",
            );
        }
        Ok(())
    }

    fn not_issued(&self, id: &FirearmId, f: &Firearm) -> Result<(), Refusal> {
        if let Custody::Issued { performer, .. } = &f.custody {
            return no(
                RuleId::State,
                format!("firearm {id} is issued to {}", self.who(performer)),
                "take it back from the performer (return) first",
            );
        }
        Ok(())
    }

    fn next_incident(&self) -> IncidentId {
        let opened_here = self
            .events
            .iter()
            .filter(|e| matches!(e, Event::IncidentOpened { .. }))
            .count();
        IncidentId::sequential(self.state.incidents.len() as u64 + opened_here as u64 + 1)
    }

    fn open_incident(
        &mut self,
        kind: IncidentKind,
        severity: Severity,
        covers: Cover,
        description: Text,
        reported_by: Option<PersonId>,
    ) {
        let incident = self.next_incident();
        self.events.push(Event::IncidentOpened {
            incident,
            kind,
            severity,
            covers,
            description,
            reported_by,
            at: self.now,
        });
    }

    fn positions(&self, f: &Firearm, id: &FirearmId, positions: &[u16]) -> Result<(), Refusal> {
        let mut seen = BTreeSet::new();
        for p in positions {
            if *p == 0 || *p > f.positions.get() || !seen.insert(*p) {
                return no(
                    RuleId::State,
                    format!(
                        "position {p} is not a distinct chamber of firearm {id}, which has positions 1 to {}",
                        f.positions.get()
                    ),
                    "name each position once, counting from 1",
                );
            }
        }
        Ok(())
    }

    // ---------- the acts ----------

    fn run(&mut self, command: &Command) -> Result<(), Refusal> {
        if let Command::OpenProduction {
            production,
            title,
            admin_name,
        } = command
        {
            if let Some(p) = &self.state.production {
                return no(
                    RuleId::State,
                    format!("production {} is already open", p.id),
                    "nothing to do; add people with add_person",
                );
            }
            if self.actor.role != Role::Admin {
                return no(
                    RuleId::Role,
                    "only an admin opens a production",
                    "sign in as admin to open the production",
                );
            }
            self.events.push(Event::ProductionOpened {
                production: production.clone(),
                title: title.clone(),
                admin: self.actor.person.clone(),
                admin_name: admin_name.clone(),
            });
            return Ok(());
        }
        if self.state.production.is_none() {
            return no(
                RuleId::State,
                "this production has not been opened yet",
                "an admin opens the production first",
            );
        }
        match command {
            Command::OpenProduction { .. } => Ok(()),
            Command::AddPerson {
                person,
                name,
                roles,
            } => {
                self.actor_as(&[Role::Admin], "add people")?;
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
                self.actor_as(&[Role::Admin], "grant roles")?;
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
                self.actor_as(&[Role::Admin], "revoke roles")?;
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
                self.actor_as(&[Role::Admin], "remove people")?;
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
                self.actor_as(&[Role::Admin, Role::SafetyRep], "record credentials")?;
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
                self.actor_as(&[Role::Producer, Role::FirstAd], "assign duties")?;
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
                    let r = Refusal::new(
                        RuleId::ArmorerDedicated,
                        format!(
                            "{} is the designated armorer on {day} and may have no other duty that day",
                            self.who(person)
                        ),
                        "give the duty to someone else, or the producer and the safety representative approve an override",
                    );
                    self.overridable(
                        OverrideTarget {
                            day: Some(*day),
                            person: Some(person.clone()),
                            ..Default::default()
                        },
                        Err(r),
                    )?;
                }
                self.events.push(Event::DutyAssigned {
                    day: *day,
                    person: person.clone(),
                    duty: *duty,
                });
                Ok(())
            }
            Command::ReleaseDuty { day, person, duty } => {
                self.actor_as(&[Role::Producer, Role::FirstAd], "change duties")?;
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
                self.actor_as(
                    &[Role::Producer, Role::FirstAd],
                    "designate the day's armorer",
                )?;
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
                if !other.is_empty() {
                    let r = Refusal::new(
                        RuleId::ArmorerDedicated,
                        format!(
                            "{} is also assigned as {} on {day}; the armorer of a firearm day has no other duty",
                            self.who(person),
                            other.join(", ")
                        ),
                        "give the other duty to someone else, designate another armorer, or the producer and the safety representative approve an override",
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
            Command::AddLocation {
                location,
                name,
                locked,
            } => {
                self.custodian_actor(RuleId::Role, "add storage locations")?;
                if self.state.locations.contains_key(location) {
                    return no(
                        RuleId::State,
                        format!("location {location} already exists"),
                        "use another id, or lock or unlock the existing one",
                    );
                }
                self.events.push(Event::LocationAdded {
                    location: location.clone(),
                    name: name.clone(),
                    locked: *locked,
                });
                Ok(())
            }
            Command::SetLocationLock { location, locked } => {
                self.custodian_actor(RuleId::Role, "lock or unlock storage")?;
                let l = self.location(location)?;
                if l.locked == *locked {
                    return no(
                        RuleId::State,
                        format!(
                            "location {location} is already {}",
                            if *locked { "locked" } else { "unlocked" }
                        ),
                        "nothing to do",
                    );
                }
                self.events.push(Event::LocationLockSet {
                    location: location.clone(),
                    locked: *locked,
                });
                Ok(())
            }
            Command::RegisterFirearm {
                firearm,
                serial,
                make,
                model,
                calibre,
                class,
                positions,
                location,
            } => {
                self.custodian_actor(RuleId::Role, "register firearms")?;
                if self.state.firearms.contains_key(firearm) {
                    return no(
                        RuleId::State,
                        format!("firearm {firearm} is already registered"),
                        "use a new id for a new firearm",
                    );
                }
                if let Some((other, _)) = self
                    .state
                    .firearms
                    .iter()
                    .find(|(_, f)| &f.serial == serial)
                {
                    return no(
                        RuleId::State,
                        format!("serial {serial} is already registered as firearm {other}"),
                        "check the serial on the frame",
                    );
                }
                self.storable(location)?;
                self.events.push(Event::FirearmRegistered {
                    firearm: firearm.clone(),
                    serial: serial.clone(),
                    make: make.clone(),
                    model: model.clone(),
                    calibre: calibre.clone(),
                    class: *class,
                    positions: *positions,
                    location: location.clone(),
                    custodian: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::ReceiveLot {
                lot,
                kind,
                calibre,
                maker,
                headstamp,
                supplier,
                shipment,
                count,
                container,
                location,
                leftover_from,
            } => {
                self.custodian_actor(RuleId::Role, "receive ammunition")?;
                if *kind == AmmoKind::Live {
                    return no(
                        RuleId::LiveNever,
                        format!(
                            "lot {lot} from {supplier} is declared live ammunition, which is never admissible on set"
                        ),
                        "refuse the delivery and send it back to the supplier; only dummies and blanks are received",
                    );
                }
                if self.state.lots.contains_key(lot) {
                    return no(
                        RuleId::State,
                        format!("lot {lot} has already been received"),
                        "give a new delivery its own lot id",
                    );
                }
                if let Some(c) = self.state.containers.get(container) {
                    return no(
                        RuleId::ContainerPure,
                        format!(
                            "container {container} already holds lot {}; a container holds one lot only",
                            c.lot
                        ),
                        "put the new lot in a new, empty container with its own id",
                    );
                }
                if count.get() == 0 {
                    return no(
                        RuleId::State,
                        format!("lot {lot} has no rounds"),
                        "count the rounds received",
                    );
                }
                self.storable(location)?;
                self.events.push(Event::LotReceived {
                    lot: lot.clone(),
                    kind: *kind,
                    calibre: calibre.clone(),
                    maker: maker.clone(),
                    headstamp: headstamp.clone(),
                    supplier: supplier.clone(),
                    shipment: shipment.clone(),
                    count: *count,
                    container: container.clone(),
                    location: location.clone(),
                    received_by: self.actor.person.clone(),
                    leftover_from: leftover_from.clone(),
                });
                Ok(())
            }
            Command::VerifyLot { lot, results } => self.verify_lot(lot, results),
            Command::ReopenLot { lot, reason } => {
                self.custodian_actor(RuleId::Role, "re-open lots")?;
                let l = self.lot(lot)?;
                if l.status != LotStatus::Verified {
                    return no(
                        RuleId::State,
                        format!("lot {lot} is not verified, so it is already quarantined"),
                        "nothing to do",
                    );
                }
                self.events.push(Event::LotReopened {
                    lot: lot.clone(),
                    reason: reason.clone(),
                });
                Ok(())
            }
            Command::TransferRounds { from, to, count } => {
                self.custodian_actor(RuleId::Role, "move rounds between containers")?;
                let src = self.container(from)?;
                self.holds(&src.custodian, &format!("container {from}"))?;
                if from == to {
                    return no(
                        RuleId::State,
                        "the two containers are the same",
                        "name two different containers",
                    );
                }
                if count.get() == 0 || u64::from(count.get()) > src.count {
                    return no(
                        RuleId::State,
                        format!(
                            "container {from} holds {} rounds; {count} cannot be moved",
                            src.count
                        ),
                        "move at most what the container holds, and at least one",
                    );
                }
                if let Some(dst) = self.state.containers.get(to)
                    && dst.lot != src.lot
                {
                    return no(
                        RuleId::ContainerPure,
                        format!(
                            "container {to} holds lot {}, and these rounds are lot {}; a container holds one lot only",
                            dst.lot, src.lot
                        ),
                        "put them in a container of the same lot, or in a new, empty container",
                    );
                }
                self.events.push(Event::RoundsTransferred {
                    from: from.clone(),
                    to: to.clone(),
                    lot: src.lot.clone(),
                    count: *count,
                });
                Ok(())
            }
            Command::RemoveRounds {
                container,
                count,
                reason,
            } => {
                self.custodian_actor(RuleId::Role, "remove rounds")?;
                let c = self.container(container)?;
                self.holds(&c.custodian, &format!("container {container}"))?;
                if count.get() == 0 || u64::from(count.get()) > c.count {
                    return no(
                        RuleId::State,
                        format!(
                            "container {container} holds {} rounds; {count} cannot be removed",
                            c.count
                        ),
                        "remove at most what the container holds, and at least one",
                    );
                }
                self.events.push(Event::RoundsRemoved {
                    container: container.clone(),
                    lot: c.lot.clone(),
                    count: *count,
                    reason: reason.clone(),
                });
                Ok(())
            }
            Command::Store { item, location } => {
                self.custodian_actor(RuleId::Role, "store items")?;
                self.item_in_hand(item)?;
                self.storable(location)?;
                self.events.push(Event::ItemStored {
                    item: item.clone(),
                    location: location.clone(),
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::TakeOut { item } => {
                self.custodian_actor(RuleId::Role, "take items out of storage")?;
                let custody = self.item_in_hand(item)?;
                if !matches!(custody, Custody::Stored { .. }) {
                    return no(
                        RuleId::State,
                        format!("{item} is already out of storage"),
                        "nothing to do",
                    );
                }
                self.events.push(Event::ItemTakenOut {
                    item: item.clone(),
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::AssignCustodian { item, person } => {
                self.custodian_actor(RuleId::CustodianOnly, "hand over custody")?;
                self.item_in_hand(item)?;
                let p = self.person(person)?;
                if !self
                    .policy
                    .custodian_roles()
                    .iter()
                    .any(|r| p.roles.contains(r))
                {
                    return no(
                        RuleId::CustodianOnly,
                        format!(
                            "{} is not a custodian: only {} may hold firearms and ammunition",
                            self.who(person),
                            titles(self.policy.custodian_roles())
                        ),
                        "hand custody to an armorer (or a property master, where the policy allows)",
                    );
                }
                self.events.push(Event::CustodianAssigned {
                    item: item.clone(),
                    person: person.clone(),
                });
                Ok(())
            }
            Command::PlanScene {
                scene,
                day,
                kind,
                window_minutes,
                plan,
            } => self.plan_scene(scene, *day, *kind, *window_minutes, plan),
            Command::HoldMeeting {
                day,
                scenes,
                attendees,
                topics,
                safety_rep,
            } => {
                self.actor_as(
                    &[Role::FirstAd, Role::Armorer, Role::SafetyRep],
                    "run safety meetings",
                )?;
                if attendees.is_empty() {
                    return no(
                        RuleId::DailyMeeting,
                        "the meeting has no attendees on record",
                        "record everyone who attended the safety meeting",
                    );
                }
                if scenes.is_empty() {
                    return no(
                        RuleId::DailyMeeting,
                        "the meeting covers no scene",
                        "name the firearm scenes the meeting covered",
                    );
                }
                for a in attendees {
                    self.person(a)?;
                }
                for s in scenes {
                    self.scene(s)?;
                }
                if let Some(rep) = safety_rep {
                    self.confirmer(
                        rep,
                        Role::SafetyRep,
                        RuleId::DailyMeeting,
                        "the safety meeting",
                    )?;
                }
                let mut attendees: Vec<PersonId> = attendees
                    .iter()
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                attendees.sort();
                self.events.push(Event::MeetingHeld {
                    day: *day,
                    scenes: scenes.clone(),
                    attendees,
                    topics: topics.clone(),
                    run_by: self.actor.person.clone(),
                    confirmed_by: safety_rep.as_ref().map(|a| a.person.clone()),
                });
                Ok(())
            }
            Command::Load { firearm, chambers } => self.load(firearm, chambers),
            Command::Unload { firearm } => {
                self.custodian_actor(RuleId::Role, "unload firearms")?;
                let f = self.firearm(firearm)?;
                self.holds(&f.custodian, &format!("firearm {firearm}"))?;
                self.not_issued(firearm, f)?;
                self.events.push(Event::FirearmUnloaded {
                    firearm: firearm.clone(),
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::ShowCheck {
                firearm,
                scene,
                performer,
                first_ad,
            } => self.show_check(firearm, scene, performer, first_ad),
            Command::Issue {
                firearm,
                performer,
                scene,
            } => self.issue(firearm, performer, scene),
            Command::Return { firearm } => {
                self.custodian_actor(
                    RuleId::CustodianOnly,
                    "take a firearm back from a performer",
                )?;
                let f = self.firearm(firearm)?;
                let Custody::Issued { performer, .. } = &f.custody else {
                    return no(
                        RuleId::State,
                        format!(
                            "firearm {firearm} is not issued to anyone, so it cannot be returned"
                        ),
                        "nothing to return: it is already with its custodian",
                    );
                };
                let actor = self.actor.person.clone();
                self.credentials(
                    &actor,
                    self.actor.role,
                    self.today,
                    OverrideTarget {
                        firearm: Some(firearm.clone()),
                        day: Some(self.today),
                        ..Default::default()
                    },
                )?;
                self.events.push(Event::FirearmReturned {
                    firearm: firearm.clone(),
                    performer: performer.clone(),
                    to: actor,
                    at: self.now,
                });
                Ok(())
            }
            Command::Expend { firearm, positions } => {
                self.custodian_actor(RuleId::Role, "count rounds fired")?;
                let f = self.firearm(firearm)?;
                self.holds(&f.custodian, &format!("firearm {firearm}"))?;
                if positions.is_empty() {
                    return no(
                        RuleId::State,
                        "no position was named",
                        "name each position that fired",
                    );
                }
                self.positions(f, firearm, positions)?;
                let chambers = f.chambers.as_deref().unwrap_or_default();
                for p in positions {
                    let held = chambers.get(usize::from(*p) - 1);
                    if !matches!(
                        held,
                        Some(Chamber::Round {
                            kind: AmmoKind::Blank(_),
                            ..
                        })
                    ) {
                        return no(
                            RuleId::DischargeReport,
                            format!(
                                "position {p} of firearm {firearm} holds no blank on record, so nothing there could fire as planned"
                            ),
                            "name only positions loaded with blanks; any other discharge is reported as an incident (report discharge)",
                        );
                    }
                }
                self.events.push(Event::RoundsExpended {
                    firearm: firearm.clone(),
                    positions: positions.clone(),
                    planned: true,
                });
                Ok(())
            }
            Command::ReportDischarge {
                firearm,
                kind,
                positions,
                description,
            } => {
                self.actor_as(ANYONE, "report a discharge")?;
                let f = self.firearm(firearm)?;
                self.positions(f, firearm, positions)?;
                let chambers = f.chambers.as_deref().unwrap_or_default();
                let fired: Vec<u16> = positions
                    .iter()
                    .copied()
                    .filter(|p| {
                        matches!(
                            chambers.get(usize::from(*p) - 1),
                            Some(Chamber::Round { .. })
                        )
                    })
                    .collect();
                let dummy_fired = positions.iter().any(|p| {
                    matches!(
                        chambers.get(usize::from(*p) - 1),
                        Some(Chamber::Round {
                            kind: AmmoKind::Dummy,
                            ..
                        })
                    )
                });
                if !fired.is_empty() {
                    self.events.push(Event::RoundsExpended {
                        firearm: firearm.clone(),
                        positions: fired,
                        planned: false,
                    });
                }
                let (ikind, severity, covers) = if dummy_fired {
                    (IncidentKind::LiveRound, Severity::Critical, Cover::All)
                } else {
                    let k = match kind {
                        DischargeKind::Misfire => IncidentKind::Misfire,
                        DischargeKind::Accidental => IncidentKind::UnplannedDischarge,
                    };
                    (k, Severity::Stop, Cover::Firearms(vec![firearm.clone()]))
                };
                self.open_incident(
                    ikind,
                    severity,
                    covers,
                    description.clone(),
                    Some(self.actor.person.clone()),
                );
                Ok(())
            }
            Command::ReportIncident {
                kind,
                severity,
                covers,
                description,
                anonymous,
            } => {
                self.actor_as(ANYONE, "report an incident")?;
                if *anonymous && !self.policy.anonymous_incident_reports {
                    return no(
                        RuleId::Role,
                        "this production's policy does not take anonymous incident reports",
                        "report under your name, or ask the safety representative",
                    );
                }
                if let Cover::Firearms(list) = covers {
                    if list.is_empty() {
                        return no(
                            RuleId::State,
                            "the incident covers no firearm",
                            "name the firearms it concerns, or cover all firearms",
                        );
                    }
                    for f in list {
                        self.firearm(f)?;
                    }
                }
                let reporter = if *anonymous {
                    None
                } else {
                    Some(self.actor.person.clone())
                };
                // LIVE-NEVER: a live round found anywhere stops all firearm work, whatever was asked.
                let (severity, covers) = match (kind, covers) {
                    (IncidentKind::LiveRound, _) => (Severity::Critical, Cover::All),
                    (_, Cover::Firearms(list)) => {
                        let unique: BTreeSet<&FirearmId> = list.iter().collect();
                        (
                            *severity,
                            Cover::Firearms(unique.into_iter().cloned().collect()),
                        )
                    }
                    (_, Cover::All) => (*severity, Cover::All),
                };
                self.open_incident(*kind, severity, covers, description.clone(), reporter);
                Ok(())
            }
            Command::CloseIncident {
                incident,
                findings,
                safety_rep,
            } => {
                self.custodian_actor(RuleId::IncidentStop, "close incidents")?;
                let i = self.incident(incident)?;
                if let Some(c) = &i.closed {
                    return no(
                        RuleId::State,
                        format!(
                            "incident {incident} was already closed at entry {} by {}",
                            c.entry,
                            self.who(&c.closed_by)
                        ),
                        "nothing to close; a new finding is a new incident or a correction of the closing entry",
                    );
                }
                self.confirmer(
                    safety_rep,
                    Role::SafetyRep,
                    RuleId::IncidentStop,
                    "closing the incident",
                )?;
                if safety_rep.person == self.actor.person {
                    return no(
                        RuleId::IncidentStop,
                        "the same person cannot close the incident as armorer and confirm it as safety representative",
                        "a second person, the safety representative, confirms",
                    );
                }
                self.events.push(Event::IncidentClosed {
                    incident: incident.clone(),
                    findings: findings.clone(),
                    closed_by: self.actor.person.clone(),
                    safety_rep: safety_rep.person.clone(),
                    at: self.now,
                });
                Ok(())
            }
            Command::Reconcile { day, counts } => self.reconcile(*day, counts),
            Command::Override {
                rule,
                reason,
                target,
                confirmations,
            } => self.grant_override(*rule, reason, target, confirmations),
            Command::Correct { entry, reason } => {
                self.actor_as(
                    &[
                        Role::Armorer,
                        Role::PropertyMaster,
                        Role::SafetyRep,
                        Role::Admin,
                    ],
                    "correct entries",
                )?;
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
                self.actor_as(ANYONE, "add notes")?;
                self.events.push(Event::Note {
                    text: text.to_string(),
                });
                Ok(())
            }
        }
    }

    /// The location exists; LOCKED-STORAGE refuses an unlocked one only if the policy says so.
    fn storable(&self, location: &LocationId) -> Result<(), Refusal> {
        let l = self.location(location)?;
        if !l.locked && self.policy.refuse_unlocked_storage {
            return no(
                RuleId::LockedStorage,
                format!(
                    "{} ({location}) does not lock, and this production keeps firearms and ammunition locked",
                    l.name
                ),
                "store it in a locked location",
            );
        }
        Ok(())
    }

    /// The item exists, the actor is its custodian, and it is not with a performer. Returns its custody.
    fn item_in_hand(&self, item: &ItemRef) -> Result<&'a Custody, Refusal> {
        match item {
            ItemRef::Firearm(id) => {
                let f = self.firearm(id)?;
                self.holds(&f.custodian, &format!("firearm {id}"))?;
                self.not_issued(id, f)?;
                Ok(&f.custody)
            }
            ItemRef::Container(id) => {
                let c = self.container(id)?;
                self.holds(&c.custodian, &format!("container {id}"))?;
                Ok(&c.custody)
            }
        }
    }

    fn verify_lot(&mut self, lot_id: &LotId, results: &[RoundCheck]) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::Role, "verify ammunition")?;
        let lot = self.lot(lot_id)?;
        if lot.status == LotStatus::LiveFound {
            return no(
                RuleId::LiveNever,
                format!("lot {lot_id} held a live round; it can never be released to set"),
                "remove the whole lot (return it to the supplier or destroy it) and record that",
            );
        }
        let Some(balance) = self.state.lot_balance(lot_id) else {
            return no(RuleId::State, format!("no lot {lot_id}"), "check the label");
        };
        if balance.in_chambers > 0 {
            return no(
                RuleId::State,
                format!(
                    "{} rounds of lot {lot_id} are in firearms",
                    balance.in_chambers
                ),
                "unload them back into their containers, then verify every round",
            );
        }
        if results.len() as u64 != balance.in_containers {
            return no(
                RuleId::LotVerified,
                format!(
                    "{} results were recorded for the {} rounds of lot {lot_id}",
                    results.len(),
                    balance.in_containers
                ),
                "check every round of the lot and record one result per round",
            );
        }
        let (pass, how) = match lot.kind {
            AmmoKind::Dummy => (RoundCheck::Rattled, "dummies are rattle-checked"),
            AmmoKind::Blank(_) => (
                RoundCheck::Crimped,
                "blanks are checked for an intact crimp or wad",
            ),
            AmmoKind::Live => (RoundCheck::Live, ""),
        };
        if let Some(i) = results
            .iter()
            .position(|r| matches!(r, RoundCheck::Rattled | RoundCheck::Crimped) && *r != pass)
        {
            return no(
                RuleId::LotVerified,
                format!(
                    "round {} of lot {lot_id} ({}) was recorded with the wrong check",
                    i + 1,
                    lot.kind.word()
                ),
                format!("{how}: record each round as passed that way, defective, or live"),
            );
        }
        let live = results.iter().filter(|r| **r == RoundCheck::Live).count() as u32;
        let defective = results
            .iter()
            .filter(|r| **r == RoundCheck::Defective)
            .count() as u32;
        let verified = live == 0 && defective == 0;
        self.events.push(Event::LotVerified {
            lot: lot_id.clone(),
            checked: results.len() as u32,
            live,
            defective,
            verified,
            by: self.actor.person.clone(),
        });
        if live > 0 {
            let text = format!(
                "{live} live round(s) found in lot {lot_id} ({} from {}, headstamp {}); all firearm work stops",
                lot.kind.word(),
                lot.supplier,
                lot.headstamp
            );
            if let Ok(description) = Text::parse(&text) {
                self.open_incident(
                    IncidentKind::LiveRound,
                    Severity::Critical,
                    Cover::All,
                    description,
                    Some(self.actor.person.clone()),
                );
            }
        }
        Ok(())
    }

    fn plan_scene(
        &mut self,
        scene: &SceneId,
        day: Date,
        kind: SceneKind,
        window: Option<u32>,
        plan: &FirearmPlan,
    ) -> Result<(), Refusal> {
        self.actor_as(
            &[Role::FirstAd, Role::Producer, Role::Armorer],
            "plan firearm scenes",
        )?;
        if self
            .state
            .firearms
            .iter()
            .any(|(_, f)| matches!(&f.custody, Custody::Issued { scene: s, .. } if s == scene))
        {
            return no(
                RuleId::State,
                format!("a firearm is issued for scene {scene} right now"),
                "take every firearm of the scene back before re-planning it",
            );
        }
        if plan.firearms.is_empty() {
            return no(
                RuleId::ScenePlan,
                format!("the plan of scene {scene} lists no firearm"),
                "list each firearm with its load, handler and muzzle direction",
            );
        }
        let mut seen = BTreeSet::new();
        for p in &plan.firearms {
            self.firearm(&p.firearm)?;
            if !seen.insert(&p.firearm) {
                return no(
                    RuleId::ScenePlan,
                    format!("firearm {} is listed twice in the plan", p.firearm),
                    "list each firearm once",
                );
            }
            if !self.state.person_acts_as(&p.handler, Role::Performer) {
                return no(
                    RuleId::ScenePlan,
                    format!(
                        "the handler of firearm {} in the plan, {}, is not a performer of this production",
                        p.firearm,
                        self.who(&p.handler)
                    ),
                    "name a performer as the handler of each firearm",
                );
            }
        }
        if plan.shields.is_none() && !plan.remote_camera {
            return no(
                RuleId::ScenePlan,
                format!(
                    "the plan of scene {scene} names no shields and no remote camera for crew in the line of fire"
                ),
                "name the shields, or operate the camera remotely",
            );
        }
        if window == Some(0) {
            return no(
                RuleId::ScenePlan,
                "a scene window of 0 minutes",
                "give the minutes a firearm may stay issued, or leave it to the policy",
            );
        }
        if kind == SceneKind::Rehearsal {
            let act = OverrideTarget {
                scene: Some(scene.clone()),
                day: Some(day),
                ..Default::default()
            };
            if plan.blanks_in_rehearsal_exception.is_none()
                && let Some(p) = plan.firearms.iter().find(|p| p.load == PlannedLoad::Blanks)
            {
                let r = Refusal::new(
                    RuleId::RehearsalCold,
                    format!(
                        "scene {scene} is a rehearsal and plans blanks in firearm {}",
                        p.firearm
                    ),
                    "rehearse cold or with a non-firing firearm; blanks in a rehearsal need a written exception in the plan, or the armorer and the 1st AD approve an override",
                );
                self.overridable(act.clone(), Err(r))?;
            }
            if !self.policy.rehearsal_allows_dummies
                && let Some(p) = plan
                    .firearms
                    .iter()
                    .find(|p| p.load == PlannedLoad::Dummies)
            {
                let r = Refusal::new(
                    RuleId::RehearsalCold,
                    format!(
                        "scene {scene} is a rehearsal and plans dummies in firearm {}; this production rehearses with empty chambers",
                        p.firearm
                    ),
                    "plan the firearm cold, or the armorer and the 1st AD approve an override",
                );
                self.overridable(act, Err(r))?;
            }
        }
        self.events.push(Event::ScenePlanned {
            scene: scene.clone(),
            day,
            kind,
            window_minutes: window.unwrap_or(self.policy.scene_window_minutes),
            plan: plan.clone(),
        });
        Ok(())
    }

    fn load(&mut self, id: &FirearmId, chambers: &[ChamberLoad]) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::Role, "load firearms")?;
        let f = self.firearm(id)?;
        self.holds(&f.custodian, &format!("firearm {id}"))?;
        self.not_issued(id, f)?;
        self.no_stop(id)?;
        if f.chambers.iter().flatten().any(|c| *c != Chamber::Empty) {
            return no(
                RuleId::State,
                format!("firearm {id} still holds rounds or casings on record"),
                "unload it first, then record the new load",
            );
        }
        let n = usize::from(f.positions.get());
        if chambers.len() != n {
            return no(
                RuleId::LoadExplicit,
                format!(
                    "the load lists {} of the {n} chambers or positions of firearm {id}",
                    chambers.len()
                ),
                format!(
                    "list all {n} positions, each empty or holding a round from a named container"
                ),
            );
        }
        let mut taken: BTreeMap<&ContainerId, u64> = BTreeMap::new();
        let mut recorded = Vec::with_capacity(n);
        for (i, c) in chambers.iter().enumerate() {
            let ChamberLoad::Round(cid) = c else {
                recorded.push(Chamber::Empty);
                continue;
            };
            let container = self.container(cid)?;
            self.holds(&container.custodian, &format!("container {cid}"))?;
            let lot = self.lot(&container.lot)?;
            if lot.kind == AmmoKind::Live || lot.status == LotStatus::LiveFound {
                return no(
                    RuleId::LiveNever,
                    format!(
                        "container {cid} holds lot {}, in which a live round was found",
                        container.lot
                    ),
                    "never load from that lot; remove it and load from a verified lot of dummies or blanks",
                );
            }
            if lot.status != LotStatus::Verified {
                let why = match (&lot.leftover_from, lot.status) {
                    (Some(from), _) => format!(
                        "lot {} ({} leftovers from {from}) has not been verified since it arrived",
                        container.lot,
                        lot.kind.word()
                    ),
                    (None, LotStatus::Defective) => format!(
                        "lot {} failed verification: defective rounds were found",
                        container.lot
                    ),
                    _ => format!(
                        "lot {} ({} from {}) is not verified: not every round was checked, or it was re-opened",
                        container.lot,
                        lot.kind.word(),
                        lot.supplier
                    ),
                };
                return no(
                    RuleId::LotVerified,
                    why,
                    format!(
                        "verify every round of lot {} (rattle each dummy, check each blank) before loading from it",
                        container.lot
                    ),
                );
            }
            if lot.calibre != f.calibre {
                return no(
                    RuleId::LoadExplicit,
                    format!(
                        "position {} would hold a {} round in a {} firearm",
                        i + 1,
                        lot.calibre,
                        f.calibre
                    ),
                    "load rounds of the firearm's calibre",
                );
            }
            let t = taken.entry(cid).or_default();
            *t += 1;
            if *t > container.count {
                return no(
                    RuleId::State,
                    format!("container {cid} holds only {} rounds", container.count),
                    "load from a container that holds enough rounds",
                );
            }
            recorded.push(Chamber::Round {
                container: cid.clone(),
                lot: container.lot.clone(),
                kind: lot.kind,
            });
        }
        let actor = self.actor.person.clone();
        self.credentials(
            &actor,
            self.actor.role,
            self.today,
            OverrideTarget {
                firearm: Some(id.clone()),
                day: Some(self.today),
                ..Default::default()
            },
        )?;
        self.events.push(Event::FirearmLoaded {
            firearm: id.clone(),
            chambers: recorded,
            by: actor,
        });
        Ok(())
    }

    fn show_check(
        &mut self,
        id: &FirearmId,
        scene: &SceneId,
        performer: &Actor,
        first_ad: &Actor,
    ) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::ShowCheck, "show a firearm's state")?;
        let f = self.firearm(id)?;
        self.holds(&f.custodian, &format!("firearm {id}"))?;
        self.not_issued(id, f)?;
        self.no_stop(id)?;
        self.scene(scene)?;
        let Some(chambers) = &f.chambers else {
            return no(
                RuleId::LoadExplicit,
                format!("firearm {id} has no recorded load, so its state cannot be shown"),
                "record every chamber first: load it, or unload it to record it empty",
            );
        };
        let Some(condition) = Condition::of(chambers) else {
            return no(
                RuleId::ShowCheck,
                format!("firearm {id} still holds a spent casing on record"),
                "unload it and record a fresh load before showing it",
            );
        };
        self.confirmer(
            performer,
            Role::Performer,
            RuleId::ShowCheck,
            "the show check",
        )?;
        self.confirmer(first_ad, Role::FirstAd, RuleId::ShowCheck, "the show check")?;
        let people = [&self.actor.person, &performer.person, &first_ad.person];
        if people.iter().collect::<BTreeSet<_>>().len() != 3 {
            return no(
                RuleId::ShowCheck,
                "the custodian, the performer and the 1st AD must be three different people",
                "each of the three confirms in person",
            );
        }
        let actor = self.actor.person.clone();
        self.credentials(
            &actor,
            self.actor.role,
            self.today,
            OverrideTarget {
                firearm: Some(id.clone()),
                day: Some(self.today),
                ..Default::default()
            },
        )?;
        self.events.push(Event::ShowChecked {
            firearm: id.clone(),
            scene: scene.clone(),
            performer: performer.person.clone(),
            first_ad: first_ad.person.clone(),
            custodian: actor,
            condition,
        });
        Ok(())
    }

    fn issue(
        &mut self,
        id: &FirearmId,
        performer: &PersonId,
        scene_id: &SceneId,
    ) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::CustodianOnly, "hand a firearm to a performer")?;
        let f = self.firearm(id)?;
        self.holds(&f.custodian, &format!("firearm {id}"))?;
        self.not_issued(id, f)?;
        if !self.state.person_acts_as(performer, Role::Performer) {
            return no(
                RuleId::CustodianOnly,
                format!(
                    "{} is not a performer of this production; nobody else may hold an issued firearm",
                    self.who(performer)
                ),
                "issue firearms only to the performer the scene plan names",
            );
        }
        self.no_stop(id)?;
        let chambers = f.chambers.as_deref().unwrap_or_default();
        if chambers.iter().any(|c| matches!(c, Chamber::Round { kind: AmmoKind::Live, .. }))
            || chambers.iter().any(|c| matches!(c, Chamber::Round { lot, .. } if self.state.lots.get(lot).is_some_and(|l| l.status == LotStatus::LiveFound)))
        {
            return no(
                RuleId::LiveNever,
                format!("firearm {id} holds a round of a lot in which a live round was found"),
                "unload it, remove that lot, and load from a verified lot",
            );
        }
        // WRAP-RECONCILE: an earlier firearm day that was never reconciled blocks the next one.
        if let Some((d, _)) = self
            .state
            .days
            .iter()
            .find(|(d, day)| **d < self.today && day.firearm_work && day.reconciled.is_none())
        {
            return no(
                RuleId::WrapReconcile,
                format!("firearm day {d} was never reconciled at wrap"),
                format!(
                    "reconcile {d}: every firearm back in locked storage and every container counted"
                ),
            );
        }
        let scene = self.scene(scene_id)?;
        if scene.day != self.today {
            return no(
                RuleId::ScenePlan,
                format!(
                    "scene {scene_id} is planned for {}, not today ({})",
                    scene.day, self.today
                ),
                "re-plan the scene for today",
            );
        }
        let Some(planned) = scene.plan.entry(id) else {
            return no(
                RuleId::ScenePlan,
                format!("firearm {id} is not in the plan of scene {scene_id}"),
                "add it to the scene's plan with its load, handler and muzzle direction",
            );
        };
        if &planned.handler != performer {
            return no(
                RuleId::ScenePlan,
                format!(
                    "the plan of scene {scene_id} gives firearm {id} to {}, not {}",
                    self.who(&planned.handler),
                    self.who(performer)
                ),
                "issue it to the planned handler, or re-plan the scene",
            );
        }
        let Some(show) = &f.show_check else {
            return no(
                RuleId::ShowCheck,
                format!("firearm {id} has no confirmed show check of its current load"),
                format!(
                    "show every chamber to {} and the 1st AD, and have each confirm",
                    self.who(performer)
                ),
            );
        };
        if &show.performer != performer || &show.scene != scene_id {
            return no(
                RuleId::ShowCheck,
                format!(
                    "firearm {id} was shown to {} for scene {}, not to {} for scene {scene_id}",
                    self.who(&show.performer),
                    show.scene,
                    self.who(performer)
                ),
                format!(
                    "show every chamber to {} and the 1st AD, and have each confirm",
                    self.who(performer)
                ),
            );
        }
        let condition = show.condition;
        let matches_plan = condition == Condition::Cold
            || matches!(
                (planned.load, condition),
                (PlannedLoad::Dummies, Condition::Dummies)
                    | (PlannedLoad::Blanks, Condition::Blanks)
            );
        if !matches_plan {
            return no(
                RuleId::ScenePlan,
                format!(
                    "firearm {id} is {}, but the plan of scene {scene_id} says {:?}",
                    condition.words(),
                    planned.load
                )
                .to_lowercase(),
                "load it as the plan says, or re-plan the scene",
            );
        }
        let act = OverrideTarget {
            firearm: Some(id.clone()),
            scene: Some(scene_id.clone()),
            day: Some(self.today),
            person: Some(performer.clone()),
        };
        if scene.kind == SceneKind::Rehearsal && f.class.can_fire() {
            let blanks = matches!(condition, Condition::Blanks | Condition::Mixed);
            let dummies = matches!(condition, Condition::Dummies | Condition::Mixed);
            if blanks && scene.plan.blanks_in_rehearsal_exception.is_none() {
                let r = Refusal::new(
                    RuleId::RehearsalCold,
                    format!(
                        "scene {scene_id} is a rehearsal and firearm {id} is {}",
                        condition.words()
                    ),
                    "rehearse with the firearm verified cold or a non-firing replica; blanks in a rehearsal need a written exception in the plan, or the armorer and the 1st AD approve an override",
                );
                self.overridable(act.clone(), Err(r))?;
            } else if dummies && !self.policy.rehearsal_allows_dummies {
                let r = Refusal::new(
                    RuleId::RehearsalCold,
                    format!(
                        "scene {scene_id} is a rehearsal and firearm {id} is {}; this production rehearses with empty chambers",
                        condition.words()
                    ),
                    "unload it and show it cold, or the armorer and the 1st AD approve an override",
                );
                self.overridable(act.clone(), Err(r))?;
            }
        }
        // DAILY-MEETING
        let day = self.state.days.get(&self.today);
        let covering: Vec<_> = day
            .into_iter()
            .flat_map(|d| d.meetings.iter())
            .filter(|m| m.scenes.contains(scene_id) && !m.attendees.is_empty())
            .collect();
        let meeting = if covering.is_empty() {
            Err(Refusal::new(
                RuleId::DailyMeeting,
                format!(
                    "no safety meeting covering scene {scene_id} is on record for today ({})",
                    self.today
                ),
                "hold the safety meeting for this scene and record its attendees, or the safety representative and the armorer approve an override",
            ))
        } else if self.policy.meeting_must_include_performer
            && !covering.iter().any(|m| m.attendees.contains(performer))
        {
            Err(Refusal::new(
                RuleId::DailyMeeting,
                format!(
                    "{} did not attend today's safety meeting for scene {scene_id}",
                    self.who(performer)
                ),
                "brief the performer in a recorded safety meeting, or the safety representative and the armorer approve an override",
            ))
        } else {
            Ok(())
        };
        self.overridable(act.clone(), meeting)?;
        // ARMORER-DEDICATED
        let designated = day.and_then(|d| d.armorer.as_ref().map(|a| (a, d)));
        let dedicated = match designated {
            None => Err(Refusal::new(
                RuleId::ArmorerDedicated,
                format!("no armorer is designated for today ({})", self.today),
                "the producer designates today's armorer, with valid credentials and no other duty, or the producer and the safety representative approve an override",
            )),
            Some((a, d)) => {
                let other = d
                    .duties
                    .get(a)
                    .is_some_and(|r| r.iter().any(|r| *r != Role::Armorer));
                let creds_ok = self.policy.credentials_for(Role::Armorer).all(|k| {
                    self.state
                        .people
                        .get(a)
                        .and_then(|p| p.credentials.get(k))
                        .is_some_and(|c| c.valid_on(self.today))
                });
                if !self.state.person_acts_as(a, Role::Armorer) || other || !creds_ok {
                    Err(Refusal::new(
                        RuleId::ArmorerDedicated,
                        format!(
                            "today's designated armorer, {}, is not dedicated and credentialed today",
                            self.who(a)
                        ),
                        "designate an armorer with valid credentials and no other duty today, or the producer and the safety representative approve an override",
                    ))
                } else {
                    Ok(())
                }
            }
        };
        self.overridable(act.clone(), dedicated)?;
        // CREDENTIALS of the custodian and the performer.
        let actor = self.actor.person.clone();
        self.credentials(&actor, self.actor.role, self.today, act.clone())?;
        self.credentials(performer, Role::Performer, self.today, act)?;
        let due = self.now.plus_minutes(i64::from(scene.window_minutes));
        self.events.push(Event::FirearmIssued {
            firearm: id.clone(),
            performer: performer.clone(),
            scene: scene_id.clone(),
            day: self.today,
            by: actor,
            at: self.now,
            due,
        });
        Ok(())
    }

    fn reconcile(&mut self, day: Date, counts: &[ContainerCount]) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::Role, "reconcile at wrap")?;
        if day > self.today {
            return no(
                RuleId::State,
                format!("{day} has not happened yet"),
                "reconcile today or an earlier day",
            );
        }
        if self
            .state
            .days
            .get(&day)
            .is_some_and(|d| d.reconciled.is_some())
        {
            return no(
                RuleId::State,
                format!("{day} was already reconciled"),
                "nothing to do; a wrong count is fixed by a correction",
            );
        }
        let mut seen = BTreeSet::new();
        for c in counts {
            self.container(&c.container)?;
            if !seen.insert(&c.container) {
                return no(
                    RuleId::State,
                    format!("container {} is counted twice", c.container),
                    "give one count per container",
                );
            }
        }
        let missing: Vec<String> = self
            .state
            .containers
            .iter()
            .filter(|(id, c)| c.count > 0 && !seen.contains(id))
            .map(|(id, _)| id.to_string())
            .collect();
        if !missing.is_empty() {
            return no(
                RuleId::WrapReconcile,
                format!(
                    "container(s) {} hold rounds on record but were not counted",
                    missing.join(", ")
                ),
                "count every container that holds rounds",
            );
        }
        let mut results = Vec::with_capacity(counts.len());
        for c in counts {
            let Some(container) = self.state.containers.get(&c.container) else {
                continue;
            };
            let expected = u32::try_from(container.count).unwrap_or(u32::MAX);
            results.push(CountResult {
                container: c.container.clone(),
                lot: container.lot.clone(),
                expected,
                counted: c.count.get(),
            });
        }
        let firearms_out: Vec<FirearmId> = self
            .state
            .firearms
            .iter()
            .filter(|(_, f)| match &f.custody {
                Custody::Stored { location } => {
                    !self.state.locations.get(location).is_some_and(|l| l.locked)
                }
                _ => true,
            })
            .map(|(id, _)| id.clone())
            .collect();
        let differences: Vec<String> = results
            .iter()
            .filter(|r| r.expected != r.counted)
            .map(|r| {
                format!(
                    "container {} holds {} rounds, {} on record",
                    r.container, r.counted, r.expected
                )
            })
            .chain(
                firearms_out
                    .iter()
                    .map(|f| format!("firearm {f} is not in locked storage")),
            )
            .collect();
        let balanced = differences.is_empty();
        self.events.push(Event::Reconciled {
            day,
            counts: results,
            firearms_out,
            balanced,
            by: self.actor.person.clone(),
        });
        if !balanced {
            let text = format!(
                "wrap reconciliation of {day} does not balance: {}",
                differences.join("; ")
            );
            let clipped: String = text.chars().take(crate::text::TEXT_MAX).collect();
            if let Ok(description) = Text::parse(&clipped) {
                self.open_incident(
                    IncidentKind::CountMismatch,
                    Severity::Stop,
                    Cover::All,
                    description,
                    Some(self.actor.person.clone()),
                );
            }
        }
        Ok(())
    }

    fn grant_override(
        &mut self,
        rule: RuleId,
        reason: &Text,
        target: &OverrideTarget,
        confirmations: &[Actor],
    ) -> Result<(), Refusal> {
        self.actor_as(ANYONE, "approve overrides")?;
        let Some(needed) = rule.override_roles() else {
            let how = match rule {
                RuleId::IncidentStop | RuleId::WrapReconcile => {
                    "it is lifted only by closing its incident with findings (the armorer and the safety representative)"
                }
                _ => "the act has to meet the rule",
            };
            return no(rule, format!("{rule} cannot be overridden by anyone"), how);
        };
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

fn kind_words(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::LiveRound => "a live round",
        IncidentKind::UnplannedDischarge => "an unplanned discharge",
        IncidentKind::Misfire => "a misfire",
        IncidentKind::CountMismatch => "counts that do not balance",
        IncidentKind::NearMiss => "a near miss",
        IncidentKind::Other => "an incident",
    }
}
