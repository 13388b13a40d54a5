//! The record beyond the acts: an override of a rule for one later act, approved by the roles
//! RULES.md §3 lists (each other approver confirming with a PIN), a correction of an earlier
//! entry (a new entry pointing at it: nothing is edited or deleted, RULES.md §5), and a remark.

use super::super::{FormMap, esc, field, input};
use super::{Pins, as_refs, open_form, optional, person_options, select, shell, submit};
use crate::App;
use crate::api::{ApiError, Caller};
use armory_core::{Role, RuleId};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// How many other approvers an override form offers (the most any rule needs besides the actor).
const APPROVER_SLOTS: usize = 2;

/// `GET /override`: loosen a rule once, for one act, with the approvals the rule needs; and the
/// overrides granted so far, used or waiting.
pub async fn override_page(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Override", |c, s, day| {
        let rules: Vec<(String, String)> = RuleId::ALL
            .iter()
            .filter_map(|r| {
                let roles = r.override_roles()?;
                let who: Vec<&str> = roles.iter().map(|x| x.title()).collect();
                Some((r.as_str().to_owned(), format!("{r}: approved by {}", who.join(" and "))))
            })
            .collect();
        let firearms: Vec<(String, String)> = s.firearms.keys().map(|id| (id.to_string(), id.to_string())).collect();
        let scenes: Vec<(String, String)> = s.scenes.keys().map(|id| (id.to_string(), id.to_string())).collect();
        let people = person_options(s, None);
        let roles: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.as_str(), r.title())).collect();

        let mut b = String::from("<h1>Override a rule</h1><p>An override loosens one rule for one later act that matches every field named below. You approve it in the role you act in now; every other role the rule needs confirms with a PIN. The override and its use are both in the log.</p>");
        b.push_str(&open_form(c, "override", "Override", "/override"));
        b.push_str(&select("rule", "Rule", &as_refs(&rules), rules.first().map_or("", |r| r.0.as_str())));
        b.push_str(&input("reason", "Why (written into the log)", "", "required"));
        b.push_str("<fieldset><legend>For which act</legend>");
        b.push_str(&select("target_firearm", "Firearm", &as_refs(&any_of(&firearms)), ""));
        b.push_str(&select("target_scene", "Scene", &as_refs(&any_of(&scenes)), ""));
        b.push_str(&input("target_day", "Shoot day (blank: any)", day, "type=date"));
        b.push_str(&select("target_person", "Person it is about", &as_refs(&any_of(&people)), ""));
        b.push_str("</fieldset>");
        for k in 1..=APPROVER_SLOTS {
            let _ = write!(b, "<fieldset><legend>Other approver {k}</legend>");
            b.push_str(&super::select_as(&format!("approver{k}"), &format!("approver{k}"), "Person", &as_refs(&any_of(&people)), ""));
            b.push_str(&super::select_as(&format!("approver{k}_role"), &format!("approver{k}_role"), "Approves as", &roles, "safety_rep"));
            b.push_str(&super::confirm_inputs(&format!("approver{k}"), "Their PIN", "The approver"));
            b.push_str("</fieldset>");
        }
        b.push_str(&submit("Grant override"));

        let _ = write!(b, "<h2>Overrides ({})</h2><table><tr><th>Entry</th><th>Rule</th><th>For</th><th>Approved by</th><th>Used</th></tr>", s.overrides.len());
        for (entry, o) in s.overrides.iter().rev() {
            let target = serde_json::to_value(&o.target).map(|v| v.to_string()).unwrap_or_default();
            let approvers: Vec<String> = o.approvers.iter().map(|a| format!("{} ({})", a.person, a.role.title())).collect();
            let _ = write!(
                b,
                "<tr><td><a href=/entry/{entry}>#{entry}</a></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(o.rule.as_str()), esc(&target), esc(&approvers.join(", ")),
                o.used_by.map_or("waiting".to_owned(), |u| format!("<a href=/entry/{u}>by #{u}</a>"))
            );
        }
        b.push_str("</table>");
        b
    })
    .await
}

/// `options` after a blank choice (no firearm, scene or person named; no other approver).
fn any_of(options: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), "(none)".to_owned()))
        .chain(options.iter().cloned())
        .collect()
}

/// The form on the log page: a remark for the record.
pub(crate) fn remark_form(c: &Caller) -> String {
    let mut b = open_form(c, "note", "Add a remark to the log", "/log");
    b.push_str(&input("text", "Remark", "", "required"));
    b.push_str(&submit("Record remark"));
    b
}

/// The form on an entry's page: a correction pointing at it.
pub(crate) fn correction_form(c: &Caller, entry: u64) -> String {
    let mut b = open_form(
        c,
        "correct",
        "Correct this entry (a new entry points at it; nothing is edited)",
        &format!("/entry/{entry}"),
    );
    let _ = write!(b, "<input type=hidden name=entry value={entry}>");
    b.push_str(&input(
        "reason",
        "What was wrong, and what is right",
        "",
        "required",
    ));
    b.push_str(&submit("Record correction"));
    b
}

pub(super) fn command(
    kind: &str,
    form: &FormMap,
    pins: &mut Pins,
) -> Result<Option<Value>, ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    Ok(Some(match kind {
        "override" => {
            let mut confirmations = Vec::new();
            for k in 1..=APPROVER_SLOTS {
                let person = f(&format!("approver{k}"));
                if person.is_empty() {
                    continue;
                }
                pins.insert(person.clone(), f(&format!("approver{k}_pin")));
                confirmations.push(json!({"person": person,
                    "role": f(&format!("approver{k}_role")), "method": "pin"}));
            }
            let mut target = serde_json::Map::new();
            for (key, name) in [
                ("firearm", "target_firearm"),
                ("scene", "target_scene"),
                ("day", "target_day"),
                ("person", "target_person"),
            ] {
                if let v @ Value::String(_) = optional(form, name) {
                    target.insert(key.to_owned(), v);
                }
            }
            json!({"type": "override", "rule": f("rule"), "reason": f("reason"),
                "target": target, "confirmations": confirmations})
        }
        "note" => json!({"type": "note", "text": f("text")}),
        "correct" => json!({"type": "correct", "entry": super::number(form, "entry")?,
            "reason": f("reason")}),
        _ => return Ok(None),
    }))
}
