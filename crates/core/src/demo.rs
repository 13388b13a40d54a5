//! Demo scripts: a shoot day as a list of steps (who acts, when, what they attempt, what should
//! happen), for `armory demo` and for benchmarks of a realistic mix of commands. `Scenario::Safe`
//! is a production's day done right: intake, verification, staffing, plans, the meeting, loads,
//! show checks, issues, blanks fired in a take, returns, the bore check after firing and the wrap
//! reconciliation.
//! `Scenario::Unsafe` is the day of RULES.md §1: each failure F1–F9 is attempted and refused by
//! its rule, then done the safe way. Pure data: the caller plays it through `decide` (and a store).

use crate::command::{Command, ContainerCount};
use crate::ids::{ContainerId, FirearmId, LocationId, LotId, PersonId, ProductionId, SceneId};
use crate::incident::DischargeKind;
use crate::items::{
    AmmoKind, BlankLoad, Calibre, ChamberLoad, FirearmClass, ItemRef, Positions, RoundCheck,
    RoundCount, SerialNumber,
};
use crate::parse::ParseError;
use crate::people::{Actor, AuthMethod, CredentialKind, CredentialNumber, Role};
use crate::policy::{ENTERTAINMENT_FIREARMS_PERMIT, Policy};
use crate::rules::RuleId;
use crate::scene::{BlankPlan, BlankStrength, FirearmPlan, PlannedFirearm, PlannedLoad, SceneKind};
use crate::text::{Name, Text};
use crate::time::{Date, TimeError, Timestamp};

/// Which day to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A shoot day done right.
    Safe,
    /// The Rust day: every failure refused, then done safely.
    Unsafe,
}

/// One act of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When it happens.
    pub at: Timestamp,
    /// Who attempts it.
    pub actor: Actor,
    /// What they attempt.
    pub command: Command,
    /// What is going on, in plain words.
    pub says: String,
    /// `Some(rule)` if the act must be refused by that rule; `None` if it must be accepted.
    pub refused_by: Option<RuleId>,
}

/// A script literal that does not parse (a bug in this file, reported instead of panicking).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoError {
    /// A value.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A time.
    #[error(transparent)]
    Time(#[from] TimeError),
}

/// The policy the scripts are written for: a set in New Mexico in October (UTC-6) that keeps
/// firearms and ammunition locked whenever nobody holds them (F5), and its armorer on firearms
/// the whole day, not only while firearms are out (F8).
pub fn policy() -> Policy {
    Policy {
        utc_offset_minutes: -360,
        refuse_unlocked_storage: true,
        armorer_dedicated_all_day: true,
        ..Policy::default()
    }
}

/// The shoot day of the scripts.
pub const SHOOT_DAY: &str = "2021-10-21";

/// The steps of a scenario, in order.
pub fn script(scenario: Scenario) -> Result<Vec<Step>, DemoError> {
    let mut s = Script {
        steps: Vec::new(),
        at: Timestamp::parse_rfc3339("2021-10-20T20:00:00Z")?,
    };
    s.intake()?;
    match scenario {
        Scenario::Safe => s.safe_day()?,
        Scenario::Unsafe => s.unsafe_day()?,
    }
    Ok(s.steps)
}

const ADMIN: &str = "adm";
const ARMORER: &str = "hannah";
const FIRST_AD: &str = "dave";
const PERFORMER: &str = "alec";
const SAFETY_REP: &str = "sam";
const PRODUCER: &str = "pat";
const PROP_MASTER: &str = "sarah";
const ADVISOR: &str = "val";

fn person(s: &str) -> Result<PersonId, ParseError> {
    PersonId::parse(s)
}
fn firearm(s: &str) -> Result<FirearmId, ParseError> {
    FirearmId::parse(s)
}
fn container(s: &str) -> Result<ContainerId, ParseError> {
    ContainerId::parse(s)
}
fn scene(s: &str) -> Result<SceneId, ParseError> {
    SceneId::parse(s)
}
fn name(s: &str) -> Result<Name, ParseError> {
    Name::parse(s)
}
fn text(s: &str) -> Result<Text, ParseError> {
    Text::parse(s)
}
fn count(n: u32) -> Result<RoundCount, ParseError> {
    RoundCount::try_from(n)
}
fn day() -> Result<Date, TimeError> {
    Date::parse(SHOOT_DAY)
}
fn actor(who: &str, role: Role) -> Result<Actor, ParseError> {
    Ok(Actor::new(person(who)?, role, AuthMethod::Pin))
}

struct Script {
    steps: Vec<Step>,
    at: Timestamp,
}

impl Script {
    fn step(
        &mut self,
        who: &str,
        role: Role,
        says: &str,
        command: Command,
        refused_by: Option<RuleId>,
    ) -> Result<(), DemoError> {
        self.steps.push(Step {
            at: self.at,
            actor: actor(who, role)?,
            command,
            says: says.to_owned(),
            refused_by,
        });
        self.at = self.at.plus_minutes(2);
        Ok(())
    }
    fn ok(&mut self, who: &str, role: Role, says: &str, command: Command) -> Result<(), DemoError> {
        self.step(who, role, says, command, None)
    }
    fn no(
        &mut self,
        rule: RuleId,
        who: &str,
        role: Role,
        says: &str,
        command: Command,
    ) -> Result<(), DemoError> {
        self.step(who, role, says, command, Some(rule))
    }
    fn at(&mut self, t: &str) -> Result<(), DemoError> {
        self.at = Timestamp::parse_rfc3339(t)?;
        Ok(())
    }

    fn receive(
        id: &str,
        kind: AmmoKind,
        n: u32,
        into: &str,
        supplier: &str,
        leftover: Option<&str>,
    ) -> Result<Command, DemoError> {
        Ok(Command::ReceiveLot {
            lot: LotId::parse(id)?,
            kind,
            calibre: Calibre::parse(".45 Long Colt")?,
            maker: name("Starline")?,
            headstamp: name("STARLINE 45 COLT")?,
            supplier: name(supplier)?,
            shipment: None,
            count: count(n)?,
            container: container(into)?,
            location: LocationId::parse("SAFE")?,
            leftover_from: leftover.map(name).transpose()?,
        })
    }

    fn load(f: &str, rounds: &[Option<&str>]) -> Result<Command, DemoError> {
        let chambers = rounds
            .iter()
            .map(|r| {
                r.map_or(Ok(ChamberLoad::Empty), |c| {
                    container(c).map(ChamberLoad::Round)
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Command::Load {
            firearm: firearm(f)?,
            chambers,
        })
    }

    fn show(f: &str, sc: &str, first_ad: &str) -> Result<Command, DemoError> {
        Ok(Command::ShowCheck {
            firearm: firearm(f)?,
            scene: scene(sc)?,
            performer: actor(PERFORMER, Role::Performer)?,
            first_ad: actor(first_ad, Role::FirstAd)?,
        })
    }

    /// The armorer hands `f` to `to`, who confirms receiving it with their PIN there and then.
    fn issue(f: &str, sc: &str, to: &str) -> Result<Command, DemoError> {
        Ok(Command::Issue {
            firearm: firearm(f)?,
            performer: person(to)?,
            scene: scene(sc)?,
            confirmation: Some(actor(to, Role::Performer)?),
            scanned: Some(name(f)?),
        })
    }

    /// The armorer takes `f` back; the performer confirms giving it with their PIN.
    fn take_back(f: &str) -> Result<Command, DemoError> {
        Ok(Command::Return {
            firearm: firearm(f)?,
            confirmation: Some(actor(PERFORMER, Role::Performer)?),
            scanned: Some(name(f)?),
        })
    }

    /// The armorer briefs the performer on `f`; he confirms with his PIN.
    fn brief(f: &str) -> Result<Command, DemoError> {
        Ok(Command::BriefPerformer {
            performer: person(PERFORMER)?,
            firearm: firearm(f)?,
            confirmation: Some(actor(PERFORMER, Role::Performer)?),
        })
    }

    /// The person acting confirms receiving `f` (on their own device).
    fn confirm(f: &str) -> Result<Command, DemoError> {
        Ok(Command::ConfirmHandover {
            item: Self::item(f)?,
            confirmation: None,
        })
    }

    fn plan(
        sc: &str,
        kind: SceneKind,
        f: &str,
        load: PlannedLoad,
        shields: bool,
    ) -> Result<Command, DemoError> {
        Ok(Command::PlanScene {
            scene: scene(sc)?,
            day: day()?,
            kind,
            window_minutes: Some(30),
            plan: FirearmPlan {
                firearms: vec![PlannedFirearm {
                    firearm: firearm(f)?,
                    load,
                    handler: person(PERFORMER)?,
                    muzzle_direction: text(
                        "cross-draw, muzzle down and away from the camera position",
                    )?,
                    blanks: (load == PlannedLoad::Blanks).then_some(BlankPlan {
                        strength: BlankStrength::Quarter,
                        min_distance_ft: 25,
                        close_range_load: None,
                    }),
                }],
                distances: text("no person within 20 ft of the muzzle line")?,
                shields: if shields {
                    Some(text(
                        "polycarbonate shield in front of camera and operator",
                    )?)
                } else {
                    None
                },
                remote_camera: false,
                blanks_in_rehearsal_exception: None,
                public_location: None,
            },
        })
    }

    /// `plan` with its (first) firearm's blanks and the plan changed by `f`.
    fn changed(mut plan: Command, f: impl FnOnce(&mut FirearmPlan)) -> Command {
        if let Command::PlanScene { plan, .. } = &mut plan {
            f(plan);
        }
        plan
    }

    fn meeting(scenes: &[&str]) -> Result<Command, DemoError> {
        Ok(Command::HoldMeeting {
            day: day()?,
            scenes: scenes.iter().map(|s| scene(s)).collect::<Result<_, _>>()?,
            attendees: [ARMORER, FIRST_AD, PERFORMER, SAFETY_REP]
                .iter()
                .map(|p| person(p))
                .collect::<Result<_, _>>()?,
            topics: vec![
                text("Safety Bulletin #1 read aloud")?,
                text("finger off the trigger; never point at anyone")?,
            ],
            items: crate::scene::MeetingItem::ALL.to_vec(),
            safety_rep: Some(actor(SAFETY_REP, Role::SafetyRep)?),
        })
    }

    fn item(f: &str) -> Result<ItemRef, ParseError> {
        firearm(f).map(ItemRef::Firearm)
    }

    /// The day before: the production, its people, storage, firearms and verified ammunition.
    fn intake(&mut self) -> Result<(), DemoError> {
        self.ok(
            ADMIN,
            Role::Admin,
            "The production opens its log.",
            Command::OpenProduction {
                production: ProductionId::parse("rust")?,
                title: name("Rust")?,
                admin_name: name("Production office")?,
            },
        )?;
        for (id, n, roles) in [
            (ARMORER, "Hannah", vec![Role::Armorer, Role::PropertyMaster]),
            (FIRST_AD, "Dave", vec![Role::FirstAd]),
            (PERFORMER, "Alec", vec![Role::Performer]),
            (SAFETY_REP, "Sam", vec![Role::SafetyRep]),
            (PRODUCER, "Pat", vec![Role::Producer]),
            (PROP_MASTER, "Sarah", vec![Role::PropertyMaster]),
        ] {
            self.ok(
                ADMIN,
                Role::Admin,
                &format!("{n} joins the production."),
                Command::AddPerson {
                    person: person(id)?,
                    name: name(n)?,
                    roles,
                },
            )?;
        }
        self.ok(
            ADMIN,
            Role::Admin,
            "The armorer's entertainment firearms permit is recorded.",
            Command::RecordCredential {
                person: person(ARMORER)?,
                kind: CredentialKind::parse(ENTERTAINMENT_FIREARMS_PERMIT)?,
                number: CredentialNumber::parse("EFP-0042")?,
                expires: Date::parse("2022-06-30")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The gun safe on the prop truck.",
            Command::AddLocation {
                location: LocationId::parse("SAFE")?,
                name: name("Gun safe, prop truck")?,
                locked: true,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The prop cart outside the church.",
            Command::AddLocation {
                location: LocationId::parse("CART")?,
                name: name("Prop cart")?,
                locked: false,
            },
        )?;
        for (f, serial) in [
            ("REV-1", "PT-1001"),
            ("REV-2", "PT-1002"),
            ("REV-3", "PT-1003"),
        ] {
            self.ok(
                ARMORER,
                Role::Armorer,
                &format!("Revolver {f} is registered and locked in the safe."),
                Command::RegisterFirearm {
                    firearm: firearm(f)?,
                    serial: SerialNumber::parse(serial)?,
                    make: name("Pietta")?,
                    model: name("1873 Single Action Army")?,
                    calibre: Calibre::parse(".45 Long Colt")?,
                    class: FirearmClass::Functional,
                    positions: Positions::try_from(6)?,
                    location: LocationId::parse("SAFE")?,
                    supplier: Some(name("Bonanza rental armory")?),
                    supplier_licence: Some(name("5-85-XXX-01-2J-12345")?),
                },
            )?;
        }
        self.ok(
            ARMORER,
            Role::Armorer,
            "50 dummies arrive from the prop house.",
            Self::receive("DUM-1", AmmoKind::Dummy, 50, "BOX-1", "Prop house", None)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "24 quarter-load blanks arrive.",
            Self::receive(
                "BLK-1",
                AmmoKind::Blank(BlankLoad::Quarter),
                24,
                "BOX-2",
                "Prop house",
                None,
            )?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Every dummy is rattled and looked at.",
            Command::VerifyLot {
                lot: LotId::parse("DUM-1")?,
                results: vec![RoundCheck::Rattled; 50],
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Every blank's crimp is checked.",
            Command::VerifyLot {
                lot: LotId::parse("BLK-1")?,
                results: vec![RoundCheck::Crimped; 24],
            },
        )?;
        Ok(())
    }

    /// Staffing, plans and the meeting of the shoot day morning.
    fn morning(&mut self) -> Result<(), DemoError> {
        self.at("2021-10-21T13:00:00Z")?;
        self.ok(
            PRODUCER,
            Role::Producer,
            "Hannah is designated today's armorer, with no other duty.",
            Command::DesignateArmorer {
                day: day()?,
                person: person(ARMORER)?,
            },
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "The church rehearsal is planned cold, with a shield.",
            Self::plan(
                "CHURCH",
                SceneKind::Rehearsal,
                "REV-1",
                PlannedLoad::Cold,
                true,
            )?,
        )?;
        let load = name("eighth-load blanks, crimped, no wad")?;
        let road = name("County Road 42 by the church")?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "The take is planned with blanks in REV-2: quarter loads, but the camera is 12 ft from the muzzle line, so a named close-range load; the church steps face the public road.",
            Self::changed(
                Self::plan(
                    "CHURCH-TAKE",
                    SceneKind::Take,
                    "REV-2",
                    PlannedLoad::Blanks,
                    true,
                )?,
                |p| {
                    p.firearms[0].blanks = Some(BlankPlan {
                        strength: BlankStrength::Quarter,
                        min_distance_ft: 12,
                        close_range_load: Some(load),
                    });
                    p.public_location = Some(road.clone());
                },
            ),
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer approves the close-range load for REV-2 in the take.",
            Command::ApproveCloseRangeLoad {
                scene: scene("CHURCH-TAKE")?,
                firearm: firearm("REV-2")?,
            },
        )?;
        self.ok(
            PRODUCER,
            Role::Producer,
            "Before the 07:30 call, the producer records the county film permit and the sheriff's notification for blanks by the road.",
            Command::RecordPublicNotice {
                day: day()?,
                location: road,
                permit: name("SF County film permit 2021-118")?,
                police_notice: name("Santa Fe County Sheriff, film liaison, ref 21-5521")?,
                call_time: crate::time::ClockTime::parse("07:30")?,
            },
        )?;
        self.ok(
            ADMIN,
            Role::Admin,
            "Val, the studio's safety advisor, joins the production.",
            Command::AddPerson {
                person: person(ADVISOR)?,
                name: name("Val")?,
                roles: vec![Role::SafetyAdvisor],
            },
        )?;
        self.ok(
            ADVISOR,
            Role::SafetyAdvisor,
            "The safety advisor assesses the take: camera and operator behind the shield, crew out of the line of fire, road traffic held.",
            Command::RecordRiskAssessment {
                scene: Some(scene("CHURCH-TAKE")?),
                assessment: text(
                    "camera and operator behind the polycarbonate shield at 12 ft; nobody else inside 20 ft; traffic held on the road during takes",
                )?,
            },
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "The safety meeting covers both scenes; everyone attends.",
            Self::meeting(&["CHURCH", "CHURCH-TAKE"])?,
        )?;
        for f in ["REV-1", "REV-2"] {
            self.ok(
                ARMORER,
                Role::Armorer,
                &format!("The armorer briefs Alec on {f}: handling, its load, the action, where to point it; he confirms."),
                Self::brief(f)?,
            )?;
        }
        Ok(())
    }

    /// The rehearsal, the take and the wrap, done right.
    fn rehearsal_take_and_wrap(&mut self, blanks_left: u32) -> Result<(), DemoError> {
        let e = None;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer takes REV-1 out of the safe.",
            Command::TakeOut {
                item: Self::item("REV-1")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Every chamber of REV-1 is recorded empty.",
            Self::load("REV-1", &[e; 6])?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-1 is shown cold to Alec and Dave; both confirm.",
            Self::show("REV-1", "CHURCH", FIRST_AD)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer hands REV-1 to Alec.",
            Self::issue("REV-1", "CHURCH", PERFORMER)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "After the rehearsal the armorer takes REV-1 back; Alec confirms with his PIN.",
            Self::take_back("REV-1")?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-1 goes back into the safe.",
            Command::Store {
                item: Self::item("REV-1")?,
                location: LocationId::parse("SAFE")?,
            },
        )?;
        let b = Some("BOX-2");
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-2 is taken out for the take.",
            Command::TakeOut {
                item: Self::item("REV-2")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Two blanks in chambers 1 and 2, four empty.",
            Self::load("REV-2", &[b, b, e, e, e, e])?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-2 is shown to Alec and Dave; both confirm.",
            Self::show("REV-2", "CHURCH-TAKE", FIRST_AD)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer hands REV-2 to Alec for the take; it is his once he confirms.",
            Command::Issue {
                firearm: firearm("REV-2")?,
                performer: person(PERFORMER)?,
                scene: scene("CHURCH-TAKE")?,
                confirmation: None,
                scanned: Some(name("REV-2")?),
            },
        )?;
        self.ok(
            PERFORMER,
            Role::Performer,
            "Alec confirms on his phone that he holds REV-2.",
            Self::confirm("REV-2")?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Both blanks fire as planned and are counted.",
            Command::Expend {
                firearm: firearm("REV-2")?,
                positions: vec![1, 2],
            },
        )?;
        self.ok(
            PERFORMER,
            Role::Performer,
            "After the take Alec hands REV-2 back.",
            Command::Return {
                firearm: firearm("REV-2")?,
                confirmation: None,
                scanned: Some(name("REV-2")?),
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer confirms she has REV-2 back.",
            Self::confirm("REV-2")?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The spent casings come out; every chamber is empty.",
            Command::Unload {
                firearm: firearm("REV-2")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-2 fired: a rod down the barrel and through every chamber proves it clear.",
            Command::BoreCheck {
                firearm: firearm("REV-2")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-2 goes back into the safe.",
            Command::Store {
                item: Self::item("REV-2")?,
                location: LocationId::parse("SAFE")?,
            },
        )?;
        self.at("2021-10-22T01:00:00Z")?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Wrap: every firearm is in the safe and every box is counted; the counts balance.",
            Command::Reconcile {
                day: day()?,
                counts: vec![
                    ContainerCount {
                        container: container("BOX-1")?,
                        count: count(50)?,
                    },
                    ContainerCount {
                        container: container("BOX-2")?,
                        count: count(blanks_left)?,
                    },
                ],
            },
        )?;
        Ok(())
    }

    fn safe_day(&mut self) -> Result<(), DemoError> {
        self.morning()?;
        self.rehearsal_take_and_wrap(22)
    }

    /// The take with blanks after the rehearsal: a misfire, and a firearm then handed out again
    /// without its bore proven clear (Brandon Lee, 1993), stopped; then done safely.
    fn misfire_take(&mut self) -> Result<(), DemoError> {
        let (b, e) = (Some("BOX-2"), None);
        self.no(
            RuleId::BlankDistance,
            FIRST_AD,
            Role::FirstAd,
            "The take is planned with Alec pointing REV-2 at the camera from 8 ft, quarter-load blanks, no close-range load.",
            Self::changed(
                Self::plan(
                    "CHURCH-TAKE",
                    SceneKind::Take,
                    "REV-2",
                    PlannedLoad::Blanks,
                    true,
                )?,
                |p| {
                    if let Some(b) = &mut p.firearms[0].blanks {
                        b.min_distance_ft = 8;
                    }
                },
            ),
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "The take is planned: REV-2 with two blanks, shields in front of the camera.",
            Self::plan(
                "CHURCH-TAKE",
                SceneKind::Take,
                "REV-2",
                PlannedLoad::Blanks,
                true,
            )?,
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "A safety meeting covers the take; everyone attends.",
            Self::meeting(&["CHURCH-TAKE"])?,
        )?;
        for (says, command) in [
            (
                "The armorer briefs Alec on REV-2; he confirms.",
                Self::brief("REV-2")?,
            ),
            (
                "REV-2 is taken out of the safe.",
                Command::TakeOut {
                    item: Self::item("REV-2")?,
                },
            ),
            (
                "Two blanks in chambers 1 and 2.",
                Self::load("REV-2", &[b, b, e, e, e, e])?,
            ),
            (
                "REV-2 is shown to Alec and Dave; both confirm.",
                Self::show("REV-2", "CHURCH-TAKE", FIRST_AD)?,
            ),
            (
                "The armorer hands REV-2 to Alec; he confirms with his PIN.",
                Self::issue("REV-2", "CHURCH-TAKE", PERFORMER)?,
            ),
        ] {
            self.ok(ARMORER, Role::Armorer, says, command)?;
        }
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "Click, no bang: the first blank misfires. Reported; REV-2 is stopped.",
            Command::ReportDischarge {
                firearm: firearm("REV-2")?,
                kind: DischargeKind::Misfire,
                positions: vec![1],
                description: text("misfire on the first blank of the take")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer takes REV-2 back; Alec confirms with his PIN.",
            Self::take_back("REV-2")?,
        )?;
        self.no(
            RuleId::BoreClear,
            ARMORER,
            Role::Armorer,
            "The misfired blank would go back into its box with the good ones.",
            Command::Unload {
                firearm: firearm("REV-2")?,
            },
        )?;
        for (says, command) in [
            (
                "The misfired blank comes out on its own and leaves the production.",
                Command::RecoverRound {
                    firearm: firearm("REV-2")?,
                    position: 1,
                },
            ),
            (
                "The other blank goes back into its box; every chamber is empty.",
                Command::Unload {
                    firearm: firearm("REV-2")?,
                },
            ),
            (
                "The misfire is closed with findings.",
                Command::CloseIncident {
                    incident: crate::ids::IncidentId::sequential(3),
                    findings: text("a bad primer; the round is out of the production")?,
                    safety_rep: actor(SAFETY_REP, Role::SafetyRep)?,
                },
            ),
            (
                "A blank is loaded again for the next take.",
                Self::load("REV-2", &[b, e, e, e, e, e])?,
            ),
            (
                "REV-2 is shown again to Alec and Dave.",
                Self::show("REV-2", "CHURCH-TAKE", FIRST_AD)?,
            ),
        ] {
            self.ok(ARMORER, Role::Armorer, says, command)?;
        }
        self.no(
            RuleId::BoreClear,
            ARMORER,
            Role::Armorer,
            "REV-2 goes back to Alec with nobody having looked down its barrel since the misfire.",
            Self::issue("REV-2", "CHURCH-TAKE", PERFORMER)?,
        )?;
        for (says, command) in [
            (
                "The blank comes out again; every chamber is empty.",
                Command::Unload {
                    firearm: firearm("REV-2")?,
                },
            ),
            (
                "A rod down the barrel and through every chamber: clear.",
                Command::BoreCheck {
                    firearm: firearm("REV-2")?,
                },
            ),
            (
                "The take is called for the day; REV-2 goes back into the safe.",
                Command::Store {
                    item: Self::item("REV-2")?,
                    location: LocationId::parse("SAFE")?,
                },
            ),
        ] {
            self.ok(ARMORER, Role::Armorer, says, command)?;
        }
        Ok(())
    }

    fn unsafe_day(&mut self) -> Result<(), DemoError> {
        use RuleId as R;
        let e = None;
        self.no(
            R::LiveNever,
            ARMORER,
            Role::Armorer,
            "F1: five live rounds are offered with the dummies.",
            Self::receive("LIVE-1", AmmoKind::Live, 5, "BAG", "Individual", None)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "F2: the armorer's leftovers from another film enter as their own lot.",
            Self::receive(
                "LEFT-1",
                AmmoKind::Dummy,
                12,
                "BAG-1",
                "Armorer's own stock",
                Some("a previous film"),
            )?,
        )?;
        self.no(
            R::ContainerPure,
            ARMORER,
            Role::Armorer,
            "F2: the leftovers are poured into the box labelled dummies.",
            Command::TransferRounds {
                from: container("BAG-1")?,
                to: container("BOX-1")?,
                count: count(12)?,
            },
        )?;
        self.no(
            R::LotVerified,
            ARMORER,
            Role::Armorer,
            "F1: a revolver is loaded from the unchecked leftovers.",
            Self::load("REV-3", &[Some("BAG-1"), e, e, e, e, e])?,
        )?;
        let mut results = vec![RoundCheck::Rattled; 12];
        results[7] = RoundCheck::Live;
        self.ok(
            ARMORER,
            Role::Armorer,
            "F1: checking every round finds a live one; all firearm work stops.",
            Command::VerifyLot {
                lot: LotId::parse("LEFT-1")?,
                results,
            },
        )?;
        self.no(
            R::IncidentStop,
            ARMORER,
            Role::Armorer,
            "F1: loading anything while the incident is open.",
            Self::load("REV-1", &[e; 6])?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The leftover lot is removed and handed to the sheriff.",
            Command::RemoveRounds {
                container: container("BAG-1")?,
                count: count(12)?,
                reason: text("live round found; lot removed and handed to the sheriff")?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer and the safety representative close the incident with findings.",
            Command::CloseIncident {
                incident: crate::ids::IncidentId::sequential(1),
                findings: text(
                    "the live round came from the leftover lot; lot removed; other lots re-checked",
                )?,
                safety_rep: actor(SAFETY_REP, Role::SafetyRep)?,
            },
        )?;
        self.at("2021-10-21T13:00:00Z")?;
        self.no(
            R::RehearsalCold,
            FIRST_AD,
            Role::FirstAd,
            "F9: the rehearsal is planned with blanks.",
            Self::plan(
                "CHURCH",
                SceneKind::Rehearsal,
                "REV-1",
                PlannedLoad::Blanks,
                true,
            )?,
        )?;
        self.no(
            R::ScenePlan,
            FIRST_AD,
            Role::FirstAd,
            "F9: the plan has no shield and no remote camera.",
            Self::plan(
                "CHURCH",
                SceneKind::Rehearsal,
                "REV-1",
                PlannedLoad::Cold,
                false,
            )?,
        )?;
        self.ok(
            PRODUCER,
            Role::Producer,
            "The producer gives the armorer props duty today as well.",
            Command::AssignDuty {
                day: day()?,
                person: person(ARMORER)?,
                duty: Role::PropertyMaster,
            },
        )?;
        self.no(
            R::ArmorerDedicated,
            PRODUCER,
            Role::Producer,
            "F8: she is then designated the day's armorer.",
            Command::DesignateArmorer {
                day: day()?,
                person: person(ARMORER)?,
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-1 comes out of the safe.",
            Command::TakeOut {
                item: Self::item("REV-1")?,
            },
        )?;
        self.no(
            R::LoadExplicit,
            ARMORER,
            Role::Armorer,
            "F4: three of six chambers are looked at.",
            Self::load("REV-1", &[e; 3])?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Every chamber of REV-1 is recorded empty.",
            Self::load("REV-1", &[e; 6])?,
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "The rehearsal is planned cold, with a shield.",
            Self::plan(
                "CHURCH",
                SceneKind::Rehearsal,
                "REV-1",
                PlannedLoad::Cold,
                true,
            )?,
        )?;
        self.no(
            R::CustodianOnly,
            FIRST_AD,
            Role::FirstAd,
            "F3: the 1st AD hands the revolver to the actor.",
            Self::issue("REV-1", "CHURCH", PERFORMER)?,
        )?;
        self.no(
            R::ShowCheck,
            ARMORER,
            Role::Armorer,
            "F4: \"cold gun\" is called without showing it.",
            Self::issue("REV-1", "CHURCH", PERFORMER)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-1 is shown cold to Alec and Dave; both confirm.",
            Self::show("REV-1", "CHURCH", FIRST_AD)?,
        )?;
        self.no(
            R::DailyMeeting,
            ARMORER,
            Role::Armorer,
            "F7: no safety meeting was held today.",
            Self::issue("REV-1", "CHURCH", PERFORMER)?,
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "The safety meeting is held; everyone attends.",
            Self::meeting(&["CHURCH"])?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer briefs Alec on REV-1: handling, its load, the action, where to point it; he confirms.",
            Self::brief("REV-1")?,
        )?;
        self.no(
            R::ArmorerDedicated,
            ARMORER,
            Role::Armorer,
            "F8: nobody is designated today's dedicated armorer.",
            Self::issue("REV-1", "CHURCH", PERFORMER)?,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "REV-3 is taken out to the cart.",
            Command::TakeOut {
                item: Self::item("REV-3")?,
            },
        )?;
        self.no(
            R::LockedStorage,
            ARMORER,
            Role::Armorer,
            "F5: REV-3 is put down on the unlocked prop cart over lunch.",
            Command::Store {
                item: Self::item("REV-3")?,
                location: LocationId::parse("CART")?,
            },
        )?;
        self.ok(
            FIRST_AD,
            Role::FirstAd,
            "F6: the accidental discharge is reported; REV-3 is stopped until investigated.",
            Command::ReportDischarge {
                firearm: firearm("REV-3")?,
                kind: DischargeKind::Accidental,
                positions: vec![],
                description: text("REV-3 fired while being handled at the cart")?,
            },
        )?;
        self.no(
            R::IncidentStop,
            ARMORER,
            Role::Armorer,
            "F6: REV-3 is loaded again without an investigation.",
            Self::load("REV-3", &[e; 6])?,
        )?;
        self.no(
            R::CustodianOnly,
            FIRST_AD,
            Role::FirstAd,
            "F3: the 1st AD takes a revolver back from the actor.",
            Command::Return {
                firearm: firearm("REV-1")?,
                confirmation: None,
                scanned: Some(name("REV-1")?),
            },
        )?;
        // The safe version of the rest of the day.
        self.ok(
            PRODUCER,
            Role::Producer,
            "The props duty goes to the property master instead.",
            Command::ReleaseDuty {
                day: day()?,
                person: person(ARMORER)?,
                duty: Role::PropertyMaster,
            },
        )?;
        self.ok(
            PRODUCER,
            Role::Producer,
            "Sarah takes the props duty.",
            Command::AssignDuty {
                day: day()?,
                person: person(PROP_MASTER)?,
                duty: Role::PropertyMaster,
            },
        )?;
        self.ok(
            PRODUCER,
            Role::Producer,
            "Hannah is designated today's armorer, with no other duty.",
            Command::DesignateArmorer {
                day: day()?,
                person: person(ARMORER)?,
            },
        )?;
        let mut wrong = Self::issue("REV-1", "CHURCH", PERFORMER)?;
        if let Command::Issue { scanned, .. } = &mut wrong {
            *scanned = Some(name("REV-3")?);
        }
        self.no(
            R::HandoverScan,
            ARMORER,
            Role::Armorer,
            "F3: the revolver picked up from the cart is handed over as the one shown; the scan says it is REV-3.",
            wrong,
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer hands the verified-cold REV-1 to Alec.",
            Self::issue("REV-1", "CHURCH", PERFORMER)?,
        )?;
        self.at("2021-10-21T14:00:00Z")?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "After the rehearsal the armorer takes REV-1 back; Alec confirms with his PIN.",
            Self::take_back("REV-1")?,
        )?;
        self.misfire_take()?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer and the safety representative close the discharge incident with findings.",
            Command::CloseIncident {
                incident: crate::ids::IncidentId::sequential(2),
                findings: text(
                    "worn hammer notch on REV-3; withdrawn from use and sent for repair",
                )?,
                safety_rep: actor(SAFETY_REP, Role::SafetyRep)?,
            },
        )?;
        for f in ["REV-1", "REV-3"] {
            self.ok(
                ARMORER,
                Role::Armorer,
                &format!("{f} goes back into the safe."),
                Command::Store {
                    item: Self::item(f)?,
                    location: LocationId::parse("SAFE")?,
                },
            )?;
        }
        self.at("2021-10-22T00:40:00Z")?;
        let missing = crate::ids::IncidentId::sequential(4);
        self.ok(
            ARMORER,
            Role::Armorer,
            "At the evening count REV-2 is not where the record says: reported missing; all firearm work stops.",
            Command::ReportMissing {
                firearm: firearm("REV-2")?,
                description: text("not in the safe at the evening count")?,
            },
        )?;
        self.no(
            RuleId::MissingReport,
            ARMORER,
            Role::Armorer,
            "It turns up in the truck's lock box; closing the incident with no police report number is refused.",
            Command::CloseIncident {
                incident: missing.clone(),
                findings: text("found in the prop truck's lock box")?,
                safety_rep: actor(SAFETY_REP, Role::SafetyRep)?,
            },
        )?;
        self.ok(
            PRODUCER,
            Role::Producer,
            "The producer records the sheriff's report number and, REV-2 being a licensed dealer's, the ATF's.",
            Command::RecordPoliceReport {
                incident: missing.clone(),
                police_report: name("SFCSO 21-10-2231")?,
                atf_incident: Some(name("ATF 2021-NM-0173")?),
            },
        )?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "The armorer and the safety representative close it with findings.",
            Command::CloseIncident {
                incident: missing,
                findings: text(
                    "found in the prop truck's lock box, left there at the company move; counted, locked in the safe; the move checklist now includes the lock box",
                )?,
                safety_rep: actor(SAFETY_REP, Role::SafetyRep)?,
            },
        )?;
        self.at("2021-10-22T01:00:00Z")?;
        self.ok(
            ARMORER,
            Role::Armorer,
            "Wrap: every firearm is in the safe and every box is counted; the counts balance.",
            Command::Reconcile {
                day: day()?,
                counts: vec![
                    ContainerCount {
                        container: container("BOX-1")?,
                        count: count(50)?,
                    },
                    ContainerCount {
                        container: container("BOX-2")?,
                        count: count(23)?,
                    },
                ],
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::{Event, State, apply, decide, replay};

    /// Plays a script as the store would, checking each step's expected outcome.
    fn play(scenario: Scenario) -> (State, Vec<Event>) {
        let policy = policy();
        let mut state = State::new();
        let mut log = Vec::new();
        for (n, step) in script(scenario).unwrap().into_iter().enumerate() {
            let events = match (
                decide(&policy, &state, &step.actor, &step.command, step.at),
                step.refused_by,
            ) {
                (Ok(events), None) => events,
                (Err(r), Some(rule)) if r.rule == rule => {
                    vec![r.to_event(&step.actor, &step.command)]
                }
                (outcome, expected) => panic!(
                    "step {n} ({}) expected {expected:?}, got {outcome:?}",
                    step.says
                ),
            };
            for e in events {
                apply(&mut state, &e).unwrap();
                log.push(e);
            }
        }
        (state, log)
    }

    #[test]
    fn the_safe_day_is_accepted_end_to_end() {
        let (state, log) = play(Scenario::Safe);
        assert!(state.refusals.is_empty());
        assert_eq!(state.days[&day().unwrap()].reconciled, Some(true));
        assert_eq!(replay(&log).unwrap(), state);
    }

    #[test]
    fn the_unsafe_day_stops_every_failure_then_wraps_clean() {
        let steps = script(Scenario::Unsafe).unwrap();
        for f in ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"] {
            assert!(
                steps
                    .iter()
                    .any(|s| s.refused_by.is_some() && s.says.starts_with(f)),
                "no refused step for {f}"
            );
        }
        let (state, log) = play(Scenario::Unsafe);
        assert_eq!(
            state.refusals.len(),
            steps.iter().filter(|s| s.refused_by.is_some()).count()
        );
        assert_eq!(state.days[&day().unwrap()].reconciled, Some(true));
        assert!(state.open_incidents().next().is_none());
        assert_eq!(replay(&log).unwrap(), state);
    }
}
