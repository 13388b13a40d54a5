//! Who may do what (RULES.md §4), in one table: every act by its command kind, and the roles that
//! may attempt it. `decide` asks this table before any rule; the table is printed for people by
//! [`markdown`] (`armory roles`, and the README's copy, which a test keeps equal), and a test
//! checks it cell by cell against what `decide` does for every act and every role.

use crate::people::Role;
use crate::policy::Policy;

/// Who may attempt an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum May {
    /// Exactly these roles.
    Roles(&'static [Role]),
    /// A custodian: the armorer, and the property master and assistant property master where the
    /// policy lets them (holding the credentials it names).
    Custodian,
    /// A custodian, or one of these roles.
    CustodianOr(&'static [Role]),
    /// The people a waiting handover names (the receiver confirms; either side calls it off,
    /// as may a custodian), or for a return, the performer holding the firearm or a custodian.
    Party,
    /// Everyone on the production but the auditor, who changes nothing.
    Anyone,
}

use Role::*;

/// Every act, in the order of a production's life, and who may attempt it.
pub const TABLE: &[(&str, May)] = &[
    ("open_production", May::Roles(&[Admin])),
    ("set_policy", May::Roles(&[Armorer, Admin])),
    ("add_person", May::Roles(&[Admin])),
    ("grant_role", May::Roles(&[Admin])),
    ("revoke_role", May::Roles(&[Admin])),
    ("remove_person", May::Roles(&[Admin])),
    ("record_credential", May::Roles(&[Admin])),
    ("assign_duty", May::Roles(&[Producer])),
    ("release_duty", May::Roles(&[Producer])),
    ("designate_armorer", May::Roles(&[Producer])),
    ("add_location", May::Custodian),
    ("set_location_lock", May::Custodian),
    ("register_firearm", May::Custodian),
    ("receive_lot", May::Custodian),
    ("verify_lot", May::Custodian),
    ("reopen_lot", May::Custodian),
    ("transfer_rounds", May::Custodian),
    ("remove_rounds", May::Custodian),
    ("store", May::Custodian),
    ("take_out", May::Custodian),
    ("assign_custodian", May::Custodian),
    ("confirm_handover", May::Party),
    ("cancel_handover", May::Party),
    ("plan_scene", May::Roles(&[FirstAd, Armorer])),
    ("approve_close_range_load", May::Roles(&[Armorer])),
    (
        "record_public_notice",
        May::Roles(&[Armorer, Producer, FirstAd]),
    ),
    (
        "record_risk_assessment",
        May::Roles(&[SafetyAdvisor, SafetyRep]),
    ),
    ("hold_meeting", May::Roles(&[FirstAd])),
    ("brief_performer", May::Custodian),
    ("load", May::Custodian),
    ("unload", May::Custodian),
    ("show_check", May::Custodian),
    ("issue", May::Custodian),
    ("return", May::Party),
    ("expend", May::Custodian),
    ("bore_check", May::Custodian),
    ("recover_round", May::Custodian),
    ("report_discharge", May::Anyone),
    ("report_incident", May::Anyone),
    ("report_missing", May::Anyone),
    (
        "record_police_report",
        May::Roles(&[Armorer, Producer, SafetyRep, Admin]),
    ),
    ("close_incident", May::Custodian),
    ("reconcile", May::Custodian),
    ("override", May::Anyone),
    ("correct", May::CustodianOr(&[SafetyRep, Admin])),
    ("note", May::Anyone),
];

/// Everyone on the production but the auditor.
pub const ANYONE: &[Role] = &[
    Armorer,
    PropertyMaster,
    AssistantPropertyMaster,
    SafetyAdvisor,
    FirstAd,
    SafetyRep,
    Performer,
    Producer,
    Admin,
];

/// Who may attempt the act of command kind `kind` (`None` for a kind no command has).
pub fn may(kind: &str) -> Option<May> {
    TABLE.iter().find(|(k, _)| *k == kind).map(|(_, m)| *m)
}

/// Whether `role` may attempt `kind` under `policy` (a party to a handover decides by who they
/// are, not their role: any role but the auditor's).
pub fn allows(policy: &Policy, kind: &str, role: Role) -> bool {
    match may(kind) {
        None => false,
        Some(May::Roles(r)) => r.contains(&role),
        Some(May::Custodian) => policy.is_custodian_role(role),
        Some(May::CustodianOr(r)) => policy.is_custodian_role(role) || r.contains(&role),
        Some(May::Party | May::Anyone) => ANYONE.contains(&role),
    }
}

/// Whether `person`, acting in `role`, may attempt `kind` now: on the production, holding the
/// role, and the role one the table lets attempt it (what `decide` asks before any rule).
pub fn may_attempt(
    state: &crate::State,
    policy: &Policy,
    person: &crate::PersonId,
    role: Role,
    kind: &str,
) -> bool {
    state.person_acts_as(person, role) && allows(policy, kind, role)
}

/// The table as Markdown, one row per act and a column per role (`x` where the role may), for
/// `policy` (which decides whether property masters are custodians).
pub fn markdown(policy: &Policy) -> String {
    let mut out = String::from("| act |");
    for r in Role::ALL {
        out.push_str(&format!(" {} |", r.title()));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for (kind, m) in TABLE {
        out.push_str(&format!("| `{kind}` |"));
        for r in Role::ALL {
            let cell = match m {
                May::Party if allows(policy, kind, r) => "party",
                _ if allows(policy, kind, r) => "x",
                _ => "",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out.push_str(
        "\n`x`: may attempt it (the rules still decide). `party`: only a person the waiting \
         handover names (the receiver confirms; either side, or a custodian, calls it off), or \
         for a return the performer holding the firearm. Property masters and assistant property \
         masters act as custodians only holding the credentials the policy names.\n",
    );
    out
}
