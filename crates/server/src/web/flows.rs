//! The flows of a shoot day beyond the firearm acts: intake and lot verification, the safety
//! meeting, the scene plan, discharge reports and incident close, wrap reconciliation, and the
//! day's armorer. Each page is a form that posts to `/act` like the item page's acts (CSRF, a
//! one-time idempotency key, PINs of the people who confirm); [`command_of`] turns the form into
//! the core's `Command` JSON. Nothing here decides whether an act is allowed: armory-core does.

use super::{FormMap, csrf_field, error_page, esc, field, html, input, page, percent, signed_in};
use crate::App;
use crate::api::{ApiError, Caller};
use crate::auth::random_token;
use armory_core::state::LotStatus;
use armory_core::{Role, State as CoreState};
use axum::extract::{Query, State};
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

fn select(name: &str, label: &str, options: &[(&str, &str)], selected: &str) -> String {
    select_as(name, name, label, options, selected)
}

/// A select whose element id differs from its field name (several forms on one page).
fn select_as(
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

fn checkbox(name: &str, label: &str, checked: bool) -> String {
    format!(
        "<label class=check><input type=checkbox name=\"{}\"{}> {}</label>",
        esc(name),
        if checked { " checked" } else { "" },
        esc(label)
    )
}

fn pin_input(name: &str, label: &str) -> String {
    input(
        name,
        label,
        "",
        "type=password inputmode=numeric autocomplete=off",
    )
}

fn submit(text: &str) -> String {
    format!(
        "<p><button type=submit>{}</button></p></form></fieldset>",
        esc(text)
    )
}

/// Today's shoot day, as the production's policy counts days.
fn today(app: &App) -> Result<String, ApiError> {
    let at = crate::now().map_err(ApiError::internal)?;
    Ok(app.node().policy().day_of(at).to_string())
}

async fn shell(
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
            ("/admin", "People, roles, credentials"),
        ] {
            let _ = write!(b, "<li><a class=big href=\"{href}\">{}</a></li>", esc(text));
        }
        b.push_str("</ul>");
        b
    })
    .await
}

fn people_with(s: &CoreState, role: Option<Role>) -> Vec<(String, String)> {
    s.people
        .iter()
        .filter(|(_, p)| p.active && role.is_none_or(|r| p.roles.contains(&r)))
        .map(|(id, p)| (id.to_string(), p.name.to_string()))
        .collect()
}

fn person_options(s: &CoreState, role: Option<Role>) -> Vec<(String, String)> {
    people_with(s, role)
        .into_iter()
        .map(|(id, name)| (id.clone(), format!("{name} ({id})")))
        .collect()
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// `GET /intake`: receive a lot into a new container; every lot with its verification state.
pub async fn intake(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Intake", |c, s, _| {
        let locations: Vec<(String, String)> = s
            .locations
            .iter()
            .map(|(id, l)| {
                (
                    id.to_string(),
                    format!("{} ({id}){}", l.name, if l.locked { ", locked" } else { "" }),
                )
            })
            .collect();
        let first = locations.first().map(|l| l.0.clone()).unwrap_or_default();
        let mut b = String::from("<h1>Intake</h1><p>Every round arrives as a lot, in a container of its own, and stays unusable until every round is verified.</p>");
        b.push_str(&open_form(c, "receive_lot", "Receive a lot", "/intake"));
        b.push_str(&input("lot", "Lot id", "", "required autocapitalize=characters"));
        b.push_str(&select(
            "ammo",
            "Kind",
            &[
                ("dummy", "Dummies"),
                ("blank_quarter", "Blanks, quarter load"),
                ("blank_half", "Blanks, half load"),
                ("blank_three_quarter", "Blanks, three-quarter load"),
                ("blank_full", "Blanks, full load"),
            ],
            "dummy",
        ));
        b.push_str(&input("calibre", "Calibre", "", "required"));
        b.push_str(&input("count", "Rounds received", "", "required inputmode=numeric"));
        b.push_str(&input("maker", "Maker", "", "required"));
        b.push_str(&input("headstamp", "Headstamp on the cases", "", "required"));
        b.push_str(&input("supplier", "Supplier (prop house, person)", "", "required"));
        b.push_str(&input("shipment", "Shipment or delivery note (optional)", "", ""));
        b.push_str(&input("container", "New container id (the box they go in)", "", "required autocapitalize=characters"));
        b.push_str(&select("location", "Put it in", &as_refs(&locations), &first));
        b.push_str(&input("leftover_from", "Leftovers from another production? Name it (optional)", "", ""));
        b.push_str(&submit("Receive lot"));
        let _ = write!(b, "<h2>Lots ({})</h2><table><tr><th>Lot</th><th>Kind</th><th>Verified</th><th></th></tr>", s.lots.len());
        for (id, lot) in &s.lots {
            let status = match lot.status {
                LotStatus::Verified => "verified",
                LotStatus::Unverified => "<b>NOT VERIFIED: not usable</b>",
                LotStatus::Defective => "<b>DEFECTIVE rounds: remove them, verify again</b>",
                LotStatus::LiveFound => "<b>LIVE ROUND FOUND: never usable</b>",
            };
            let _ = write!(
                b,
                "<tr><td><a href=\"/item/{0}\">{1}</a></td><td>{2} {3}</td><td>{4}</td><td><a class=button href=\"/verify?lot={0}\">Verify</a></td></tr>",
                percent(id.as_ref()),
                esc(id.as_ref()),
                esc(lot.kind.word()),
                esc(lot.calibre.as_ref()),
                status
            );
        }
        b.push_str("</table>");
        b
    })
    .await
}

#[derive(serde::Deserialize)]
pub struct LotQuery {
    #[serde(default)]
    lot: String,
}

/// `GET /verify?lot=ID`: the per-round results of a lot's verification.
pub async fn verify(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LotQuery>,
) -> Response {
    let known = app
        .node()
        .with_state(|s| s.lots.keys().any(|k| k.as_ref() == q.lot))
        .await;
    if !known {
        let (c, roles) = match signed_in(&app, &headers).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        return error_page(
            Some((&c, &roles)),
            &ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no lot {:?} in this production; pick one on the intake page",
                    q.lot
                ),
            )
            .field("lot"),
        );
    }
    shell(&app, &headers, "Verify lot", |c, s, _| {
        let Some((id, lot)) = s.lots.iter().find(|(k, _)| k.as_ref() == q.lot) else {
            return String::new();
        };
        let rounds: u64 = s
            .containers
            .values()
            .filter(|x| &x.lot == id)
            .map(|x| x.count)
            .sum();
        let expected = if lot.kind.word() == "dummy" { "rattled" } else { "crimped" };
        let mut b = format!(
            "<h1>Verify lot {}</h1><p>{} {} from {}, headstamp {}: {rounds} rounds in its containers.</p>",
            esc(id.as_ref()),
            esc(lot.kind.word()),
            esc(lot.calibre.as_ref()),
            esc(lot.supplier.as_ref()),
            esc(lot.headstamp.as_ref())
        );
        b.push_str(&open_form(c, "verify_lot", "Every round checked, in order", "/intake"));
        let _ = write!(b, "<input type=hidden name=lot value=\"{}\">", esc(id.as_ref()));
        b.push_str(&input(
            "results",
            "Results in the order checked: rattled, crimped, defective or live; `48 rattled` repeats",
            &format!("{rounds} {expected}"),
            "required autocomplete=off",
        ));
        b.push_str("<p class=muted>Example: <code>20 rattled, defective, 29 rattled</code>. A live round opens a critical incident that stops all firearm work.</p>");
        b.push_str(&submit("Record verification"));
        b
    })
    .await
}

/// `GET /meeting`: the day's safety meeting: scenes covered, who attended, topics, the safety rep.
pub async fn meeting(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Safety meeting", |c, s, day| {
        let mut b = format!("<h1>Safety meeting</h1>{}", open_form(c, "hold_meeting", "Record the meeting", "/meeting"));
        b.push_str(&input("day", "Shoot day", day, "required type=date"));
        b.push_str("<fieldset><legend>Scenes covered</legend>");
        for (id, sc) in s.scenes.iter().filter(|(_, sc)| sc.day.to_string() == day) {
            b.push_str(&checkbox(&format!("scene_{id}"), &format!("{id} ({:?})", sc.kind), true));
        }
        b.push_str("</fieldset><fieldset><legend>Attendees</legend>");
        for (id, name) in people_with(s, None) {
            b.push_str(&checkbox(&format!("attendee_{id}"), &format!("{name} ({id})"), false));
        }
        b.push_str("</fieldset>");
        b.push_str("<label for=topics>Topics covered, one per line</label><textarea id=topics name=topics rows=4>Safety Bulletin #1 read aloud\nFinger off the trigger; never point at anyone\n20 ft standoff for blanks; eye and ear protection</textarea>");
        let mut reps = vec![(String::new(), "No safety rep present".to_owned())];
        reps.extend(person_options(s, Some(Role::SafetyRep)));
        b.push_str(&select("safety_rep", "Safety rep confirming", &as_refs(&reps), ""));
        b.push_str(&pin_input("safety_rep_pin", "Safety rep PIN"));
        b.push_str(&submit("Record meeting"));
        let meetings = app_day(day).and_then(|d| s.day(d)).map_or(0, |d| d.meetings.len());
        let _ = write!(b, "<p class=muted>Meetings recorded today: {meetings}.</p>");
        b
    })
    .await
}

fn app_day(day: &str) -> Option<armory_core::time::Date> {
    armory_core::time::Date::parse(day).ok()
}

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
                "<li><a href=\"/item/{}\">{}</a> {} {:?}, {} firearm(s)</li>",
                percent(id.as_ref()),
                esc(id.as_ref()),
                esc(&sc.day.to_string()),
                sc.kind,
                sc.plan.firearms.len()
            );
        }
        b.push_str("</ul>");
        b
    })
    .await
}

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
        let open: Vec<_> = s.open_incidents().collect();
        let reps = person_options(s, Some(Role::SafetyRep));
        let first_rep = reps.first().map(|p| p.0.clone()).unwrap_or_default();
        let _ = write!(b, "<h2>Open incidents ({})</h2>", open.len());
        for (id, i) in open {
            let legend = format!("Close {id}: {:?}, {:?}", i.kind, i.severity);
            b.push_str(&open_form(c, "close_incident", &legend, "/discharge"));
            let _ = write!(b, "<p>{}</p><input type=hidden name=incident value=\"{}\">", esc(i.description.as_ref()), esc(id.as_ref()));
            b.push_str("<label>Findings: what was found and done<textarea name=findings rows=3 required></textarea></label>");
            b.push_str(&select("safety_rep", "Safety rep confirming", &as_refs(&reps), &first_rep));
            b.push_str(&pin_input("safety_rep_pin", "Safety rep PIN"));
            b.push_str(&submit("Close incident"));
        }
        b
    })
    .await
}

/// `GET /wrap`: count every container; every firearm must be back in locked storage.
pub async fn wrap(State(app): State<App>, headers: HeaderMap) -> Response {
    shell(&app, &headers, "Wrap", |c, s, day| {
        let mut b = format!("<h1>Wrap</h1><p>Count every container by hand and write what you count. The record says how many should be there; a difference opens an incident.</p>{}", open_form(c, "reconcile", "Reconcile the day", "/wrap"));
        b.push_str(&input("day", "Shoot day", day, "required type=date"));
        for (id, x) in &s.containers {
            b.push_str(&input(
                &format!("count_{id}"),
                &format!("{id} (lot {}; the record says {})", x.lot, x.count),
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

/// Expands `20 rattled, defective, 29 rattled` into one result per round.
fn round_results(text: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for token in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let (n, word) = match token.split_once(char::is_whitespace) {
            Some((n, w)) => (
                n.parse::<usize>().map_err(|_| {
                    ApiError::bad(format!(
                        "{token:?}: write a count then a result, e.g. `48 rattled`"
                    ))
                    .field("results")
                })?,
                w.trim(),
            ),
            None => (1, token),
        };
        if n > 100_000 {
            return Err(ApiError::bad("at most 100000 rounds at a time").field("results"));
        }
        out.extend(std::iter::repeat_n(word.to_ascii_lowercase(), n));
    }
    Ok(out)
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

fn optional(form: &FormMap, name: &str) -> Value {
    match field(form, name) {
        "" => Value::Null,
        v => json!(v),
    }
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

/// The command JSON of a flow form (`None`: not a flow act). PINs of confirming people go to `pins`.
pub(crate) fn command_of(
    kind: &str,
    form: &FormMap,
    pins: &mut HashMap<String, String>,
) -> Option<Result<Value, ApiError>> {
    let f = |n: &str| field(form, n).to_owned();
    let number = |n: &str| -> Result<Value, ApiError> {
        match field(form, n) {
            "" => Ok(Value::Null),
            v => v.parse::<u64>().map(|x| json!(x)).map_err(|_| {
                ApiError::bad(format!("{n} must be a whole number, not {v:?}")).field(n)
            }),
        }
    };
    let v = match kind {
        "receive_lot" => {
            let ammo = match f("ammo").as_str() {
                "dummy" => json!("dummy"),
                other => match other.strip_prefix("blank_") {
                    Some(load) => json!({"blank": load}),
                    None => {
                        return Some(Err(ApiError::bad(format!(
                            "unknown kind of round {other:?}"
                        ))
                        .field("ammo")));
                    }
                },
            };
            let count = match number("count") {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            };
            json!({"type": "receive_lot", "lot": f("lot"), "kind": ammo, "calibre": f("calibre"),
                   "maker": f("maker"), "headstamp": f("headstamp"), "supplier": f("supplier"),
                   "shipment": optional(form, "shipment"), "count": count, "container": f("container"),
                   "location": f("location"), "leftover_from": optional(form, "leftover_from")})
        }
        "verify_lot" => match round_results(field(form, "results")) {
            Ok(results) => json!({"type": "verify_lot", "lot": f("lot"), "results": results}),
            Err(e) => return Some(Err(e)),
        },
        "hold_meeting" => {
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
            json!({"type": "hold_meeting", "day": f("day"), "scenes": checked(form, "scene_"),
                   "attendees": checked(form, "attendee_"), "topics": topics, "safety_rep": safety_rep})
        }
        "plan_scene" => {
            let firearms: Vec<Value> = (1..=3)
                .filter(|n| !field(form, &format!("firearm_{n}")).is_empty())
                .map(|n| {
                    json!({"firearm": f(&format!("firearm_{n}")), "load": f(&format!("load_{n}")),
                           "handler": f(&format!("handler_{n}")), "muzzle_direction": f(&format!("muzzle_{n}"))})
                })
                .collect();
            let window = match number("window_minutes") {
                Ok(w) => w,
                Err(e) => return Some(Err(e)),
            };
            json!({"type": "plan_scene", "scene": f("scene"), "day": f("day"), "kind": f("scene_kind"),
                   "window_minutes": window,
                   "plan": {"firearms": firearms, "distances": f("distances"), "shields": optional(form, "shields"),
                            "remote_camera": field(form, "remote_camera") == "on",
                            "blanks_in_rehearsal_exception": optional(form, "exception")}})
        }
        "report_discharge" => match positions(form) {
            Ok(p) => {
                json!({"type": "report_discharge", "firearm": f("firearm"), "kind": f("discharge"),
                            "positions": p, "description": f("description")})
            }
            Err(e) => return Some(Err(e)),
        },
        "close_incident" => {
            pins.insert(f("safety_rep"), f("safety_rep_pin"));
            json!({"type": "close_incident", "incident": f("incident"), "findings": f("findings"),
                   "safety_rep": {"person": f("safety_rep"), "role": "safety_rep", "method": "pin"}})
        }
        "reconcile" => {
            let mut counts = Vec::new();
            let mut keys: Vec<&String> = form.keys().filter(|k| k.starts_with("count_")).collect();
            keys.sort();
            for k in keys {
                let container = &k["count_".len()..];
                match field(form, k).parse::<u64>() {
                    Ok(n) => counts.push(json!({"container": container, "count": n})),
                    Err(_) => {
                        return Some(Err(ApiError::bad(format!(
                            "the count of {container} must be a whole number (the rounds you counted)"
                        ))
                        .field(k.as_str())));
                    }
                }
            }
            json!({"type": "reconcile", "day": f("day"), "counts": counts})
        }
        "assign_duty" | "release_duty" => {
            json!({"type": kind, "day": f("day"), "person": f("person"), "duty": f("duty")})
        }
        "designate_armorer" => {
            json!({"type": "designate_armorer", "day": f("day"), "person": f("person")})
        }
        _ => return None,
    };
    Some(Ok(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_results_expand_counts_in_order() {
        assert_eq!(
            round_results("2 rattled, defective,1 rattled").unwrap_or_default(),
            vec!["rattled", "rattled", "defective", "rattled"]
        );
        assert!(round_results("two rattled").is_err());
    }
}
