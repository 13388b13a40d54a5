//! Handling a firearm: load (LOAD-EXPLICIT, LOT-VERIFIED, LIVE-NEVER), unload, show check (SHOW-CHECK),
//! issue (every rule that guards a firearm reaching a performer), return, and planned discharges.

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn handling(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::Load { firearm, chambers } => self.load(firearm, chambers),
            Command::Unload { firearm } => {
                self.custodian_actor(RuleId::Role, "unload firearms")?;
                let f = self.firearm(firearm)?;
                self.holds(&f.custodian, &format!("firearm {firearm}"))?;
                self.settled(&ItemRef::Firearm(firearm.clone()))?;
                self.not_issued(firearm, f)?;
                self.misfire_recovered(firearm, f)?;
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
                confirmation,
                scanned,
            } => self.issue(
                firearm,
                performer,
                scene,
                confirmation.as_ref(),
                scanned.as_ref(),
            ),
            Command::Return {
                firearm,
                confirmation,
                scanned,
            } => self.give_back(firearm, confirmation.as_ref(), scanned.as_ref()),
            Command::Expend { firearm, positions } => {
                self.custodian_actor(RuleId::Role, "count rounds fired")?;
                let f = self.firearm(firearm)?;
                self.holds(&f.custodian, &format!("firearm {firearm}"))?;
                self.settled(&ItemRef::Firearm(firearm.clone()))?;
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
            _ => misrouted(command),
        }
    }

    fn load(&mut self, id: &FirearmId, chambers: &[ChamberLoad]) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::Role, "load firearms")?;
        let f = self.firearm(id)?;
        self.holds(&f.custodian, &format!("firearm {id}"))?;
        self.settled(&ItemRef::Firearm(id.clone()))?;
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
            self.settled(&ItemRef::Container(cid.clone()))?;
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
                    (_, LotStatus::Held) => format!(
                        "lot {} is held by incident {}: a round from it, sold as a dummy, fired",
                        container.lot,
                        lot.held_by.as_ref().map_or("?", |i| i.as_str())
                    ),
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
        self.settled(&ItemRef::Firearm(id.clone()))?;
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
        confirmation: Option<&Actor>,
        scanned: Option<&crate::text::Name>,
    ) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::CustodianOnly, "hand a firearm to a performer")?;
        let f = self.firearm(id)?;
        self.holds(&f.custodian, &format!("firearm {id}"))?;
        self.settled(&ItemRef::Firearm(id.clone()))?;
        self.not_issued(id, f)?;
        self.settled(&ItemRef::Firearm(id.clone()))?;
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
        self.bore_clear(id, f)?;
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
        self.scanned_is(id, f, scanned, "issue")?;
        self.untouched_since_show(id, f, None)?;
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
                    "rehearse with the firearm verified cold or a non-firing replica; blanks in a rehearsal need a written exception in the plan",
                );
                self.overridable(act.clone(), Err(r))?;
            } else if dummies && !self.policy.rehearsal_allows_dummies {
                let r = Refusal::new(
                    RuleId::RehearsalCold,
                    format!(
                        "scene {scene_id} is a rehearsal and firearm {id} is {}; this production rehearses with empty chambers",
                        condition.words()
                    ),
                    "unload it and show it cold",
                );
                self.overridable(act.clone(), Err(r))?;
            }
        }
        // BLANK-DISTANCE, PUBLIC-NOTICE: what blanks in the firearm need.
        if matches!(condition, Condition::Blanks | Condition::Mixed) {
            self.issue_blanks(scene_id, scene, id, planned, act.clone())?;
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
                "hold the safety meeting for this scene and record its attendees",
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
                "brief the performer in a recorded safety meeting",
            ))
        } else {
            Ok(())
        };
        self.overridable(act.clone(), meeting)?;
        // MEETING-CONTENT: a covering meeting went through every item.
        let missing = covering
            .iter()
            .map(|m| {
                crate::scene::MeetingItem::ALL
                    .into_iter()
                    .filter(|i| !m.items.contains(i))
                    .collect::<Vec<_>>()
            })
            .min_by_key(Vec::len);
        if let Some(missing) = missing.filter(|m| !m.is_empty()) {
            let words: Vec<&str> = missing.iter().map(|i| i.words()).collect();
            let r = Refusal::new(
                RuleId::MeetingContent,
                format!(
                    "today's safety meeting for scene {scene_id} did not go through {}",
                    words.join(", ")
                ),
                "hold the meeting again (or record another) going through every item: the intended action, deviations, the abort plan, emergency procedures and medic, the chain of command, a walk-through",
            );
            self.overridable(act.clone(), Err(r))?;
        }
        // ARMORER-DEDICATED
        let designated = day.and_then(|d| d.armorer.as_ref().map(|a| (a, d)));
        let dedicated = match designated {
            None => Err(Refusal::new(
                RuleId::ArmorerDedicated,
                format!("no armorer is designated for today ({})", self.today),
                "the producer designates today's armorer, with valid credentials",
            )),
            Some((a, d)) => {
                // Other duties of the day matter where the policy dedicates the armorer all
                // day; otherwise the window is kept act by act (`dedicated_armorer`).
                let other = self.policy.armorer_dedicated_all_day
                    && d.duties
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
                        "designate an armorer with valid credentials and no other duty today",
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
        self.credentials(performer, Role::Performer, self.today, act.clone())?;
        // TRAINED-NEAR: the plan's handlers and the meeting's attendees hold the course.
        if let Some(course) = &self.policy.safety_course {
            let mut near: Vec<&PersonId> = scene
                .plan
                .firearms
                .iter()
                .map(|p| &p.handler)
                .chain(covering.iter().flat_map(|m| m.attendees.iter()))
                .collect();
            near.sort();
            near.dedup();
            let untrained: Vec<String> = near
                .into_iter()
                .filter(|p| {
                    !self
                        .state
                        .people
                        .get(*p)
                        .and_then(|x| x.credentials.get(course))
                        .is_some_and(|c| c.valid_on(self.today))
                })
                .map(|p| self.who(p))
                .collect();
            if !untrained.is_empty() {
                let r = Refusal::new(
                    RuleId::TrainedNear,
                    format!(
                        "{} in scene {scene_id} (its plan or its safety meeting) hold no valid {course}",
                        untrained.join(", ")
                    ),
                    format!("record their {course} (admin), or keep them away from the firearms"),
                );
                self.overridable(act, Err(r))?;
            }
        }
        self.briefed(id, performer)?;
        self.issue_or_offer(id, performer, scene_id, confirmation)
    }
}
