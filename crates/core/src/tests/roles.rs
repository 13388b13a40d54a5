//! The role table (roles.rs) is what `decide` does, cell by cell: for every act and every role,
//! the act is refused for its role exactly where the table says the role may not attempt it.

use super::harness::*;
use crate::roles::{May, TABLE, allows};
use crate::*;

/// One command of every kind: the demo days' first of each, then the kinds they never use.
fn samples() -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    for scenario in [demo::Scenario::Safe, demo::Scenario::Unsafe] {
        for step in demo::script(scenario).unwrap() {
            if !out.iter().any(|c| c.kind() == step.command.kind()) {
                out.push(step.command);
            }
        }
    }
    let more = [
        Command::GrantRole {
            person: pid(PROP_MASTER),
            role: Role::Armorer,
        },
        Command::RevokeRole {
            person: pid(PROP_MASTER),
            role: Role::PropertyMaster,
        },
        Command::RemovePerson {
            person: pid(AUDITOR),
        },
        Command::ReleaseDuty {
            day: date(DAY),
            person: pid(PROP_MASTER),
            duty: Role::PropertyMaster,
        },
        Command::SetLocationLock {
            location: loc("CART"),
            locked: true,
        },
        Command::ReopenLot {
            lot: lot("DUM-1"),
            reason: text("seal broken"),
        },
        Command::AssignCustodian {
            item: ItemRef::Firearm(fid("REV-1")),
            person: pid(PROP_MASTER),
            confirmation: None,
            scanned: None,
        },
        Command::CancelHandover {
            item: ItemRef::Firearm(fid("REV-1")),
            reason: text("wrong person"),
        },
        Command::ReportIncident {
            kind: IncidentKind::NearMiss,
            severity: Severity::Note,
            covers: Cover::All,
            description: text("a muzzle swept the crew"),
            anonymous: false,
        },
        Command::ReportMissing {
            firearm: fid("REV-3"),
            description: text("not at the count"),
        },
        Command::RecordPoliceReport {
            incident: IncidentId::sequential(1),
            police_report: name("SFPD 1"),
            atf_incident: None,
        },
        Command::Override {
            rule: RuleId::DailyMeeting,
            reason: text("radio meeting"),
            target: OverrideTarget {
                scene: Some(sid("CHURCH")),
                ..Default::default()
            },
            confirmations: vec![],
        },
        Command::Correct {
            entry: 3,
            reason: text("serial misread"),
        },
        Command::Note {
            text: text("end of day"),
        },
        Command::SetPolicy {
            // The harness's policy, tightened.
            policy: Policy {
                utc_offset_minutes: -360,
                meeting_must_include_performer: true,
                ..Policy::default()
            },
            approvals: vec![],
        },
    ];
    for c in more {
        if !out.iter().any(|o| o.kind() == c.kind()) {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_role_table_names_every_act_once() {
    let mut kinds: Vec<&str> = samples().iter().map(Command::kind).collect();
    kinds.sort_unstable();
    let mut table: Vec<&str> = TABLE.iter().map(|(k, _)| *k).collect();
    table.sort_unstable();
    let before = table.len();
    table.dedup();
    assert_eq!(table.len(), before, "an act is in the table twice");
    assert_eq!(kinds, table);
}

#[test]
fn every_cell_of_the_role_table_is_what_decide_does() {
    let mut set = Set::ready_to_issue();
    for role in Role::ALL {
        let who = format!("only-{}", role.as_str().replace('_', "-"));
        set.ok(
            ADMIN,
            Role::Admin,
            Command::AddPerson {
                person: pid(&who),
                name: name(&who),
                roles: vec![role],
            },
        );
        set.credential(&who, "2022-10-01");
    }
    let mut checked = 0;
    for command in samples() {
        let kind = command.kind();
        if crate::roles::may(kind) == Some(May::Party) {
            continue; // decided by who the person is, not their role
        }
        for role in Role::ALL {
            let who = format!("only-{}", role.as_str().replace('_', "-"));
            let actor = actor(&who, role);
            let result = decide(&set.policy, &set.state, &actor, &command, set.now);
            let by_role = matches!(&result, Err(r) if r.rule == RuleId::Role
                || r.why.starts_with(&format!("the {} may not", role.title())));
            assert_eq!(
                by_role,
                !allows(&set.policy, kind, role),
                "{kind} as {role}: {result:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked}");
}

/// The acts a review found done by roles RULES.md §4 gives no such duty.
#[test]
fn each_role_does_only_what_rules_md_gives_it() {
    let policy = Policy::default();
    for (kind, role) in [
        ("record_credential", Role::SafetyRep),
        ("hold_meeting", Role::SafetyRep),
        ("designate_armorer", Role::FirstAd),
        ("plan_scene", Role::Producer),
        ("issue", Role::SafetyAdvisor),
        ("note", Role::Auditor),
    ] {
        assert!(!allows(&policy, kind, role), "{kind} by the {role}");
    }
    for (kind, role) in [
        ("record_credential", Role::Admin),
        ("hold_meeting", Role::FirstAd),
        ("designate_armorer", Role::Producer),
        ("plan_scene", Role::FirstAd),
        ("record_risk_assessment", Role::SafetyAdvisor),
        ("correct", Role::PropertyMaster),
    ] {
        assert!(allows(&policy, kind, role), "{kind} by the {role}");
    }
    // A property master barred from custody corrects no entries either.
    let barred = Policy {
        property_master_may_be_custodian: false,
        ..Policy::default()
    };
    assert!(!allows(&barred, "correct", Role::PropertyMaster));
    assert!(allows(&barred, "correct", Role::SafetyRep));
    let mut set = Set::production();
    set.policy = barred;
    let r = set.refused(
        RuleId::Role,
        PROP_MASTER,
        Role::PropertyMaster,
        Command::Correct {
            entry: 3,
            reason: text("serial misread"),
        },
    );
    assert!(r.needed.contains("armorer"), "{r}");
}
