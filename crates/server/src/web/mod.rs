//! The web UI: server-rendered pages (plain `format!` templates with escaping; htmx refreshes the
//! board), a scan box on every page, and forms for the acts of a shoot day. Each form posts to
//! `/act`, which builds the same `Command` JSON the API takes and runs it through the node; the
//! page then shows what was recorded, or the refusal as rule, why and what is needed.
//!
//! One file per flow: [`flows`] (intake and lot verification, safety meeting, scene plan,
//! discharge and incident close, wrap, the day's armorer, the armory, overrides, corrections) and
//! [`admin`] (people, roles, credentials, sign-in secrets). Their forms post to the same `/act`.
//! [`account`] is a person's own password and PIN.

pub mod account;
pub mod admin;
pub mod flows;
pub mod nearmiss;

use crate::api::{self, ApiError, Caller, SESSION_COOKIE, cookie};
use crate::{App, auth::random_token};
use armory_core::state::Custody;
use armory_core::{Condition, Role};
use armory_store::Store;
use armory_store::node::Outcome;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

const PRE_COOKIE: &str = "armory_pre";

/// HTML-escapes text.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match name.as_str() {
        "htmx.min.js" => (
            include_bytes!("../../assets/htmx.min.js"),
            "text/javascript",
        ),
        "app.js" => (include_bytes!("../../assets/app.js"), "text/javascript"),
        "style.css" => (include_bytes!("../../assets/style.css"), "text/css"),
        _ => {
            return ApiError::new(StatusCode::NOT_FOUND, format!("no asset {name}"))
                .into_response();
        }
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn csrf_field(caller: &Caller) -> String {
    let token = caller
        .session
        .as_ref()
        .map(|s| s.csrf.as_str())
        .unwrap_or_default();
    format!("<input type=hidden name=csrf value=\"{}\">", esc(token))
}

/// A whole page.
pub(crate) fn page(title: &str, caller: Option<(&Caller, &[Role])>, body: &str) -> String {
    let mut head = String::new();
    if let Some((c, roles)) = caller {
        let options: String = roles
            .iter()
            .map(|r| {
                format!(
                    "<option value=\"{r}\"{}>{}</option>",
                    if *r == c.role { " selected" } else { "" },
                    esc(r.title())
                )
            })
            .collect();
        let _ = write!(
            head,
            "<form class=scan method=get action=/scan role=search><input id=scan name=q placeholder=\"Scan or type an id, then Enter\" autocomplete=off autofocus aria-label=\"Scan an id\"><button type=submit>Open</button><button type=button id=camera>Camera</button></form>\
             <nav><a href=/>Board</a><a href=/flows>Flows</a><a href=/incident>Report incident</a><a href=/near-misses>Near misses</a><a href=/admin>People</a><a href=/log>Log</a></nav>\
             <details class=who><summary>{} · {}</summary><form method=post action=/role class=inline>{}<select name=role aria-label=Role>{options}</select> <button type=submit>Switch</button></form>\
             <form method=post action=/signout class=inline>{}<button type=submit>Sign out</button></form></details>",
            esc(c.person.as_ref()),
            esc(c.role.title()),
            csrf_field(c),
            csrf_field(c)
        );
    }
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <meta name=color-scheme content=\"dark light\"><title>{} · Armory</title><link rel=stylesheet href=/assets/style.css>\
         <script src=/assets/htmx.min.js defer></script><script src=/assets/app.js defer></script></head>\
         <body><header><a class=brand href=/>Armory</a>{head}</header><main id=main>{body}</main></body></html>",
        esc(title)
    )
}

/// An item's fields for its page, without its history (listed below them, a page at a time).
fn without_history<T: serde::Serialize>(item: &T) -> Value {
    Value::Object(armory_store::fields::fields_except(item, &["history"]).unwrap_or_default())
}

/// A kind, severity or scene kind in words, as the log spells it ("near_miss" -> "near miss").
pub(crate) fn words<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s.replace('_', " "),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

pub(crate) fn html(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn roles_of(app: &App, c: &Caller) -> Vec<Role> {
    app.node()
        .with_state(|s| {
            s.people
                .get(&c.person)
                .map(|p| p.roles.iter().copied().collect())
        })
        .await
        .unwrap_or_default()
}

/// The signed-in caller, or a redirect to the sign-in page.
pub(crate) async fn signed_in(
    app: &App,
    headers: &HeaderMap,
) -> Result<(Caller, Vec<Role>), Response> {
    match api::caller_opt(app, headers).await {
        Ok(Some(c)) => {
            let roles = roles_of(app, &c).await;
            Ok((c, roles))
        }
        Ok(None) => Err(Redirect::to("/signin").into_response()),
        Err(e) => Err(e.into_response()),
    }
}

pub(crate) fn error_page(c: Option<(&Caller, &[Role])>, e: &ApiError) -> Response {
    let body = match &e.refusal {
        Some(r) => format!(
            "<section class=refusal role=alert><p class=rule>Refused: {}</p><p><b>Why:</b> {}</p><p><b>Needed:</b> {}</p>{}</section>",
            esc(&r.rule.to_string()),
            esc(&r.why),
            esc(&r.needed),
            e.logged_as.map_or("<p class=muted>Not recorded: nothing was changed.</p>".to_owned(), |i| format!("<p class=muted>This attempt is recorded as <a href=/entry/{i}>entry #{i}</a>.</p>"))
        ),
        None => format!(
            "<section class=error role=alert><p><b>Not done:</b> {}</p>{}</section>",
            esc(&e.error),
            e.field.as_ref().map_or(String::new(), |f| format!("<p>Check: {}</p>", esc(f)))
        ),
    };
    html(
        e.status,
        page(
            "Not done",
            c,
            &format!("{body}<p><a href=/ data-back>Back</a> · <a href=/>Board</a></p>"),
        ),
    )
}

fn custody_words(custody: &Custody, locked: bool) -> String {
    match custody {
        Custody::Stored { location } => format!(
            "stored in {}{}",
            esc(location.as_ref()),
            if locked {
                " (locked)"
            } else {
                " <b>(NOT LOCKED)</b>"
            }
        ),
        Custody::AtHand => "out of storage, with the custodian".to_owned(),
        Custody::Issued {
            performer,
            scene,
            due,
            ..
        } => format!(
            "<span class=issued>ISSUED</span> to {} for {}, due back {}",
            esc(performer.as_ref()),
            esc(scene.as_ref()),
            time_tag(*due)
        ),
    }
}

/// An item's fields as a table people read (not JSON): one row a field, nested values in words.
fn fields_table(detail: &Value) -> String {
    fn words_of(v: &Value) -> String {
        match v {
            Value::Null => "none".to_owned(),
            Value::Bool(true) => "yes".to_owned(),
            Value::Bool(false) => "no".to_owned(),
            Value::String(t) => t.replace('_', " "),
            Value::Number(n) => n.to_string(),
            Value::Array(a) if a.is_empty() => "none".to_owned(),
            Value::Array(a) => a.iter().map(words_of).collect::<Vec<_>>().join(", "),
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| format!("{}: {}", k.replace('_', " "), words_of(v)))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
    let mut b = String::from("<table class=fields>");
    if let Value::Object(o) = detail {
        for (k, v) in o {
            let _ = write!(
                b,
                "<tr><th>{}</th><td>{}</td></tr>",
                esc(&k.replace('_', " ")),
                esc(&words_of(v))
            );
        }
    }
    b.push_str("</table>");
    b
}

/// What can be done about a lot, a container, a location, a person or an incident, from its page.
async fn other_acts(app: &App, c: &Caller, kind: &str, id: &str) -> String {
    match kind {
        "incident" => {
            let forms = app
                .node()
                .with_state(|s| flows::open_incident_forms(c, s, id))
                .await;
            if forms.is_empty() {
                "<p class=muted>Closed.</p>".to_owned()
            } else {
                format!("<h2>Close it</h2>{forms}")
            }
        }
        "lot" => format!(
            "<p><a class=button href=\"/verify?lot={}\">Verify every round</a> <a class=button href=/intake>Intake</a></p>",
            percent(id)
        ),
        "container" | "location" => "<p><a class=button href=/armory>Move rounds, storage, custodians</a> <a class=button href=/wrap>Count at wrap</a></p>".to_owned(),
        "person" => "<p><a class=button href=/admin>People, roles, credentials</a></p>".to_owned(),
        "scene" => "<p><a class=button href=/scene>Scene plans</a> <a class=button href=/meeting>Safety meeting</a></p>".to_owned(),
        _ => String::new(),
    }
}

/// An instant as pages carry it: `<time datetime=UTC>UTC</time>`, which every page's
/// middleware (`localize_times`) shows in the production's local time.
pub(crate) fn time_tag(t: armory_core::Timestamp) -> String {
    let utc = t.to_rfc3339();
    format!("<time datetime=\"{utc}\">{utc}</time>")
}

/// Shows every `<time datetime=...>` of a page in the set's local time at `offset_minutes`
/// (the policy's): `2026-12-02 07:55`, with the UTC instant kept in `datetime` and a title.
pub(crate) fn localize_times(page: &str, offset_minutes: i32) -> String {
    let mut out = String::with_capacity(page.len() + 64);
    let mut rest = page;
    while let Some(at) = rest.find("<time datetime=\"") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + "<time datetime=\"".len()..];
        let Some(end) = tail.find('"') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let utc = &tail[..end];
        let Some(close) = tail.find("</time>") else {
            out.push_str(&rest[at..]);
            return out;
        };
        match armory_core::Timestamp::parse_rfc3339(utc) {
            Ok(t) => {
                let _ = write!(
                    out,
                    "<time datetime=\"{utc}\" title=\"{utc} (UTC); local is {}\">{}</time>",
                    armory_core::time::utc_offset_words(offset_minutes),
                    t.local_minute(offset_minutes)
                );
            }
            Err(_) => {
                out.push_str(&rest[at..at + "<time datetime=\"".len() + close + "</time>".len()])
            }
        }
        rest = &tail[close + "</time>".len()..];
    }
    out.push_str(rest);
    out
}

/// Where the bore stands (BORE-CLEAR), for the item page.
fn bore_words(f: &armory_core::state::Firearm) -> String {
    let misfired = if f.misfired.is_empty() {
        String::new()
    } else {
        format!(
            " · <b class=pending>MISFIRED ROUND in position {}: recover it</b>",
            f.misfired
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let bore = match (&f.bore_fouled, f.bore_proven) {
        (Some(x), _) => format!(
            " · <b class=pending>BORE NOT PROVEN CLEAR since it {} (<a href=/entry/{1}>#{1}</a>)</b>",
            x.cause.words(),
            x.entry
        ),
        (None, Some(e)) => format!(" · bore proven clear at <a href=/entry/{e}>#{e}</a>"),
        (None, None) => String::new(),
    };
    format!("{bore}{misfired}")
}

/// A handover waiting for its receiver, in words for the board and the item page.
fn handover_words(h: Option<&armory_core::state::Handover>) -> String {
    h.map_or(String::new(), |h| {
        format!(
            " · <b class=pending>WAITING: {} from {} to {}, not yet confirmed by {}</b>",
            esc(h.kind.words()),
            esc(h.from.as_ref()),
            esc(h.to.as_ref()),
            esc(h.to.as_ref())
        )
    })
}

fn condition_words(chambers: Option<&Vec<armory_core::Chamber>>) -> String {
    match chambers {
        None => "not inspected yet".to_owned(),
        Some(c) => Condition::of(c).map_or(
            "spent casings or a live round recorded: unload".to_owned(),
            |c| c.words().to_owned(),
        ),
    }
}

pub async fn board(State(app): State<App>, headers: HeaderMap) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let at = match crate::now() {
        Ok(t) => t,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let node = app.node();
    let body = node
        .with_state(|s| {
            let mut b = String::new();
            let title = s.production.as_ref().map_or("No production yet".to_owned(), |p| p.title.to_string());
            let _ = write!(b, "<div hx-get=/ hx-select=#board hx-target=this hx-swap=outerHTML hx-trigger=\"every 15s\" id=board><h1>{}</h1>", esc(&title));
            b.push_str("<nav class=quick aria-label=\"Today's flows\"><a href=/intake>Intake</a><a href=/scene>Scene plan</a><a href=/meeting>Safety meeting</a><a href=/discharge>Discharges</a><a href=/wrap>Wrap</a><a href=/flows>All flows</a></nav>");
            let _ = write!(b, "<h2>Firearms ({})</h2><table><tr><th>Firearm</th><th>Where</th><th>Custodian</th><th>State</th></tr>", s.firearms.len());
            for (id, f) in &s.firearms {
                let locked = match &f.custody {
                    Custody::Stored { location } => s.locations.get(location).is_some_and(|l| l.locked),
                    _ => false,
                };
                let stopped = if s.stopping_incidents(id).next().is_some() { " <b>STOPPED by an open incident</b>" } else { "" };
                let _ = write!(
                    b,
                    "<tr><td><a href=\"/item/{0}\">{0}</a></td><td>{1}{5}</td><td>{2}</td><td>{3}{4}{stopped}</td></tr>",
                    esc(id.as_ref()),
                    custody_words(&f.custody, locked),
                    esc(f.custodian.as_ref()),
                    condition_words(f.chambers.as_ref()),
                    if f.show_check.is_some() { "; show check confirmed" } else { "" },
                    handover_words(f.handover.as_ref())
                );
            }
            b.push_str("</table>");
            let open: Vec<_> = s.open_incidents().collect();
            let _ = write!(b, "<h2>Open incidents ({})</h2><ul>", open.len());
            for (id, i) in open {
                let _ = write!(b, "<li><a href=\"/item/{0}\">{0}</a> {1}, {2}: {3}</li>", esc(id.as_ref()), words(&i.kind), words(&i.severity), esc(i.description.as_ref()));
            }
            b.push_str("</ul>");
            let raised = api::with_node_alert(&app, armory_core::alerts(&node.policy(), s, at));
            let _ = write!(b, "<h2>Alerts ({})</h2><ul class=alerts>", raised.len());
            for a in raised {
                let (class, word) = if a.critical { ("critical", "CRITICAL") } else { ("warning", "warning") };
                let _ = write!(b, "<li class={class}><b>{word} · {}</b> {}</li>", esc(&a.rule.to_string()), esc(&a.message));
            }
            b.push_str("</ul></div>");
            b
        })
        .await;
    html(
        StatusCode::OK,
        page("Status board", Some((&c, &roles)), &body),
    )
}

pub async fn sign_in_page(State(app): State<App>, headers: HeaderMap) -> Response {
    sign_in_form(&app, &headers, None, StatusCode::OK).await
}

async fn sign_in_form(
    app: &App,
    _headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let pre = random_token();
    let body = format!(
        "<h1>Sign in</h1>{}<form method=post action=/signin><input type=hidden name=csrf value=\"{pre}\">\
         <label for=person>Your id</label><input id=person name=person autocomplete=username autocapitalize=none required autofocus>\
         <label for=password>Password</label><input id=password name=password type=password autocomplete=current-password required>\
         <p><button type=submit>Sign in</button></p></form>\
         <p class=muted>A PIN only confirms an act on the armorer's device; it does not sign you in.</p>{}",
        error.map_or(String::new(), |e| format!(
            "<section class=error role=alert><p>{}</p></section>",
            esc(e)
        )),
        admin::no_accounts_hint(app).await
    );
    let mut r = html(status, page("Sign in", None, &body));
    if let Ok(v) = api::cookie_header(app, PRE_COOKIE, &pre, "/signin", 3600) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub type FormMap = HashMap<String, String>;

/// A posted form, read strictly: `application/x-www-form-urlencoded`, each field once, every
/// value valid UTF-8. (axum's `Form` keeps the last of a repeated field and turns invalid bytes
/// into U+FFFD, which would then be recorded as if typed.)
pub struct StrictForm(pub FormMap);

/// Why a form could not be read.
#[derive(Debug)]
pub struct FormError {
    status: StatusCode,
    text: String,
}

impl FormError {
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn body_text(&self) -> String {
        self.text.clone()
    }
    fn bad(text: String) -> FormError {
        FormError {
            status: StatusCode::BAD_REQUEST,
            text,
        }
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        (self.status, self.text).into_response()
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for StrictForm {
    type Rejection = FormError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, FormError> {
        let urlencoded = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !urlencoded {
            return Err(FormError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                text: "send the form as application/x-www-form-urlencoded".into(),
            });
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| FormError {
                status: e.status(),
                text: e.body_text(),
            })?;
        parse_form(&body).map(StrictForm)
    }
}

/// Reads `a=1&b=x+y` into a map: `+` is a space, `%XX` a byte, each name at most once, every
/// name and value valid UTF-8.
pub(crate) fn parse_form(body: &[u8]) -> Result<FormMap, FormError> {
    fn decode(part: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match part[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = part.get(i + 1..i + 3)?;
                    let text = std::str::from_utf8(hex).ok()?;
                    out.push(u8::from_str_radix(text, 16).ok()?);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        Some(out)
    }
    let mut form = FormMap::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let text = |raw: &[u8]| {
            decode(raw)
                .ok_or_else(|| {
                    FormError::bad(format!(
                        "a malformed %-escape in {:?}",
                        String::from_utf8_lossy(raw)
                    ))
                })
                .and_then(|bytes| {
                    String::from_utf8(bytes).map_err(|_| {
                        FormError::bad(format!(
                            "{:?} is not valid UTF-8 text; send the form again from the page",
                            String::from_utf8_lossy(raw)
                        ))
                    })
                })
        };
        let name = text(name)?;
        let value = text(value)?;
        if form.contains_key(&name) {
            return Err(FormError::bad(format!(
                "the field {name:?} is given twice; send each field once"
            )));
        }
        form.insert(name, value);
    }
    Ok(form)
}

pub(crate) fn field<'a>(form: &'a FormMap, name: &str) -> &'a str {
    form.get(name).map(|s| s.trim()).unwrap_or_default()
}

pub async fn sign_in(
    State(app): State<App>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let Ok(StrictForm(form)) = form else {
        return sign_in_form(
            &app,
            &headers,
            Some("the form could not be read; try again"),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    if pre.is_empty() || pre != field(&form, "csrf") {
        return sign_in_form(
            &app,
            &headers,
            Some("the sign-in form expired (CSRF check failed); try again"),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    match api::start_session(
        &app,
        &headers,
        field(&form, "person"),
        form.get("password").map(String::as_str).unwrap_or_default(),
        None,
        peer.map(|p| p.0.0.ip()),
    )
    .await
    {
        Ok((id, _, device)) => {
            let max_age = app.config().session_ttl.as_secs() as i64;
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = api::session_cookie(&app, &id, max_age) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            if let Some(v) = device.and_then(|t| api::device_cookie(&app, &t).ok()) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => sign_in_form(&app, &headers, Some(&e.error), e.status).await,
    }
}

fn check_form_csrf(c: &Caller, form: &FormMap) -> Result<(), ApiError> {
    let expected = c
        .session
        .as_ref()
        .map(|s| s.csrf.as_str())
        .unwrap_or_default();
    if expected.is_empty() || field(form, "csrf") != expected {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the form's CSRF token is missing or wrong; reload the page and try again",
        )
        .field("csrf"));
    }
    Ok(())
}

pub(crate) async fn signed_form(
    app: &App,
    headers: &HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Result<(Caller, Vec<Role>, FormMap), Response> {
    let (c, roles) = signed_in(app, headers).await?;
    let form = match form {
        Ok(StrictForm(f)) => f,
        Err(e) => {
            return Err(error_page(
                Some((&c, &roles)),
                &ApiError::new(e.status(), e.body_text()),
            ));
        }
    };
    if let Err(e) = check_form_csrf(&c, &form) {
        return Err(error_page(Some((&c, &roles)), &e));
    }
    Ok((c, roles, form))
}

pub async fn sign_out(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (c, _, _) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(id) = &c.session_id
        && let Err(e) = app.auth().end_session(id).await
    {
        return ApiError::from(e).into_response();
    }
    let mut r = Redirect::to("/signin").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn switch_role(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (c, roles, form) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let role = match Role::parse(field(&form, "role")) {
        Ok(r) if roles.contains(&r) => r,
        _ => {
            return error_page(
                Some((&c, &roles)),
                &ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("{} does not hold that role", c.person),
                )
                .field("role"),
            );
        }
    };
    if let Some(id) = &c.session_id
        && let Err(e) = app.auth().set_session_role(id, role).await
    {
        return ApiError::from(e).into_response();
    }
    Redirect::to("/").into_response()
}

#[derive(serde::Deserialize)]
pub struct ScanQuery {
    #[serde(default)]
    q: String,
}

pub async fn scan(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<ScanQuery>,
) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = q.q.trim().to_owned();
    if let Some(found) = app.node().with_state(|s| scanned_id(s, &id)).await {
        return Redirect::to(&format!("/item/{}", percent(&found))).into_response();
    }
    error_page(
        Some((&c, &roles)),
        &ApiError::new(
            StatusCode::NOT_FOUND,
            format!("nothing with id {:?} in this production", id),
        )
        .field("q"),
    )
}

pub(crate) fn percent(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The id a scan names: an id as printed (any case), a label's URL (`https://node/item/REV-1`,
/// what a QR code holds), or a firearm's serial number.
pub(crate) fn scanned_id(s: &armory_core::State, scanned: &str) -> Option<String> {
    let text = scanned.trim();
    // A URL: the part after `/item/`, else its last path segment.
    let text = match text.split_once("/item/") {
        Some((_, rest)) => rest,
        None if text.contains("://") => text.rsplit('/').find(|p| !p.is_empty()).unwrap_or(text),
        None => text,
    };
    let text = text
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let text = percent_decode(text);
    canonical_id(s, &text).or_else(|| {
        s.firearms
            .iter()
            .find(|(_, f)| f.serial.as_ref().eq_ignore_ascii_case(&text))
            .map(|(k, _)| k.to_string())
    })
}

/// The id of the production that `text` names, exactly or else ignoring case ("church" for
/// "CHURCH"): ids are printed on labels in capitals and typed on phones in lower case.
pub(crate) fn canonical_id(s: &armory_core::State, text: &str) -> Option<String> {
    let ids = s
        .firearms
        .keys()
        .map(|k| k.as_ref())
        .chain(s.containers.keys().map(|k| k.as_ref()))
        .chain(s.lots.keys().map(|k| k.as_ref()))
        .chain(s.people.keys().map(|k| k.as_ref()))
        .chain(s.scenes.keys().map(|k| k.as_ref()))
        .chain(s.incidents.keys().map(|k| k.as_ref()))
        .chain(s.locations.keys().map(|k| k.as_ref()));
    let mut found = None;
    for id in ids {
        if id == text {
            return Some(id.to_owned());
        }
        if found.is_none() && id.eq_ignore_ascii_case(text) {
            found = Some(id.to_owned());
        }
    }
    found
}

/// The fields of a form's command that name something of the production by id.
const ID_FIELDS: &[&str] = &[
    "firearm",
    "scene",
    "performer",
    "person",
    "location",
    "container",
    "lot",
    "from",
    "to",
    "incident",
    "handler",
];

/// Puts every id a form typed (any case, spaces around) as the production spells it, in the
/// fields that name things, nested ones (a confirming actor's `person`) included. Ids the
/// production does not have are left as typed, for the rules to refuse by name.
fn canonical_ids(s: &armory_core::State, v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match x {
                    Value::String(t) if ID_FIELDS.contains(&k.as_str()) => {
                        if let Some(id) = canonical_id(s, t.trim()) {
                            *t = id;
                        }
                    }
                    _ => canonical_ids(s, x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| canonical_ids(s, x)),
        _ => {}
    }
}

/// `%41` to `A`; anything that is not a valid escape stays as it is.
fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What kind of thing `id` names in the state.
fn kind_of(s: &armory_core::State, id: &str) -> Option<&'static str> {
    let has = |ok: bool, k| if ok { Some(k) } else { None };
    has(s.firearms.keys().any(|k| k.as_ref() == id), "firearm")
        .or_else(|| has(s.containers.keys().any(|k| k.as_ref() == id), "container"))
        .or_else(|| has(s.lots.keys().any(|k| k.as_ref() == id), "lot"))
        .or_else(|| has(s.people.keys().any(|k| k.as_ref() == id), "person"))
        .or_else(|| has(s.scenes.keys().any(|k| k.as_ref() == id), "scene"))
        .or_else(|| has(s.incidents.keys().any(|k| k.as_ref() == id), "incident"))
        .or_else(|| has(s.locations.keys().any(|k| k.as_ref() == id), "location"))
}

fn form_open(c: &Caller, kind: &str, firearm: &str, legend: &str) -> String {
    format!(
        "<fieldset><legend>{}</legend><form method=post action=/act>{}<input type=hidden name=kind value={kind}><input type=hidden name=firearm value=\"{}\"><input type=hidden name=idem value=\"{}\">",
        esc(legend),
        csrf_field(c),
        esc(firearm),
        random_token()
    )
}

/// A button that has the person named in the form's `field` confirm with their passkey instead
/// of a PIN (assets/app.js), and the hidden field it fills.
pub(crate) fn passkey_button(field: &str, who: &str) -> String {
    format!(
        "<p><button type=button class=passkey data-passkey-for={field}>{} confirms with a passkey</button> <span class=passkey-status role=status></span></p>",
        esc(who)
    )
}

/// [`input`] with an id of its own form (`FORM-NAME`), for a field several forms on a page share.
fn input_in(form: &str, name: &str, label: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for={form}-{name}>{}</label><input id={form}-{name} name={name} value=\"{}\" {extra}>",
        esc(label),
        esc(value)
    )
}

pub(crate) fn input(name: &str, label: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for={name}>{}</label><input id={name} name={name} value=\"{}\" {extra}>",
        esc(label),
        esc(value)
    )
}

/// The receiver's confirmation of a waiting handover (signed in as them, or by their PIN on this
/// device), and calling it off.
fn handover_forms(c: &Caller, id: &str, h: &Value) -> String {
    let to = h["to"].as_str().unwrap_or_default();
    let kind = h["kind"]["kind"].as_str().unwrap_or_default();
    let mut b = String::new();
    let mine = c.person.as_ref() == to
        || (kind == "return" && matches!(c.role, Role::Armorer | Role::PropertyMaster));
    if mine {
        let _ = write!(
            b,
            "{}<p><button type=submit class=primary>I have received {}</button></p></form></fieldset>",
            form_open(c, "confirm_handover", id, "Confirm you received it"),
            esc(id)
        );
    } else {
        let _ = write!(
            b,
            "{}{}{}{}<p><button type=submit class=primary>Confirm receipt</button></p></form></fieldset>",
            form_open(
                c,
                "confirm_handover",
                id,
                "The receiver confirms here with their PIN"
            ),
            input_in(
                "confirm",
                "receiver",
                "Receiver id",
                if kind == "return" { "" } else { to },
                "required autocapitalize=none"
            ),
            if kind == "issue" {
                "<input type=hidden name=receiver_role value=performer>".to_owned()
            } else {
                "<label for=receiver_role>As</label><select id=receiver_role name=receiver_role><option value=armorer>armorer</option><option value=property_master>property master</option></select>".to_owned()
            },
            input_in(
                "confirm",
                "receiver_pin",
                "Receiver PIN",
                "",
                "type=password inputmode=numeric autocomplete=off required"
            ) + &passkey_button("receiver", "The receiver")
        );
    }
    let _ = write!(
        b,
        "{}{}<p><button type=submit>Call off the handover</button></p></form></fieldset>",
        form_open(c, "cancel_handover", id, "Call it off"),
        input_in("cancel", "reason", "Why", "", "required")
    );
    b
}

/// Every chamber as the people confirming a show check must see it, in order, big: what the
/// record says is in it (a dummy, a blank, a spent casing, nothing), and from which container.
fn chambers_html(chambers: Option<&[armory_core::Chamber]>) -> String {
    use armory_core::Chamber;
    let Some(chambers) = chambers else {
        return "<p class=chambers-unknown>No chamber has been recorded yet: load or inspect every chamber first.</p>".to_owned();
    };
    let mut b = String::from("<ol class=chambers>");
    for c in chambers {
        let (class, words) = match c {
            Chamber::Empty => ("empty", "EMPTY".to_owned()),
            Chamber::Round {
                container, kind, ..
            } => (
                match kind {
                    armory_core::AmmoKind::Dummy => "dummy",
                    armory_core::AmmoKind::Blank(_) => "blank",
                    armory_core::AmmoKind::Live => "live",
                },
                format!(
                    "{} from {}",
                    kind.word().to_uppercase(),
                    esc(container.as_ref())
                ),
            ),
            Chamber::Spent { lot } => ("spent", format!("SPENT casing ({})", esc(lot.as_ref()))),
        };
        let _ = write!(b, "<li class={class}>{words}</li>");
    }
    b.push_str("</ol>");
    b
}

fn actions(
    c: &Caller,
    id: &str,
    positions: u16,
    issued_to: Option<&str>,
    chambers: &str,
    offered: &[&str],
    choices: &Value,
) -> String {
    let can = |kind: &str| offered.contains(&kind);
    let mut b = String::from("<h2>Acts</h2>");
    if can("take_out") {
        let _ = write!(
            b,
            "{}<button type=submit>Take out of storage</button></form></fieldset>",
            form_open(c, "take_out", id, "Take out")
        );
    }
    if can("load") {
        let _ = write!(
            b,
            "{}{}<p><button type=submit>Record load</button></p></form></fieldset>",
            form_open(c, "load", id, "Load or inspect (every chamber)"),
            // Nothing proposed: a proposed "empty,empty,..." would record a firearm cold in one
            // tap, looked at or not. The person writes what each chamber holds.
            input(
                "chambers",
                &format!(
                    "All {positions} chambers in order: empty, or the container a round comes from"
                ),
                "",
                "required autocomplete=off placeholder=\"empty,BOX-1,empty,...\""
            )
        );
    }
    if can("show_check") {
        let _ = write!(
            b,
            "{}{chambers}{}{}{}{}{}<p><button type=submit>Confirm show check</button></p></form></fieldset>",
            form_open(
                c,
                "show_check",
                id,
                "Show check: performer and 1st AD look at every chamber, then confirm with their PIN"
            ),
            input(
                "scene",
                "Scene",
                "",
                "required list=dl-scenes autocapitalize=characters autocomplete=off"
            ),
            input(
                "performer",
                "Performer id",
                "",
                "required list=dl-performers autocapitalize=none autocomplete=off"
            ),
            input(
                "performer_pin",
                "Performer PIN",
                "",
                "type=password inputmode=numeric autocomplete=off required"
            ) + &passkey_button("performer", "Performer"),
            input(
                "first_ad",
                "1st AD id",
                "",
                "required list=dl-first-ads autocapitalize=none autocomplete=off"
            ),
            input(
                "first_ad_pin",
                "1st AD PIN",
                "",
                "type=password inputmode=numeric autocomplete=off required"
            ) + &passkey_button("first_ad", "1st AD")
        );
    }
    if can("brief_performer") {
        let _ = write!(
            b,
            "{}{}{}<p><button type=submit>Briefed</button></p></form></fieldset>",
            form_open(
                c,
                "brief_performer",
                id,
                "Brief the performer on it (today: handling, load, action, where to point it)"
            ),
            input_in(
                "brief",
                "performer",
                "Performer id",
                "",
                "required autocapitalize=none"
            ),
            input_in(
                "brief",
                "performer_pin",
                "Performer PIN: they confirm the briefing (optional)",
                "",
                "type=password inputmode=numeric autocomplete=off"
            ) + &passkey_button("performer", "Performer")
        );
    }
    if can("issue") {
        let _ = write!(
            b,
            "{}{}{}{}{}<p><button type=submit>Issue to performer</button></p></form></fieldset>",
            form_open(c, "issue", id, "Issue"),
            input_in(
                "issue",
                "scanned",
                "Scan the firearm in hand (its label, or type its id or serial)",
                "",
                "required autocapitalize=characters autocomplete=off"
            ),
            input(
                "performer",
                "Performer id",
                "",
                "required list=dl-performers autocapitalize=none autocomplete=off"
            ),
            input(
                "scene",
                "Scene",
                "",
                "required list=dl-scenes autocapitalize=characters autocomplete=off"
            ),
            input_in(
                "issue",
                "performer_pin",
                "Performer PIN: they confirm receiving it (or leave empty: they confirm on their phone)",
                "",
                "type=password inputmode=numeric autocomplete=off"
            ) + &passkey_button("performer", "Performer")
        );
    }
    if can("return") {
        let _ = write!(
            b,
            "{}<input type=hidden name=performer value=\"{}\">{}{}<p><button type=submit>Take back (return)</button></p></form></fieldset>",
            form_open(c, "return", id, "Return"),
            esc(issued_to.unwrap_or_default()),
            input_in(
                "return",
                "scanned",
                "Scan the firearm handed back (its label, or type its id or serial)",
                "",
                "required autocapitalize=characters autocomplete=off"
            ),
            input_in(
                "return",
                "performer_pin",
                "Performer PIN: they confirm giving it back (optional)",
                "",
                "type=password inputmode=numeric autocomplete=off"
            ) + &passkey_button("performer", "Performer")
        );
    }
    if can("expend") {
        let _ = write!(
            b,
            "{}{}<p><button type=submit>Count as fired</button></p></form></fieldset>",
            form_open(c, "expend", id, "Blanks fired as planned"),
            input("positions", "Positions fired (1,2,...)", "", "required")
        );
    }
    if can("unload") {
        let _ = write!(
            b,
            "{}<button type=submit>Unload</button></form></fieldset>",
            form_open(c, "unload", id, "Unload")
        );
    }
    if can("bore_check") {
        let _ = write!(
            b,
            "{}<p class=muted>After any firing, and at once after a misfire: the firearm empty, a rod down the barrel and through every chamber.</p><button type=submit>Bore and every chamber clear</button></form></fieldset>",
            form_open(c, "bore_check", id, "Bore check (BORE-CLEAR)")
        );
    }
    if can("recover_round") {
        let _ = write!(
            b,
            "{}{}<p><button type=submit>Recover the round</button></p></form></fieldset>",
            form_open(
                c,
                "recover_round",
                id,
                "Recover a misfired round (it leaves the production)"
            ),
            input_in(
                "recover",
                "position",
                "Position that misfired",
                "",
                "inputmode=numeric required"
            )
        );
    }
    if can("store") {
        let _ = write!(
            b,
            "{}{}<p><button type=submit>Store</button></p></form></fieldset>",
            form_open(c, "store", id, "Put away"),
            input(
                "location",
                "Location",
                "",
                "required list=dl-locations autocapitalize=characters autocomplete=off"
            )
        );
    }
    // What the id fields may hold, offered as the person types (any case is accepted).
    for (list, key) in [
        ("dl-scenes", "scenes"),
        ("dl-performers", "performers"),
        ("dl-first-ads", "first_ads"),
        ("dl-locations", "locations"),
    ] {
        let _ = write!(b, "<datalist id={list}>");
        for v in choices[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let _ = write!(b, "<option value=\"{}\">", esc(v));
        }
        b.push_str("</datalist>");
    }
    if offered.is_empty() {
        b.push_str("<p class=muted id=no-acts>Nothing to do with it now in your role: acts on firearms are the custodian's, and each shows here only when the firearm's state allows it.</p>");
    }
    b
}

/// The acts on firearm `f` worth offering to `c` now: the ones its state allows and the role
/// table lets the caller's role attempt (the rules still decide; this keeps a phone's page to the
/// two or three that make sense, and keeps taps that can only be refused off it).
fn acts_now(
    s: &armory_core::State,
    policy: &armory_core::Policy,
    c: &Caller,
    f: &armory_core::state::Firearm,
) -> Vec<&'static str> {
    use armory_core::Chamber;
    if f.handover.is_some() {
        return Vec::new(); // the receiver confirms, or someone calls it off (forms above)
    }
    let chambers = f.chambers.as_deref().unwrap_or_default();
    let holds_round = chambers.iter().any(|c| matches!(c, Chamber::Round { .. }));
    let holds_any = chambers.iter().any(|c| !matches!(c, Chamber::Empty));
    let blanks = chambers.iter().any(|c| {
        matches!(
            c,
            Chamber::Round {
                kind: armory_core::AmmoKind::Blank(_),
                ..
            }
        )
    });
    let mut kinds: Vec<&'static str> = match &f.custody {
        Custody::Stored { .. } => vec!["take_out", "brief_performer"],
        Custody::AtHand => {
            let mut k = vec!["load"];
            if f.chambers.is_some() {
                k.push("show_check");
            }
            if f.show_check.is_some() {
                k.push("issue");
            }
            k.push("brief_performer");
            if blanks {
                k.push("expend");
            }
            if holds_round && f.misfired.is_empty() {
                k.push("unload");
            }
            if !f.misfired.is_empty() {
                k.push("recover_round");
            }
            if !holds_any && f.bore_fouled.is_some() {
                k.push("bore_check");
            }
            k.push("store");
            k
        }
        Custody::Issued { performer, .. } => {
            let mut k = vec!["return"];
            if blanks {
                k.push("expend");
            }
            // A performer gives back only the firearm they hold.
            if c.role == Role::Performer && performer != &c.person {
                k.clear();
            }
            k
        }
    };
    kinds.retain(|k| armory_core::roles::may_attempt(s, policy, &c.person, c.role, k));
    kinds
}
pub async fn item(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<
        axum::extract::Query<api::HistoryQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (before, limit) = match api::history_query(query) {
        Ok(q) => q,
        Err(e) => return error_page(Some((&c, &roles)), &e),
    };
    let at = crate::now().ok();
    let policy = app.node().policy();
    let found = app
        .node()
        .with_state(|s| {
            let kind = kind_of(s, &id)?;
            let (detail, history, positions): (Value, &[u64], u16) = match kind {
                "firearm" => {
                    let (k, f) = s.firearms.iter().find(|(k, _)| k.as_ref() == id)?;
                    let locked = match &f.custody { Custody::Stored { location } => s.locations.get(location).is_some_and(|l| l.locked), _ => false };
                    let summary = format!("{} · custodian {} · {}{}{}", custody_words(&f.custody, locked), esc(f.custodian.as_ref()), condition_words(f.chambers.as_ref()),
                        f.show_check.as_ref().map_or(String::new(), |sc| format!(" · show check confirmed by {} and {} for {}", esc(sc.performer.as_ref()), esc(sc.first_ad.as_ref()), esc(sc.scene.as_ref()))),
                        handover_words(f.handover.as_ref()));
                    let summary = format!("{summary}{}", bore_words(f));
                    let _ = k;
                    (json!({"summary": summary, "serial": f.serial, "make": f.make, "model": f.model, "calibre": f.calibre, "class": f.class, "handover": f.handover,
                        "chambers_html": chambers_html(f.chambers.as_deref()),
                        "acts": acts_now(s, &policy, &c, f),
                        "choices": {
                            "scenes": s.scenes.iter().filter(|(_, sc)| at.map(|t| policy.day_of(t)) == Some(sc.day)).map(|(k, _)| k.to_string()).collect::<Vec<_>>(),
                            "performers": s.people.iter().filter(|(_, p)| p.acts_as(Role::Performer)).map(|(k, _)| k.to_string()).collect::<Vec<_>>(),
                            "first_ads": s.people.iter().filter(|(_, p)| p.acts_as(Role::FirstAd)).map(|(k, _)| k.to_string()).collect::<Vec<_>>(),
                            "locations": s.locations.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
                        },
                        "issued_to": match &f.custody { Custody::Issued { performer, .. } => Some(performer), _ => None }}), f.history.as_slice(), u16::from(f.positions))
                }
                "container" => { let (_, x) = s.containers.iter().find(|(k, _)| k.as_ref() == id)?; (without_history(x), x.history.as_slice(), 0) }
                "lot" => { let (_, x) = s.lots.iter().find(|(k, _)| k.as_ref() == id)?; (without_history(x), x.history.as_slice(), 0) }
                "scene" => { let (_, x) = s.scenes.iter().find(|(k, _)| k.as_ref() == id)?; (without_history(x), x.history.as_slice(), 0) }
                "person" => { let (_, x) = s.people.iter().find(|(k, _)| k.as_ref() == id)?; (json!(x), &[][..], 0) }
                "incident" => { let (_, x) = s.incidents.iter().find(|(k, _)| k.as_ref() == id)?; (json!(x), std::slice::from_ref(&x.entry), 0) }
                _ => { let (_, x) = s.locations.iter().find(|(k, _)| k.as_ref() == id)?; (json!(x), &[][..], 0) }
            };
            let (shown, older) = api::history_page(history, before, limit);
            Some((kind, detail, shown.to_vec(), older, history.len(), positions))
        })
        .await;
    let Some((kind, detail, shown, older, total, positions)) = found else {
        return error_page(
            Some((&c, &roles)),
            &ApiError::new(
                StatusCode::NOT_FOUND,
                format!("nothing with id {id:?} in this production"),
            )
            .field("id"),
        );
    };
    let mut b = format!("<h1>{} {}</h1>", esc(kind), esc(&id));
    if kind == "firearm" {
        let _ = write!(
            b,
            "<p id=summary>{}</p><p class=muted>{} {} · {} · serial {} · {}</p>",
            detail["summary"].as_str().unwrap_or_default(),
            esc(detail["make"].as_str().unwrap_or_default()),
            esc(detail["model"].as_str().unwrap_or_default()),
            esc(detail["calibre"].as_str().unwrap_or_default()),
            esc(detail["serial"].as_str().unwrap_or_default()),
            esc(detail["class"].as_str().unwrap_or_default())
        );
        if let Some(h) = detail.get("handover").filter(|h| !h.is_null()) {
            b.push_str(&handover_forms(&c, &id, h));
        }
        b.push_str(&nearmiss::of_firearm(&app, &id).await);
        b.push_str(&actions(
            &c,
            &id,
            positions,
            detail["issued_to"].as_str(),
            detail["chambers_html"].as_str().unwrap_or_default(),
            &detail["acts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>(),
            &detail["choices"],
        ));
    } else {
        b.push_str(&fields_table(&detail));
        b.push_str(&other_acts(&app, &c, kind, &id).await);
    }
    let entries = match entry_lines(&app, &shown).await {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    let _ = write!(
        b,
        "<h2>History ({total} entries{})</h2><ol class=history>",
        if entries.len() < total {
            format!(", {} shown", entries.len())
        } else {
            String::new()
        }
    );
    for line in entries.iter().rev() {
        b.push_str(line);
    }
    b.push_str("</ol>");
    if let Some(older) = older {
        let _ = write!(
            b,
            "<p><a class=button href=\"/item/{}?before={older}\">Older entries</a></p>",
            esc(&id)
        );
    }
    html(StatusCode::OK, page(&id, Some((&c, &roles)), &b))
}

/// The history lines of the entries `indexes` (ascending) that exist, in index order.
pub(crate) async fn entry_lines(app: &App, indexes: &[u64]) -> Result<Vec<Arc<str>>, ApiError> {
    app.lines()
        .get(app, indexes, |bytes| {
            let e: Value = serde_json::from_slice(bytes).map_err(ApiError::internal)?;
            Ok(entry_line(&e).into())
        })
        .await
}

fn entry_line(e: &Value) -> String {
    let index = e["index"].as_u64().unwrap_or_default();
    let who: Vec<String> = e["actors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    format!(
                        "{} ({}, {})",
                        x["person"].as_str().unwrap_or("?"),
                        x["role"].as_str().unwrap_or("?"),
                        x["method"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let ev = &e["event"];
    let extra = match ev["type"].as_str() {
        Some("refused") => format!(
            " — REFUSED {} ({}): {}",
            ev["command"].as_str().unwrap_or_default(),
            ev["rule"].as_str().unwrap_or_default(),
            ev["why"].as_str().unwrap_or_default()
        ),
        _ => String::new(),
    };
    format!(
        "<li value={index}{}><a href=/entry/{index}>#{index}</a> {} <b>{}</b>{} <span class=muted>by {}</span></li>",
        if ev["type"] == "refused" {
            " class=near-miss"
        } else {
            ""
        },
        e["time"]
            .as_str()
            .and_then(|t| armory_core::Timestamp::parse_rfc3339(t).ok())
            .map(time_tag)
            .unwrap_or_default(),
        esc(ev["type"].as_str().unwrap_or("?")),
        esc(&extra),
        esc(&if who.is_empty() {
            "anonymous".to_owned()
        } else {
            who.join(", ")
        })
    )
}

/// The optional confirmation, as `role`, of the person a form names in `field`: when they
/// confirm here, by PIN (`FIELD_pin`, checked later) or by passkey (the form's `passkeys`, or
/// `passkey_for` while their passkey is being asked for, so that the act it signs names them).
/// `null` when they confirm later on their own device.
fn confirmation_of(
    form: &FormMap,
    name: &str,
    role: &str,
    pins: &mut HashMap<String, String>,
) -> Value {
    let person = field(form, name).trim();
    let pin = field(form, &format!("{name}_pin"));
    let by_passkey = field(form, "passkey_for") == person
        || serde_json::from_str::<HashMap<String, Value>>(field(form, "passkeys"))
            .is_ok_and(|p| p.contains_key(person));
    if person.is_empty() || (pin.is_empty() && !by_passkey) {
        return Value::Null;
    }
    if !pin.is_empty() {
        pins.insert(person.to_owned(), pin.to_owned());
    }
    json!({"person": person, "role": role, "method": "pin"})
}

/// What the scanner read into a form's `scanned` field (`null` when nothing was scanned, which
/// HANDOVER-SCAN refuses with its reason).
pub(crate) fn scanned(form: &FormMap) -> Value {
    match field(form, "scanned").trim() {
        "" => Value::Null,
        read => json!(read),
    }
}

/// Builds the command JSON of a form; the fields are typed by the core when it is parsed.
fn command_of(form: &FormMap) -> Result<(Value, HashMap<String, String>), ApiError> {
    let f = |n: &str| field(form, n).to_owned();
    let list = |n: &str| -> Vec<String> {
        field(form, n)
            .split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect()
    };
    let mut pins = HashMap::new();
    let kind = f("kind");
    let v = match kind.as_str() {
        "return" => {
            json!({"type": "return", "firearm": f("firearm"), "scanned": scanned(form),
                   "confirmation": confirmation_of(form, "performer", "performer", &mut pins)})
        }
        "confirm_handover" => {
            // A receiver named here confirms here: their PIN (asked for when missing) or
            // passkey. Nobody named: the one signed in is the receiver.
            let mut v = json!({"type": "confirm_handover", "item": {"firearm": f("firearm")}});
            if !f("receiver").is_empty() {
                pins.insert(f("receiver"), f("receiver_pin"));
                v["confirmation"] =
                    json!({"person": f("receiver"), "role": f("receiver_role"), "method": "pin"});
            }
            v
        }
        "cancel_handover" => {
            json!({"type": "cancel_handover", "item": {"firearm": f("firearm")}, "reason": f("reason")})
        }
        "take_out" | "unload" => match kind.as_str() {
            "take_out" => json!({"type": "take_out", "item": {"firearm": f("firearm")}}),
            k => json!({"type": k, "firearm": f("firearm")}),
        },
        "store" => {
            json!({"type": "store", "item": {"firearm": f("firearm")}, "location": f("location")})
        }
        "load" => {
            let chambers: Vec<Value> = list("chambers")
                .into_iter()
                .map(|c| {
                    if c.eq_ignore_ascii_case("empty") {
                        json!("empty")
                    } else {
                        json!({"round": c})
                    }
                })
                .collect();
            json!({"type": "load", "firearm": f("firearm"), "chambers": chambers})
        }
        "show_check" => {
            pins.insert(f("performer"), f("performer_pin"));
            pins.insert(f("first_ad"), f("first_ad_pin"));
            json!({"type": "show_check", "firearm": f("firearm"), "scene": f("scene"),
                   "performer": {"person": f("performer"), "role": "performer", "method": "pin"},
                   "first_ad": {"person": f("first_ad"), "role": "first_ad", "method": "pin"}})
        }
        "issue" => {
            json!({"type": "issue", "firearm": f("firearm"), "performer": f("performer"), "scene": f("scene"),
                   "scanned": scanned(form),
                   "confirmation": confirmation_of(form, "performer", "performer", &mut pins)})
        }
        "bore_check" => json!({"type": "bore_check", "firearm": f("firearm")}),
        "brief_performer" => {
            json!({"type": "brief_performer", "performer": f("performer"), "firearm": f("firearm"),
                   "confirmation": confirmation_of(form, "performer", "performer", &mut pins)})
        }
        "recover_round" => {
            let position: u16 = f("position").trim().parse().map_err(|_| {
                ApiError::bad("the position is a number: the chamber that misfired, from 1")
                    .field("position")
            })?;
            json!({"type": "recover_round", "firearm": f("firearm"), "position": position})
        }
        "expend" => {
            let positions: Result<Vec<u16>, _> =
                list("positions").iter().map(|p| p.parse::<u16>()).collect();
            let positions = positions.map_err(|_| {
                ApiError::bad("positions must be numbers separated by commas, e.g. 1,2")
                    .field("positions")
            })?;
            json!({"type": "expend", "firearm": f("firearm"), "positions": positions})
        }
        "report_incident" => {
            let covers = if f("covers").is_empty() || f("covers").eq_ignore_ascii_case("all") {
                json!("all")
            } else {
                json!({"firearms": list("covers")})
            };
            json!({"type": "report_incident", "kind": f("incident_kind"), "severity": f("severity"), "covers": covers,
                   "description": f("description"), "anonymous": field(form, "anonymous") == "on"})
        }
        other => match flows::command_of(other, form, &mut pins) {
            Some(v) => v?,
            None => match admin::command_of(other, form) {
                Some(v) => v?,
                None => {
                    return Err(ApiError::bad(format!("unknown act {other:?}")).field("kind"));
                }
            },
        },
    };
    Ok((v, pins))
}

/// `POST /confirm/options`: a passkey confirmation of the act a form is about to submit, for the
/// person named in `passkey_for` (the options for `navigator.credentials.get`, and the act).
pub async fn confirm_options(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (_c, _roles, form) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = async {
        let (json, _) = command_of(&form)?;
        let person = armory_core::PersonId::parse(field(&form, "passkey_for"))
            .map_err(|e| ApiError::bad(e.to_string()).field("passkey_for"))?;
        crate::passkeys::confirm_options(&app, &headers, &json, &person).await
    }
    .await;
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn act(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (c, roles, form) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ctx = Some((&c, roles.as_slice()));
    let mut flags: Vec<String> = Vec::new();
    let result: Result<Outcome, ApiError> = async {
        let (mut json, pins) = command_of(&form)?;
        // Ids as the production spells them, and each PIN under the id it now confirms for.
        let pins: Vec<(String, String)> = app
            .node()
            .with_state(|s| {
                canonical_ids(s, &mut json);
                pins.into_iter()
                    .map(|(who, pin)| (canonical_id(s, who.trim()).unwrap_or(who), pin))
                    .collect()
            })
            .await;
        let mut command: armory_core::Command =
            serde_json::from_value(json).map_err(|e| ApiError::bad(e.to_string()))?;
        let passkeys: HashMap<String, Value> = match field(&form, "passkeys") {
            "" => HashMap::new(),
            text => serde_json::from_str(text).map_err(|e| {
                ApiError::bad(format!("the passkey confirmations do not parse: {e}"))
                    .field("passkeys")
            })?,
        };
        crate::passkeys::apply(&mut command, &passkeys);
        let pins = pins.into_iter().collect();
        api::confirm_with_pins(&app, &c.actor(), &mut command, &pins).await?;
        flags = api::pins_set_by_others(&app, &command).await;
        let idem = field(&form, "idem");
        let key = if idem.is_empty() {
            None
        } else {
            Some(format!("{}:form:{idem}", c.person))
        };
        api::run_command(&app, &c.actor(), &command, key.as_deref()).await
    }
    .await;
    let back = match (field(&form, "back"), field(&form, "firearm")) {
        (b, _) if b.starts_with('/') && !b.starts_with("//") => b.to_owned(),
        (_, "") => "/".to_owned(),
        (_, f) => format!("/item/{}", percent(f)),
    };
    match result {
        Err(e) => error_page(ctx, &e),
        Ok(Outcome::Refused { refusal, appended }) => {
            error_page(ctx, &ApiError::refused(refusal, Some(appended.first_index)))
        }
        Ok(Outcome::Repeated(armory_store::node::Recorded {
            refusal: Some(refusal),
            first_index,
            ..
        })) => error_page(ctx, &ApiError::refused(refusal, Some(first_index))),
        Ok(outcome) => {
            let first = outcome.first_index();
            let repeated = matches!(outcome, Outcome::Repeated(_));
            // An act that opened an incident stopping firearm work (a live round found at
            // verification, a wrap that does not balance) is recorded, and is no success.
            // The act's events: as decided, or for a form sent twice, as its entries hold them.
            let events: Vec<armory_core::Event> = match &outcome {
                Outcome::Done { events, .. } => events.clone(),
                Outcome::Repeated(r) => {
                    let indexes: Vec<u64> = (r.first_index..r.first_index + r.count).collect();
                    api::entries_json(&app, &indexes)
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|e| serde_json::from_value(e["event"].clone()).ok())
                        .collect()
                }
                Outcome::Refused { .. } => Vec::new(),
            };
            let stops: Vec<String> = events
                .iter()
                .filter_map(|e| match e {
                    armory_core::Event::IncidentOpened {
                        incident,
                        severity,
                        description,
                        ..
                    } if *severity >= armory_core::Severity::Stop => Some(format!(
                        "<li>incident {}: {}</li>",
                        esc(incident.as_ref()),
                        esc(description.as_ref())
                    )),
                    _ => None,
                })
                .collect();
            if !stops.is_empty() {
                return html(
                    StatusCode::OK,
                    page(
                        "STOP",
                        ctx,
                        &format!(
                            "<section class=critical role=alert><p><b>STOP. Recorded as <a href=/entry/{first}>entry #{first}</a>{}, and it opened:</b></p><ul>{}</ul><p>Firearm work it covers is stopped until the armorer and the safety representative close the incident with findings.</p></section><p><a href=/discharge>Incidents</a> · <a href=/>Board</a></p>",
                            if repeated {
                                " (already recorded: this form was sent twice)"
                            } else {
                                ""
                            },
                            stops.concat()
                        ),
                    ),
                );
            }
            html(
                StatusCode::OK,
                page(
                    "Done",
                    ctx,
                    &format!(
                        "<section class=done role=status><p><b>Done{}.</b> Recorded as <a href=/entry/{first}>entry #{first}</a> by {} ({}, {}).</p></section>{}<p><a href=\"{}\">Back</a> · <a href=/>Board</a></p>",
                        if repeated {
                            " (already recorded: this form was sent twice)"
                        } else {
                            ""
                        },
                        esc(c.person.as_ref()),
                        esc(c.role.title()),
                        c.method,
                        flags
                            .iter()
                            .map(|f| format!("<section class=error role=alert><p><b>Check this confirmation.</b> {}</p></section>", esc(f)))
                            .collect::<String>(),
                        esc(&back)
                    ),
                ),
            )
        }
    }
}

pub async fn incident_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let anonymous_ok = app.node().policy().anonymous_incident_reports;
    let opt = |v: &[&str]| {
        v.iter()
            .map(|x| format!("<option value={x}>{}</option>", x.replace('_', " ")))
            .collect::<String>()
    };
    let body = format!(
        "<h1>Report an incident</h1><p>Anyone may report. Nobody can delete a report.</p><form method=post action=/act>{}<input type=hidden name=kind value=report_incident><input type=hidden name=idem value=\"{}\">\
         <label for=incident_kind>What happened</label><select id=incident_kind name=incident_kind>{}</select>\
         <label for=severity>How severe</label><select id=severity name=severity>{}</select>\
         {}<label for=description>Describe it</label><textarea id=description name=description rows=4 required></textarea>\
         {}<p><button type=submit>Report</button></p></form>",
        csrf_field(&c),
        random_token(),
        opt(&[
            "near_miss",
            "live_round",
            "unplanned_discharge",
            "misfire",
            "count_mismatch",
            "other"
        ]),
        opt(&["stop", "critical", "note"]),
        input(
            "covers",
            "Firearms it stops (ids separated by commas, or all)",
            "all",
            ""
        ),
        if anonymous_ok {
            "<label><input type=checkbox name=anonymous> Leave my name out of the record</label>"
        } else {
            "<p class=muted>This production's policy does not allow anonymous reports.</p>"
        }
    );
    html(
        StatusCode::OK,
        page("Report incident", Some((&c, &roles)), &body),
    )
}

pub async fn log_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let store = app.node().store();
    let note = match store.latest_checkpoint().await {
        Ok(n) => n,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let verified = armory_ledger::checkpoint::Checkpoint::open(&note, store.verifier());
    let (status, size) = match &verified {
        Ok(cp) => (
            format!(
                "<p class=done>Signature valid: this checkpoint is signed by the log key <code>{}</code>.</p>",
                esc(store.verifier().name())
            ),
            cp.size,
        ),
        Err(e) => (
            format!(
                "<p class=refusal>The latest checkpoint does not verify: {}</p>",
                esc(&e.to_string())
            ),
            0,
        ),
    };
    let prefix = crate::logweb::prefix(&app);
    let mut b = format!(
        "<h1>The log</h1>{status}<h2>Latest checkpoint</h2><pre id=checkpoint>{}</pre>\
         <p>C2SP tlog-tiles for any tlog client: <a href=\"{prefix}/checkpoint\">{prefix}/checkpoint</a>, tiles under <code>{prefix}/tile/</code>{}</p>\
         <p class=muted>Offline: <code>armory export DIR</code> then <code>armory verify DIR --key log.pub</code>.</p><h2>Latest entries</h2><ol>",
        esc(&String::from_utf8_lossy(&note)),
        if size > 0 {
            format!(
                " (first entries: <a href=\"{prefix}/tile/entries/000{}\">tile/entries/000</a>)",
                if size < 256 {
                    format!(".p/{size}")
                } else {
                    String::new()
                }
            )
        } else {
            String::new()
        }
    );
    let from = size.saturating_sub(20);
    let idx: Vec<u64> = (from..size).collect();
    match entry_lines(&app, &idx).await {
        Ok(lines) => lines.iter().rev().for_each(|line| b.push_str(line)),
        Err(e) => return e.into_response(),
    }
    b.push_str("</ol>");
    b.push_str(&flows::remark_form(&c));
    html(StatusCode::OK, page("Log", Some((&c, &roles)), &b))
}

pub async fn entry_page(
    State(app): State<App>,
    headers: HeaderMap,
    Path(index): Path<String>,
) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(i) = index.parse::<u64>() else {
        return error_page(
            Some((&c, &roles)),
            &ApiError::bad(format!("{index:?} is not an entry number")).field("index"),
        );
    };
    let found = match api::entries_json(&app, &[i]).await {
        Ok(mut v) => v.pop(),
        Err(e) => return e.into_response(),
    };
    let Some(e) = found else {
        return error_page(
            Some((&c, &roles)),
            &ApiError::new(StatusCode::NOT_FOUND, format!("entry {i} does not exist"))
                .field("index"),
        );
    };
    let body = format!(
        "<h1>Entry #{i}</h1><ol>{}</ol><pre>{}</pre><p><a href=/api/log/receipts/{i}>Receipt (C2SP tlog-proof)</a> · <a href=/log>Log</a></p>{}",
        entry_line(&e),
        esc(&serde_json::to_string_pretty(&e).unwrap_or_default()),
        flows::correction_form(&c, i)
    );
    html(
        StatusCode::OK,
        page(&format!("Entry {i}"), Some((&c, &roles)), &body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_sets_local_time_and_keep_the_utc_instant() {
        let t = armory_core::Timestamp::parse_rfc3339("2021-10-21T13:46:00.000Z")
            .unwrap_or_else(|e| panic!("{e}"));
        let page = format!("<p>fired at {} and {}</p>", time_tag(t), time_tag(t));
        let mdt = localize_times(&page, -360);
        assert_eq!(mdt.matches(">2021-10-21 07:46</time>").count(), 2, "{mdt}");
        assert!(
            mdt.contains("datetime=\"2021-10-21T13:46:00.000Z\""),
            "{mdt}"
        );
        assert!(mdt.contains("UTC-06:00"), "{mdt}");
        // Across midnight, and a half-hour offset.
        let ist = localize_times(&time_tag(t), 19 * 60 + 30);
        assert!(ist.contains(">2021-10-22 09:16</time>"), "{ist}");
        // Not a time: left as it was.
        assert_eq!(
            localize_times("<time datetime=\"x\">x</time>", 60),
            "<time datetime=\"x\">x</time>"
        );
    }
}
