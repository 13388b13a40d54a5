//! Every rule's refusal reads well on set: it names the rule, says why about this act (naming the
//! firearm, lot, scene or person), and says what would satisfy the rule.

use super::harness::*;
use crate::*;

/// One refusal per rule id, each produced by a real act, with a word the `why` must mention.
fn one_refusal_per_rule() -> Vec<(RuleId, Refusal, &'static str)> {
    let mut out = Vec::new();
    let mut set = Set::production();
    set.at(MORNING);
    let mut r = |set: &mut Set, rule, who, role, cmd, word| {
        out.push((rule, set.refused(rule, who, role, cmd), word))
    };

    r(
        &mut set,
        RuleId::LiveNever,
        ARMORER,
        Role::Armorer,
        Set::receive_cmd("LIVE-9", AmmoKind::Live, 5, "BAG-9", "Seth", None),
        "LIVE-9",
    );
    set.receive("DUM-9", AmmoKind::Dummy, 10, "BOX-9", "Prop house", None);
    r(
        &mut set,
        RuleId::LotVerified,
        ARMORER,
        Role::Armorer,
        load_cmd("REV-2", &[Some("BOX-9"), None, None, None, None, None]),
        "DUM-9",
    );
    r(
        &mut set,
        RuleId::ContainerPure,
        ARMORER,
        Role::Armorer,
        Set::receive_cmd("DUM-8", AmmoKind::Dummy, 10, "BOX-1", "Prop house", None),
        "BOX-1",
    );
    r(
        &mut set,
        RuleId::LoadExplicit,
        ARMORER,
        Role::Armorer,
        load_cmd("REV-2", &[None; 3]),
        "3 of the 6",
    );
    r(
        &mut set,
        RuleId::CustodianOnly,
        FIRST_AD,
        Role::FirstAd,
        issue_cmd("REV-2", "CHURCH"),
        "1st AD",
    );
    r(
        &mut set,
        RuleId::ScenePlan,
        FIRST_AD,
        Role::FirstAd,
        plan_cmd(
            "CHURCH",
            SceneKind::Rehearsal,
            "REV-1",
            PlannedLoad::Cold,
            false,
        ),
        "CHURCH",
    );
    r(
        &mut set,
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
        "rehearsal",
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
    r(
        &mut set,
        RuleId::ShowCheck,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
        "REV-1",
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        show_cmd("REV-1", "CHURCH", FIRST_AD),
    );
    r(
        &mut set,
        RuleId::DailyMeeting,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
        "CHURCH",
    );
    set.ok(FIRST_AD, Role::FirstAd, meeting_cmd("CHURCH"));
    r(
        &mut set,
        RuleId::ArmorerDedicated,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
        "2021-10-21",
    );
    set.credential(ARMORER, "2021-09-30");
    r(
        &mut set,
        RuleId::Credentials,
        PRODUCER,
        Role::Producer,
        Command::DesignateArmorer {
            day: date(DAY),
            person: pid(ARMORER),
        },
        "2021-09-30",
    );
    set.ok(
        FIRST_AD,
        Role::FirstAd,
        Command::ReportIncident {
            kind: IncidentKind::NearMiss,
            severity: Severity::Stop,
            covers: Cover::Firearms(vec![fid("REV-2")]),
            description: text("REV-2 found on the cart unattended"),
            anonymous: true,
        },
    );
    r(
        &mut set,
        RuleId::IncidentStop,
        ARMORER,
        Role::Armorer,
        load_cmd("REV-2", &[None; 6]),
        "INC-0001",
    );
    r(
        &mut set,
        RuleId::DischargeReport,
        ARMORER,
        Role::Armorer,
        Command::Expend {
            firearm: fid("REV-1"),
            positions: vec![1],
        },
        "position 1",
    );
    r(
        &mut set,
        RuleId::WrapReconcile,
        ARMORER,
        Role::Armorer,
        Command::Reconcile {
            day: date(DAY),
            counts: vec![],
        },
        "BOX-1",
    );
    set.policy.refuse_unlocked_storage = true;
    r(
        &mut set,
        RuleId::LockedStorage,
        ARMORER,
        Role::Armorer,
        Command::Store {
            item: ItemRef::Firearm(fid("REV-1")),
            location: loc("CART"),
        },
        "CART",
    );
    r(
        &mut set,
        RuleId::Role,
        AUDITOR,
        Role::Auditor,
        Command::Note { text: text("fine") },
        "auditor",
    );
    r(
        &mut set,
        RuleId::State,
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-2"),
            confirmation: None,
            scanned: Some(name("REV-2")),
        },
        "REV-2",
    );
    set.assert_replays();
    // BORE-CLEAR: a misfired round is never unloaded back into its container.
    let mut bore = Set::ready_to_issue();
    bore.ok(
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-1"),
        },
    );
    bore.ok(
        ARMORER,
        Role::Armorer,
        load_cmd("REV-1", &[Some("BOX-2"), None, None, None, None, None]),
    );
    bore.ok(
        ARMORER,
        Role::Armorer,
        Command::ReportDischarge {
            firearm: fid("REV-1"),
            kind: DischargeKind::Misfire,
            positions: vec![1],
            description: text("no bang"),
        },
    );
    r(
        &mut bore,
        RuleId::BoreClear,
        ARMORER,
        Role::Armorer,
        Command::Unload {
            firearm: fid("REV-1"),
        },
        "misfired",
    );
    bore.assert_replays();
    // PERFORMER-BRIEFED: everything in place but the armorer's briefing.
    let mut unbriefed = Set::ready_but_unbriefed();
    r(
        &mut unbriefed,
        RuleId::PerformerBriefed,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
        "briefed today",
    );
    unbriefed.brief("REV-1");
    unbriefed.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    // MEETING-CONTENT: the meeting skipped the walk-through.
    let mut short = meeting_cmd("CHURCH");
    if let Command::HoldMeeting { items, .. } = &mut short {
        items.retain(|i| *i != crate::scene::MeetingItem::WalkThrough);
    }
    let mut thin = Set::ready_after(short);
    thin.brief("REV-1");
    r(
        &mut thin,
        RuleId::MeetingContent,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
        "walk-through",
    );
    // The safety rep and the armorer may let it through, once, for this act.
    thin.ok(
        SAFETY_REP,
        Role::SafetyRep,
        Command::Override {
            rule: RuleId::MeetingContent,
            reason: text("walk-through done at the church door, not recorded"),
            target: crate::overrides::OverrideTarget {
                firearm: Some(fid("REV-1")),
                scene: Some(sid("CHURCH")),
                day: Some(date(DAY)),
                person: Some(pid(PERFORMER)),
            },
            confirmations: vec![actor(ARMORER, Role::Armorer)],
        },
    );
    let events = thin.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    assert!(
        matches!(
            &events[..],
            [
                Event::OverrideUsed {
                    rule: RuleId::MeetingContent,
                    ..
                },
                Event::FirearmIssued { .. }
            ]
        ),
        "{events:?}"
    );
    // TRAINED-NEAR: the policy names a course nobody in the scene holds.
    let mut course = Set::ready_to_issue();
    course.policy.safety_course = Some(CredentialKind::parse("firearms_safety_course").unwrap());
    r(
        &mut course,
        RuleId::TrainedNear,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-1", "CHURCH"),
        "firearms_safety_course",
    );
    // MISSING-REPORT: a missing firearm's incident is not closed without the police report.
    let mut lost = Set::ready_to_issue();
    lost.ok(
        FIRST_AD,
        Role::FirstAd,
        Command::ReportMissing {
            firearm: fid("REV-3"),
            description: text("not in the safe at the lunch count"),
        },
    );
    let open = lost.state.incidents.keys().next_back().unwrap().clone();
    r(
        &mut lost,
        RuleId::MissingReport,
        ARMORER,
        Role::Armorer,
        Command::CloseIncident {
            incident: open,
            findings: text("found in the truck"),
            safety_rep: actor(SAFETY_REP, Role::SafetyRep),
        },
        "police report",
    );
    // HANDOVER-SCAN: the firearm in hand is not the one shown.
    let mut scan = Set::ready_to_issue();
    let mut wrong = issue_cmd("REV-1", "CHURCH");
    if let Command::Issue { scanned, .. } = &mut wrong {
        *scanned = Some(name("REV-2"));
    }
    r(
        &mut scan,
        RuleId::HandoverScan,
        ARMORER,
        Role::Armorer,
        wrong,
        "REV-2",
    );
    // BLANK-DISTANCE: blanks closer than 20 ft with no close-range load named.
    let mut blanks = Set::ready_to_issue();
    let mut close = plan_cmd(
        "SHOOTOUT",
        SceneKind::Take,
        "REV-2",
        PlannedLoad::Blanks,
        true,
    );
    if let Command::PlanScene { plan, .. } = &mut close
        && let Some(b) = &mut plan.firearms[0].blanks
    {
        b.min_distance_ft = 8;
    }
    r(
        &mut blanks,
        RuleId::BlankDistance,
        FIRST_AD,
        Role::FirstAd,
        close,
        "8 ft",
    );
    // PUBLIC-NOTICE: blanks at a public location with no permit or police notice.
    let mut street = Set::blank_take(|p| p.public_location = Some(name("Main Street")));
    r(
        &mut street,
        RuleId::PublicNotice,
        ARMORER,
        Role::Armorer,
        issue_cmd("REV-2", "SHOOTOUT"),
        "Main Street",
    );
    out
}

#[test]
fn every_rule_refusal_says_the_rule_why_and_what_is_needed() {
    let refusals = one_refusal_per_rule();
    for rule in RuleId::ALL {
        if rule == RuleId::ReturnAfterTake {
            continue; // an alert by default, never a refusal (see alerts tests)
        }
        let Some((_, r, word)) = refusals.iter().find(|(id, _, _)| *id == rule) else {
            panic!("no refusal exercised {rule}")
        };
        assert_eq!(r.rule, rule);
        assert!(
            r.why.len() > 15 && r.needed.len() > 10,
            "{rule}: too short: {r}"
        );
        assert!(
            r.why.contains(word),
            "{rule}: why should mention {word:?}: {r}"
        );
        assert_ne!(r.why, r.needed, "{rule}");
        for bad in ["Some(", "None", "Id(", "{"] {
            assert!(
                !r.why.contains(bad) && !r.needed.contains(bad),
                "{rule}: debug text leaked: {r}"
            );
        }
        let shown = r.to_string();
        assert!(
            shown.starts_with(&format!("Refused by rule {rule}: ")),
            "{shown}"
        );
        assert!(
            shown.contains(&r.why) && shown.contains(&format!("Needed: {}", r.needed)),
            "{shown}"
        );
    }
}

#[test]
fn overridable_refusals_say_who_may_override() {
    for (rule, r, _) in one_refusal_per_rule() {
        if let Some(roles) = rule.override_roles() {
            assert!(
                r.needed.contains("override"),
                "{rule}: needed should offer the override: {r}"
            );
            for role in roles {
                assert!(
                    r.needed.contains(role.title()),
                    "{rule}: needed should name the {}: {r}",
                    role.title()
                );
            }
        } else {
            assert!(
                !r.needed.contains("override"),
                "{rule} cannot be overridden, yet: {r}"
            );
        }
    }
}

#[test]
fn a_refusal_is_logged_as_a_near_miss() {
    let mut set = Set::production();
    let cmd = Set::receive_cmd("LIVE-9", AmmoKind::Live, 5, "BAG-9", "Seth", None);
    let r = set.refused(RuleId::LiveNever, ARMORER, Role::Armorer, cmd);
    let Some(Event::Refused {
        command,
        rule,
        why,
        needed,
        by,
        role,
        firearm,
    }) = set.log.last()
    else {
        panic!("no refused entry")
    };
    assert_eq!(firearm, &None, "receiving a lot names no firearm");
    assert_eq!(
        (command.as_str(), *rule, why, needed, by, *role),
        (
            "receive_lot",
            RuleId::LiveNever,
            &r.why,
            &r.needed,
            &pid(ARMORER),
            Role::Armorer
        )
    );
    assert_eq!(set.state.refusals, vec![set.state.next_index - 1]);
}

#[test]
fn a_near_miss_names_the_firearm_its_act_was_about() {
    let mut set = Set::ready_to_issue();
    set.refused(
        RuleId::CustodianOnly,
        FIRST_AD,
        Role::FirstAd,
        issue_cmd("REV-1", "CHURCH"),
    );
    let Some(Event::Refused { firearm, .. }) = set.log.last() else {
        panic!("no refused entry")
    };
    assert_eq!(firearm, &Some(fid("REV-1")));
    // It is not an act on the firearm: the show check still stands for the armorer's issue.
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
}
