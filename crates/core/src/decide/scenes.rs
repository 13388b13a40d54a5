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
            Command::HoldMeeting {
                day,
                scenes,
                attendees,
                topics,
                items,
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
}
