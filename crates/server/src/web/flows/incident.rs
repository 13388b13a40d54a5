//! Discharges that were not planned (DISCHARGE-REPORT, F6) and closing an incident with findings,
//! by the custodian with the safety rep's PIN (INCIDENT-STOP).

use super::super::{FormMap, esc, field, input, words};
use super::{Pins, as_refs, confirm_inputs, open_form, person_options, select, shell, submit};
use crate::App;
use crate::api::ApiError;
use armory_core::Role;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// `GET /discharge`: report an unplanned discharge; close an open incident (custodian, confirmed
/// by the safety rep's PIN).
pub async fn discharge(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Discharges and incidents", |c, s, _| {
        let firearms: Vec<(String, String)> = s.firearms.keys().map(|k| (k.to_string(), k.to_string())).collect();
        let mut b = format!("<h1>Discharge report</h1>{}", open_form(c, "report_discharge", "A discharge that was not planned", "/discharge"));
        b.push_str(&select("firearm", "Firearm", &as_refs(&firearms), ""));
        b.push_str(&select("discharge", "What happened", &[("misfire", "Misfire: did not fire as planned"), ("accidental", "Accidental: fired when nobody meant it to")], "misfire"));
        b.push_str(&input("positions", "Positions (1,2,...; blank for a misfire with none)", "", ""));
        b.push_str("<label for=description>Describe it</label><textarea id=description name=description rows=3 required></textarea>");
        b.push_str(&submit("Report discharge"));
        b.push_str(&open_form(c, "report_missing", "A firearm that cannot be found (MISSING-REPORT: all firearm work stops; a police report within 48 hours)", "/discharge"));
        b.push_str(&super::select_as("missing_firearm", "firearm", "Firearm", &as_refs(&firearms), ""));
        b.push_str("<label for=missing_description>Where it was last seen, who looked</label><textarea id=missing_description name=missing_description rows=2 required></textarea>");
        b.push_str(&submit("Report it missing"));
        let open: Vec<_> = s.open_incidents().collect();
        let reps = person_options(s, Some(Role::SafetyRep));
        let first_rep = reps.first().map(|p| p.0.clone()).unwrap_or_default();
        let _ = write!(b, "<h2>Open incidents ({})</h2>", open.len());
        for (id, i) in open {
            b.push_str(&incident_forms(c, id, i, &reps, &first_rep, "/discharge"));
        }
        b
    })
    .await
}

/// The forms of an open incident: its police report while one is needed, and its close (the
/// custodian, with the safety rep's PIN), coming back to `back`.
fn incident_forms(
    c: &crate::api::Caller,
    id: &armory_core::IncidentId,
    i: &armory_core::state::Incident,
    reps: &[(String, String)],
    first_rep: &str,
    back: &str,
) -> String {
    let mut b = String::new();
    let legend = format!("Close {id}: {}, {}", words(&i.kind), words(&i.severity));
    if i.kind == armory_core::IncidentKind::MissingFirearm && i.police_report.is_none() {
        b.push_str(&open_form(
            c,
            "record_police_report",
            &format!("Police report for {id} (needed before it closes)"),
            back,
        ));
        let _ = write!(
            b,
            "<input type=hidden name=incident value=\"{}\">",
            esc(id.as_ref())
        );
        b.push_str(&input(
            &format!("police_report_{id}"),
            "Police report number",
            "",
            "required",
        ));
        b.push_str(&input(
            &format!("atf_incident_{id}"),
            "ATF incident number (firearm from a licensed supplier)",
            "",
            "",
        ));
        b.push_str(&submit("Record the report"));
    }
    b.push_str(&open_form(c, "close_incident", &legend, back));
    let _ = write!(
        b,
        "<p>{}</p><input type=hidden name=incident value=\"{}\">",
        esc(i.description.as_ref()),
        esc(id.as_ref())
    );
    b.push_str("<label>Findings: what was found and done<textarea name=findings rows=3 required></textarea></label>");
    b.push_str(&select(
        "safety_rep",
        "Safety rep confirming",
        &as_refs(reps),
        first_rep,
    ));
    b.push_str(&confirm_inputs(
        "safety_rep",
        "Safety rep PIN",
        "The safety rep",
    ));
    b.push_str(&submit("Close incident"));
    b
}

/// The forms of incident `id` for its own page (`""` once closed).
pub(crate) fn open_incident_forms(
    c: &crate::api::Caller,
    s: &armory_core::State,
    id: &str,
) -> String {
    let Some((iid, i)) = s.incidents.iter().find(|(k, _)| k.as_ref() == id) else {
        return String::new();
    };
    if i.closed.is_some() {
        return String::new();
    }
    let reps = person_options(s, Some(Role::SafetyRep));
    let first_rep = reps.first().map(|p| p.0.clone()).unwrap_or_default();
    incident_forms(c, iid, i, &reps, &first_rep, &format!("/item/{id}"))
}

fn positions(form: &FormMap) -> Result<Vec<u16>, ApiError> {
    field(form, "positions")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u16>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::bad("positions must be numbers separated by commas, e.g. 1,2")
                .field("positions")
        })
}

pub(super) fn command(
    kind: &str,
    form: &FormMap,
    pins: &mut Pins,
) -> Result<Option<Value>, ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    Ok(Some(match kind {
        "report_discharge" => {
            json!({"type": "report_discharge", "firearm": f("firearm"), "kind": f("discharge"),
                                     "positions": positions(form)?, "description": f("description")})
        }
        "report_missing" => json!({"type": "report_missing", "firearm": f("firearm"),
            "description": f("missing_description")}),
        "record_police_report" => {
            let id = f("incident");
            let atf = f(&format!("atf_incident_{id}"));
            json!({"type": "record_police_report", "incident": id,
                "police_report": f(&format!("police_report_{id}")),
                "atf_incident": if atf.trim().is_empty() { Value::Null } else { json!(atf.trim()) }})
        }
        "close_incident" => {
            pins.insert(f("safety_rep"), f("safety_rep_pin"));
            json!({"type": "close_incident", "incident": f("incident"), "findings": f("findings"),
                   "safety_rep": {"person": f("safety_rep"), "role": "safety_rep", "method": "pin"}})
        }
        _ => return Ok(None),
    }))
}
