//! Alerts, apply's errors, the JSON shapes the store and server rely on, replay differences,
//! and the smaller people rules (anonymous reports, revoking a custodian's role).

use super::harness::*;
use crate::alerts::AlertKind;
use crate::*;

#[test]
fn credentials_expiring_within_the_warning_period_raise_an_alert() {
    let mut set = Set::production();
    set.credential(ARMORER, "2021-11-03"); // 13 days after the shoot day: inside the 14-day warning
    set.at(MORNING);
    let a = alerts(&set.policy, &set.state, set.now);
    let hit = a.iter().find(|a| matches!(&a.kind, AlertKind::CredentialExpiring { person, .. } if person == &pid(ARMORER)));
    assert!(
        hit.is_some_and(|a| a.rule == RuleId::Credentials && a.message.contains("in 13 days")),
        "{a:?}"
    );
    set.credential(ARMORER, "2021-11-05");
    assert!(alerts(&set.policy, &set.state, set.now).is_empty());
    // A property master needs the permit only to handle firearms: none on record is no alert,
    // one expiring is, and none where the policy forbids them to handle firearms.
    assert!(set.policy.property_master_may_be_custodian);
    set.credential(PROP_MASTER, "2021-11-01");
    let a = alerts(&set.policy, &set.state, set.now);
    assert!(a.iter().any(|a| matches!(&a.kind, AlertKind::CredentialExpiring { person, expires: Some(_), .. } if person == &pid(PROP_MASTER))), "{a:?}");
    set.policy.property_master_may_be_custodian = false;
    assert!(alerts(&set.policy, &set.state, set.now).is_empty());
}

#[test]
fn a_night_shoot_is_one_shoot_day() {
    let policy = Policy {
        utc_offset_minutes: -360,
        day_starts_at_minutes: 600,
        ..Policy::default()
    };
    // 23:00 and 05:00 local (MDT) belong to the day that began at 10:00 on the 21st.
    assert_eq!(policy.day_of(ts("2021-10-22T05:00:00Z")), date(DAY));
    assert_eq!(policy.day_of(ts("2021-10-22T11:00:00Z")), date(DAY));
    assert_eq!(
        policy.day_of(ts("2021-10-22T16:00:00Z")),
        date("2021-10-22")
    );
    assert_eq!(
        Policy::default().day_of(ts("2021-10-22T05:00:00Z")),
        date("2021-10-22")
    );
}

#[test]
fn apply_refuses_what_does_not_fit_and_changes_nothing() {
    let set = Set::production();
    let mut state = set.state.clone();
    let bad = Event::RoundsRemoved {
        container: cid("BOX-1"),
        lot: lot("DUM-1"),
        count: RoundCount::try_from(51).unwrap(),
        reason: text("x"),
    };
    let err = apply(&mut state, &bad).unwrap_err();
    assert!(err.to_string().contains("BOX-1"), "{err}");
    assert_eq!(state, set.state);
    let unknown = Event::FirearmReturned {
        firearm: fid("NOPE"),
        performer: pid(PERFORMER),
        to: pid(ARMORER),
        at: ts(MORNING),
    };
    assert!(apply(&mut state, &unknown).is_err());
    assert_eq!(state, set.state);
    // Entries come in order; the index of each is recorded.
    assert!(
        apply_at(
            &mut state,
            0,
            &Event::Note {
                text: "late".into()
            }
        )
        .is_err()
    );
    let at = state.next_index + 5;
    apply_at(
        &mut state,
        at,
        &Event::Note {
            text: "after entries the core skips".into(),
        },
    )
    .unwrap();
    assert_eq!((state.notes.last(), state.next_index), (Some(&at), at + 1));
}

#[test]
fn json_shapes_are_stable_and_parse_through_the_domain_types() {
    let e = Event::FirearmIssued {
        firearm: fid("REV-1"),
        performer: pid(PERFORMER),
        scene: sid("CHURCH"),
        day: date(DAY),
        by: pid(ARMORER),
        at: ts(MORNING),
        due: ts("2021-10-21T13:30:00Z"),
    };
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        r#"{"type":"firearm_issued","firearm":"REV-1","performer":"ab","scene":"CHURCH","day":"2021-10-21","by":"hgr","at":"2021-10-21T13:00:00.000Z","due":"2021-10-21T13:30:00.000Z"}"#
    );
    let c: Command = serde_json::from_str(
        r#"{"type":"issue","firearm":"REV-1","performer":"ab","scene":"CHURCH","confirmation":{"person":"ab","role":"performer","method":"pin"},"scanned":"REV-1"}"#,
    )
    .unwrap();
    assert_eq!(c, issue_cmd("REV-1", "CHURCH"));
    let err = serde_json::from_str::<Command>(
        r#"{"type":"issue","firearm":"REV 1","performer":"ab","scene":"CHURCH"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("firearm id"), "{err}");
    let load: Command = serde_json::from_str(
        r#"{"type":"load","firearm":"REV-1","chambers":["empty",{"round":"BOX-1"}]}"#,
    )
    .unwrap();
    assert_eq!(load, load_cmd("REV-1", &[None, Some("BOX-1")]));
    // No floats anywhere: a fractional count is refused.
    assert!(
        serde_json::from_str::<Event>(
            r#"{"type":"rounds_removed","container":"B","lot":"L","count":1.5,"reason":"x"}"#
        )
        .is_err()
    );
    // The whole state and policy survive JSON.
    let set = Set::ready_to_issue();
    let back: State = serde_json::from_str(&serde_json::to_string(&set.state).unwrap()).unwrap();
    assert_eq!(back, set.state);
    let p: Policy = serde_json::from_str(r#"{"scene_window_minutes":45}"#).unwrap();
    assert_eq!(
        p,
        Policy {
            scene_window_minutes: 45,
            ..Policy::default()
        }
    );
}

#[test]
fn differences_name_the_path_that_disagrees() {
    let set = Set::production();
    let mut tables = set.state.clone();
    assert!(differences(&set.state, &tables).is_empty());
    tables.firearms.get_mut(&fid("REV-2")).unwrap().custodian = pid(PROP_MASTER);
    tables.containers.get_mut(&cid("BOX-1")).unwrap().count = 49;
    let d = differences(&set.state, &tables);
    assert_eq!(
        d,
        vec![
            r#"containers.BOX-1.count: 50 != 49"#.to_owned(),
            r#"firearms.REV-2.custodian: "hgr" != "pm""#.to_owned()
        ]
    );
}

#[test]
fn anonymous_reports_leave_the_reporter_out_where_policy_allows() {
    let mut set = Set::production();
    let report = |anonymous| Command::ReportIncident {
        kind: IncidentKind::NearMiss,
        severity: Severity::Note,
        covers: Cover::All,
        description: text("guns left on the cart over lunch"),
        anonymous,
    };
    let events = set.ok(PERFORMER, Role::Performer, report(true));
    assert!(matches!(
        &events[..],
        [Event::IncidentOpened {
            reported_by: None,
            ..
        }]
    ));
    set.policy.anonymous_incident_reports = false;
    set.refused(RuleId::Role, PERFORMER, Role::Performer, report(true));
    set.ok(PERFORMER, Role::Performer, report(false));
    set.refused(RuleId::Role, AUDITOR, Role::Auditor, report(false));
    set.assert_replays();
}

#[test]
fn a_custodian_keeps_the_role_while_holding_items() {
    let mut set = Set::production();
    // Hannah also holds property master, a custodian role by default: she may keep her items.
    set.ok(
        ADMIN,
        Role::Admin,
        Command::RevokeRole {
            person: pid(ARMORER),
            role: Role::Armorer,
        },
    );
    set.refused(
        RuleId::CustodianOnly,
        ADMIN,
        Role::Admin,
        Command::RevokeRole {
            person: pid(ARMORER),
            role: Role::PropertyMaster,
        },
    );
    set.ok(
        ADMIN,
        Role::Admin,
        Command::GrantRole {
            person: pid(ARMORER),
            role: Role::Armorer,
        },
    );
    set.refused(
        RuleId::CustodianOnly,
        ADMIN,
        Role::Admin,
        Command::RemovePerson {
            person: pid(ARMORER),
        },
    );
    set.ok(
        ADMIN,
        Role::Admin,
        Command::RevokeRole {
            person: pid(ARMORER),
            role: Role::PropertyMaster,
        },
    );
    set.ok(
        ADMIN,
        Role::Admin,
        Command::RemovePerson {
            person: pid(PROP_MASTER),
        },
    );
    set.refused(
        RuleId::State,
        ADMIN,
        Role::Admin,
        Command::GrantRole {
            person: pid(PROP_MASTER),
            role: Role::Armorer,
        },
    );
    set.assert_replays();
}

#[test]
fn a_reported_live_round_stops_all_firearm_work() {
    let mut set = Set::production();
    let events = set.ok(
        PERFORMER,
        Role::Performer,
        Command::ReportIncident {
            kind: IncidentKind::LiveRound,
            severity: Severity::Note,
            covers: Cover::Firearms(vec![fid("REV-2")]),
            description: text("a round with a bullet in the gun belt"),
            anonymous: false,
        },
    );
    assert!(
        matches!(
            &events[..],
            [Event::IncidentOpened {
                severity: Severity::Critical,
                covers: Cover::All,
                ..
            }]
        ),
        "{events:?}"
    );
    set.refused(
        RuleId::IncidentStop,
        ARMORER,
        Role::Armorer,
        load_cmd("REV-1", &[None; 6]),
    );
}

#[test]
fn rounds_come_only_from_a_container_the_loader_holds() {
    let mut set = Set::production();
    set.policy.property_master_may_be_custodian = true;
    set.credential(PROP_MASTER, "2022-12-31");
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::AssignCustodian {
            item: ItemRef::Firearm(fid("REV-2")),
            person: pid(PROP_MASTER),
            confirmation: Some(actor(PROP_MASTER, Role::PropertyMaster)),
            scanned: Some(name("REV-2")),
        },
    );
    set.refused(
        RuleId::CustodianOnly,
        PROP_MASTER,
        Role::PropertyMaster,
        load_cmd("REV-2", &[Some("BOX-1"), None, None, None, None, None]),
    );
    set.ok(
        PROP_MASTER,
        Role::PropertyMaster,
        load_cmd("REV-2", &[None; 6]),
    );
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-2"),
        },
    );
    set.assert_replays();
}

#[test]
fn taking_a_firearm_back_is_never_blocked() {
    let mut set = Set::ready_to_issue();
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    set.credential(ARMORER, "2021-10-01"); // expired this morning
    set.ok(
        FIRST_AD,
        Role::FirstAd,
        Command::ReportIncident {
            kind: IncidentKind::NearMiss,
            severity: Severity::Critical,
            covers: Cover::All,
            description: text("stop work called"),
            anonymous: false,
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-1"),
            confirmation: None,
            scanned: Some(name("REV-1")),
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-1"),
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Store {
            item: ItemRef::Firearm(fid("REV-1")),
            location: loc("SAFE"),
        },
    );
    set.assert_replays();
}

#[test]
fn the_days_armorer_may_take_over_custody() {
    let mut set = Set::production();
    set.policy.property_master_may_be_custodian = true;
    set.credential(PROP_MASTER, "2022-12-31");
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::AssignCustodian {
            item: ItemRef::Firearm(fid("REV-2")),
            person: pid(PROP_MASTER),
            confirmation: Some(actor(PROP_MASTER, Role::PropertyMaster)),
            scanned: Some(name("REV-2")),
        },
    );
    let take_over = Command::AssignCustodian {
        item: ItemRef::Firearm(fid("REV-2")),
        person: pid(ARMORER),
        confirmation: None,
        scanned: Some(name("REV-2")),
    };
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        take_over.clone(),
    );
    set.at(MORNING);
    set.ok(
        PRODUCER,
        Role::Producer,
        Command::DesignateArmorer {
            day: date(DAY),
            person: pid(ARMORER),
        },
    );
    set.ok(ARMORER, Role::Armorer, take_over);
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-2"),
        },
    );
    set.assert_replays();
}
