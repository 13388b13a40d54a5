//! BORE-CLEAR: a firearm fired, misfired or discharged is proven clear before it is issued
//! again; the round of a misfire is recovered on its own and leaves the production.

use super::harness::*;
use crate::state::FoulCause;
use crate::*;

/// REV-2 planned with blanks for the take SHOOTOUT (meeting held), loaded with two blanks and
/// shown to the performer, in the armorer's hands.
fn take_ready() -> Set {
    Set::blank_take(|_| {})
}

fn back_and_empty(set: &mut Set) {
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-2"),
            confirmation: Some(actor(PERFORMER, Role::Performer)),
            scanned: Some(name("REV-2")),
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-2"),
        },
    );
}

fn bore_check() -> Command {
    Command::BoreCheck {
        firearm: fid("REV-2"),
    }
}

#[test]
fn a_fired_firearm_is_issued_again_only_after_its_bore_is_proven_clear() {
    let mut set = take_ready();
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-2", "SHOOTOUT"));
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Expend {
            firearm: fid("REV-2"),
            positions: vec![1, 2],
        },
    );
    back_and_empty(&mut set);
    let f = &set.state.firearms[&fid("REV-2")];
    assert_eq!(
        f.bore_fouled.as_ref().map(|x| x.cause),
        Some(FoulCause::Fired)
    );
    set.two_blanks_shown();
    let r = set.refused(
        RuleId::BoreClear,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-2", "SHOOTOUT"),
    );
    assert!(r.why.contains("fired (entry"), "{r}");
    assert!(r.needed.contains("rod down the barrel"), "{r}");
    // The rod goes down an empty barrel only.
    let r = set.refused(RuleId::State, ARMORER, Role::Armorer, bore_check());
    assert!(r.needed.contains("unload it"), "{r}");
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-2"),
        },
    );
    // Only a custodian proves a bore clear.
    set.refused(RuleId::Role, FIRST_AD, Role::FirstAd, bore_check());
    let events = set.ok(ARMORER, Role::Armorer, bore_check());
    assert!(
        matches!(&events[..], [Event::BoreChecked { .. }]),
        "{events:?}"
    );
    let f = &set.state.firearms[&fid("REV-2")];
    assert!(f.bore_fouled.is_none());
    assert_eq!(f.bore_proven, Some(set.state.next_index - 1));
    set.two_blanks_shown();
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-2", "SHOOTOUT"));
    set.assert_replays();
}

#[test]
fn a_misfired_round_is_recovered_on_its_own_and_the_bore_proven_before_the_next_issue() {
    let mut set = take_ready();
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-2", "SHOOTOUT"));
    let before = set.state.lot_balance(&lot("BLK-1")).unwrap();
    let events = set.ok(
        FIRST_AD,
        Role::FirstAd,
        Command::ReportDischarge {
            firearm: fid("REV-2"),
            kind: DischargeKind::Misfire,
            positions: vec![1],
            description: text("click, no bang on the first blank"),
        },
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::RoundsExpended { .. })),
        "a misfire fired nothing: {events:?}"
    );
    assert!(events.iter().any(|e| matches!(e, Event::BoreFouled { cause: FoulCause::Misfire, positions, .. } if positions == &[1])));
    assert_eq!(
        set.state.lot_balance(&lot("BLK-1")).unwrap().expended,
        before.expended
    );
    back_and_empty_refused(&mut set);
    // The misfired round comes out on its own, counted as removed.
    set.refused(
        RuleId::State,
        ARMORER,
        Role::Armorer,
        Command::RecoverRound {
            firearm: fid("REV-2"),
            position: 2,
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::RecoverRound {
            firearm: fid("REV-2"),
            position: 1,
        },
    );
    let after = set.state.lot_balance(&lot("BLK-1")).unwrap();
    assert_eq!(after.removed, before.removed + 1);
    assert!(after.balances(), "{after:?}");
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-2"),
        },
    );
    // The bore check is part of finding out: the open misfire incident does not stop it.
    set.ok(ARMORER, Role::Armorer, bore_check());
    assert!(set.state.firearms[&fid("REV-2")].bore_fouled.is_none());
    set.assert_replays();
}

/// Taken back after a misfire, the firearm is not unloaded while the misfired round is in it.
fn back_and_empty_refused(set: &mut Set) {
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-2"),
            confirmation: None,
            scanned: Some(name("REV-2")),
        },
    );
    let r = set.refused(
        RuleId::BoreClear,
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-2"),
        },
    );
    assert!(r.why.contains("position 1"), "{r}");
    set.refused(RuleId::BoreClear, ARMORER, Role::Armorer, bore_check());
}

/// TRAINED-NEAR: with a course named, everyone in the plan and the meeting holds it.
#[test]
fn everyone_near_the_firearms_holds_the_course_the_policy_names() {
    let mut set = Set::ready_to_issue();
    let course = CredentialKind::parse("firearms_safety_course").unwrap();
    // Off until the policy names a course.
    let mut off = set.clone();
    off.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    set.policy.safety_course = Some(course.clone());
    let r = set.refused(
        RuleId::TrainedNear,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    // Everyone: the handler and each attendee of the covering meeting.
    for who in [ARMORER, FIRST_AD, PERFORMER, SAFETY_REP] {
        assert!(r.why.contains(&format!("({who})")), "{who}: {r}");
    }
    let record = |set: &mut Set, who: &str, expires: &str| {
        set.ok(
            ADMIN,
            Role::Admin,
            Command::RecordCredential {
                person: pid(who),
                kind: course.clone(),
                number: CredentialNumber::parse("CSATF-7").unwrap(),
                expires: date(expires),
            },
        );
    };
    for who in [ARMORER, FIRST_AD, PERFORMER] {
        record(&mut set, who, "2022-12-31");
    }
    // One expired course is enough to refuse, and names that person alone.
    record(&mut set, SAFETY_REP, "2021-10-20");
    let r = set.refused(
        RuleId::TrainedNear,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    assert!(r.why.contains("(rep)") && !r.why.contains("(ab)"), "{r}");
    record(&mut set, SAFETY_REP, "2022-12-31");
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    set.assert_replays();
    // Naming another course, or none, loosens the policy.
    let named = crate::Policy {
        safety_course: Some(course),
        ..crate::Policy::default()
    };
    assert_eq!(named.loosenings(&crate::Policy::default()).len(), 1);
}

/// MISSING-REPORT: a missing firearm stops all firearm work; its police report is due within
/// 48 hours (a warning, then a critical alert), and the incident closes only once it is on record.
#[test]
fn a_missing_firearm_stops_work_and_needs_a_police_report_within_48_hours() {
    let mut set = Set::ready_to_issue();
    set.ok(
        PERFORMER,
        Role::Performer,
        Command::ReportMissing {
            firearm: fid("REV-3"),
            description: text("not in the safe at the lunch count"),
        },
    );
    let (id, incident) = set.state.incidents.iter().next_back().unwrap();
    let id = id.clone();
    assert_eq!(incident.severity, Severity::Critical);
    assert!(
        incident
            .description
            .as_str()
            .starts_with("firearm REV-3 missing")
    );
    set.refused(
        RuleId::IncidentStop,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    let due = |set: &Set| {
        crate::alerts::alerts(&set.policy, &set.state, set.now)
            .into_iter()
            .find(|a| matches!(a.kind, crate::alerts::AlertKind::PoliceReportDue { .. }))
    };
    let a = due(&set).unwrap();
    assert!(!a.critical, "{a:?}");
    set.at("2021-10-23T13:01:00Z");
    let a = due(&set).unwrap();
    assert!(a.critical && a.message.contains("after 48 hours"), "{a:?}");
    // Only on the missing firearm's incident, and only by those who answer for it.
    let report = Command::RecordPoliceReport {
        incident: id.clone(),
        police_report: name("SFPD-2021-10-4411"),
        atf_incident: None,
    };
    set.refused(RuleId::Role, PERFORMER, Role::Performer, report.clone());
    set.ok(PRODUCER, Role::Producer, report);
    assert!(due(&set).is_none());
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::CloseIncident {
            incident: id,
            findings: text("found in the camera truck; reported found to the police"),
            safety_rep: actor(SAFETY_REP, Role::SafetyRep),
        },
    );
    set.assert_replays();
}
