//! `apply`: folds one event into the state. Pure and total: it never panics, and every event that
//! `decide` produced for this state applies. An event that cannot be placed (an unknown firearm, a
//! container with fewer rounds than the event takes) is an `ApplyError`, and the state is left
//! exactly as it was. Each applied event is the log entry `state.next_index`; items it concerns
//! record that index in their history. An item changes only so (with the index pushed onto its
//! history), and histories and the note and refusal lists only grow: the projection relies on it
//! to tell which rows an entry changed (armory-store's projection.rs; checked by the property
//! tests in tests/props.rs).

use std::collections::BTreeMap;

use crate::event::Event;
use crate::ids::{ContainerId, FirearmId, LotId};
use crate::items::{Chamber, ItemRef};
use crate::overrides::Override;
use crate::people::{Role, SecretKind};
use crate::state::{
    Closure, Container, Custody, Firearm, Handover, Incident, Location, Lot, LotStatus, Meeting,
    Person, Production, Scene, ShowCheckRecord, State,
};

/// An event that does not fit the state it is applied to (the state is unchanged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {index} ({kind}) cannot be applied: {message}")]
pub struct ApplyError {
    /// The entry index.
    pub index: u64,
    /// The event's type.
    pub kind: &'static str,
    /// What does not fit.
    pub message: String,
}

/// Applies `event` as entry `state.next_index`.
pub fn apply(state: &mut State, event: &Event) -> Result<(), ApplyError> {
    let index = state.next_index;
    apply_at(state, index, event)
}

/// Applies `event` as log entry `index` (which must not be below `state.next_index`; entries the
/// core does not know may be skipped by the caller). On success `state.next_index` is `index + 1`.
pub fn apply_at(state: &mut State, index: u64, event: &Event) -> Result<(), ApplyError> {
    let err = |message: String| ApplyError {
        index,
        kind: event.kind(),
        message,
    };
    if index < state.next_index {
        return Err(err(format!(
            "entry {index} comes after entry {} already applied",
            state.next_index
        )));
    }
    place(state, index, event).map_err(err)?;
    state.next_index = index + 1;
    Ok(())
}

/// Applies all events in order, from `state.next_index`; stops at the first that does not fit.
pub fn apply_all<'a>(
    state: &mut State,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<(), ApplyError> {
    events.into_iter().try_for_each(|e| apply(state, e))
}

/// Rebuilds a state from a whole log.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<State, ApplyError> {
    let mut state = State::new();
    apply_all(&mut state, events)?;
    Ok(state)
}

type Placed = Result<(), String>;

fn firearm_mut<'a>(s: &'a mut State, id: &FirearmId) -> Result<&'a mut Firearm, String> {
    s.firearms
        .get_mut(id)
        .ok_or_else(|| format!("no firearm {id}"))
}
fn lot_mut<'a>(s: &'a mut State, id: &LotId) -> Result<&'a mut Lot, String> {
    s.lots.get_mut(id).ok_or_else(|| format!("no lot {id}"))
}
fn container_mut<'a>(s: &'a mut State, id: &ContainerId) -> Result<&'a mut Container, String> {
    s.containers
        .get_mut(id)
        .ok_or_else(|| format!("no container {id}"))
}

fn item_exists(s: &State, item: &ItemRef) -> Placed {
    match item {
        ItemRef::Firearm(id) => s
            .firearms
            .get(id)
            .map(|_| ())
            .ok_or_else(|| format!("no firearm {id}")),
        ItemRef::Container(id) => s
            .containers
            .get(id)
            .map(|_| ())
            .ok_or_else(|| format!("no container {id}")),
    }
}

/// Sets an item's custody and/or custodian and records the entry in its history.
/// Voids the show check of `item` when it is a firearm.
fn void_show_check(s: &mut State, item: &ItemRef) {
    if let ItemRef::Firearm(id) = item
        && let Some(f) = s.firearms.get_mut(id)
    {
        f.show_check = None;
    }
}

/// Sets (or, with `None`, clears) the handover waiting on `item`.
fn set_handover(s: &mut State, item: &ItemRef, handover: Option<Handover>) {
    match item {
        ItemRef::Firearm(id) => {
            if let Some(f) = s.firearms.get_mut(id) {
                f.handover = handover;
            }
        }
        ItemRef::Container(id) => {
            if let Some(c) = s.containers.get_mut(id) {
                c.handover = handover;
            }
        }
    }
}

fn touch_item(
    s: &mut State,
    item: &ItemRef,
    index: u64,
    custody: Option<Custody>,
    custodian: Option<&crate::ids::PersonId>,
) {
    match item {
        ItemRef::Firearm(id) => {
            if let Some(f) = s.firearms.get_mut(id) {
                if let Some(c) = custody {
                    f.custody = c;
                }
                if let Some(p) = custodian {
                    f.custodian = p.clone();
                }
                f.history.push(index);
            }
        }
        ItemRef::Container(id) => {
            if let Some(c) = s.containers.get_mut(id) {
                if let Some(cu) = custody {
                    c.custody = cu;
                }
                if let Some(p) = custodian {
                    c.custodian = p.clone();
                }
                c.history.push(index);
            }
        }
    }
}

fn place(s: &mut State, index: u64, event: &Event) -> Placed {
    match event {
        Event::ProductionOpened {
            production,
            title,
            admin,
            admin_name,
        } => {
            if let Some(p) = &s.production {
                return Err(format!("production {} is already open", p.id));
            }
            s.production = Some(Production {
                id: production.clone(),
                title: title.clone(),
            });
            s.people.insert(
                admin.clone(),
                Person {
                    name: admin_name.clone(),
                    roles: [Role::Admin].into(),
                    active: true,
                    credentials: Default::default(),
                    pin_set_by: None,
                    passkeys: Default::default(),
                },
            );
        }
        Event::PersonAdded {
            person,
            name,
            roles,
        } => {
            if s.people.contains_key(person) {
                return Err(format!("person {person} already exists"));
            }
            let roles = roles.iter().copied().collect();
            s.people.insert(
                person.clone(),
                Person {
                    name: name.clone(),
                    roles,
                    active: true,
                    credentials: Default::default(),
                    pin_set_by: None,
                    passkeys: Default::default(),
                },
            );
        }
        Event::RoleGranted { person, role } => {
            let p = s
                .people
                .get_mut(person)
                .ok_or_else(|| format!("no person {person}"))?;
            p.roles.insert(*role);
        }
        Event::RoleRevoked { person, role } => {
            let p = s
                .people
                .get_mut(person)
                .ok_or_else(|| format!("no person {person}"))?;
            p.roles.remove(role);
        }
        Event::PersonRemoved { person } => {
            let p = s
                .people
                .get_mut(person)
                .ok_or_else(|| format!("no person {person}"))?;
            p.active = false;
        }
        Event::CredentialRecorded {
            person,
            kind,
            number,
            expires,
        } => {
            let p = s
                .people
                .get_mut(person)
                .ok_or_else(|| format!("no person {person}"))?;
            p.credentials.insert(
                kind.clone(),
                crate::people::Credential {
                    number: number.clone(),
                    expires: *expires,
                },
            );
        }
        Event::DutyAssigned { day, person, duty } => {
            s.days
                .entry(*day)
                .or_default()
                .duties
                .entry(person.clone())
                .or_default()
                .insert(*duty);
        }
        Event::DutyReleased { day, person, duty } => {
            let d = s
                .days
                .get_mut(day)
                .ok_or_else(|| format!("no staffing on {day}"))?;
            let duties = d
                .duties
                .get_mut(person)
                .ok_or_else(|| format!("{person} has no duty on {day}"))?;
            if !duties.remove(duty) {
                return Err(format!("{person} has no duty {duty} on {day}"));
            }
            if duties.is_empty() {
                d.duties.remove(person);
            }
        }
        Event::ArmorerDesignated { day, person } => {
            s.days.entry(*day).or_default().armorer = Some(person.clone());
        }
        Event::LocationAdded {
            location,
            name,
            locked,
        } => {
            if s.locations.contains_key(location) {
                return Err(format!("location {location} already exists"));
            }
            s.locations.insert(
                location.clone(),
                Location {
                    name: name.clone(),
                    locked: *locked,
                },
            );
        }
        Event::LocationLockSet { location, locked } => {
            let l = s
                .locations
                .get_mut(location)
                .ok_or_else(|| format!("no location {location}"))?;
            l.locked = *locked;
        }
        Event::FirearmRegistered {
            firearm,
            serial,
            make,
            model,
            calibre,
            class,
            positions,
            location,
            custodian,
            supplier,
            supplier_licence,
        } => {
            if s.firearms.contains_key(firearm) {
                return Err(format!("firearm {firearm} already exists"));
            }
            s.firearms.insert(
                firearm.clone(),
                Firearm {
                    serial: serial.clone(),
                    make: make.clone(),
                    model: model.clone(),
                    calibre: calibre.clone(),
                    class: *class,
                    positions: *positions,
                    custodian: custodian.clone(),
                    custody: Custody::Stored {
                        location: location.clone(),
                    },
                    chambers: None,
                    show_check: None,
                    handover: None,
                    bore_fouled: None,
                    bore_proven: None,
                    misfired: Vec::new(),
                    supplier: supplier.clone(),
                    supplier_licence: supplier_licence.clone(),
                    history: vec![index],
                },
            );
        }
        Event::LotReceived {
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
            received_by,
            leftover_from,
        } => {
            if s.lots.contains_key(lot) {
                return Err(format!("lot {lot} already exists"));
            }
            if s.containers.contains_key(container) {
                return Err(format!("container {container} already exists"));
            }
            s.lots.insert(
                lot.clone(),
                Lot {
                    kind: *kind,
                    calibre: calibre.clone(),
                    maker: maker.clone(),
                    headstamp: headstamp.clone(),
                    supplier: supplier.clone(),
                    shipment: shipment.clone(),
                    leftover_from: leftover_from.clone(),
                    received_by: received_by.clone(),
                    received: u64::from(count.get()),
                    expended: 0,
                    removed: 0,
                    unaccounted: 0,
                    status: LotStatus::Unverified,
                    held_by: None,
                    history: vec![index],
                },
            );
            s.containers.insert(
                container.clone(),
                Container {
                    lot: lot.clone(),
                    count: u64::from(count.get()),
                    custodian: received_by.clone(),
                    custody: Custody::Stored {
                        location: location.clone(),
                    },
                    handover: None,
                    history: vec![index],
                },
            );
        }
        Event::LotVerified {
            lot,
            live,
            verified,
            ..
        } => {
            let l = lot_mut(s, lot)?;
            l.status = match (l.status, *verified, *live > 0) {
                (LotStatus::LiveFound, _, _) | (_, _, true) => LotStatus::LiveFound,
                (_, true, false) => LotStatus::Verified,
                (_, false, false) => LotStatus::Defective,
            };
            l.history.push(index);
        }
        Event::LotReopened { lot, .. } => {
            let l = lot_mut(s, lot)?;
            if l.status != LotStatus::LiveFound {
                l.status = LotStatus::Unverified;
            }
            l.history.push(index);
        }
        Event::LotHeld { lot, incident } => {
            let l = lot_mut(s, lot)?;
            if l.status != LotStatus::LiveFound {
                l.status = LotStatus::Held;
            }
            l.held_by = Some(incident.clone());
            l.history.push(index);
        }
        Event::RoundsTransferred {
            from,
            to,
            lot,
            count,
        } => {
            let n = u64::from(count.get());
            if !s.lots.contains_key(lot) {
                return Err(format!("no lot {lot}"));
            }
            let src = s
                .containers
                .get(from)
                .ok_or_else(|| format!("no container {from}"))?;
            if &src.lot != lot || src.count < n {
                return Err(format!(
                    "container {from} does not hold {n} rounds of lot {lot}"
                ));
            }
            let fresh = match s.containers.get(to) {
                Some(dst) if &dst.lot != lot => {
                    return Err(format!("container {to} holds another lot"));
                }
                Some(_) => None,
                None => Some(Container {
                    lot: lot.clone(),
                    count: 0,
                    custodian: src.custodian.clone(),
                    custody: match &src.custody {
                        Custody::Issued { .. } => Custody::AtHand,
                        c => c.clone(),
                    },
                    handover: None,
                    history: Vec::new(),
                }),
            };
            if let Some(c) = fresh {
                s.containers.insert(to.clone(), c);
            }
            let src = container_mut(s, from)?;
            src.count -= n;
            src.history.push(index);
            let dst = container_mut(s, to)?;
            dst.count += n;
            dst.history.push(index);
            lot_mut(s, lot)?.history.push(index);
        }
        Event::RoundsRemoved {
            container,
            lot,
            count,
            ..
        } => {
            let n = u64::from(count.get());
            let c = s
                .containers
                .get(container)
                .ok_or_else(|| format!("no container {container}"))?;
            if &c.lot != lot || c.count < n {
                return Err(format!(
                    "container {container} does not hold {n} rounds of lot {lot}"
                ));
            }
            lot_mut(s, lot)?.removed += n;
            let c = container_mut(s, container)?;
            c.count -= n;
            c.history.push(index);
            lot_mut(s, lot)?.history.push(index);
        }
        Event::ItemStored { item, location, .. } => {
            item_exists(s, item)?;
            // A show check holds for the firearm as it was shown, in the hands it was shown in:
            // stored (anywhere, an unlocked cart too) or handed on, it must be shown again.
            void_show_check(s, item);
            touch_item(
                s,
                item,
                index,
                Some(Custody::Stored {
                    location: location.clone(),
                }),
                None,
            );
        }
        Event::ItemTakenOut { item, .. } => {
            item_exists(s, item)?;
            touch_item(s, item, index, Some(Custody::AtHand), None);
        }
        Event::CustodianAssigned { item, person } => {
            item_exists(s, item)?;
            void_show_check(s, item);
            set_handover(s, item, None);
            touch_item(s, item, index, None, Some(person));
        }
        Event::HandoverOffered {
            item,
            handover,
            from,
            to,
            at,
        } => {
            item_exists(s, item)?;
            let offered = Handover {
                kind: handover.clone(),
                from: from.clone(),
                to: to.clone(),
                at: *at,
                entry: index,
            };
            set_handover(s, item, Some(offered));
            touch_item(s, item, index, None, None);
        }
        Event::HandoverCancelled { item, .. } => {
            item_exists(s, item)?;
            set_handover(s, item, None);
            touch_item(s, item, index, None, None);
        }
        Event::ScenePlanned {
            scene,
            day,
            kind,
            window_minutes,
            plan,
        } => {
            let mut history = s
                .scenes
                .get(scene)
                .map(|sc| sc.history.clone())
                .unwrap_or_default();
            history.push(index);
            s.scenes.insert(
                scene.clone(),
                Scene {
                    day: *day,
                    kind: *kind,
                    window_minutes: *window_minutes,
                    plan: plan.clone(),
                    close_range_approved: BTreeMap::new(),
                    history,
                },
            );
        }
        Event::CloseRangeLoadApproved { scene, firearm, .. } => {
            let sc = s
                .scenes
                .get_mut(scene)
                .ok_or_else(|| format!("no scene {scene}"))?;
            sc.close_range_approved.insert(firearm.clone(), index);
            sc.history.push(index);
        }
        Event::PublicNoticeRecorded {
            day,
            location,
            permit,
            police_notice,
            call_time,
            ..
        } => {
            s.days
                .entry(*day)
                .or_default()
                .public_notices
                .push(crate::state::PublicNotice {
                    location: location.clone(),
                    permit: permit.clone(),
                    police_notice: police_notice.clone(),
                    call_time: *call_time,
                    entry: index,
                });
        }
        Event::RiskAssessed { scene, day, .. } => {
            s.days.entry(*day).or_default().risk_assessments.push(index);
            if let Some(id) = scene {
                s.scenes
                    .get_mut(id)
                    .ok_or_else(|| format!("no scene {id}"))?
                    .history
                    .push(index);
            }
        }
        Event::MeetingHeld {
            day,
            scenes,
            attendees,
            topics,
            items,
            run_by,
            confirmed_by,
        } => {
            s.days.entry(*day).or_default().meetings.push(Meeting {
                scenes: scenes.clone(),
                attendees: attendees.clone(),
                topics: topics.clone(),
                items: items.clone(),
                run_by: run_by.clone(),
                confirmed_by: confirmed_by.clone(),
                entry: index,
            });
        }
        Event::FirearmLoaded {
            firearm, chambers, ..
        } => {
            let f = s
                .firearms
                .get(firearm)
                .ok_or_else(|| format!("no firearm {firearm}"))?;
            if chambers.len() != usize::from(f.positions.get()) {
                return Err(format!(
                    "{} chambers recorded for {} positions",
                    chambers.len(),
                    f.positions.get()
                ));
            }
            let mut taken: std::collections::BTreeMap<&ContainerId, u64> = Default::default();
            for c in chambers {
                if let Chamber::Round { container, .. } = c {
                    *taken.entry(container).or_default() += 1;
                }
            }
            for (cid, n) in &taken {
                let c = s
                    .containers
                    .get(*cid)
                    .ok_or_else(|| format!("no container {cid}"))?;
                if c.count < *n {
                    return Err(format!(
                        "container {cid} holds {} rounds, {n} loaded",
                        c.count
                    ));
                }
            }
            for (cid, n) in taken {
                let c = container_mut(s, cid)?;
                c.count -= n;
                c.history.push(index);
            }
            let f = firearm_mut(s, firearm)?;
            f.chambers = Some(chambers.clone());
            f.show_check = None;
            f.history.push(index);
        }
        Event::FirearmUnloaded { firearm, .. } => {
            let f = s
                .firearms
                .get(firearm)
                .ok_or_else(|| format!("no firearm {firearm}"))?;
            let positions = usize::from(f.positions.get());
            let back: Vec<ContainerId> = f
                .chambers
                .iter()
                .flatten()
                .filter_map(|c| match c {
                    Chamber::Round { container, .. } => Some(container.clone()),
                    _ => None,
                })
                .collect();
            if let Some(missing) = back.iter().find(|c| !s.containers.contains_key(*c)) {
                return Err(format!("no container {missing} to return rounds to"));
            }
            for cid in &back {
                let c = container_mut(s, cid)?;
                c.count += 1;
                if c.history.last() != Some(&index) {
                    c.history.push(index);
                }
            }
            let f = firearm_mut(s, firearm)?;
            f.chambers = Some(vec![Chamber::Empty; positions]);
            f.show_check = None;
            f.history.push(index);
        }
        Event::ShowChecked {
            firearm,
            scene,
            performer,
            first_ad,
            condition,
            ..
        } => {
            let f = firearm_mut(s, firearm)?;
            f.show_check = Some(ShowCheckRecord {
                scene: scene.clone(),
                performer: performer.clone(),
                first_ad: first_ad.clone(),
                condition: *condition,
                entry: index,
            });
            f.history.push(index);
        }
        Event::FirearmIssued {
            firearm,
            performer,
            scene,
            day,
            at,
            due,
            ..
        } => {
            let f = firearm_mut(s, firearm)?;
            f.handover = None;
            f.custody = Custody::Issued {
                performer: performer.clone(),
                scene: scene.clone(),
                at: *at,
                due: *due,
            };
            f.history.push(index);
            s.days.entry(*day).or_default().firearm_work = true;
            if let Some(sc) = s.scenes.get_mut(scene) {
                sc.history.push(index);
            }
        }
        Event::FirearmReturned { firearm, to, .. } => {
            let f = firearm_mut(s, firearm)?;
            f.custody = Custody::AtHand;
            f.custodian = to.clone();
            f.show_check = None;
            f.handover = None;
            f.history.push(index);
        }
        Event::PerformerBriefed {
            performer,
            firearm,
            day,
            ..
        } => {
            s.days
                .entry(*day)
                .or_default()
                .briefed
                .entry(performer.clone())
                .or_default()
                .insert(firearm.clone());
            // Not in the firearm's history: a briefing does not handle the firearm, and any
            // act on it after its show check voids the show check for HANDOVER-SCAN.
            if !s.firearms.contains_key(firearm) {
                return Err(format!("no firearm {firearm}"));
            }
        }
        Event::BoreChecked { firearm, .. } => {
            let f = firearm_mut(s, firearm)?;
            f.bore_fouled = None;
            f.bore_proven = Some(index);
            f.history.push(index);
        }
        Event::BoreFouled {
            firearm,
            cause,
            positions,
        } => {
            let f = firearm_mut(s, firearm)?;
            f.bore_fouled = Some(crate::state::Fouled {
                cause: *cause,
                entry: index,
            });
            for p in positions {
                if !f.misfired.contains(p) {
                    f.misfired.push(*p);
                }
            }
            f.history.push(index);
        }
        Event::RoundRecovered {
            firearm,
            position,
            lot,
        } => {
            let f = firearm_mut(s, firearm)?;
            let slot = usize::from(*position)
                .checked_sub(1)
                .and_then(|i| f.chambers.as_mut()?.get_mut(i))
                .ok_or_else(|| format!("firearm {firearm} has no position {position}"))?;
            *slot = Chamber::Empty;
            f.misfired.retain(|p| p != position);
            f.history.push(index);
            let l = s.lots.get_mut(lot).ok_or_else(|| format!("no lot {lot}"))?;
            l.removed += 1;
            l.history.push(index);
        }
        Event::RoundsExpended {
            firearm, positions, ..
        } => {
            let f = s
                .firearms
                .get(firearm)
                .ok_or_else(|| format!("no firearm {firearm}"))?;
            let mut chambers = f.chambers.clone().unwrap_or_default();
            let mut fired: Vec<LotId> = Vec::new();
            for p in positions {
                let slot = usize::from(*p)
                    .checked_sub(1)
                    .and_then(|i| chambers.get_mut(i));
                if let Some(slot) = slot
                    && let Chamber::Round { lot, .. } = slot
                {
                    let lot = lot.clone();
                    *slot = Chamber::Spent { lot: lot.clone() };
                    fired.push(lot);
                }
            }
            if let Some(missing) = fired.iter().find(|l| !s.lots.contains_key(*l)) {
                return Err(format!("no lot {missing}"));
            }
            for l in fired {
                let lot = lot_mut(s, &l)?;
                lot.expended += 1;
                if lot.history.last() != Some(&index) {
                    lot.history.push(index);
                }
            }
            let f = firearm_mut(s, firearm)?;
            if f.chambers.is_some() {
                f.chambers = Some(chambers);
            }
            f.show_check = None;
            f.bore_fouled = Some(crate::state::Fouled {
                cause: crate::state::FoulCause::Fired,
                entry: index,
            });
            f.history.push(index);
        }
        Event::IncidentOpened {
            incident,
            kind,
            severity,
            covers,
            description,
            reported_by,
            at,
            firearm,
        } => {
            if s.incidents.contains_key(incident) {
                return Err(format!("incident {incident} already exists"));
            }
            s.incidents.insert(
                incident.clone(),
                Incident {
                    kind: *kind,
                    severity: *severity,
                    covers: covers.clone(),
                    description: description.clone(),
                    reported_by: reported_by.clone(),
                    opened_at: *at,
                    entry: index,
                    closed: None,
                    police_report: None,
                    atf_incident: None,
                    firearm: firearm.clone(),
                },
            );
            if let crate::incident::Cover::Firearms(list) = covers {
                for id in list {
                    if let Some(f) = s.firearms.get_mut(id) {
                        f.history.push(index);
                    }
                }
            } else if let Some(f) = firearm.as_ref().and_then(|id| s.firearms.get_mut(id)) {
                f.history.push(index);
            }
        }
        Event::PoliceReportRecorded {
            incident,
            police_report,
            atf_incident,
        } => {
            let i = s
                .incidents
                .get_mut(incident)
                .ok_or_else(|| format!("no incident {incident}"))?;
            i.police_report = Some(police_report.clone());
            if atf_incident.is_some() {
                i.atf_incident = atf_incident.clone();
            }
        }
        Event::IncidentClosed {
            incident,
            findings,
            closed_by,
            safety_rep,
            at,
        } => {
            let i = s
                .incidents
                .get_mut(incident)
                .ok_or_else(|| format!("no incident {incident}"))?;
            if i.closed.is_some() {
                return Err(format!("incident {incident} is already closed"));
            }
            i.closed = Some(Closure {
                findings: findings.clone(),
                closed_by: closed_by.clone(),
                safety_rep: safety_rep.clone(),
                at: *at,
                entry: index,
            });
            // The lots it held are released to be verified again, round by round.
            for l in s.lots.values_mut() {
                if l.held_by.as_ref() == Some(incident) {
                    l.held_by = None;
                    if l.status == LotStatus::Held {
                        l.status = LotStatus::Unverified;
                    }
                    l.history.push(index);
                }
            }
        }
        Event::Reconciled {
            day,
            counts,
            balanced,
            ..
        } => {
            for c in counts {
                let have = s
                    .containers
                    .get(&c.container)
                    .ok_or_else(|| format!("no container {}", c.container))?;
                if have.lot != c.lot || have.count != u64::from(c.expected) {
                    return Err(format!(
                        "container {} does not hold the {} rounds of lot {} the reconciliation expected",
                        c.container, c.expected, c.lot
                    ));
                }
                if !s.lots.contains_key(&c.lot) {
                    return Err(format!("no lot {}", c.lot));
                }
            }
            for c in counts {
                let diff = i64::from(c.expected) - i64::from(c.counted);
                let cont = container_mut(s, &c.container)?;
                cont.count = u64::from(c.counted);
                cont.history.push(index);
                let lot = lot_mut(s, &c.lot)?;
                lot.unaccounted += diff;
                if diff != 0 {
                    lot.history.push(index);
                }
            }
            s.days.entry(*day).or_default().reconciled = Some(*balanced);
        }
        Event::OverrideGranted {
            rule,
            reason,
            target,
            approvers,
            at,
        } => {
            s.overrides.insert(
                index,
                Override {
                    rule: *rule,
                    reason: reason.clone(),
                    target: target.clone(),
                    approvers: approvers.clone(),
                    at: *at,
                    entry: index,
                    used_by: None,
                },
            );
        }
        Event::OverrideUsed { entry, .. } => {
            let o = s
                .overrides
                .get_mut(entry)
                .ok_or_else(|| format!("no override granted at entry {entry}"))?;
            if let Some(by) = o.used_by {
                return Err(format!(
                    "override of entry {entry} was already used by entry {by}"
                ));
            }
            o.used_by = Some(index);
        }
        Event::Corrected { entry, .. } => {
            if *entry >= index {
                return Err(format!("entry {entry} is not before this one"));
            }
            s.corrections.entry(*entry).or_default().push(index);
            for f in s
                .firearms
                .values_mut()
                .filter(|f| f.history.contains(entry))
            {
                f.history.push(index);
            }
            for l in s.lots.values_mut().filter(|l| l.history.contains(entry)) {
                l.history.push(index);
            }
            for c in s
                .containers
                .values_mut()
                .filter(|c| c.history.contains(entry))
            {
                c.history.push(index);
            }
        }
        Event::Refused { .. } => s.refusals.push(index),
        Event::Note { .. } => s.notes.push(index),
        // The entry is the record; the state is the surviving entries' before it.
        Event::LogContinued { .. } | Event::ProjectionRepaired { .. } | Event::LockedOut { .. } => {
        }
        Event::PolicySet { policy, by, .. } => {
            s.policy = Some(crate::state::PolicyInForce {
                policy: policy.clone(),
                entry: index,
                by: by.clone(),
            });
        }
        Event::PasskeyRegistered {
            person,
            credential,
            public_key,
            rp_id,
        } => {
            let p = s
                .people
                .get_mut(person)
                .ok_or_else(|| format!("no person {person}"))?;
            p.passkeys.insert(
                credential.clone(),
                crate::state::Passkey {
                    public_key: public_key.clone(),
                    rp_id: rp_id.clone(),
                },
            );
        }
        Event::PasskeyRemoved {
            person, credential, ..
        } => {
            let p = s
                .people
                .get_mut(person)
                .ok_or_else(|| format!("no person {person}"))?;
            if p.passkeys.remove(credential).is_none() {
                return Err(format!("{person} has no passkey {credential}"));
            }
        }
        // Sign-in tokens live outside the log; their revocation is on record, nothing to fold.
        Event::TokenRevoked { .. } => {}
        Event::SecretSet { person, kind, by } => {
            // Secrets of people not (or no longer) on the production are kept too: nothing here.
            if *kind == SecretKind::Pin
                && let Some(p) = s.people.get_mut(person)
            {
                p.pin_set_by = (by != person).then(|| by.clone());
            }
        }
    }
    Ok(())
}
