//! Intake and custody of items: locations, firearms and lots received, lot verification (LIVE-NEVER,
//! LOT-VERIFIED), containers (CONTAINER-PURE), storage (LOCKED-STORAGE) and custodians (CUSTODIAN-ONLY).

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn custody(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
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
                supplier,
                supplier_licence,
            } => {
                self.custodian_actor(RuleId::Role, "register firearms")?;
                if supplier_licence.is_some() && supplier.is_none() {
                    return no(
                        RuleId::State,
                        "a supplier's licence number is given but no supplier",
                        "name the supplier the licence belongs to",
                    );
                }
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
                    supplier: supplier.clone(),
                    supplier_licence: supplier_licence.clone(),
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
                self.settled(&ItemRef::Container(from.clone()))?;
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
                self.settled(&ItemRef::Container(container.clone()))?;
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
            Command::AssignCustodian {
                item,
                person,
                confirmation,
                scanned,
            } => {
                self.custodian_actor(RuleId::CustodianOnly, "hand over custody")?;
                // Today's designated armorer may take custody of any item that is not issued
                // (a custodian who walked away must not leave a firearm without one).
                let designated = self
                    .state
                    .days
                    .get(&self.today)
                    .and_then(|d| d.armorer.as_ref());
                let takes_over = designated == Some(&self.actor.person)
                    && self.actor.role == Role::Armorer
                    && person == &self.actor.person;
                if takes_over {
                    if let ItemRef::Firearm(id) = item {
                        self.not_issued(id, self.firearm(id)?)?;
                    } else if let ItemRef::Container(id) = item {
                        self.container(id)?;
                    }
                } else {
                    self.item_in_hand(item)?;
                }
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
                self.assign_or_offer(item, person, confirmation.as_ref(), scanned.as_ref())
            }
            _ => misrouted(command),
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

    fn item_in_hand(&self, item: &ItemRef) -> Result<&'a Custody, Refusal> {
        match item {
            ItemRef::Firearm(id) => {
                let f = self.firearm(id)?;
                self.holds(&f.custodian, &format!("firearm {id}"))?;
                self.not_issued(id, f)?;
                self.settled(item)?;
                Ok(&f.custody)
            }
            ItemRef::Container(id) => {
                let c = self.container(id)?;
                self.holds(&c.custodian, &format!("container {id}"))?;
                self.settled(item)?;
                Ok(&c.custody)
            }
        }
    }

    fn verify_lot(&mut self, lot_id: &LotId, results: &[RoundCheck]) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::Role, "verify ammunition")?;
        let lot = self.lot(lot_id)?;
        if let (LotStatus::Held, Some(incident)) = (lot.status, &lot.held_by) {
            return no(
                RuleId::LotVerified,
                format!(
                    "lot {lot_id} is held by incident {incident}: a round from it, sold as a dummy, fired"
                ),
                format!(
                    "find out how (the incident's findings), close incident {incident}, then verify every round again"
                ),
            );
        }
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
}
