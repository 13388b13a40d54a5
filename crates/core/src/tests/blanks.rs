//! BLANK-DISTANCE and PUBLIC-NOTICE: blanks are planned with a strength and a distance, closer
//! than 20 ft only with a named close-range load the armorer approved, and at a public location
//! only with the day's permit and police notification on record before call time.

use super::harness::*;
use crate::*;

fn close_range(load: Option<&str>) -> impl FnOnce(&mut FirearmPlan) {
    let load = load.map(name);
    move |p: &mut FirearmPlan| {
        p.firearms[0].blanks = Some(BlankPlan {
            strength: BlankStrength::Quarter,
            min_distance_ft: 12,
            close_range_load: load,
        });
    }
}

fn approve() -> Command {
    Command::ApproveCloseRangeLoad {
        scene: sid("SHOOTOUT"),
        firearm: fid("REV-2"),
    }
}

#[test]
fn blanks_are_planned_with_a_strength_and_a_distance() {
    let mut set = Set::ready_to_issue();
    let r = set.refused(
        RuleId::BlankDistance,
        FIRST_AD,
        Role::FirstAd,
        shootout_plan(|p| p.firearms[0].blanks = None),
    );
    assert!(r.why.contains("no strength and no minimum distance"), "{r}");
    // A blank load on a firearm not planned with blanks is a plan that contradicts itself.
    let mut dummies = shootout_plan(|_| {});
    if let Command::PlanScene { plan, .. } = &mut dummies {
        plan.firearms[0].load = PlannedLoad::Dummies;
    }
    set.refused(RuleId::ScenePlan, FIRST_AD, Role::FirstAd, dummies);
    // 25 ft is outside close range: planned, shown and issued with no approval.
    let mut set = Set::blank_take(|_| {});
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-2", "SHOOTOUT"));
    set.assert_replays();
}

#[test]
fn closer_than_20_ft_needs_a_named_load_the_armorer_approved() {
    let mut set = Set::ready_to_issue();
    let r = set.refused(
        RuleId::BlankDistance,
        FIRST_AD,
        Role::FirstAd,
        shootout_plan(close_range(None)),
    );
    assert!(r.why.contains("12 ft"), "{r}");
    assert!(
        r.needed
            .contains("the armorer and the 1st AD approve an override"),
        "{r}"
    );

    let mut set = Set::blank_take(close_range(Some("eighth-load, crimped, no wad")));
    let r = set.refused(
        RuleId::BlankDistance,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-2", "SHOOTOUT"),
    );
    assert!(r.why.contains("not been approved by the armorer"), "{r}");
    // Only the armorer approves the load: not the 1st AD, not a property master.
    set.refused(RuleId::Role, FIRST_AD, Role::FirstAd, approve());
    set.refused(RuleId::Role, ARMORER, Role::PropertyMaster, approve());
    let events = set.ok(ARMORER, Role::Armorer, approve());
    assert!(
        matches!(&events[..], [Event::CloseRangeLoadApproved { load, min_distance_ft: 12, .. }] if load.as_str() == "eighth-load, crimped, no wad"),
        "{events:?}"
    );
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-2", "SHOOTOUT"));
    set.assert_replays();
}

#[test]
fn a_re_plan_voids_the_approval_and_nothing_else_is_approved() {
    let mut set = Set::ready_to_issue();
    set.ok(
        FIRST_AD,
        Role::FirstAd,
        shootout_plan(close_range(Some("eighth-load"))),
    );
    set.ok(ARMORER, Role::Armorer, approve());
    assert!(
        !set.state.scenes[&sid("SHOOTOUT")]
            .close_range_approved
            .is_empty()
    );
    set.ok(
        FIRST_AD,
        Role::FirstAd,
        shootout_plan(close_range(Some("half-load, 10 ft"))),
    );
    assert!(
        set.state.scenes[&sid("SHOOTOUT")]
            .close_range_approved
            .is_empty()
    );
    // A plan at 25 ft has nothing to approve.
    set.ok(FIRST_AD, Role::FirstAd, shootout_plan(|_| {}));
    set.refused(RuleId::State, ARMORER, Role::Armorer, approve());
    set.assert_replays();
}

#[test]
fn a_plan_recorded_before_blank_distance_holds_its_blanks_until_re_planned() {
    let mut set = Set::blank_take(|_| {});
    // The plan as an older log holds it: blanks with no strength or distance.
    let mut old = set.state.scenes[&sid("SHOOTOUT")].clone();
    old.plan.firearms[0].blanks = None;
    set.state.scenes.insert(sid("SHOOTOUT"), old);
    let r = set.refused(
        RuleId::BlankDistance,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-2", "SHOOTOUT"),
    );
    assert!(r.needed.starts_with("re-plan the scene"), "{r}");
}

#[test]
fn an_override_of_blank_distance_needs_the_armorer_and_the_first_ad() {
    let mut set = Set::ready_to_issue();
    let over = |confirmations: Vec<Actor>| Command::Override {
        rule: RuleId::BlankDistance,
        reason: text("stunt coordinator's rig puts the performer at 15 ft behind lexan"),
        target: OverrideTarget {
            scene: Some(sid("SHOOTOUT")),
            firearm: Some(fid("REV-2")),
            ..Default::default()
        },
        confirmations,
    };
    set.refused(RuleId::BlankDistance, ARMORER, Role::Armorer, over(vec![]));
    set.refused(
        RuleId::BlankDistance,
        ARMORER,
        Role::Armorer,
        over(vec![actor(PRODUCER, Role::Producer)]),
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        over(vec![actor(FIRST_AD, Role::FirstAd)]),
    );
    let events = set.ok(FIRST_AD, Role::FirstAd, shootout_plan(close_range(None)));
    assert!(
        matches!(
            &events[..],
            [
                Event::OverrideUsed {
                    rule: RuleId::BlankDistance,
                    ..
                },
                Event::ScenePlanned { .. }
            ]
        ),
        "{events:?}"
    );
}

fn public_notice(location: &str, call_time: &str) -> Command {
    Command::RecordPublicNotice {
        day: date(DAY),
        location: name(location),
        permit: name("SF-FILM-2021-0442"),
        police_notice: name("Santa Fe PD film liaison, ref 21-1187"),
        call_time: ClockTime::parse(call_time).unwrap(),
    }
}

#[test]
fn blanks_at_a_public_location_need_the_permit_and_police_notice_before_call_time() {
    let mut set = Set::blank_take(|p| p.public_location = Some(name("Main Street")));
    let r = set.refused(
        RuleId::PublicNotice,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-2", "SHOOTOUT"),
    );
    assert!(r.why.contains("Main Street"), "{r}");
    // MORNING is 13:00 UTC, 07:00 on the set's clock (UTC-6): a 06:30 call has passed.
    let r = set.refused(
        RuleId::PublicNotice,
        PRODUCER,
        Role::Producer,
        public_notice("Main Street", "06:30"),
    );
    assert!(
        r.why.contains("06:30") && r.why.contains("has passed"),
        "{r}"
    );
    // Nobody overrides it.
    set.refused(
        RuleId::PublicNotice,
        SAFETY_REP,
        Role::SafetyRep,
        Command::Override {
            rule: RuleId::PublicNotice,
            reason: text("police said yes on the phone"),
            target: OverrideTarget {
                scene: Some(sid("SHOOTOUT")),
                ..Default::default()
            },
            confirmations: vec![],
        },
    );
    // A notice for another place does not cover this one.
    set.ok(PRODUCER, Role::Producer, public_notice("Old Mill", "08:00"));
    set.refused(
        RuleId::PublicNotice,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-2", "SHOOTOUT"),
    );
    set.refused(
        RuleId::Role,
        PERFORMER,
        Role::Performer,
        public_notice("main street", "08:00"),
    );
    set.ok(
        PRODUCER,
        Role::Producer,
        public_notice("main street", "08:00"),
    );
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-2", "SHOOTOUT"));
    set.assert_replays();
}

#[test]
fn dummies_at_a_public_location_need_no_notice() {
    let mut set = Set::ready_to_issue();
    let mut cmd = plan_cmd(
        "STREET",
        SceneKind::Take,
        "REV-1",
        PlannedLoad::Dummies,
        true,
    );
    if let Command::PlanScene { plan, .. } = &mut cmd {
        plan.public_location = Some(name("Main Street"));
    }
    set.ok(FIRST_AD, Role::FirstAd, cmd);
    set.ok(FIRST_AD, Role::FirstAd, meeting_cmd("STREET"));
    set.ok(
        ARMORER,
        Role::Armorer,
        show_cmd("REV-1", "STREET", FIRST_AD),
    );
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "STREET"));
}
