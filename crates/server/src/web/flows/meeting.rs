//! The day's safety meeting (DAILY-MEETING, F7): scenes covered, who attended, topics, and the
//! safety rep confirming with a PIN.

use super::super::{FormMap, field, input, words};
use super::{
    Pins, app_day, as_refs, checkbox, confirm_inputs, open_form, people_with, person_options,
    select, shell, submit,
};
use crate::App;
use crate::api::ApiError;
use armory_core::Role;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// `GET /meeting`: the day's safety meeting: scenes covered, who attended, topics, the safety rep.
pub async fn meeting(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Safety meeting", |c, s, day| {
        let mut b = format!("<h1>Safety meeting</h1>{}", open_form(c, "hold_meeting", "Record the meeting", "/meeting"));
        b.push_str(&input("day", "Shoot day", day, "required type=date"));
        b.push_str("<fieldset><legend>Scenes covered</legend>");
        for (id, sc) in s.scenes.iter().filter(|(_, sc)| sc.day.to_string() == day) {
            b.push_str(&checkbox(&format!("scene_{id}"), &format!("{id} ({})", words(&sc.kind)), true));
        }
        b.push_str("</fieldset><fieldset><legend>Attendees</legend>");
        for (id, name) in people_with(s, None) {
            b.push_str(&checkbox(&format!("attendee_{id}"), &format!("{name} ({id})"), false));
        }
        b.push_str("</fieldset>");
        b.push_str("<fieldset><legend>Gone through, item by item (MEETING-CONTENT: a meeting missing one does not cover its scenes)</legend>");
        for item in armory_core::scene::MeetingItem::ALL {
            b.push_str(&checkbox(&format!("item_{}", item.as_str()), item.words(), false));
        }
        b.push_str("</fieldset>");
        b.push_str("<label for=topics>Topics covered, one per line</label><textarea id=topics name=topics rows=4>Safety Bulletin #1 read aloud\nFinger off the trigger; never point at anyone\n20 ft standoff for blanks; eye and ear protection</textarea>");
        let mut reps = vec![(String::new(), "No safety rep present".to_owned())];
        reps.extend(person_options(s, Some(Role::SafetyRep)));
        b.push_str(&select("safety_rep", "Safety rep confirming", &as_refs(&reps), ""));
        b.push_str(&confirm_inputs("safety_rep", "Safety rep PIN", "The safety rep"));
        b.push_str(&submit("Record meeting"));
        let meetings = app_day(day).and_then(|d| s.day(d)).map_or(0, |d| d.meetings.len());
        let _ = write!(b, "<p class=muted>Meetings recorded today: {meetings}.</p>");
        b
    })
    .await
}

/// Ids checked in the form under `prefix` (`attendee_dave=on`).
fn checked(form: &FormMap, prefix: &str) -> Vec<String> {
    let mut ids: Vec<String> = form
        .iter()
        .filter(|(_, v)| v.as_str() == "on")
        .filter_map(|(k, _)| k.strip_prefix(prefix).map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

pub(super) fn command(
    kind: &str,
    form: &FormMap,
    pins: &mut Pins,
) -> Result<Option<Value>, ApiError> {
    if kind != "hold_meeting" {
        return Ok(None);
    }
    let f = |n: &str| field(form, n).to_owned();
    let safety_rep = match f("safety_rep").as_str() {
        "" => Value::Null,
        rep => {
            pins.insert(rep.to_owned(), f("safety_rep_pin"));
            json!({"person": rep, "role": "safety_rep", "method": "pin"})
        }
    };
    let topics: Vec<&str> = field(form, "topics")
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    Ok(Some(
        json!({"type": "hold_meeting", "day": f("day"), "scenes": checked(form, "scene_"),
           "attendees": checked(form, "attendee_"), "topics": topics,
           "items": checked(form, "item_"), "safety_rep": safety_rep}),
    ))
}
