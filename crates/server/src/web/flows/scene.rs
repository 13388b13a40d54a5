//! The scene plan (SCENE-PLAN, REHEARSAL-COLD, F9): rehearsal or take, each firearm with its load,
//! handler and muzzle direction, the distances, shields and remote camera.

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
        b.push_str(&submit("Record plan"));
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

pub(super) fn command(kind: &str, form: &FormMap, _: &mut Pins) -> Result<Option<Value>, ApiError> {
    if kind != "plan_scene" {
        return Ok(None);
    }
    let f = |n: &str| field(form, n).to_owned();
    let firearms: Vec<Value> = (1..=3)
        .filter(|n| !field(form, &format!("firearm_{n}")).is_empty())
        .map(|n| {
            json!({"firearm": f(&format!("firearm_{n}")), "load": f(&format!("load_{n}")),
                   "handler": f(&format!("handler_{n}")), "muzzle_direction": f(&format!("muzzle_{n}"))})
        })
        .collect();
    Ok(Some(
        json!({"type": "plan_scene", "scene": f("scene"), "day": f("day"), "kind": f("scene_kind"),
           "window_minutes": number(form, "window_minutes")?,
           "plan": {"firearms": firearms, "distances": f("distances"), "shields": optional(form, "shields"),
                    "remote_camera": field(form, "remote_camera") == "on",
                    "blanks_in_rehearsal_exception": optional(form, "exception")}}),
    ))
}
