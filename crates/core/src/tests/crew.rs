//! Roles and overrides of the second pass: property masters and their assistants handle firearms
//! only with the credentials, a safety advisor never does, ARMORER-DEDICATED is a window (or the
//! whole day by policy) whose override needs the armorer too, and where the jurisdiction's law
//! requires a rule nobody overrides it.

use super::harness::*;
use crate::*;

const ASSISTANT: &str = "apm";
const ADVISOR: &str = "adv";

fn join(set: &mut Set, who: &str, n: &str, role: Role) {
    set.ok(
        ADMIN,
        Role::Admin,
        Command::AddPerson {
            person: pid(who),
            name: name(n),
            roles: vec![role],
        },
    );
}

fn register(f: &str, serial: &str) -> Command {
    Command::RegisterFirearm {
        firearm: fid(f),
        serial: SerialNumber::parse(serial).unwrap(),
        make: name("Colt"),
        model: name("Single Action Army"),
        calibre: Calibre::parse(".45 Long Colt").unwrap(),
        class: FirearmClass::Functional,
        positions: Positions::try_from(6).unwrap(),
        location: loc("SAFE"),
        supplier: None,
        supplier_licence: None,
    }
}

#[test]
fn property_masters_and_assistants_handle_firearms_only_with_the_credentials() {
    let mut set = Set::production();
    set.at(MORNING);
    join(&mut set, ASSISTANT, "Ana", Role::AssistantPropertyMaster);
    for (who, role, f, serial) in [
        (PROP_MASTER, Role::PropertyMaster, "REV-8", "C-8"),
        (ASSISTANT, Role::AssistantPropertyMaster, "REV-9", "C-9"),
    ] {
        let r = set.refused(RuleId::Credentials, who, role, register(f, serial));
        assert!(r.why.contains("entertainment_firearms_permit"), "{r}");
        set.credential(who, "2022-10-01");
        set.ok(who, role, register(f, serial));
    }
    // A policy may forbid it (a tightening: the armorer alone may do it).
    set.policy.property_master_may_be_custodian = false;
    let r = set.refused(
        RuleId::Role,
        ASSISTANT,
        Role::AssistantPropertyMaster,
        Command::TakeOut {
            item: ItemRef::Firearm(fid("REV-9")),
        },
    );
    assert!(r.needed.contains("assistant property master"), "{r}");
    set.assert_replays();
}

#[test]
fn a_safety_advisor_reads_and_assesses_but_never_handles_firearms() {
    let mut set = Set::ready_to_issue();
    join(&mut set, ADVISOR, "Val", Role::SafetyAdvisor);
    let events = set.ok(
        ADVISOR,
        Role::SafetyAdvisor,
        Command::RecordRiskAssessment {
            scene: Some(sid("CHURCH")),
            assessment: text(
                "crew in the pews is inside 20 ft of the muzzle line; move them behind the shield",
            ),
        },
    );
    assert!(matches!(&events[..], [Event::RiskAssessed { day, .. }] if *day == date(DAY)));
    assert_eq!(set.state.days[&date(DAY)].risk_assessments.len(), 1);
    for cmd in [
        issue_cmd("REV-1", "CHURCH"),
        load_cmd("REV-2", &[None; 6]),
        Command::TakeOut {
            item: ItemRef::Firearm(fid("REV-3")),
        },
    ] {
        let kind = cmd.kind();
        match set.try_act(ADVISOR, Role::SafetyAdvisor, cmd) {
            Err(r) => assert!(
                matches!(r.rule, RuleId::CustodianOnly | RuleId::Role)
                    && r.why.contains("safety advisor"),
                "{kind}: {r}"
            ),
            Ok(events) => panic!("a safety advisor did {kind}: {events:?}"),
        }
    }
    // Anyone else who may not assess is told who does.
    let r = set.refused(
        RuleId::Role,
        PERFORMER,
        Role::Performer,
        Command::RecordRiskAssessment {
            scene: None,
            assessment: text("looks fine"),
        },
    );
    assert!(r.needed.contains("safety advisor"), "{r}");
    set.assert_replays();
}

#[test]
fn the_armorers_window_runs_from_the_first_take_out_until_all_are_locked_away() {
    let mut set = Set::ready_to_issue();
    // REV-1 is out (ready_to_issue took it out): no other duty, in any role.
    let note_as_props = || Command::Note {
        text: text("props check"),
    };
    set.refused(
        RuleId::ArmorerDedicated,
        ARMORER,
        Role::PropertyMaster,
        note_as_props(),
    );
    set.refused(
        RuleId::ArmorerDedicated,
        PRODUCER,
        Role::Producer,
        Command::AssignDuty {
            day: date(DAY),
            person: pid(ARMORER),
            duty: Role::PropertyMaster,
        },
    );
    // Locked away again, the window closes: props duty is hers to take.
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Store {
            item: ItemRef::Firearm(fid("REV-1")),
            location: loc("SAFE"),
        },
    );
    assert!(set.state.firearms_out().is_empty());
    set.ok(
        PRODUCER,
        Role::Producer,
        Command::AssignDuty {
            day: date(DAY),
            person: pid(ARMORER),
            duty: Role::PropertyMaster,
        },
    );
    set.ok(ARMORER, Role::PropertyMaster, note_as_props());
    // A policy that dedicates the armorer all day refuses it with no firearm out.
    set.policy.armorer_dedicated_all_day = true;
    let r = set.refused(
        RuleId::ArmorerDedicated,
        ARMORER,
        Role::PropertyMaster,
        note_as_props(),
    );
    assert!(r.why.contains("all day"), "{r}");
    set.assert_replays();
}

fn dedicated_override(confirmations: Vec<Actor>) -> Command {
    Command::Override {
        rule: RuleId::ArmorerDedicated,
        reason: text("the props truck broke down; Hannah signs for the delivery at lunch"),
        target: OverrideTarget {
            day: Some(date(DAY)),
            person: Some(pid(ARMORER)),
            ..Default::default()
        },
        confirmations,
    }
}

#[test]
fn an_override_of_armorer_dedicated_needs_the_armorer_too() {
    let mut set = Set::ready_to_issue();
    set.policy.armorer_dedicated_all_day = true;
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Store {
            item: ItemRef::Firearm(fid("REV-1")),
            location: loc("SAFE"),
        },
    );
    let r = set.refused(
        RuleId::ArmorerDedicated,
        PRODUCER,
        Role::Producer,
        dedicated_override(vec![actor(SAFETY_REP, Role::SafetyRep)]),
    );
    assert!(r.why.contains("armorer"), "{r}");
    set.ok(
        PRODUCER,
        Role::Producer,
        dedicated_override(vec![
            actor(SAFETY_REP, Role::SafetyRep),
            actor(ARMORER, Role::Armorer),
        ]),
    );
    let events = set.ok(
        ARMORER,
        Role::PropertyMaster,
        Command::Note {
            text: text("signed for the props delivery"),
        },
    );
    assert!(matches!(
        &events[0],
        Event::OverrideUsed {
            rule: RuleId::ArmorerDedicated,
            ..
        }
    ));
}

#[test]
fn in_california_the_rules_its_law_requires_have_no_override() {
    let mut set = Set::ready_to_issue();
    set.policy.jurisdiction = Some(Jurisdiction::California);
    for rule in [RuleId::Credentials, RuleId::TrainedNear] {
        let r = set.refused(
            rule,
            SAFETY_REP,
            Role::SafetyRep,
            Command::Override {
                rule,
                reason: text("renewal in the post"),
                target: OverrideTarget {
                    person: Some(pid(ARMORER)),
                    ..Default::default()
                },
                confirmations: vec![],
            },
        );
        assert!(
            r.why.contains("US-CA") && r.why.contains("CA Labor Code"),
            "{r}"
        );
    }
    // A refusal under such a rule says so instead of naming approvers.
    set.credential(PROP_MASTER, "2021-10-01");
    let r = set.refused(
        RuleId::Credentials,
        PROP_MASTER,
        Role::PropertyMaster,
        register("REV-8", "C-8"),
    );
    assert!(
        r.needed.contains("no override") && !r.needed.contains("approves an override"),
        "{r}"
    );
    // ARMORER-DEDICATED's window is the law there: an override granted for it does not let the
    // armorer work props while a firearm is out.
    set.ok(
        PRODUCER,
        Role::Producer,
        dedicated_override(vec![
            actor(SAFETY_REP, Role::SafetyRep),
            actor(ARMORER, Role::Armorer),
        ]),
    );
    let r = set.refused(
        RuleId::ArmorerDedicated,
        ARMORER,
        Role::PropertyMaster,
        Command::Note {
            text: text("props check"),
        },
    );
    assert!(r.needed.contains("CA Labor Code 9153(a)(3)"), "{r}");
    // Leaving the jurisdiction is a loosening: three approvals.
    let mut looser = set.state.policy.as_ref().unwrap().policy.clone();
    looser.jurisdiction = None;
    assert!(
        set.state
            .policy
            .as_ref()
            .unwrap()
            .policy
            .loosenings(&looser)[0]
            .starts_with("jurisdiction")
    );
    set.assert_replays();
}

fn police(incident: &IncidentId, atf: Option<&str>) -> Command {
    Command::RecordPoliceReport {
        incident: incident.clone(),
        police_report: name("SFPD 21-4410"),
        atf_incident: atf.map(name),
    }
}

#[test]
fn a_missing_firearm_from_a_licensed_supplier_needs_the_atf_number_too() {
    let mut set = Set::production();
    set.at(MORNING);
    let supplied = |supplier: Option<&str>| {
        let mut cmd = register("REV-8", "C-8");
        if let Command::RegisterFirearm {
            supplier: s,
            supplier_licence,
            ..
        } = &mut cmd
        {
            *supplier_licence = Some(name("5-85-XXX-01-2J-12345"));
            *s = supplier.map(name);
        }
        cmd
    };
    set.refused(RuleId::State, ARMORER, Role::Armorer, supplied(None));
    set.ok(
        ARMORER,
        Role::Armorer,
        supplied(Some("Bonanza rental armory")),
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::ReportMissing {
            firearm: fid("REV-8"),
            description: text("not in the safe at the morning count"),
        },
    );
    let incident = set.state.incidents.keys().last().unwrap().clone();
    assert_eq!(set.state.incidents[&incident].firearm, Some(fid("REV-8")));
    assert!(set.state.firearms[&fid("REV-8")].history.len() == 2);
    set.ok(PRODUCER, Role::Producer, police(&incident, None));
    let close = Command::CloseIncident {
        incident: incident.clone(),
        findings: text("left at the range; recovered"),
        safety_rep: actor(SAFETY_REP, Role::SafetyRep),
    };
    let r = set.refused(RuleId::MissingReport, ARMORER, Role::Armorer, close.clone());
    assert!(r.why.contains("ATF"), "{r}");
    let a = alerts(&set.policy, &set.state, set.now);
    assert!(
        a.iter()
            .any(|a| a.rule == RuleId::MissingReport && a.message.contains("ATF")),
        "{a:?}"
    );
    set.ok(
        PRODUCER,
        Role::Producer,
        police(&incident, Some("ATF-2021-778")),
    );
    set.ok(ARMORER, Role::Armorer, close);
    set.assert_replays();
}
