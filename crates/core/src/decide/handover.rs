//! Both legs of custody: a handover (issue to a performer, custody to another custodian, a
//! return) completes only when the one receiving the item confirms, by acting themselves or by
//! their PIN or passkey on the giver's device. Until then the giver keeps the item, the board
//! shows the handover waiting, and nothing else may be done with the item but confirming or
//! calling it off (CUSTODIAN-ONLY).

use super::*;
use crate::state::{Handover, HandoverKind};

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn handover(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::ConfirmHandover { item, confirmation } => {
                self.confirm_handover(item, confirmation.as_ref())
            }
            Command::CancelHandover { item, reason } => {
                let Some(h) = self.waiting(item)? else {
                    return no(
                        RuleId::State,
                        format!("no handover of {item} is waiting to be confirmed"),
                        "nothing to call off",
                    );
                };
                let me = &self.actor.person;
                let side = me == &h.from || me == &h.to;
                if !side && !self.policy.is_custodian_role(self.actor.role) {
                    return no(
                        RuleId::CustodianOnly,
                        format!(
                            "the {} of {item} is between {} and {}",
                            h.kind.words(),
                            self.who(&h.from),
                            self.who(&h.to)
                        ),
                        "either of them, or a custodian, calls it off",
                    );
                }
                self.registered_actor()?;
                self.events.push(Event::HandoverCancelled {
                    item: item.clone(),
                    by: me.clone(),
                    reason: reason.clone(),
                });
                Ok(())
            }
            _ => misrouted(command),
        }
    }

    /// The handover waiting on `item`, if any (the item must exist).
    fn waiting(&self, item: &ItemRef) -> Result<Option<&'a Handover>, Refusal> {
        Ok(match item {
            ItemRef::Firearm(id) => self.firearm(id)?.handover.as_ref(),
            ItemRef::Container(id) => self.container(id)?.handover.as_ref(),
        })
    }

    /// Refuses any other act on an item whose handover waits for its receiver.
    pub(super) fn settled(&self, item: &ItemRef) -> Result<(), Refusal> {
        if let Some(h) = self.waiting(item)? {
            return no(
                RuleId::CustodianOnly,
                format!(
                    "the {} of {item} from {} to {} waits for {} to confirm receiving it",
                    h.kind.words(),
                    self.who(&h.from),
                    self.who(&h.to),
                    self.who(&h.to)
                ),
                "the receiver confirms (confirm handover), or the handover is called off first",
            );
        }
        Ok(())
    }

    /// HANDOVER-SCAN: the scanner read this firearm's label (its id) or serial, not another's.
    pub(super) fn scanned_is(
        &self,
        id: &FirearmId,
        f: &Firearm,
        scanned: Option<&crate::text::Name>,
        act: &str,
    ) -> Result<(), Refusal> {
        let Some(read) = scanned.map(|s| s.as_str().trim()) else {
            return no(
                RuleId::HandoverScan,
                format!("firearm {id} was not scanned at the {act}"),
                format!(
                    "scan the label of the firearm in hand (or type its id or serial) at the {act}"
                ),
            );
        };
        let is = |k: &FirearmId, g: &Firearm| {
            read.eq_ignore_ascii_case(k.as_str()) || read.eq_ignore_ascii_case(g.serial.as_str())
        };
        if is(id, f) {
            return Ok(());
        }
        let what = self
            .state
            .firearms
            .iter()
            .find(|(k, g)| is(k, g))
            .map_or_else(
                || format!("{read:?}, which is no firearm of this production"),
                |(k, _)| format!("firearm {k}"),
            );
        no(
            RuleId::HandoverScan,
            format!("the firearm in hand scans as {what}, not {id}"),
            format!("hand over {id} itself, or record the act for the firearm in hand"),
        )
    }

    /// HANDOVER-SCAN: nothing was done with the firearm since its show check (but `offer`, the
    /// issue waiting for the performer).
    pub(super) fn untouched_since_show(
        &self,
        id: &FirearmId,
        f: &Firearm,
        offer: Option<u64>,
    ) -> Result<(), Refusal> {
        let Some(show) = &f.show_check else {
            return Ok(());
        };
        if let Some(e) = f
            .history
            .iter()
            .find(|&&e| e > show.entry && Some(e) != offer)
        {
            return no(
                RuleId::HandoverScan,
                format!(
                    "firearm {id} was acted on (entry {e}) after its show check (entry {})",
                    show.entry
                ),
                "show every chamber again to the performer and the 1st AD, then hand it over",
            );
        }
        Ok(())
    }

    /// Checks that `who` may confirm receiving `item` in a handover of `kind` to `to`.
    fn receiver(
        &self,
        who: &Actor,
        kind: &HandoverKind,
        to: &PersonId,
        item: &ItemRef,
    ) -> Result<(), Refusal> {
        let active = self
            .state
            .people
            .get(&who.person)
            .is_some_and(|p| p.acts_as(who.role));
        let (fits, needed) = match kind {
            HandoverKind::Issue { .. } => (
                &who.person == to && who.role == Role::Performer,
                format!("{} confirms, as performer", self.who(to)),
            ),
            HandoverKind::Custody => (
                &who.person == to && self.policy.is_custodian_role(who.role),
                format!("{} confirms, as custodian", self.who(to)),
            ),
            HandoverKind::Return => (
                self.policy.is_custodian_role(who.role),
                format!(
                    "a custodian ({}) takes it back and confirms",
                    titles(self.policy.custodian_roles())
                ),
            ),
        };
        if fits && active {
            self.strong_enough(who, RuleId::CustodianOnly, &format!("receiving {item}"))?;
        }
        if !fits || !active {
            return no(
                RuleId::CustodianOnly,
                format!(
                    "{} cannot confirm receiving {item} as the {}: the {} is to {}",
                    self.who(&who.person),
                    who.role.title(),
                    kind.words(),
                    self.who(to)
                ),
                needed,
            );
        }
        Ok(())
    }

    /// Completes the issue of a checked firearm if the performer confirmed; else offers it.
    pub(super) fn issue_or_offer(
        &mut self,
        id: &FirearmId,
        performer: &PersonId,
        scene: &SceneId,
        confirmation: Option<&Actor>,
    ) -> Result<(), Refusal> {
        let kind = HandoverKind::Issue {
            scene: scene.clone(),
        };
        let item = ItemRef::Firearm(id.clone());
        match confirmation {
            Some(who) => {
                self.receiver(who, &kind, performer, &item)?;
                let by = self.actor.person.clone();
                self.issued(id, performer, scene, by)
            }
            None => {
                self.offer(item, kind, performer.clone());
                Ok(())
            }
        }
    }

    fn offer(&mut self, item: ItemRef, kind: HandoverKind, to: PersonId) {
        self.events.push(Event::HandoverOffered {
            item,
            handover: kind,
            from: self.actor.person.clone(),
            to,
            at: self.now,
        });
    }

    /// The `firearm_issued` event; the scene window runs from now.
    fn issued(
        &mut self,
        id: &FirearmId,
        performer: &PersonId,
        scene_id: &SceneId,
        by: PersonId,
    ) -> Result<(), Refusal> {
        let scene = self.scene(scene_id)?;
        self.events.push(Event::FirearmIssued {
            firearm: id.clone(),
            performer: performer.clone(),
            scene: scene_id.clone(),
            day: self.today,
            by,
            at: self.now,
            due: self.now.plus_minutes(i64::from(scene.window_minutes)),
        });
        Ok(())
    }

    /// A custody handover: completes if the new custodian confirmed, else is offered.
    pub(super) fn assign_or_offer(
        &mut self,
        item: &ItemRef,
        person: &PersonId,
        confirmation: Option<&Actor>,
        scanned: Option<&crate::text::Name>,
    ) -> Result<(), Refusal> {
        if let ItemRef::Firearm(id) = item {
            self.scanned_is(id, self.firearm(id)?, scanned, "custody handover")?;
        }
        let takes_over = person == &self.actor.person;
        match confirmation {
            _ if takes_over => {}
            Some(who) => self.receiver(who, &HandoverKind::Custody, person, item)?,
            None => {
                self.offer(item.clone(), HandoverKind::Custody, person.clone());
                return Ok(());
            }
        }
        self.events.push(Event::CustodianAssigned {
            item: item.clone(),
            person: person.clone(),
        });
        Ok(())
    }

    /// RETURN: a custodian taking a firearm back completes it (nothing may stand in the way of
    /// making the set safer); the performer giving it back waits for a custodian to confirm.
    pub(super) fn give_back(
        &mut self,
        firearm: &FirearmId,
        confirmation: Option<&Actor>,
        scanned: Option<&crate::text::Name>,
    ) -> Result<(), Refusal> {
        let f = self.firearm(firearm)?;
        let issued_to = match &f.custody {
            Custody::Issued { performer, .. } => Some(performer),
            _ => None,
        };
        let by_performer =
            self.actor.role == Role::Performer && issued_to == Some(&self.actor.person);
        if !by_performer {
            self.custodian_actor(
                RuleId::CustodianOnly,
                "take a firearm back from a performer",
            )?;
        }
        let Some(performer) = issued_to else {
            return no(
                RuleId::State,
                format!("firearm {firearm} is not issued to anyone, so it cannot be returned"),
                "nothing to return: it is already with its custodian",
            );
        };
        // The record says which firearm came back: the one scanned.
        self.scanned_is(firearm, f, scanned, "return")?;
        let item = ItemRef::Firearm(firearm.clone());
        if by_performer {
            self.registered_actor()?;
            if let Some(h) = &f.handover {
                return no(
                    RuleId::State,
                    format!(
                        "the return of firearm {firearm} already waits for {} to confirm",
                        self.who(&h.to)
                    ),
                    "hand it to a custodian, who confirms taking it back",
                );
            }
            let to = f.custodian.clone();
            match confirmation {
                Some(who) => {
                    self.receiver(who, &HandoverKind::Return, &to, &item)?;
                    self.returned(firearm, performer.clone(), who.person.clone());
                }
                None => self.offer(item, HandoverKind::Return, to),
            }
            return Ok(());
        }
        if let Some(who) = confirmation
            && (&who.person != performer || who.role != Role::Performer)
        {
            return no(
                RuleId::CustodianOnly,
                format!(
                    "{} cannot confirm giving back firearm {firearm}: it is issued to {}",
                    self.who(&who.person),
                    self.who(performer)
                ),
                format!(
                    "{} confirms, as performer, or the firearm is taken back without it",
                    self.who(performer)
                ),
            );
        }
        // Taking a firearm back makes the set safer: no credential, incident or custody check
        // may stand in its way; any custodian may take it back, a return offered or not.
        let actor = self.actor.person.clone();
        self.returned(firearm, performer.clone(), actor);
        Ok(())
    }

    fn returned(&mut self, firearm: &FirearmId, performer: PersonId, to: PersonId) {
        self.events.push(Event::FirearmReturned {
            firearm: firearm.clone(),
            performer,
            to,
            at: self.now,
        });
    }

    fn confirm_handover(
        &mut self,
        item: &ItemRef,
        confirmation: Option<&Actor>,
    ) -> Result<(), Refusal> {
        let Some(h) = self.waiting(item)? else {
            return no(
                RuleId::State,
                format!("no handover of {item} is waiting to be confirmed"),
                "the giver hands it over first (issue, assign custodian or return)",
            );
        };
        let who = confirmation.unwrap_or(self.actor);
        self.receiver(who, &h.kind, &h.to, item)?;
        if confirmation.is_none() {
            self.registered_actor()?;
        }
        match (&h.kind, item) {
            (HandoverKind::Issue { scene }, ItemRef::Firearm(id)) => {
                // What may have changed since the offer: an incident, the day, the performer.
                self.no_stop(id)?;
                self.untouched_since_show(id, self.firearm(id)?, Some(h.entry))?;
                self.person(&h.to)?;
                let planned_day = self.scene(scene)?.day;
                if planned_day != self.today {
                    return no(
                        RuleId::ScenePlan,
                        format!(
                            "firearm {id} was offered for scene {scene}, planned for {planned_day}, not today ({})",
                            self.today
                        ),
                        "call the handover off and issue it again for today's scene",
                    );
                }
                self.issued(id, &h.to, scene, h.from.clone())
            }
            (HandoverKind::Return, ItemRef::Firearm(id)) => {
                self.returned(id, h.from.clone(), who.person.clone());
                Ok(())
            }
            (HandoverKind::Custody, _) => {
                self.person(&h.to)?;
                self.events.push(Event::CustodianAssigned {
                    item: item.clone(),
                    person: h.to.clone(),
                });
                Ok(())
            }
            (kind, _) => no(
                RuleId::State,
                format!("{item} cannot be in a {}", kind.words()),
                "call the handover off",
            ),
        }
    }
}
