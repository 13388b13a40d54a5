//! `decide`: the rules engine. Given the policy, the current state, who acts and what they attempt,
//! it returns the events to append, or the `Refusal` naming the rule that stops the act. Pure: no
//! IO, no clock (`now` is passed in), no randomness. Every rule of RULES.md §3 and every role check
//! of RULES.md §4 lives here; overridable rules consult pending overrides (RULES.md §3 "who may
//! override"), and an override that lets an act through is consumed by an `override_used` event.
//!
//! This file holds the engine's context (`Cx`), the lookups, who may act, and the checks several
//! acts share; the acts themselves are grouped by concern: `crew` (people, staffing), `custody`
//! (intake, verification, containers, storage), `scenes` (plans, meetings), `handling` (load, show
//! check, issue, return, expend), `bore` (bore checks, misfired rounds), `handover` (both legs of custody), `incidents` (discharges, incidents, wrap) and `record`
//! (overrides, corrections, notes).

mod bore;
mod crew;
mod custody;
mod handling;
mod handover;
mod incidents;
mod record;
mod scenes;

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

/// Decides whether `actor` may do `command` now, and if so, what happened: `Ok` always holds at
/// least one event (the act's own, after any `override_used` it relies on).
pub fn decide(
    policy: &Policy,
    state: &State,
    actor: &Actor,
    command: &Command,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    // The policy the log set is in force; `policy` is the one before any was set.
    let policy = state.policy.as_ref().map_or(policy, |p| &p.policy);
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

use crate::roles::ANYONE;

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

    /// The actor may attempt this act as the role table says (`roles.rs`, RULES.md §4).
    fn actor_for(&mut self, act: &str) -> Result<&'a Person, Refusal> {
        use crate::roles::May;
        match crate::roles::may(self.kind) {
            Some(May::Roles(roles)) => self.actor_as(roles, act),
            Some(May::Anyone | May::Party) => self.actor_as(ANYONE, act),
            Some(May::Custodian) => self.custodian_actor(RuleId::Role, act),
            Some(May::CustodianOr(others)) => {
                if self.policy.is_custodian_role(self.actor.role) {
                    self.custodian_actor(RuleId::Role, act)
                } else {
                    let mut roles = self.policy.custodian_roles().to_vec();
                    roles.extend_from_slice(others);
                    self.actor_as(&roles, act)
                }
            }
            None => no(
                RuleId::State,
                format!("the role table names no act {}", self.kind),
                "report this as a bug in armory-core",
            ),
        }
    }

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

    /// ARMORER-DEDICATED: today's designated armorer acts in no other role while firearms are
    /// out (from the first take-out until all are locked away: CA Labor Code 9153(a)(3)), or
    /// all day where the policy tightens it so.
    fn dedicated_armorer(&mut self) -> Result<(), Refusal> {
        let today_armorer = self
            .state
            .days
            .get(&self.today)
            .and_then(|d| d.armorer.as_ref());
        if today_armorer != Some(&self.actor.person) || self.actor.role == Role::Armorer {
            return Ok(());
        }
        let target = OverrideTarget {
            day: Some(self.today),
            person: Some(self.actor.person.clone()),
            ..Default::default()
        };
        let out = self.state.firearms_out();
        if let Some(first) = out.first() {
            let r = Refusal::new(
                RuleId::ArmorerDedicated,
                format!(
                    "{} is today's designated armorer and firearms are out of locked storage ({}{}): no other duty until all are locked away, here as {}",
                    self.who(&self.actor.person),
                    first,
                    if out.len() > 1 {
                        format!(" and {} more", out.len() - 1)
                    } else {
                        String::new()
                    },
                    self.actor.role.title()
                ),
                "someone else does this (or it waits until the armorer has locked every firearm away)",
            );
            return self.window_overridable(target, Err(r));
        }
        if self.policy.armorer_dedicated_all_day {
            let r = Refusal::new(
                RuleId::ArmorerDedicated,
                format!(
                    "{} is today's designated armorer and this production's policy gives them no other duty all day, here as {}",
                    self.who(&self.actor.person),
                    self.actor.role.title()
                ),
                "someone else does this",
            );
            return self.overridable(target, Err(r));
        }
        Ok(())
    }

    /// The actor may act as custodian, or the act is refused under `rule`.
    fn custodian_actor(&mut self, rule: RuleId, act: &str) -> Result<&'a Person, Refusal> {
        if !self.policy.is_custodian_role(self.actor.role) {
            let needed = if matches!(
                self.actor.role,
                Role::PropertyMaster | Role::AssistantPropertyMaster
            ) {
                format!(
                    "call the armorer: this production's policy does not let a {} act as custodian",
                    self.actor.role.title()
                )
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
        // A property master (or assistant) handles firearms only while holding the
        // credentials the policy names for their role (CA Labor Code 9153).
        if self.actor.role != Role::Armorer {
            let (person, role, today) = (self.actor.person.clone(), self.actor.role, self.today);
            let act = OverrideTarget {
                day: Some(today),
                ..Default::default()
            };
            self.credentials(&person, role, today, act)?;
        }
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
        if ok {
            self.strong_enough(confirming, rule, act)?;
        }
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

    /// Where the policy confirms with passkeys, a person who registered one may not confirm by PIN.
    fn strong_enough(&self, confirming: &Actor, rule: RuleId, act: &str) -> Result<(), Refusal> {
        let has_passkey = self
            .state
            .people
            .get(&confirming.person)
            .is_some_and(|p| !p.passkeys.is_empty());
        if self.policy.passkeys_for_confirmations
            && has_passkey
            && confirming.method == crate::AuthMethod::Pin
        {
            return no(
                rule,
                format!(
                    "{} has a passkey, and this production confirms with passkeys: a {} does not confirm {act}",
                    self.who(&confirming.person),
                    confirming.method
                ),
                "they confirm with the passkey on their phone",
            );
        }
        Ok(())
    }

    // ---------- rules shared by several acts ----------

    /// Lets a refused check through if a pending override of its rule matches this act; a
    /// refusal that stands says who could override it. A rule the jurisdiction's law requires
    /// is never let through (ARMORER-DEDICATED only for its window: `window_overridable`).
    fn overridable(
        &mut self,
        act: OverrideTarget,
        result: Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let bound = result
            .as_ref()
            .err()
            .is_some_and(|r| r.rule != RuleId::ArmorerDedicated);
        self.overridable_unless_law(act, result, bound)
    }

    /// ARMORER-DEDICATED's window (no other duty while firearms are out): what the law of the
    /// jurisdiction requires, where it does.
    fn window_overridable(
        &mut self,
        act: OverrideTarget,
        result: Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        self.overridable_unless_law(act, result, true)
    }

    fn overridable_unless_law(
        &mut self,
        act: OverrideTarget,
        result: Result<(), Refusal>,
        law_binds: bool,
    ) -> Result<(), Refusal> {
        let Err(mut refusal) = result else {
            return Ok(());
        };
        if law_binds && let Some(law) = self.policy.law_for(refusal.rule) {
            let place = self.policy.jurisdiction.map_or("", |j| j.as_str());
            refusal.needed = format!(
                "{}; no override: {law} requires this rule where this production shoots ({place})",
                refusal.needed
            );
            return Err(refusal);
        }
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
            None => {
                refusal.needed.push_str(&refusal.rule.override_clause());
                Err(refusal)
            }
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
                    format!("record a valid {kind} for them (admin)"),
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
            firearm: None,
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
            if self.actor.role != Role::Admin {
                return no(
                    RuleId::Role,
                    "only an admin opens a production",
                    "sign in as admin to open the production",
                );
            }
            if let Some(p) = &self.state.production {
                return no(
                    RuleId::State,
                    format!("production {} is already open", p.id),
                    "nothing to do; add people with add_person",
                );
            }
            self.events.push(Event::ProductionOpened {
                production: production.clone(),
                title: title.clone(),
                admin: self.actor.person.clone(),
                admin_name: admin_name.clone(),
            });
            // The policy the production starts with is in its log from the first act.
            self.events.push(Event::PolicySet {
                policy: self.policy.clone(),
                by: self.actor.person.clone(),
                loosened: Vec::new(),
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
        self.check_day(command)?;
        match command {
            Command::OpenProduction { .. } => Ok(()),
            Command::SetPolicy { policy, approvals } => self.set_policy(policy, approvals),
            Command::AddPerson { .. }
            | Command::GrantRole { .. }
            | Command::RevokeRole { .. }
            | Command::RemovePerson { .. }
            | Command::RecordCredential { .. }
            | Command::AssignDuty { .. }
            | Command::ReleaseDuty { .. }
            | Command::DesignateArmorer { .. } => self.crew(command),
            Command::AddLocation { .. }
            | Command::SetLocationLock { .. }
            | Command::RegisterFirearm { .. }
            | Command::ReceiveLot { .. }
            | Command::VerifyLot { .. }
            | Command::ReopenLot { .. }
            | Command::TransferRounds { .. }
            | Command::RemoveRounds { .. }
            | Command::Store { .. }
            | Command::TakeOut { .. }
            | Command::AssignCustodian { .. } => self.custody(command),
            Command::ConfirmHandover { .. } | Command::CancelHandover { .. } => {
                self.handover(command)
            }
            Command::PlanScene { .. }
            | Command::HoldMeeting { .. }
            | Command::ApproveCloseRangeLoad { .. }
            | Command::RecordPublicNotice { .. }
            | Command::RecordRiskAssessment { .. } => self.scenes(command),
            Command::Load { .. }
            | Command::Unload { .. }
            | Command::ShowCheck { .. }
            | Command::Issue { .. }
            | Command::Return { .. }
            | Command::Expend { .. } => self.handling(command),
            Command::BoreCheck { .. }
            | Command::RecoverRound { .. }
            | Command::BriefPerformer { .. } => self.bore(command),
            Command::ReportDischarge { .. }
            | Command::ReportIncident { .. }
            | Command::CloseIncident { .. }
            | Command::ReportMissing { .. }
            | Command::RecordPoliceReport { .. }
            | Command::Reconcile { .. } => self.incidents(command),
            Command::Override { .. } | Command::Correct { .. } | Command::Note { .. } => {
                self.record(command)
            }
        }
    }
}

impl Cx<'_> {
    /// SET-POLICY: the armorer or an admin tightens; a loosening also needs the producer, the
    /// safety representative and the armorer, three people, each approving (RULES.md §3: the role
    /// under pressure never approves alone, and the armorer is always among the approvers).
    fn set_policy(
        &mut self,
        policy: &crate::Policy,
        approvals: &[crate::Actor],
    ) -> Result<(), Refusal> {
        self.actor_for("set the safety policy")?;
        let current = self.policy;
        if policy == current {
            return no(
                RuleId::State,
                "this is the policy in force already",
                "change a setting, or nothing needs doing",
            );
        }
        let loosened = current.loosenings(policy);
        if !loosened.is_empty() {
            let mut people = BTreeSet::new();
            let mut missing = Vec::new();
            for role in [Role::Producer, Role::SafetyRep, Role::Armorer] {
                let by = approvals.iter().find(|a| {
                    a.role == role
                        && self
                            .state
                            .people
                            .get(&a.person)
                            .is_some_and(|p| p.acts_as(role))
                        && !people.contains(&a.person)
                });
                match by {
                    Some(a) => {
                        people.insert(a.person.clone());
                    }
                    None => missing.push(role.title()),
                }
            }
            if !missing.is_empty() {
                return no(
                    RuleId::Role,
                    format!(
                        "this loosens the policy ({}), which needs the approval of the producer, the safety representative and the armorer, three people; missing: {}",
                        loosened.join("; "),
                        missing.join(", ")
                    ),
                    "add their approvals (each confirms with their PIN), or only tighten",
                );
            }
        }
        self.events.push(Event::PolicySet {
            policy: policy.clone(),
            by: self.actor.person.clone(),
            loosened,
        });
        Ok(())
    }

    /// Days named in commands: the current shoot day; plans and staffing also the next; a wrap
    /// also an earlier day left open (found the next morning). A meeting recorded today for
    /// tomorrow would let a firearm be issued tomorrow with no meeting held; a wrap reconciled
    /// ahead would close a day that has not ended.
    fn check_day(&self, command: &Command) -> Result<(), Refusal> {
        let today = self.today;
        let next = today.plus_days(1);
        let (day, allowed) = match command {
            Command::HoldMeeting { day, .. } => (*day, format!("today's shoot day ({today})")),
            Command::Reconcile { day, .. } => (
                *day,
                format!("today's shoot day ({today}) or an earlier one"),
            ),
            Command::PlanScene { day, .. }
            | Command::RecordPublicNotice { day, .. }
            | Command::AssignDuty { day, .. }
            | Command::ReleaseDuty { day, .. }
            | Command::DesignateArmorer { day, .. } => (
                *day,
                format!("today's shoot day ({today}) or the next ({next})"),
            ),
            _ => return Ok(()),
        };
        let fits = match command {
            Command::HoldMeeting { .. } => day == today,
            Command::Reconcile { .. } => day <= today,
            _ => day == today || day == next,
        };
        if fits {
            return Ok(());
        }
        no(
            RuleId::State,
            format!(
                "a {} can only be recorded for {allowed}, not for {day}",
                command.kind()
            ),
            format!("name {allowed}"),
        )
    }
}

/// A command routed to the wrong module (a bug): refused rather than silently accepted.
fn misrouted(command: &Command) -> Result<(), Refusal> {
    no(
        RuleId::State,
        format!("the rules engine has no rules for {} here", command.kind()),
        "report this as a bug in armory-core",
    )
}

fn kind_words(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::LiveRound => "a live round",
        IncidentKind::UnplannedDischarge => "an unplanned discharge",
        IncidentKind::Misfire => "a misfire",
        IncidentKind::CountMismatch => "counts that do not balance",
        IncidentKind::MissingFirearm => "a missing firearm",
        IncidentKind::NearMiss => "a near miss",
        IncidentKind::Other => "an incident",
    }
}
