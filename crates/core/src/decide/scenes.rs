//! Scene plans (SCENE-PLAN, REHEARSAL-COLD at planning) and safety meetings (DAILY-MEETING).

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn scenes(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::PlanScene {
                scene,
                day,
                kind,
                window_minutes,
                plan,
            } => self.plan_scene(scene, *day, *kind, *window_minutes, plan),
            Command::ApproveCloseRangeLoad { scene, firearm } => {
                self.actor_for("approve close-range blank loads")?;
                let sc = self.scene(scene)?;
                let Some(p) = sc.plan.entry(firearm) else {
                    return no(
                        RuleId::State,
                        format!("firearm {firearm} is not in the plan of scene {scene}"),
                        "name a firearm the scene plans",
                    );
                };
                let Some((load, blanks)) = p
                    .blanks
                    .as_ref()
                    .filter(|b| b.close_range())
                    .and_then(|b| b.close_range_load.clone().map(|l| (l, b)))
                else {
                    return no(
                        RuleId::State,
                        format!(
                            "the plan of scene {scene} names no close-range blank load for firearm {firearm}"
                        ),
                        "nothing to approve: only a blank load planned closer than 20 ft, with its close-range load named, is approved",
                    );
                };
                self.events.push(Event::CloseRangeLoadApproved {
                    scene: scene.clone(),
                    firearm: firearm.clone(),
                    load,
                    min_distance_ft: blanks.min_distance_ft,
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::RecordPublicNotice {
                day,
                location,
                permit,
                police_notice,
                call_time,
            } => {
                self.actor_for("record permits and police notifications")?;
                let call = self.call_instant(*day, *call_time);
                if self.now >= call {
                    return no(
                        RuleId::PublicNotice,
                        format!(
                            "the call time of {day} ({call_time}) has passed: the permit and the police notification had to be on record before it"
                        ),
                        "no blanks at this public location today; notify the police and record the permit before the call time of another day",
                    );
                }
                self.events.push(Event::PublicNoticeRecorded {
                    day: *day,
                    location: location.clone(),
                    permit: permit.clone(),
                    police_notice: police_notice.clone(),
                    call_time: *call_time,
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::RecordRiskAssessment { scene, assessment } => {
                self.actor_for("record risk assessments")?;
                if let Some(id) = scene {
                    self.scene(id)?;
                }
                self.events.push(Event::RiskAssessed {
                    scene: scene.clone(),
                    assessment: assessment.clone(),
                    day: self.today,
                    by: self.actor.person.clone(),
                });
                Ok(())
            }
            Command::HoldMeeting {
                day,
                scenes,
                attendees,
                topics,
                items,
                safety_rep,
            } => {
                self.actor_for("run safety meetings")?;
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
                    items: {
                        let mut items = items.clone();
                        items.sort_unstable();
                        items.dedup();
                        items
                    },
                    run_by: self.actor.person.clone(),
                    confirmed_by: safety_rep.as_ref().map(|a| a.person.clone()),
                });
                Ok(())
            }
            _ => misrouted(command),
        }
    }

    fn plan_scene(
        &mut self,
        scene: &SceneId,
        day: Date,
        kind: SceneKind,
        window: Option<u32>,
        plan: &FirearmPlan,
    ) -> Result<(), Refusal> {
        self.actor_for("plan firearm scenes")?;
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
        for p in &plan.firearms {
            self.blank_plan(scene, day, p)?;
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
                    "rehearse cold or with a non-firing firearm; blanks in a rehearsal need a written exception in the plan",
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
                    "plan the firearm cold",
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
}

impl Cx<'_> {
    /// BLANK-DISTANCE at planning: blanks carry a strength and a minimum distance; closer than
    /// 20 ft, a named close-range load (which the armorer then approves).
    fn blank_plan(
        &mut self,
        scene: &SceneId,
        day: Date,
        p: &crate::scene::PlannedFirearm,
    ) -> Result<(), Refusal> {
        if p.load != PlannedLoad::Blanks {
            if p.blanks.is_some() {
                return no(
                    RuleId::ScenePlan,
                    format!(
                        "firearm {} is planned {:?} but the plan gives it a blank load",
                        p.firearm, p.load
                    )
                    .to_lowercase(),
                    "plan the firearm with blanks, or leave out the blank load",
                );
            }
            return Ok(());
        }
        let Some(blanks) = &p.blanks else {
            return no(
                RuleId::BlankDistance,
                format!(
                    "the plan of scene {scene} gives firearm {}'s blanks no strength and no minimum distance",
                    p.firearm
                ),
                "record the load's strength (quarter, half, three-quarter, full) and the least distance in feet from anyone in the line of fire",
            );
        };
        if blanks.close_range() && blanks.close_range_load.is_none() {
            let r = Refusal::new(
                RuleId::BlankDistance,
                format!(
                    "the plan of scene {scene} has firearm {} fire {} blanks {} ft from people, closer than {} ft, with no close-range load named",
                    p.firearm,
                    blanks.strength.words(),
                    blanks.min_distance_ft,
                    crate::scene::CLOSE_RANGE_FEET
                ),
                "keep everyone 20 ft or more from the line of fire, or name the close-range load the armorer will approve",
            );
            let act = OverrideTarget {
                scene: Some(scene.clone()),
                firearm: Some(p.firearm.clone()),
                day: Some(day),
                ..Default::default()
            };
            self.overridable(act, Err(r))?;
        }
        Ok(())
    }

    /// The instant of a day's call time on the set's clock (a call before the day's turnover
    /// belongs to the night after it).
    fn call_instant(&self, day: Date, call: crate::time::ClockTime) -> crate::time::Timestamp {
        let minutes = i64::from(call.minutes());
        let after_turnover = if u32::from(call.minutes()) < self.policy.day_starts_at_minutes {
            24 * 60
        } else {
            0
        };
        day.start()
            .plus_minutes(minutes + after_turnover - i64::from(self.policy.utc_offset_minutes))
    }

    /// Issuing a firearm loaded with blanks: the plan's blank load is recorded, a close-range
    /// load is approved by the armorer (BLANK-DISTANCE), and at a public location the day's
    /// permit and police notification are on record (PUBLIC-NOTICE).
    pub(super) fn issue_blanks(
        &mut self,
        scene_id: &SceneId,
        scene: &Scene,
        id: &FirearmId,
        planned: &crate::scene::PlannedFirearm,
        act: OverrideTarget,
    ) -> Result<(), Refusal> {
        let distance = match &planned.blanks {
            None => Err(Refusal::new(
                RuleId::BlankDistance,
                format!(
                    "the plan of scene {scene_id} gives firearm {id}'s blanks no strength and no minimum distance"
                ),
                "re-plan the scene with the load's strength and the least distance from anyone in the line of fire",
            )),
            Some(b) if b.close_range() => match &b.close_range_load {
                None => Err(Refusal::new(
                    RuleId::BlankDistance,
                    format!(
                        "firearm {id} fires blanks {} ft from people in scene {scene_id}, and the plan names no close-range load",
                        b.min_distance_ft
                    ),
                    "re-plan with 20 ft or more, or with a named close-range load the armorer approves",
                )),
                Some(load) if !scene.close_range_approved.contains_key(id) => Err(Refusal::new(
                    RuleId::BlankDistance,
                    format!(
                        "the close-range load \"{load}\" planned for firearm {id} in scene {scene_id} ({} ft) has not been approved by the armorer",
                        b.min_distance_ft
                    ),
                    "the armorer approves the close-range load for this scene (approve close-range load)",
                )),
                Some(_) => Ok(()),
            },
            Some(_) => Ok(()),
        };
        self.overridable(act, distance)?;
        if let Some(place) = &scene.plan.public_location {
            let noticed = self.state.days.get(&self.today).is_some_and(|d| {
                d.public_notices
                    .iter()
                    .any(|n| n.location.as_str().eq_ignore_ascii_case(place.as_str()))
            });
            if !noticed {
                return no(
                    RuleId::PublicNotice,
                    format!(
                        "scene {scene_id} is at a public location ({place}) and no permit and police notification for it are on record for today ({})",
                        self.today
                    ),
                    "no blanks there today: the permit and the police notification must be recorded before the day's call time",
                );
            }
        }
        Ok(())
    }
}
