//! The flows of a shoot day beyond the firearm acts, one file each: [`intake`] (receive a lot,
//! verify every round), [`meeting`] (the safety meeting with attendance), [`scene`] (the firearm
//! plan), [`incident`] (discharge reports, incident close), [`wrap`] (reconciliation),
//! [`staffing`] (the day's armorer and other duties), [`armory`] (firearms, storage, rounds,
//! custodians), [`policy`] (the policy in force, and changing it) and [`record`] (overrides,
//! corrections, remarks). Each page is a form that posts to `/act` like
//! the item page's acts (CSRF, a one-time idempotency key, PINs of the people who confirm); each
//! file's `command` turns its forms into the core's `Command` JSON. Nothing here decides whether an
//! act is allowed: armory-core does.

mod armory;
mod incident;
mod intake;
mod meeting;
mod policy;
mod record;
mod scene;
mod staffing;
mod wrap;

pub use armory::armory;
pub use incident::discharge;
pub(crate) use incident::open_incident_forms;
pub use intake::{LotQuery, intake, verify};
pub use meeting::meeting;
pub use policy::policy_page;
pub use record::override_page;
pub(crate) use record::{correction_form, remark_form};
pub use scene::scene;
pub use staffing::day;
pub use wrap::wrap;

use super::{FormMap, csrf_field, error_page, esc, field, html, input, page, signed_in};
use crate::App;
use crate::api::{ApiError, Caller};
use crate::auth::random_token;
use armory_core::{Role, State as CoreState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write;

/// The opening of a flow form: CSRF token, act kind, a fresh idempotency key, and where "Back"
/// leads after the act.
pub(crate) fn open_form(c: &Caller, kind: &str, legend: &str, back: &str) -> String {
    format!(
        "<fieldset><legend>{}</legend><form method=post action=/act>{}<input type=hidden name=kind value={kind}><input type=hidden name=idem value=\"{}\"><input type=hidden name=back value=\"{}\">",
        esc(legend),
        csrf_field(c),
        random_token(),
        esc(back)
    )
}

pub(super) fn select(name: &str, label: &str, options: &[(&str, &str)], selected: &str) -> String {
    select_as(name, name, label, options, selected)
}

/// A select whose element id differs from its field name (several forms on one page).
pub(super) fn select_as(
    id: &str,
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
) -> String {
    let opts: String = options
        .iter()
        .map(|(v, t)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(v),
                if *v == selected { " selected" } else { "" },
                esc(t)
            )
        })
        .collect();
    format!(
        "<label for={id}>{}</label><select id={id} name={name}>{opts}</select>",
        esc(label)
    )
}

pub(super) fn checkbox(name: &str, label: &str, checked: bool) -> String {
    format!(
        "<label class=check><input type=checkbox name=\"{}\"{}> {}</label>",
        esc(name),
        if checked { " checked" } else { "" },
        esc(label)
    )
}

pub(super) fn pin_input(name: &str, label: &str) -> String {
    input(
        name,
        label,
        "",
        "type=password inputmode=numeric autocomplete=off",
    )
}

/// The PIN field of the person the form names in `field`, and the button that has them confirm
/// with their passkey instead.
pub(super) fn confirm_inputs(field: &str, label: &str, who: &str) -> String {
    pin_input(&format!("{field}_pin"), label) + &super::passkey_button(field, who)
}

pub(super) fn submit(text: &str) -> String {
    format!(
        "<p><button type=submit>{}</button></p></form></fieldset>",
        esc(text)
    )
}

/// Today's shoot day, as the production's policy counts days.
pub(super) fn today(app: &App) -> Result<String, ApiError> {
    let at = crate::now().map_err(ApiError::internal)?;
    Ok(app.node().policy().day_of(at).to_string())
}

pub(super) async fn shell(
    app: &App,
    headers: &HeaderMap,
    title: &str,
    build: impl FnOnce(&Caller, &CoreState, &str) -> String,
) -> Response {
    let (c, roles) = match signed_in(app, headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let day = match today(app) {
        Ok(d) => d,
        Err(e) => return error_page(Some((&c, &roles)), &e),
    };
    let body = app.node().with_state(|s| build(&c, s, &day)).await;
    html(StatusCode::OK, page(title, Some((&c, &roles)), &body))
}

pub(super) fn people_with(s: &CoreState, role: Option<Role>) -> Vec<(String, String)> {
    s.people
        .iter()
        .filter(|(_, p)| p.active && role.is_none_or(|r| p.roles.contains(&r)))
        .map(|(id, p)| (id.to_string(), p.name.to_string()))
        .collect()
}

pub(super) fn person_options(s: &CoreState, role: Option<Role>) -> Vec<(String, String)> {
    people_with(s, role)
        .into_iter()
        .map(|(id, name)| (id.clone(), format!("{name} ({id})")))
        .collect()
}

pub(super) fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

pub(super) fn app_day(day: &str) -> Option<armory_core::time::Date> {
    armory_core::time::Date::parse(day).ok()
}

pub(super) fn optional(form: &FormMap, name: &str) -> Value {
    match field(form, name) {
        "" => Value::Null,
        v => json!(v),
    }
}

/// `GET /flows`: every flow of the day, in the order a shoot day runs.
pub async fn menu(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Flows", |_, _, day| {
        let mut b = format!("<h1>Shoot day {}</h1><ul class=menu>", esc(day));
        for (href, text) in [
            ("/day", "Staffing: the day's armorer"),
            ("/intake", "Intake: receive and verify ammunition"),
            ("/scene", "Scene plan"),
            ("/meeting", "Safety meeting and attendance"),
            (
                "/",
                "Firearms: open one from the board to load, show, issue, return",
            ),
            ("/discharge", "Discharge report and incident close"),
            ("/wrap", "Wrap: reconcile every container"),
            ("/incident", "Report an incident"),
            (
                "/armory",
                "Armory: register firearms, storage, move or remove rounds, custodians",
            ),
            ("/override", "Override a rule for one act (with approvals)"),
            ("/policy", "Policy in force, and changing it"),
            ("/log", "The log: checkpoint, entries, a remark"),
            ("/near-misses", "Near misses: refused acts, by rule and day"),
            ("/admin", "People, roles, credentials"),
        ] {
            let _ = write!(b, "<li><a class=big href=\"{href}\">{}</a></li>", esc(text));
        }
        b.push_str("</ul>");
        b
    })
    .await
}

/// A whole number field (`Null` when blank).
pub(super) fn number(form: &FormMap, name: &str) -> Result<Value, ApiError> {
    match field(form, name) {
        "" => Ok(Value::Null),
        v => v.parse::<u64>().map(|x| json!(x)).map_err(|_| {
            ApiError::bad(format!("{name} must be a whole number, not {v:?}")).field(name)
        }),
    }
}

/// PINs of the people who confirm an act, by person id.
pub(super) type Pins = HashMap<String, String>;

/// One flow's form-to-command builder: `Ok(None)` when `kind` is not one of its acts.
type Builder = fn(&str, &FormMap, &mut Pins) -> Result<Option<Value>, ApiError>;

/// The command JSON of a flow form (`None`: not a flow act). PINs of confirming people go to `pins`.
pub(crate) fn command_of(
    kind: &str,
    form: &FormMap,
    pins: &mut Pins,
) -> Option<Result<Value, ApiError>> {
    let builders: [Builder; 9] = [
        armory::command,
        policy::command,
        record::command,
        intake::command,
        meeting::command,
        scene::command,
        incident::command,
        wrap::command,
        staffing::command,
    ];
    builders
        .iter()
        .find_map(|build| build(kind, form, pins).transpose())
}
