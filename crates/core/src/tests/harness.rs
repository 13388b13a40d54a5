//! A set in a test: policy, state and the log, played the way the store plays commands
//! (decide; append and apply the events; or append the `refused` event).

use crate::*;

pub fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}
pub fn fid(s: &str) -> FirearmId {
    FirearmId::parse(s).unwrap()
}
pub fn lot(s: &str) -> LotId {
    LotId::parse(s).unwrap()
}
pub fn cid(s: &str) -> ContainerId {
    ContainerId::parse(s).unwrap()
}
pub fn loc(s: &str) -> LocationId {
    LocationId::parse(s).unwrap()
}
pub fn sid(s: &str) -> SceneId {
    SceneId::parse(s).unwrap()
}
pub fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}
pub fn text(s: &str) -> Text {
    Text::parse(s).unwrap()
}
pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}
pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}
pub fn actor(who: &str, role: Role) -> Actor {
    Actor::new(pid(who), role, AuthMethod::Pin)
}

/// The people of the test production (ids, names, roles).
pub const ADMIN: &str = "adm";
pub const ARMORER: &str = "hgr";
pub const FIRST_AD: &str = "dh";
pub const PERFORMER: &str = "ab";
pub const SAFETY_REP: &str = "rep";
pub const PRODUCER: &str = "prod";
pub const AUDITOR: &str = "aud";
pub const PROP_MASTER: &str = "pm";

/// The shoot day (MDT, UTC-6) and times on it.
pub const DAY: &str = "2021-10-21";
pub const DAY_BEFORE: &str = "2021-10-20T20:00:00Z";
pub const MORNING: &str = "2021-10-21T13:00:00Z";

#[derive(Clone)]
pub struct Set {
    pub policy: Policy,
    pub state: State,
    pub log: Vec<Event>,
    pub now: Timestamp,
    pub refusals: Vec<Refusal>,
}

impl Set {
    pub fn new(now: &str) -> Self {
        let policy = Policy {
            utc_offset_minutes: -360,
            ..Policy::default()
        };
        Self {
            policy,
            state: State::new(),
            log: Vec::new(),
            now: ts(now),
            refusals: Vec::new(),
        }
    }

    pub fn at(&mut self, now: &str) {
        self.now = ts(now);
    }

    /// Plays a command as the store does.
    pub fn try_act(
        &mut self,
        who: &str,
        role: Role,
        command: Command,
    ) -> Result<Vec<Event>, Refusal> {
        let actor = actor(who, role);
        // A test that changes `self.policy` after the production opened: the change is recorded
        // as the log would hold it (a `policy_set`), so the policy in force is the test's.
        if let Some(in_log) = &self.state.policy
            && in_log.policy != self.policy
        {
            let set = Event::PolicySet {
                policy: self.policy.clone(),
                by: pid(ADMIN),
                loosened: Vec::new(),
            };
            apply(&mut self.state, &set).unwrap();
            self.log.push(set);
        }
        match decide(&self.policy, &self.state, &actor, &command, self.now) {
            Ok(events) => {
                assert!(
                    !events.is_empty(),
                    "{} was accepted but recorded nothing",
                    command.kind()
                );
                for e in &events {
                    if let Err(err) = apply(&mut self.state, e) {
                        panic!("decide produced an event apply refuses: {err}\n{e:?}");
                    }
                    self.log.push(e.clone());
                }
                // A policy the act set is the test's policy from here on.
                if let Some(in_log) = &self.state.policy {
                    self.policy = in_log.policy.clone();
                }
                Ok(events)
            }
            Err(refusal) => {
                // A refusal changes nothing but its own `refused` entry.
                let before = self.state.clone();
                let event = refusal.to_event(&actor, &command);
                apply(&mut self.state, &event).unwrap();
                self.log.push(event);
                let mut expected = before;
                expected.refusals.push(expected.next_index);
                expected.next_index += 1;
                assert_eq!(self.state, expected, "a refused command changed the state");
                self.refusals.push(refusal.clone());
                Err(refusal)
            }
        }
    }

    pub fn ok(&mut self, who: &str, role: Role, command: Command) -> Vec<Event> {
        let kind = command.kind();
        match self.try_act(who, role, command) {
            Ok(events) => events,
            Err(r) => panic!("{kind} by {who} as {role} was refused: {r}"),
        }
    }

    pub fn refused(&mut self, rule: RuleId, who: &str, role: Role, command: Command) -> Refusal {
        let kind = command.kind();
        match self.try_act(who, role, command) {
            Ok(events) => panic!(
                "{kind} by {who} as {role} should be refused by {rule}, but produced {events:?}"
            ),
            Err(r) => {
                assert_eq!(
                    r.rule, rule,
                    "{kind} by {who} was refused by the wrong rule: {r}"
                );
                r
            }
        }
    }

    /// The armorer briefs the performer on `firearm` today (PERFORMER-BRIEFED).
    pub fn brief(&mut self, firearm: &str) {
        self.ok(
            ARMORER,
            Role::Armorer,
            Command::BriefPerformer {
                performer: pid(PERFORMER),
                firearm: fid(firearm),
                confirmation: None,
            },
        );
    }

    /// The log replays into the same state.
    pub fn assert_replays(&self) {
        let replayed = replay(&self.log).unwrap();
        assert_eq!(
            replayed, self.state,
            "replay of the log does not rebuild the state"
        );
        let json = serde_json::to_string(&self.log).unwrap();
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, self.log, "events do not survive JSON");
        let state: State =
            serde_json::from_str(&serde_json::to_string(&self.state).unwrap()).unwrap();
        assert_eq!(state, self.state, "state does not survive JSON");
    }

    // ---------- the production, ready for the shoot day ----------

    /// The production opened the day before, crew and kit registered, ammunition verified.
    pub fn production() -> Self {
        let mut set = Set::new(DAY_BEFORE);
        set.ok(
            ADMIN,
            Role::Admin,
            Command::OpenProduction {
                production: ProductionId::parse("rust").unwrap(),
                title: name("Rust"),
                admin_name: name("Admin"),
            },
        );
        for (id, n, roles) in [
            (ARMORER, "Hannah", vec![Role::Armorer, Role::PropertyMaster]),
            (FIRST_AD, "Dave", vec![Role::FirstAd]),
            (PERFORMER, "Alec", vec![Role::Performer]),
            (SAFETY_REP, "Sam", vec![Role::SafetyRep]),
            (PRODUCER, "Pat", vec![Role::Producer]),
            (AUDITOR, "Ines", vec![Role::Auditor]),
            (PROP_MASTER, "Sarah", vec![Role::PropertyMaster]),
        ] {
            set.ok(
                ADMIN,
                Role::Admin,
                Command::AddPerson {
                    person: pid(id),
                    name: name(n),
                    roles,
                },
            );
        }
        set.credential(ARMORER, "2022-06-30");
        set.ok(
            ARMORER,
            Role::Armorer,
            Command::AddLocation {
                location: loc("SAFE"),
                name: name("Gun safe, prop truck"),
                locked: true,
            },
        );
        set.ok(
            ARMORER,
            Role::Armorer,
            Command::AddLocation {
                location: loc("CART"),
                name: name("Prop cart outside the church"),
                locked: false,
            },
        );
        for (f, serial) in [
            ("REV-1", "PT-1001"),
            ("REV-2", "PT-1002"),
            ("REV-3", "PT-1003"),
        ] {
            set.ok(
                ARMORER,
                Role::Armorer,
                Command::RegisterFirearm {
                    firearm: fid(f),
                    serial: SerialNumber::parse(serial).unwrap(),
                    make: name("Pietta"),
                    model: name("1873 Single Action Army"),
                    calibre: Calibre::parse(".45 Long Colt").unwrap(),
                    class: FirearmClass::Functional,
                    positions: Positions::try_from(6).unwrap(),
                    location: loc("SAFE"),
                    supplier: None,
                    supplier_licence: None,
                },
            );
        }
        set.receive("DUM-1", AmmoKind::Dummy, 50, "BOX-1", "Prop house", None);
        set.receive(
            "BLK-1",
            AmmoKind::Blank(BlankLoad::Quarter),
            24,
            "BOX-2",
            "Prop house",
            None,
        );
        set.ok(
            ARMORER,
            Role::Armorer,
            Command::VerifyLot {
                lot: lot("DUM-1"),
                results: vec![RoundCheck::Rattled; 50],
            },
        );
        set.ok(
            ARMORER,
            Role::Armorer,
            Command::VerifyLot {
                lot: lot("BLK-1"),
                results: vec![RoundCheck::Crimped; 24],
            },
        );
        set
    }

    pub fn credential(&mut self, who: &str, expires: &str) {
        self.ok(
            ADMIN,
            Role::Admin,
            Command::RecordCredential {
                person: pid(who),
                kind: CredentialKind::parse(policy::ENTERTAINMENT_FIREARMS_PERMIT).unwrap(),
                number: CredentialNumber::parse("EFP-0042").unwrap(),
                expires: date(expires),
            },
        );
    }

    pub fn receive_cmd(
        id: &str,
        kind: AmmoKind,
        count: u32,
        container: &str,
        supplier: &str,
        leftover: Option<&str>,
    ) -> Command {
        Command::ReceiveLot {
            lot: lot(id),
            kind,
            calibre: Calibre::parse(".45 Long Colt").unwrap(),
            maker: name("Starline"),
            headstamp: name("STARLINE 45 COLT"),
            supplier: name(supplier),
            shipment: None,
            count: RoundCount::try_from(count).unwrap(),
            container: cid(container),
            location: loc("SAFE"),
            leftover_from: leftover.map(name),
        }
    }

    pub fn receive(
        &mut self,
        id: &str,
        kind: AmmoKind,
        count: u32,
        container: &str,
        supplier: &str,
        leftover: Option<&str>,
    ) {
        self.ok(
            ARMORER,
            Role::Armorer,
            Self::receive_cmd(id, kind, count, container, supplier, leftover),
        );
    }

    /// The production on the morning of the shoot day, with everything in place to issue REV-1 to
    /// the performer for the rehearsal CHURCH: armorer designated, scene planned, meeting held,
    /// REV-1 verified cold and shown. Only the `Issue` is left.
    pub fn ready_to_issue() -> Self {
        let mut set = Set::ready_but_unbriefed();
        for f in ["REV-1", "REV-2", "REV-3"] {
            set.brief(f);
        }
        set
    }

    /// REV-2 planned with blanks for the take SHOOTOUT (the plan as `plan` leaves it; meeting
    /// held), loaded with two blanks and shown to the performer, in the armorer's hands.
    pub fn blank_take(plan: impl FnOnce(&mut FirearmPlan)) -> Self {
        let mut set = Set::ready_to_issue();
        set.ok(FIRST_AD, Role::FirstAd, shootout_plan(plan));
        set.ok(FIRST_AD, Role::FirstAd, meeting_cmd("SHOOTOUT"));
        set.ok(
            ARMORER,
            Role::Armorer,
            Command::TakeOut {
                item: ItemRef::Firearm(fid("REV-2")),
            },
        );
        set.two_blanks_shown();
        set
    }

    /// REV-2 loaded with two blanks from BOX-2 and shown for SHOOTOUT.
    pub fn two_blanks_shown(&mut self) {
        self.ok(
            ARMORER,
            Role::Armorer,
            load_cmd(
                "REV-2",
                &[Some("BOX-2"), Some("BOX-2"), None, None, None, None],
            ),
        );
        self.ok(
            ARMORER,
            Role::Armorer,
            show_cmd("REV-2", "SHOOTOUT", FIRST_AD),
        );
    }

    /// [`Set::ready_to_issue`] before the performer is briefed on any firearm.
    pub fn ready_but_unbriefed() -> Self {
        Set::ready_after(meeting_cmd("CHURCH"))
    }

    /// [`Set::ready_but_unbriefed`] with `meeting` as the day's safety meeting.
    pub fn ready_after(meeting: Command) -> Self {
        let mut set = Set::production();
        set.at(MORNING);
        set.ok(
            PRODUCER,
            Role::Producer,
            Command::DesignateArmorer {
                day: date(DAY),
                person: pid(ARMORER),
            },
        );
        set.ok(
            FIRST_AD,
            Role::FirstAd,
            plan_cmd(
                "CHURCH",
                SceneKind::Rehearsal,
                "REV-1",
                PlannedLoad::Cold,
                true,
            ),
        );
        set.ok(FIRST_AD, Role::FirstAd, meeting);
        set.ok(
            ARMORER,
            Role::Armorer,
            Command::TakeOut {
                item: ItemRef::Firearm(fid("REV-1")),
            },
        );
        set.ok(ARMORER, Role::Armorer, load_cmd("REV-1", &[None; 6]));
        set.ok(
            ARMORER,
            Role::Armorer,
            show_cmd("REV-1", "CHURCH", FIRST_AD),
        );
        set
    }
}

pub fn plan_cmd(
    scene: &str,
    kind: SceneKind,
    firearm: &str,
    load: PlannedLoad,
    shields: bool,
) -> Command {
    Command::PlanScene {
        scene: sid(scene),
        day: date(DAY),
        kind,
        window_minutes: Some(30),
        plan: FirearmPlan {
            firearms: vec![PlannedFirearm {
                firearm: fid(firearm),
                load,
                handler: pid(PERFORMER),
                muzzle_direction: text("cross-draw, muzzle down and away from the camera position"),
                blanks: (load == PlannedLoad::Blanks).then_some(crate::scene::BlankPlan {
                    strength: crate::scene::BlankStrength::Quarter,
                    min_distance_ft: 25,
                    close_range_load: None,
                }),
            }],
            distances: text("no person within 20 ft of the muzzle line"),
            shields: shields.then(|| text("polycarbonate shield in front of camera and operator")),
            remote_camera: false,
            blanks_in_rehearsal_exception: None,
            public_location: None,
        },
    }
}

/// The take SHOOTOUT: REV-2 with quarter-load blanks at 25 ft, then changed by `f`.
pub fn shootout_plan(f: impl FnOnce(&mut FirearmPlan)) -> Command {
    let mut cmd = plan_cmd(
        "SHOOTOUT",
        SceneKind::Take,
        "REV-2",
        PlannedLoad::Blanks,
        true,
    );
    if let Command::PlanScene { plan, .. } = &mut cmd {
        f(plan);
    }
    cmd
}

pub fn meeting_cmd(scene: &str) -> Command {
    Command::HoldMeeting {
        day: date(DAY),
        scenes: vec![sid(scene)],
        attendees: vec![pid(ARMORER), pid(FIRST_AD), pid(PERFORMER), pid(SAFETY_REP)],
        topics: vec![
            text("Safety Bulletin #1 read aloud"),
            text("finger off the trigger; never point at anyone"),
        ],
        items: crate::scene::MeetingItem::ALL.to_vec(),
        safety_rep: Some(actor(SAFETY_REP, Role::SafetyRep)),
    }
}

/// A load: `None` is an empty chamber, `Some(container)` a round from it.
pub fn load_cmd(firearm: &str, chambers: &[Option<&str>]) -> Command {
    Command::Load {
        firearm: fid(firearm),
        chambers: chambers
            .iter()
            .map(|c| c.map_or(ChamberLoad::Empty, |c| ChamberLoad::Round(cid(c))))
            .collect(),
    }
}

/// A show check confirmed by the performer and `first_ad` (signed in as 1st AD).
pub fn show_cmd(firearm: &str, scene: &str, first_ad: &str) -> Command {
    Command::ShowCheck {
        firearm: fid(firearm),
        scene: sid(scene),
        performer: actor(PERFORMER, Role::Performer),
        first_ad: actor(first_ad, Role::FirstAd),
    }
}

pub fn issue_cmd(firearm: &str, scene: &str) -> Command {
    Command::Issue {
        firearm: fid(firearm),
        performer: pid(PERFORMER),
        scene: sid(scene),
        confirmation: Some(actor(PERFORMER, Role::Performer)),
        scanned: Some(name(firearm)),
    }
}
