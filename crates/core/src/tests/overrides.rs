//! Overrides: only the roles RULES.md lists, with a reason; one override lets one act through,
//! and its use is recorded.

use super::harness::*;
use crate::*;

fn without_meeting() -> Set {
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
    set.ok(ARMORER, Role::Armorer, load_cmd("REV-1", &[None; 6]));
    set.ok(
        ARMORER,
        Role::Armorer,
        show_cmd("REV-1", "CHURCH", FIRST_AD),
    );
    set
}

fn override_cmd(rule: RuleId, scene: &str, confirmations: Vec<Actor>) -> Command {
    Command::Override {
        rule,
        reason: text("meeting held on the radio net before the company move; minutes to follow"),
        target: OverrideTarget {
            scene: Some(sid(scene)),
            day: Some(date(DAY)),
            ..Default::default()
        },
        confirmations,
    }
}

#[test]
fn an_override_needs_the_listed_roles_and_lets_one_act_through() {
    let mut set = without_meeting();
    set.refused(
        RuleId::DailyMeeting,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    // The safety rep alone is not enough; the 1st AD is not on the list.
    let r = set.refused(
        RuleId::DailyMeeting,
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(RuleId::DailyMeeting, "CHURCH", vec![]),
    );
    assert!(r.why.contains("armorer"), "{r}");
    set.refused(
        RuleId::DailyMeeting,
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(
            RuleId::DailyMeeting,
            "CHURCH",
            vec![actor(FIRST_AD, Role::FirstAd)],
        ),
    );
    // A confirmation in a role the person does not hold is refused.
    set.refused(
        RuleId::DailyMeeting,
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(
            RuleId::DailyMeeting,
            "CHURCH",
            vec![actor(FIRST_AD, Role::Armorer)],
        ),
    );
    // Nobody overrides LIVE-NEVER, and INCIDENT-STOP is lifted only by closing the incident.
    set.refused(
        RuleId::LiveNever,
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(
            RuleId::LiveNever,
            "CHURCH",
            vec![actor(ARMORER, Role::Armorer)],
        ),
    );
    set.refused(
        RuleId::IncidentStop,
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(
            RuleId::IncidentStop,
            "CHURCH",
            vec![actor(ARMORER, Role::Armorer)],
        ),
    );
    // An override for another scene does not match this act.
    set.ok(
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(
            RuleId::DailyMeeting,
            "SALOON",
            vec![actor(ARMORER, Role::Armorer)],
        ),
    );
    set.refused(
        RuleId::DailyMeeting,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    let granted = set.state.next_index;
    set.ok(
        SAFETY_REP,
        Role::SafetyRep,
        override_cmd(
            RuleId::DailyMeeting,
            "CHURCH",
            vec![actor(ARMORER, Role::Armorer)],
        ),
    );
    set.brief("REV-1");
    let events = set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    assert!(
        matches!(&events[..], [Event::OverrideUsed { entry, rule: RuleId::DailyMeeting, .. }, Event::FirearmIssued { .. }] if *entry == granted),
        "{events:?}"
    );
    assert!(set.state.overrides[&granted].used_by.is_some());
    // Once used, it is spent: the next issue of the same scene needs the meeting again.
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
        show_cmd("REV-1", "CHURCH", FIRST_AD),
    );
    set.refused(
        RuleId::DailyMeeting,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    set.assert_replays();
}

#[test]
fn an_override_must_name_its_act() {
    let mut set = without_meeting();
    let cmd = Command::Override {
        rule: RuleId::Credentials,
        reason: text("renewal in the post"),
        target: OverrideTarget::default(),
        confirmations: vec![],
    };
    set.refused(RuleId::State, SAFETY_REP, Role::SafetyRep, cmd);
}

#[test]
fn rehearsal_blanks_pass_with_the_armorer_and_first_ad_override() {
    let mut set = Set::production();
    set.at(MORNING);
    set.refused(
        RuleId::RehearsalCold,
        FIRST_AD,
        Role::FirstAd,
        plan_cmd(
            "CHURCH",
            SceneKind::Rehearsal,
            "REV-1",
            PlannedLoad::Blanks,
            true,
        ),
    );
    set.ok(
        FIRST_AD,
        Role::FirstAd,
        override_cmd(
            RuleId::RehearsalCold,
            "CHURCH",
            vec![actor(ARMORER, Role::Armorer)],
        ),
    );
    let events = set.ok(
        FIRST_AD,
        Role::FirstAd,
        plan_cmd(
            "CHURCH",
            SceneKind::Rehearsal,
            "REV-1",
            PlannedLoad::Blanks,
            true,
        ),
    );
    assert!(matches!(
        events.first(),
        Some(Event::OverrideUsed {
            rule: RuleId::RehearsalCold,
            ..
        })
    ));
    // Issuing blanks in that rehearsal is a second act and needs its own override.
    set.ok(
        PRODUCER,
        Role::Producer,
        Command::DesignateArmorer {
            day: date(DAY),
            person: pid(ARMORER),
        },
    );
    set.ok(FIRST_AD, Role::FirstAd, meeting_cmd("CHURCH"));
    set.ok(
        ARMORER,
        Role::Armorer,
        load_cmd("REV-1", &[Some("BOX-2"), None, None, None, None, None]),
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        show_cmd("REV-1", "CHURCH", FIRST_AD),
    );
    set.refused(
        RuleId::RehearsalCold,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
    );
    set.assert_replays();
}

#[test]
fn corrections_point_at_earlier_entries_and_join_the_items_history() {
    let mut set = Set::production();
    let registered = set.state.firearms[&fid("REV-2")].history[0];
    set.refused(
        RuleId::State,
        ARMORER,
        Role::Armorer,
        Command::Correct {
            entry: 10_000,
            reason: text("typo"),
        },
    );
    set.refused(
        RuleId::Role,
        PERFORMER,
        Role::Performer,
        Command::Correct {
            entry: registered,
            reason: text("typo"),
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Correct {
            entry: registered,
            reason: text("model is 1873 Cattleman, not Single Action Army"),
        },
    );
    let at = set.state.next_index - 1;
    assert_eq!(set.state.corrections[&registered], vec![at]);
    assert_eq!(set.state.firearms[&fid("REV-2")].history.last(), Some(&at));
    set.assert_replays();
}

/// RULES.md §3's "who may override" column, as the engine must hold it.
const OVERRIDE_TABLE: &[(RuleId, &[Role])] = &[
    (RuleId::DailyMeeting, &[Role::SafetyRep, Role::Armorer]),
    (RuleId::MeetingContent, &[Role::SafetyRep, Role::Armorer]),
    (
        RuleId::ArmorerDedicated,
        &[Role::Producer, Role::SafetyRep, Role::Armorer],
    ),
    (RuleId::Credentials, &[Role::SafetyRep]),
    (RuleId::TrainedNear, &[Role::SafetyRep]),
    (RuleId::RehearsalCold, &[Role::Armorer, Role::FirstAd]),
    (RuleId::BlankDistance, &[Role::Armorer, Role::FirstAd]),
];

fn holder(role: Role) -> &'static str {
    match role {
        Role::Armorer => ARMORER,
        Role::SafetyRep => SAFETY_REP,
        Role::FirstAd => FIRST_AD,
        Role::Producer => PRODUCER,
        other => panic!("no one in the harness holds {other}"),
    }
}

#[test]
fn every_override_needs_exactly_its_approvers_and_in_california_the_laws_have_none() {
    let mut set = without_meeting();
    for rule in RuleId::ALL {
        let listed = OVERRIDE_TABLE.iter().find(|(r, _)| *r == rule);
        assert_eq!(
            rule.override_roles(),
            listed.map(|(_, roles)| *roles),
            "{rule}"
        );
        let Some((_, roles)) = listed else {
            // Nobody overrides it, whoever approves.
            let everyone = [Role::SafetyRep, Role::FirstAd, Role::Producer]
                .map(|r| actor(holder(r), r))
                .to_vec();
            set.refused(
                rule,
                ARMORER,
                Role::Armorer,
                override_cmd(rule, "CHURCH", everyone),
            );
            continue;
        };
        // Each listed role missing: refused, naming it.
        for missing in *roles {
            let rest: Vec<Role> = roles.iter().copied().filter(|r| r != missing).collect();
            let Some((first, others)) = rest.split_first() else {
                // A single approver: someone else alone (the 1st AD) is not enough.
                set.refused(
                    rule,
                    FIRST_AD,
                    Role::FirstAd,
                    override_cmd(rule, "CHURCH", vec![]),
                );
                continue;
            };
            let r = set.refused(
                rule,
                holder(*first),
                *first,
                override_cmd(
                    rule,
                    "CHURCH",
                    others.iter().map(|r| actor(holder(*r), *r)).collect(),
                ),
            );
            assert!(r.why.contains(missing.title()), "{rule}: {r}");
        }
        // All of them: granted.
        let (first, others) = roles.split_first().unwrap();
        set.ok(
            holder(*first),
            *first,
            override_cmd(
                rule,
                "CHURCH",
                others.iter().map(|r| actor(holder(*r), *r)).collect(),
            ),
        );
    }
    // In California the rules its law requires take no override, even from all approvers.
    set.policy.jurisdiction = Some(Jurisdiction::California);
    for rule in [RuleId::Credentials, RuleId::TrainedNear] {
        let r = set.refused(
            rule,
            SAFETY_REP,
            Role::SafetyRep,
            override_cmd(rule, "CHURCH", vec![actor(ARMORER, Role::Armorer)]),
        );
        assert!(r.why.contains("CA Labor Code"), "{r}");
    }
    set.assert_replays();
}
