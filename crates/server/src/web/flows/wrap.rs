//! Wrap reconciliation (WRAP-RECONCILE, F5): a hand count of every container; a difference opens
//! an incident.

use super::super::{FormMap, esc, field, input};
use super::{Pins, open_form, shell, submit};
use crate::App;
use crate::api::ApiError;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::fmt::Write;

/// `GET /wrap`: count every container; every firearm must be back in locked storage.
pub async fn wrap(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Wrap", |c, s, day| {
        let mut b = format!("<h1>Wrap</h1><p>Count every container by hand and write what you count. The record is compared with your counts when you send them (not shown here, so it cannot lead the count); a difference opens an incident.</p>{}", open_form(c, "reconcile", "Reconcile the day", "/wrap"));
        b.push_str(&input("day", "Shoot day", day, "required type=date"));
        for (id, x) in &s.containers {
            b.push_str(&input(
                &format!("count_{id}"),
                &format!("{id} (lot {}): rounds counted", x.lot),
                "",
                "required inputmode=numeric",
            ));
        }
        let out: Vec<String> = s
            .firearms
            .iter()
            .filter(|(_, f)| !matches!(f.custody, armory_core::state::Custody::Stored { .. }))
            .map(|(id, _)| id.to_string())
            .collect();
        if !out.is_empty() {
            let _ = write!(b, "<p class=refusal>Not in storage yet: {}</p>", esc(&out.join(", ")));
        }
        b.push_str(&submit("Reconcile"));
        b
    })
    .await
}

pub(super) fn command(kind: &str, form: &FormMap, _: &mut Pins) -> Result<Option<Value>, ApiError> {
    if kind != "reconcile" {
        return Ok(None);
    }
    let mut keys: Vec<&String> = form.keys().filter(|k| k.starts_with("count_")).collect();
    keys.sort();
    let mut counts = Vec::new();
    for k in keys {
        let container = &k["count_".len()..];
        let n = field(form, k).parse::<u64>().map_err(|_| {
            ApiError::bad(format!(
                "the count of {container} must be a whole number (the rounds you counted)"
            ))
            .field(k.as_str())
        })?;
        counts.push(json!({"container": container, "count": n}));
    }
    Ok(Some(
        json!({"type": "reconcile", "day": field(form, "day"), "counts": counts}),
    ))
}
