//! The policy in force: what each setting is, who set it and in which entry, and a form to change
//! it (RULES.md §3). Tightening needs the armorer or an admin; a loosening is refused unless the
//! producer, the safety representative and the armorer approve it, each with their PIN (the
//! rules engine decides; this page only asks). A change is a `policy_set` entry.

use super::super::{FormMap, esc, field, input};
use super::{Pins, checkbox, open_form, pin_input, shell, submit};
use crate::App;
use crate::api::ApiError;
use armory_core::{Policy, Role};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// Each setting of the policy in words, in the order the page shows them.
const SETTINGS: &[(&str, &str)] = &[
    (
        "refuse_unlocked_storage",
        "Refuse storing firearms or ammunition anywhere that does not lock (LOCKED-STORAGE)",
    ),
    (
        "meeting_must_include_performer",
        "The performer receiving a firearm must have attended the safety meeting (DAILY-MEETING)",
    ),
    (
        "rehearsal_allows_dummies",
        "Rehearsals may use dummies (off: only empty chambers or non-firing firearms)",
    ),
    (
        "passkeys_for_confirmations",
        "Whoever has registered a passkey confirms with it, not with a PIN",
    ),
    (
        "property_master_may_be_custodian",
        "A property master or assistant property master holding the credentials may act as custodian (issue, load, receive)",
    ),
    (
        "armorer_dedicated_all_day",
        "The day's armorer has no other duty all day (off: from the first take-out until all firearms are locked away) (ARMORER-DEDICATED)",
    ),
    (
        "jurisdiction",
        "Where the production shoots (US-CA, or blank): the rules its law requires cannot be overridden there",
    ),
    (
        "anonymous_incident_reports",
        "Incidents may be reported anonymously",
    ),
    (
        "safety_course",
        "The firearms safety course everyone in a firearm scene must hold (a credential kind, e.g. firearms_safety_course; blank: none) (TRAINED-NEAR)",
    ),
    (
        "scene_window_minutes",
        "Minutes an issued firearm may stay out when the plan names no window (RETURN-AFTER-TAKE)",
    ),
    (
        "credential_warning_days",
        "Warn this many days before a credential expires (CREDENTIALS)",
    ),
    (
        "utc_offset_minutes",
        "The set's offset from UTC, in minutes (e.g. -360 for MDT): decides what today is",
    ),
    (
        "day_starts_at_minutes",
        "When the shoot day turns over, in minutes after local midnight (night shoots)",
    ),
];

/// The three approvers of a loosening, as the form names their fields.
const APPROVERS: [(&str, Role, &str); 3] = [
    ("producer", Role::Producer, "Producer"),
    ("safety_rep", Role::SafetyRep, "Safety representative"),
    ("armorer", Role::Armorer, "Armorer"),
];

fn value_words(v: &Value) -> String {
    match v {
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `GET /policy`: the policy in force and the form that changes it.
pub async fn policy_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let node_policy = app.node().policy();
    shell(&app, &headers, "Policy", |c, s, _| {
        let (policy, source) = match &s.policy {
            Some(p) => (
                p.policy.clone(),
                format!(
                    "set by {} in <a href=/entry/{1}>entry #{1}</a>",
                    esc(p.by.as_ref()),
                    p.entry
                ),
            ),
            None => (
                (*node_policy).clone(),
                "RULES.md's defaults: no policy is in the log yet".to_owned(),
            ),
        };
        let now = serde_json::to_value(&policy).unwrap_or_default();
        let mut b = format!("<h1>Policy in force</h1><p id=policy-source>{source}</p><table>");
        for (key, words) in SETTINGS {
            let _ = write!(
                b,
                "<tr><td>{}</td><td><b>{}</b></td></tr>",
                esc(words),
                esc(&value_words(&now[*key]))
            );
        }
        for role in Role::ALL {
            let kinds = credentials(&policy, role);
            if !kinds.is_empty() {
                let _ = write!(
                    b,
                    "<tr><td>Credentials the {} must hold (CREDENTIALS)</td><td><b>{}</b></td></tr>",
                    esc(role.title()),
                    esc(&kinds)
                );
            }
        }
        b.push_str("</table>");
        b.push_str(&open_form(c, "set_policy", "Change the policy", "/policy"));
        b.push_str("<p class=muted>Tightening needs the armorer or an admin. Loosening (a rule off, a longer window, fewer credentials, another day boundary) also needs the producer, the safety representative and the armorer, each confirming with their PIN.</p>");
        for (key, words) in SETTINGS {
            match &now[*key] {
                Value::Bool(on) => b.push_str(&checkbox(&format!("p.{key}"), words, *on)),
                Value::Null | Value::String(_) => b.push_str(&input(
                    &format!("p.{key}"),
                    words,
                    now[*key].as_str().unwrap_or_default(),
                    "autocapitalize=none",
                )),
                v => b.push_str(&input(
                    &format!("p.{key}"),
                    words,
                    &v.to_string(),
                    "inputmode=numeric required",
                )),
            }
        }
        let asked = Role::ALL.into_iter().filter(|r| {
            matches!(
                r,
                Role::Armorer | Role::PropertyMaster | Role::AssistantPropertyMaster
            ) || policy.required_credentials.contains_key(r)
        });
        for role in asked {
            b.push_str(&input(
                &format!("cred.{}", role.as_str()),
                &format!(
                    "Credentials the {} must hold (comma-separated kinds)",
                    role.title()
                ),
                &credentials(&policy, role),
                "autocapitalize=none",
            ));
        }
        b.push_str("<h3>Approvals (only for a loosening)</h3>");
        for (field, _, title) in APPROVERS {
            b.push_str(&input(
                &format!("approver.{field}"),
                &format!("{title} id"),
                "",
                "autocapitalize=none",
            ));
            b.push_str(&pin_input(
                &format!("approver_pin.{field}"),
                &format!("{title} PIN"),
            ));
        }
        b.push_str(&submit("Set the policy"));
        b
    })
    .await
}

fn credentials(policy: &Policy, role: Role) -> String {
    policy
        .required_credentials
        .get(&role)
        .map(|k| {
            k.iter()
                .map(|k| k.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub(super) fn command(
    kind: &str,
    form: &FormMap,
    pins: &mut Pins,
) -> Result<Option<Value>, ApiError> {
    if kind != "set_policy" {
        return Ok(None);
    }
    let mut policy = serde_json::Map::new();
    for (key, _) in SETTINGS {
        let name = format!("p.{key}");
        let v = field(form, &name);
        let value = match *key {
            "scene_window_minutes"
            | "credential_warning_days"
            | "utc_offset_minutes"
            | "day_starts_at_minutes" => json!(v.trim().parse::<i64>().map_err(|_| {
                ApiError::bad(format!("{key} must be a whole number, not {v:?}")).field(&name)
            })?),
            "safety_course" | "jurisdiction" => match v.trim() {
                "" => Value::Null,
                text => json!(text),
            },
            // A checkbox that is not ticked is not sent.
            _ => json!(v == "on"),
        };
        policy.insert((*key).to_owned(), value);
    }
    let mut creds = serde_json::Map::new();
    for role in Role::ALL {
        let kinds: Vec<&str> = field(form, &format!("cred.{}", role.as_str()))
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        if !kinds.is_empty() {
            creds.insert(role.as_str().to_owned(), json!(kinds));
        }
    }
    policy.insert("required_credentials".into(), Value::Object(creds));
    let mut approvals = Vec::new();
    for (name, role, _) in APPROVERS {
        let who = field(form, &format!("approver.{name}")).trim();
        if who.is_empty() {
            continue;
        }
        pins.insert(
            who.to_owned(),
            field(form, &format!("approver_pin.{name}")).to_owned(),
        );
        approvals.push(json!({"person": who, "role": role.as_str(), "method": "pin"}));
    }
    Ok(Some(
        json!({"type": "set_policy", "policy": policy, "approvals": approvals}),
    ))
}
