//! Both legs of custody: a handover completes only when the receiver confirms.

use super::harness::*;
use crate::command::Command;
use crate::event::Event;
use crate::incident::{Cover, IncidentKind, Severity};
use crate::items::ItemRef;
use crate::people::Role;
use crate::rules::RuleId;
use crate::state::{Custody, HandoverKind};

fn rev(id: &str) -> ItemRef {
    ItemRef::Firearm(fid(id))
}

fn offer_issue() -> Command {
    Command::Issue {
        firearm: fid("REV-1"),
        performer: pid(PERFORMER),
        scene: sid("CHURCH"),
        confirmation: None,
        scanned: Some(name("REV-1")),
    }
}

fn confirm(item: ItemRef) -> Command {
    Command::ConfirmHandover {
        item,
        confirmation: None,
    }
}

#[test]
fn an_issue_completes_only_when_the_performer_confirms() {
    let mut set = Set::ready_to_issue();
    let events = set.ok(ARMORER, Role::Armorer, offer_issue());
    assert!(
        matches!(&events[..], [Event::HandoverOffered { handover: HandoverKind::Issue { scene }, from, to, .. }] if scene == &sid("CHURCH") && from == &pid(ARMORER) && to == &pid(PERFORMER)),
        "{events:?}"
    );
    let f = &set.state.firearms[&fid("REV-1")];
    assert_eq!(
        f.custody,
        Custody::AtHand,
        "the giver keeps it until confirmed"
    );
    assert_eq!(f.custodian, pid(ARMORER));
    assert!(
        f.show_check.is_some(),
        "an offer does not void the show check"
    );
    let h = f.handover.clone().unwrap();
    assert_eq!((h.from, h.to), (pid(ARMORER), pid(PERFORMER)));
    let alerts = crate::alerts::alerts(&set.policy, &set.state, set.now);
    assert!(
        alerts.iter().any(|a| matches!(&a.kind, crate::alerts::AlertKind::HandoverWaiting { item, to, .. } if item == &rev("REV-1") && to == &pid(PERFORMER))),
        "{alerts:?}"
    );

    // Nothing else happens to the firearm while it waits.
    let r = set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        load_cmd("REV-1", &[Some("BOX-1"), None, None, None, None, None]),
    );
    assert!(r.why.contains("waits for"), "{r}");
    set.refused(RuleId::CustodianOnly, ARMORER, Role::Armorer, offer_issue());
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        Command::Store {
            item: rev("REV-1"),
            location: loc("SAFE"),
        },
    );
    // Only the performer it is offered to confirms, in their own name.
    let r = set.refused(
        RuleId::CustodianOnly,
        FIRST_AD,
        Role::FirstAd,
        confirm(rev("REV-1")),
    );
    assert!(r.why.contains("cannot confirm receiving"), "{r}");
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        Command::ConfirmHandover {
            item: rev("REV-1"),
            confirmation: Some(actor(FIRST_AD, Role::Performer)),
        },
    );

    set.at("2021-10-21T13:10:00Z");
    let events = set.ok(PERFORMER, Role::Performer, confirm(rev("REV-1")));
    let [Event::FirearmIssued { by, at, due, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(by, &pid(ARMORER), "issued by the giver");
    assert_eq!(*at, ts("2021-10-21T13:10:00Z"), "from the confirmation");
    assert_eq!(
        *due,
        ts("2021-10-21T13:40:00Z"),
        "the window runs from then"
    );
    let f = &set.state.firearms[&fid("REV-1")];
    assert!(
        matches!(&f.custody, Custody::Issued { performer, .. } if performer == &pid(PERFORMER))
    );
    assert!(f.handover.is_none());
    let alerts = crate::alerts::alerts(&set.policy, &set.state, set.now);
    assert!(
        !alerts
            .iter()
            .any(|a| matches!(&a.kind, crate::alerts::AlertKind::HandoverWaiting { .. })),
        "{alerts:?}"
    );
    set.refused(
        RuleId::State,
        PERFORMER,
        Role::Performer,
        confirm(rev("REV-1")),
    );
    set.assert_replays();
}

#[test]
fn a_pin_confirmation_must_be_the_performers() {
    let mut set = Set::ready_to_issue();
    let r = set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        Command::Issue {
            firearm: fid("REV-1"),
            performer: pid(PERFORMER),
            scene: sid("CHURCH"),
            confirmation: Some(actor(FIRST_AD, Role::FirstAd)),
            scanned: Some(name("REV-1")),
        },
    );
    assert!(
        r.why.contains("cannot confirm receiving firearm REV-1"),
        "{r}"
    );
    let events = set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    assert!(
        matches!(&events[..], [Event::FirearmIssued { .. }]),
        "{events:?}"
    );
    set.assert_replays();
}

#[test]
fn a_stop_between_offer_and_confirmation_stops_the_issue_and_the_offer_can_be_called_off() {
    let mut set = Set::ready_to_issue();
    set.ok(ARMORER, Role::Armorer, offer_issue());
    set.ok(
        SAFETY_REP,
        Role::SafetyRep,
        Command::ReportIncident {
            kind: IncidentKind::NearMiss,
            severity: Severity::Critical,
            covers: Cover::All,
            description: text("stop work called"),
            anonymous: false,
        },
    );
    set.refused(
        RuleId::IncidentStop,
        PERFORMER,
        Role::Performer,
        confirm(rev("REV-1")),
    );
    // Only the two sides or a custodian call it off.
    set.refused(
        RuleId::CustodianOnly,
        FIRST_AD,
        Role::FirstAd,
        Command::CancelHandover {
            item: rev("REV-1"),
            reason: text("stop"),
        },
    );
    set.ok(
        PERFORMER,
        Role::Performer,
        Command::CancelHandover {
            item: rev("REV-1"),
            reason: text("work stopped"),
        },
    );
    assert!(set.state.firearms[&fid("REV-1")].handover.is_none());
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::Store {
            item: rev("REV-1"),
            location: loc("SAFE"),
        },
    );
    set.assert_replays();
}

#[test]
fn custody_passes_when_the_new_custodian_confirms() {
    let mut set = Set::production();
    set.policy.property_master_may_be_custodian = true;
    set.credential(PROP_MASTER, "2022-12-31");
    let give = Command::AssignCustodian {
        item: rev("REV-2"),
        person: pid(PROP_MASTER),
        confirmation: None,
        scanned: Some(name("REV-2")),
    };
    set.ok(ARMORER, Role::Armorer, give);
    assert_eq!(set.state.firearms[&fid("REV-2")].custodian, pid(ARMORER));
    // The receiver cannot act on it yet, nor can the giver.
    set.refused(
        RuleId::CustodianOnly,
        PROP_MASTER,
        Role::PropertyMaster,
        load_cmd("REV-2", &[None; 6]),
    );
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        load_cmd("REV-2", &[None; 6]),
    );
    // A third custodian is not the receiver.
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        confirm(rev("REV-2")),
    );
    let events = set.ok(PROP_MASTER, Role::PropertyMaster, confirm(rev("REV-2")));
    assert!(
        matches!(&events[..], [Event::CustodianAssigned { person, .. }] if person == &pid(PROP_MASTER)),
        "{events:?}"
    );
    set.ok(
        PROP_MASTER,
        Role::PropertyMaster,
        load_cmd("REV-2", &[None; 6]),
    );
    set.assert_replays();
}

#[test]
fn a_performer_gives_a_firearm_back_and_a_custodian_confirms_it() {
    let mut set = Set::ready_to_issue();
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    let back = Command::Return {
        firearm: fid("REV-1"),
        confirmation: None,
        scanned: Some(name("REV-1")),
    };
    // Someone else's performer cannot give it back.
    set.refused(RuleId::CustodianOnly, FIRST_AD, Role::FirstAd, back.clone());
    let events = set.ok(PERFORMER, Role::Performer, back.clone());
    assert!(
        matches!(&events[..], [Event::HandoverOffered { handover: HandoverKind::Return, from, to, .. }] if from == &pid(PERFORMER) && to == &pid(ARMORER)),
        "{events:?}"
    );
    assert!(matches!(
        set.state.firearms[&fid("REV-1")].custody,
        Custody::Issued { .. }
    ));
    set.refused(RuleId::State, PERFORMER, Role::Performer, back.clone());
    set.refused(
        RuleId::CustodianOnly,
        PERFORMER,
        Role::Performer,
        confirm(rev("REV-1")),
    );
    let events = set.ok(ARMORER, Role::Armorer, confirm(rev("REV-1")));
    assert!(
        matches!(&events[..], [Event::FirearmReturned { performer, to, .. }] if performer == &pid(PERFORMER) && to == &pid(ARMORER)),
        "{events:?}"
    );
    assert_eq!(set.state.firearms[&fid("REV-1")].custody, Custody::AtHand);
    set.assert_replays();
}

#[test]
fn a_custodian_takes_a_firearm_back_whatever_waits() {
    let mut set = Set::ready_to_issue();
    set.ok(ARMORER, Role::Armorer, issue_cmd("REV-1", "CHURCH"));
    set.ok(
        PERFORMER,
        Role::Performer,
        Command::Return {
            firearm: fid("REV-1"),
            confirmation: None,
            scanned: Some(name("REV-1")),
        },
    );
    // The performer's confirmation, when given, must be theirs.
    set.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-1"),
            confirmation: Some(actor(FIRST_AD, Role::Performer)),
            scanned: Some(name("REV-1")),
        },
    );
    let events = set.ok(
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-1"),
            confirmation: Some(actor(PERFORMER, Role::Performer)),
            scanned: Some(name("REV-1")),
        },
    );
    assert!(
        matches!(&events[..], [Event::FirearmReturned { .. }]),
        "{events:?}"
    );
    assert!(set.state.firearms[&fid("REV-1")].handover.is_none());
    set.assert_replays();
}

#[test]
fn handover_json_is_stable() {
    let e = Event::HandoverOffered {
        item: rev("REV-1"),
        handover: HandoverKind::Issue {
            scene: sid("CHURCH"),
        },
        from: pid(ARMORER),
        to: pid(PERFORMER),
        at: ts(MORNING),
    };
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        r#"{"type":"handover_offered","item":{"firearm":"REV-1"},"handover":{"kind":"issue","scene":"CHURCH"},"from":"hgr","to":"ab","at":"2021-10-21T13:00:00.000Z"}"#
    );
    let c: Command =
        serde_json::from_str(r#"{"type":"confirm_handover","item":{"firearm":"REV-1"}}"#).unwrap();
    assert_eq!(c, confirm(rev("REV-1")));
}

#[test]
fn where_the_policy_says_so_a_registered_passkey_replaces_the_pin() {
    let mut set = Set::ready_to_issue();
    set.log.push(Event::PasskeyRegistered {
        person: pid(PERFORMER),
        credential: "Y3JlZA".into(),
        public_key: "a2V5".into(),
        rp_id: "armory.local".into(),
    });
    crate::apply::apply(&mut set.state, set.log.last().unwrap()).unwrap();
    // Off by default: the PIN still confirms.
    let by_pin = issue_cmd("REV-1", "CHURCH");
    let mut strict = set.clone();
    strict.policy.passkeys_for_confirmations = true;
    let r = strict.refused(
        RuleId::CustodianOnly,
        ARMORER,
        Role::Armorer,
        by_pin.clone(),
    );
    assert!(r.why.contains("has a passkey"), "{r}");
    let mut by_passkey = by_pin.clone();
    if let Command::Issue {
        confirmation: Some(c),
        ..
    } = &mut by_passkey
    {
        c.method = crate::AuthMethod::Passkey;
    }
    strict.ok(ARMORER, Role::Armorer, by_passkey);
    // Someone with no passkey still confirms by PIN: the 1st AD at a show check.
    strict.ok(
        ARMORER,
        Role::Armorer,
        Command::Return {
            firearm: fid("REV-1"),
            confirmation: None,
            scanned: Some(name("REV-1")),
        },
    );
    let mut show = show_cmd("REV-1", "CHURCH", FIRST_AD);
    strict.refused(RuleId::ShowCheck, ARMORER, Role::Armorer, show.clone());
    if let Command::ShowCheck { performer, .. } = &mut show {
        performer.method = crate::AuthMethod::Passkey;
    }
    strict.ok(ARMORER, Role::Armorer, show);
    set.ok(ARMORER, Role::Armorer, by_pin);
    strict.assert_replays();
}

#[test]
fn the_firearm_handed_over_is_scanned_and_is_the_one_shown_untouched_since() {
    let mut set = Set::ready_to_issue();
    let with_scan = |read: Option<&str>| {
        let mut c = issue_cmd("REV-1", "CHURCH");
        if let Command::Issue { scanned, .. } = &mut c {
            *scanned = read.map(name);
        }
        c
    };
    let r = set.refused(
        RuleId::HandoverScan,
        ARMORER,
        Role::Armorer,
        with_scan(None),
    );
    assert!(r.why.contains("not scanned"), "{r}");
    let r = set.refused(
        RuleId::HandoverScan,
        ARMORER,
        Role::Armorer,
        with_scan(Some("REV-2")),
    );
    assert!(r.why.contains("scans as firearm REV-2, not REV-1"), "{r}");
    let r = set.refused(
        RuleId::HandoverScan,
        ARMORER,
        Role::Armorer,
        with_scan(Some("XYZ")),
    );
    assert!(r.why.contains("no firearm of this production"), "{r}");
    // Its serial scans as well as its label; any act after the show check voids it for the
    // handover (here a bore check, which does not change the load).
    let serial = set.state.firearms[&fid("REV-1")].serial.to_string();
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
        Command::BoreCheck {
            firearm: fid("REV-1"),
        },
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        show_cmd("REV-1", "CHURCH", FIRST_AD),
    );
    set.ok(
        ARMORER,
        Role::Armorer,
        Command::BoreCheck {
            firearm: fid("REV-1"),
        },
    );
    let r = set.refused(
        RuleId::HandoverScan,
        ARMORER,
        Role::Armorer,
        with_scan(Some(&serial)),
    );
    assert!(r.why.contains("after its show check"), "{r}");
    set.ok(
        ARMORER,
        Role::Armorer,
        show_cmd("REV-1", "CHURCH", FIRST_AD),
    );
    // The offer itself is the one act allowed between the show check and the confirmation.
    set.ok(ARMORER, Role::Armorer, offer_issue());
    let events = set.ok(PERFORMER, Role::Performer, confirm(rev("REV-1")));
    assert!(
        matches!(&events[..], [Event::FirearmIssued { .. }]),
        "{events:?}"
    );
    set.assert_replays();
}
