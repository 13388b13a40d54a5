//! Staffing of a shoot day (ARMORER-DEDICATED, F8): the designated armorer, and the other duties
//! people hold that day.

use super::super::{FormMap, esc, field, input};
use super::{Pins, as_refs, open_form, person_options, select, select_as, shell, submit};
use crate::App;
use crate::api::ApiError;
use armory_core::Role;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// `GET /day`: designate the day's armorer (ARMORER-DEDICATED).
pub async fn day(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Staffing", |c, s, day| {
        let current = s
            .days
            .iter()
            .find(|(d, _)| d.to_string() == day)
            .and_then(|(_, d)| d.armorer.clone())
            .map_or("nobody yet".to_owned(), |p| p.to_string());
        let armorers = person_options(s, Some(Role::Armorer));
        let mut b = format!(
            "<h1>Staffing</h1><p>The armorer designated for {}: <b id=armorer>{}</b>.</p>",
            esc(day),
            esc(&current)
        );
        b.push_str(&open_form(
            c,
            "designate_armorer",
            "Designate the day's armorer",
            "/day",
        ));
        b.push_str(&input("day", "Shoot day", day, "required type=date"));
        b.push_str(&select("person", "Armorer", &as_refs(&armorers), ""));
        b.push_str(&submit("Designate"));
        let everyone = person_options(s, None);
        let duties: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.as_str(), r.title())).collect();
        for (kind, legend, button) in [
            (
                "assign_duty",
                "Give a person another duty that day",
                "Assign duty",
            ),
            (
                "release_duty",
                "Take a duty off a person that day",
                "Release duty",
            ),
        ] {
            b.push_str(&open_form(c, kind, legend, "/day"));
            let _ = write!(b, "<input type=hidden name=day value=\"{}\">", esc(day));
            b.push_str(&select_as(
                &format!("person_{kind}"),
                "person",
                "Person",
                &as_refs(&everyone),
                "",
            ));
            b.push_str(&select_as(
                &format!("duty_{kind}"),
                "duty",
                "Duty",
                &duties,
                "",
            ));
            b.push_str(&submit(button));
        }
        b
    })
    .await
}

pub(super) fn command(kind: &str, form: &FormMap, _: &mut Pins) -> Result<Option<Value>, ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    Ok(Some(match kind {
        "assign_duty" | "release_duty" => {
            json!({"type": kind, "day": f("day"), "person": f("person"), "duty": f("duty")})
        }
        "designate_armorer" => {
            json!({"type": "designate_armorer", "day": f("day"), "person": f("person")})
        }
        _ => return Ok(None),
    }))
}
