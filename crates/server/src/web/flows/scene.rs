//! The scene plan (SCENE-PLAN, REHEARSAL-COLD, F9): rehearsal or take, each firearm with its load,
//! handler and muzzle direction (with blanks: their strength and the least distance to anyone in
//! the line of fire, BLANK-DISTANCE), the distances, shields, remote camera and a public location;
//! the armorer's approval of a close-range load, the permit and police notice for blanks at a
//! public location (PUBLIC-NOTICE), and risk assessments.

use super::super::{FormMap, esc, field, input, percent, words};
use super::{
    Pins, as_refs, checkbox, number, open_form, optional, person_options, select, shell, submit,
};
use crate::App;
use crate::api::ApiError;
use armory_core::Role;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// `GET /scene`: plan a firearm scene (up to three firearms).
pub async fn scene(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Scene plan", |c, s, day| {
        let firearms: Vec<(String, String)> = std::iter::once((String::new(), "(none)".to_owned()))
            .chain(s.firearms.keys().map(|k| (k.to_string(), k.to_string())))
            .collect();
        let performers = person_options(s, Some(Role::Performer));
        let first_perf = performers.first().map(|p| p.0.clone()).unwrap_or_default();
        let mut b = format!(
            "<h1>Scene plan</h1>{}",
            open_form(c, "plan_scene", "Plan a firearm scene", "/scene")
        );
        b.push_str(&input(
            "scene",
            "Scene id",
            "",
            "required autocapitalize=characters",
        ));
        b.push_str(&input("day", "Shoot day", day, "required type=date"));
        b.push_str(&select(
            "scene_kind",
            "Rehearsal or take",
            &[("rehearsal", "Rehearsal"), ("take", "Take")],
            "rehearsal",
        ));
        b.push_str(&input(
            "window_minutes",
            "Minutes a firearm may stay issued (blank: policy default)",
            "",
            "inputmode=numeric",
        ));
        for n in 1..=3 {
            let _ = write!(b, "<fieldset><legend>Firearm {n}</legend>");
            b.push_str(&select(
                &format!("firearm_{n}"),
                "Firearm",
                &as_refs(&firearms),
                "",
            ));
            b.push_str(&select(
                &format!("load_{n}"),
                "Load",
                &[
                    ("cold", "Cold (every chamber empty)"),
                    ("dummies", "Dummies"),
                    ("blanks", "Blanks"),
                ],
                "cold",
            ));
            b.push_str(&select(
                &format!("handler_{n}"),
                "Handled by",
                &as_refs(&performers),
                &first_perf,
            ));
            b.push_str(&input(&format!("muzzle_{n}"), "Muzzle direction", "", ""));
            b.push_str(&select(
                &format!("strength_{n}"),
                "With blanks: their strength",
                &[
                    ("quarter", "Quarter load"),
                    ("half", "Half load"),
                    ("three_quarter", "Three-quarter load"),
                    ("full", "Full load"),
                ],
                "quarter",
            ));
            b.push_str(&input(
                &format!("distance_{n}"),
                "With blanks: least distance from anyone in the line of fire (ft)",
                "",
                "inputmode=numeric",
            ));
            b.push_str(&input(
                &format!("close_load_{n}"),
                "Closer than 20 ft: the close-range load, named (the armorer approves it)",
                "",
                "",
            ));
            b.push_str("</fieldset>");
        }
        b.push_str(&input(
            "distances",
            "Safe distances",
            "no person within 20 ft of the muzzle line",
            "required",
        ));
        b.push_str(&input(
            "shields",
            "Shields for crew in line of fire (optional)",
            "",
            "",
        ));
        b.push_str(&checkbox(
            "remote_camera",
            "Camera operated remotely (nobody in line of fire)",
            false,
        ));
        b.push_str(&input(
            "exception",
            "Rehearsal with blanks: the written exception (optional)",
            "",
            "",
        ));
        b.push_str(&input(
            "public_location",
            "Public location (street, park), if any: blanks there need the permit and police notice",
            "",
            "",
        ));
        b.push_str(&submit("Record plan"));
        b.push_str(&approvals(c, s));
        b.push_str(&open_form(
            c,
            "record_public_notice",
            "Blanks at a public location: permit and police notice, before call time",
            "/scene",
        ));
        b.push_str(&input("notice_day", "Shoot day", day, "required type=date"));
        b.push_str(&input("notice_location", "Public location (as the plan names it)", "", "required"));
        b.push_str(&input("permit", "Permit number", "", "required"));
        b.push_str(&input(
            "police_notice",
            "Police notified: department and reference",
            "",
            "required",
        ));
        b.push_str(&input("call_time", "The day's call time", "", "required type=time"));
        b.push_str(&submit("Record permit and notice"));
        let scenes: Vec<(String, String)> = std::iter::once((String::new(), "(the whole day)".to_owned()))
            .chain(s.scenes.keys().map(|k| (k.to_string(), k.to_string())))
            .collect();
        b.push_str(&open_form(c, "record_risk_assessment", "Risk assessment (safety advisor)", "/scene"));
        b.push_str(&select("assessed_scene", "Scene", &as_refs(&scenes), ""));
        b.push_str(&input("assessment", "Hazards found and controls asked for", "", "required"));
        b.push_str(&submit("Record assessment"));
        let _ = write!(b, "<h2>Scenes ({})</h2><ul>", s.scenes.len());
        for (id, sc) in &s.scenes {
            let _ = write!(
                b,
                "<li><a href=\"/item/{}\">{}</a> {} {}, {} firearm(s)</li>",
                percent(id.as_ref()),
                esc(id.as_ref()),
                esc(&sc.day.to_string()),
                words(&sc.kind),
                sc.plan.firearms.len()
            );
        }
        b.push_str("</ul>");
        b
    })
    .await
}

/// Close-range blank loads planned and not yet approved, each with the armorer's button.
fn approvals(c: &crate::api::Caller, s: &armory_core::State) -> String {
    let mut b = String::new();
    for (id, sc) in &s.scenes {
        for p in &sc.plan.firearms {
            let Some((load, ft)) = p
                .blanks
                .as_ref()
                .filter(|x| x.close_range())
                .and_then(|x| x.close_range_load.as_ref().map(|l| (l, x.min_distance_ft)))
            else {
                continue;
            };
            if sc.close_range_approved.contains_key(&p.firearm) {
                continue;
            }
            b.push_str(&open_form(
                c,
                "approve_close_range_load",
                &format!(
                    "Scene {id}: close-range load for {} at {ft} ft, not approved",
                    p.firearm
                ),
                "/scene",
            ));
            let _ = write!(
                b,
                "<p>\u{201c}{}\u{201d}</p><input type=hidden name=scene value=\"{}\"><input type=hidden name=firearm value=\"{}\">",
                esc(load.as_str()),
                esc(id.as_ref()),
                esc(p.firearm.as_ref())
            );
            b.push_str(&submit("Approve the load (armorer)"));
        }
    }
    b
}

pub(super) fn command(kind: &str, form: &FormMap, _: &mut Pins) -> Result<Option<Value>, ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    match kind {
        "plan_scene" => {}
        "approve_close_range_load" => {
            return Ok(Some(
                json!({"type": kind, "scene": f("scene"), "firearm": f("firearm")}),
            ));
        }
        "record_public_notice" => {
            return Ok(Some(json!({"type": kind, "day": f("notice_day"),
                "location": f("notice_location"), "permit": f("permit"),
                "police_notice": f("police_notice"), "call_time": f("call_time")})));
        }
        "record_risk_assessment" => {
            return Ok(Some(
                json!({"type": kind, "scene": optional(form, "assessed_scene"),
                "assessment": f("assessment")}),
            ));
        }
        _ => return Ok(None),
    }
    let mut firearms = Vec::new();
    for n in (1..=3).filter(|n| !field(form, &format!("firearm_{n}")).is_empty()) {
        let load = f(&format!("load_{n}"));
        // No distance given: no blank plan, which the rules refuse saying what is needed.
        let blanks = if load == "blanks" && !field(form, &format!("distance_{n}")).is_empty() {
            json!({"strength": f(&format!("strength_{n}")),
                   "min_distance_ft": number(form, &format!("distance_{n}"))?,
                   "close_range_load": optional(form, &format!("close_load_{n}"))})
        } else {
            Value::Null
        };
        firearms.push(
            json!({"firearm": f(&format!("firearm_{n}")), "load": load,
                   "handler": f(&format!("handler_{n}")), "muzzle_direction": f(&format!("muzzle_{n}")),
                   "blanks": blanks}),
        );
    }
    Ok(Some(
        json!({"type": "plan_scene", "scene": f("scene"), "day": f("day"), "kind": f("scene_kind"),
           "window_minutes": number(form, "window_minutes")?,
           "plan": {"firearms": firearms, "distances": f("distances"), "shields": optional(form, "shields"),
                    "remote_camera": field(form, "remote_camera") == "on",
                    "blanks_in_rehearsal_exception": optional(form, "exception"),
                    "public_location": optional(form, "public_location")}}),
    ))
}
