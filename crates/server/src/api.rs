//! The JSON API: sign-in, commands, queries, and the OpenAPI document.
//!
//! Errors are JSON `{error, field?, rule?, why?, needed?}` with a 4xx status naming the problem.
//! A command refused by a rule answers 409 (403 for ROLE) with the refusal, which the node has
//! logged as a near miss. A command naming something that does not exist, or out of order (rule
//! STATE), answers 422 and is not logged: it is bad input, checked by a dry run of the same
//! `decide` before the real one (the web layer decides nothing itself).

use crate::auth::{AuthError, Secret, Session};
use crate::metrics::Metrics;
use crate::{App, now};
use armory_core::{Actor, AuthMethod, Command, Event, PersonId, Refusal, Role, RuleId, SecretKind};
use armory_store::Store;
use armory_store::StoreError;
use armory_store::node::{NodeError, Outcome};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SESSION_COOKIE: &str = "armory_session";
/// The cookie that marks a device its person signed in on (see [`device_cookie`]).
pub const DEVICE_COOKIE: &str = "armory_device";

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub field: Option<String>,
    pub refusal: Option<Box<Refusal>>,
    pub logged_as: Option<u64>,
    /// For an act that storage could not take: `not_recorded` or `unknown`.
    pub outcome: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            field: None,
            refusal: None,
            logged_as: None,
            outcome: None,
        }
    }
    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }
    pub fn bad(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign in first (session cookie) or send Authorization: Bearer <API token>",
        )
    }
    /// Something failed inside the node. The client gets an error id, never the cause (which
    /// may name files, SQL or internals); the cause is printed on the node with that id.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        let id = &crate::auth::random_token()[..12];
        tracing::error!("internal error {id}: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "something failed inside the node (error {id}); nothing is known to be recorded: check the log before you retry, and give the node's operator this id"
            ),
        )
    }
    /// A refusal by a rule: 403 for ROLE, 422 for STATE, 409 for the safety rules.
    pub fn refused(refusal: Refusal, logged_as: Option<u64>) -> ApiError {
        let status = match refusal.rule {
            RuleId::Role => StatusCode::FORBIDDEN,
            RuleId::State => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        ApiError {
            status,
            error: refusal.to_string(),
            field: None,
            refusal: Some(Box::new(refusal)),
            logged_as,
            outcome: None,
        }
    }
    pub fn body(&self) -> Value {
        let mut v = json!({"error": self.error});
        if let Some(f) = &self.field {
            v["field"] = json!(f);
        }
        if let Some(r) = &self.refusal {
            v["rule"] = json!(r.rule);
            v["why"] = json!(r.why);
            v["needed"] = json!(r.needed);
        }
        if let Some(i) = self.logged_as {
            v["logged_as"] = json!(i);
        }
        if let Some(o) = self.outcome {
            v["outcome"] = json!(o);
        }
        v
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match &e {
            AuthError::Wrong(_) => StatusCode::UNAUTHORIZED,
            AuthError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            AuthError::Weak(_) => StatusCode::BAD_REQUEST,
            AuthError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            // The cause names the node's files: printed there, an id to the client.
            AuthError::Database(_) | AuthError::Hash(_) => return ApiError::internal(e),
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

pub fn now_ms() -> Result<i64, ApiError> {
    Ok(now().map_err(ApiError::internal)?.as_unix_millis())
}

/// Who sent a request, and how they authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: PersonId,
    pub role: Role,
    pub method: AuthMethod,
    /// The session id, when signed in with a cookie.
    pub session_id: Option<String>,
    pub session: Option<Session>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::new(self.person.clone(), self.role, self.method)
    }
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The caller, from a bearer token or a session cookie; `None` when neither is valid.
pub async fn caller_opt(app: &App, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let text = auth.to_str().unwrap_or_default();
        let Some(secret) = text.strip_prefix("Bearer ") else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the Authorization header must be `Bearer <API token>`",
            ));
        };
        return match app.auth().token(secret.trim(), now_ms()?).await? {
            Some((person, role)) => {
                still_on_production(app, &person).await?;
                Ok(Some(Caller {
                    person,
                    role,
                    method: AuthMethod::ApiToken,
                    session_id: None,
                    session: None,
                }))
            }
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unknown, expired or revoked API token; create one with POST /api/tokens",
            )),
        };
    }
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = app.auth().session(&id, now_ms()?).await? else {
        return Ok(None);
    };
    still_on_production(app, &session.person).await?;
    Ok(Some(Caller {
        person: session.person.clone(),
        role: session.role,
        method: AuthMethod::Password,
        session_id: Some(id),
        session: Some(session),
    }))
}

/// A person removed from the production (or never on it, once it is open) is let in by no
/// session or token they still hold: those end here, and the request is 401.
async fn still_on_production(app: &App, person: &PersonId) -> Result<(), ApiError> {
    let on = app
        .node()
        .with_state(|s| s.production.is_none() || s.people.get(person).is_some_and(|p| p.active))
        .await;
    if on {
        return Ok(());
    }
    app.auth().end_person(person).await?;
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        format!(
            "{person} is no longer on this production: their sign-ins and API tokens have ended"
        ),
    ))
}

/// The caller, or 401.
pub async fn caller(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    caller_opt(app, headers)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

/// A mutating request signed in by cookie must carry the session's CSRF token in `X-CSRF-Token`
/// (API tokens are not sent by browsers on their own, so they need none).
pub fn check_csrf_header(caller: &Caller, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(session) = &caller.session else {
        return Ok(());
    };
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if sent.is_empty() || sent != session.csrf {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token: send the session's token (from sign-in) in X-CSRF-Token",
        )
        .field("X-CSRF-Token"));
    }
    Ok(())
}

/// The Set-Cookie header of a session.
pub fn session_cookie(app: &App, id: &str, max_age_s: i64) -> Result<HeaderValue, ApiError> {
    cookie_header(app, SESSION_COOKIE, id, "/", max_age_s)
}

/// A Set-Cookie header of this server: HttpOnly, SameSite=Strict, and Secure where the config
/// says cookies travel only over TLS.
pub(crate) fn cookie_header(
    app: &App,
    name: &str,
    value: &str,
    path: &str,
    max_age_s: i64,
) -> Result<HeaderValue, ApiError> {
    let secure = if app.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .map_err(ApiError::internal)
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                format!(
                    "the request body is larger than {} bytes",
                    crate::BODY_LIMIT
                ),
            )
        } else {
            ApiError::new(status, r.body_text())
        }
    })?;
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // `application/json`, with parameters or not (`; charset=utf-8`), and nothing else.
            let essence = v.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json")
        });
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split_once("unknown field `")
            .or_else(|| text.split_once("missing field `"))
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_owned());
        let kind = if e.is_syntax() || e.is_eof() {
            "malformed JSON"
        } else {
            "invalid request"
        };
        let mut err = ApiError::bad(format!("{kind}: {text}"));
        err.field = field;
        err
    })
}

/// The people whose PIN confirms this command, as mutable actors (to record `method: pin`).
pub(crate) fn confirmations_mut(command: &mut Command) -> Vec<&mut Actor> {
    match command {
        Command::ShowCheck {
            performer,
            first_ad,
            ..
        } => vec![performer, first_ad],
        Command::HoldMeeting { safety_rep, .. } => safety_rep.iter_mut().collect(),
        Command::CloseIncident { safety_rep, .. } => vec![safety_rep],
        Command::Override { confirmations, .. } => confirmations.iter_mut().collect(),
        Command::SetPolicy { approvals, .. } => approvals.iter_mut().collect(),
        Command::Issue { confirmation, .. }
        | Command::Return { confirmation, .. }
        | Command::AssignCustodian { confirmation, .. }
        | Command::ConfirmHandover { confirmation, .. }
        | Command::BriefPerformer { confirmation, .. } => confirmation.iter_mut().collect(),
        _ => Vec::new(),
    }
}

/// Records `event` (a secret set, a lockout) in the log before the change it describes is made:
/// who may do what is part of the record. A storage fault answers 503 and changes nothing.
pub async fn log_account_event(app: &App, by: &Actor, event: Event) -> Result<(), ApiError> {
    let actor = armory_ledger::Actor {
        person: by.person.as_str().to_owned(),
        role: by.role.as_str().to_owned(),
        method: by.method.as_str().to_owned(),
        assertion: None,
    };
    log_event_by(app, actor, event).await
}

/// [`log_account_event`] with the entry's author as written.
async fn log_event_by(
    app: &App,
    actor: armory_ledger::Actor,
    event: Event,
) -> Result<(), ApiError> {
    let at = now().map_err(ApiError::internal)?;
    match app.node().record(vec![actor], &[event], at).await {
        Ok(_) => Ok(()),
        Err(e) => Err(not_recorded(e)),
    }
}

/// The answer to a node's failure to record: 503 while nothing can be recorded (the log failed
/// its check, the clock is behind it, storage fails), saying whether the act is not recorded or
/// its outcome unknown; 500 for anything else.
fn not_recorded(e: NodeError) -> ApiError {
    let outcome = match &e {
        NodeError::Store(StoreError::Unknown(_)) => "unknown",
        NodeError::Halted(_) | NodeError::Store(StoreError::ClockBehind { .. }) => "not_recorded",
        NodeError::Store(s) if s.is_storage_fault() => "not_recorded",
        _ => return ApiError::internal(e),
    };
    let mut error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        match e {
            NodeError::Store(s) => s.to_string(),
            other => other.to_string(),
        },
    );
    error.outcome = Some(outcome);
    error
}

/// The node itself, as the author of what happens without anyone acting (a lockout).
fn node_actor() -> armory_ledger::Actor {
    armory_ledger::Actor {
        person: "node".into(),
        role: "system".into(),
        method: "automatic".into(),
        assertion: None,
    }
}

/// Checks a password or PIN; a lockout this attempt starts is logged (`locked_out`).
pub async fn check_secret(
    app: &App,
    person: &PersonId,
    which: Secret,
    secret: &str,
    now: i64,
    device: Option<&str>,
) -> Result<(), ApiError> {
    match app.auth().check(person, which, secret, now, device).await {
        Ok(()) => Ok(()),
        Err(e) => {
            Metrics::add(&app.metrics().sign_in_failures);
            tracing::warn!(
                "refused a {} for {person}{}: {e}",
                match which {
                    Secret::Password => "password",
                    Secret::Pin => "PIN",
                },
                if device.is_some() {
                    " (from their own device)"
                } else {
                    ""
                }
            );
            if let AuthError::Locked {
                seconds,
                started: true,
                ..
            } = &e
            {
                let kind = match which {
                    Secret::Password => SecretKind::Password,
                    Secret::Pin => SecretKind::Pin,
                };
                let event = Event::LockedOut {
                    person: person.clone(),
                    kind,
                    seconds: u64::try_from(*seconds).unwrap_or(0),
                };
                if let Err(logged) = log_event_by(app, node_actor(), event).await {
                    tracing::warn!(
                        "the lockout of {person} could not be logged: {}",
                        logged.error
                    );
                }
            }
            Err(e.into())
        }
    }
}

/// Checks how everyone who confirms `command` (on the acting person's device) confirmed: a
/// passkey assertion over this act, or else their PIN, recorded as `method: pin`. A PIN or a
/// passkey confirms this one act; it opens no session.
///
/// Who acts is checked first: an act the actor's role may not attempt (RULES.md §4, the role
/// table), or an actor no longer on the production, looks at no PIN at all, so nobody can try
/// PINs (or lock them: a locked 1st AD's PIN stops every show check) through acts they may not
/// do. The rules engine then refuses the act by its role, and logs it naming the actor alone.
pub async fn confirm_with_pins(
    app: &App,
    actor: &Actor,
    command: &mut Command,
    pins: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let (kind, policy) = (command.kind(), app.node().policy());
    let may = app
        .node()
        .with_state(|s| {
            armory_core::roles::may_attempt(s, &policy, &actor.person, actor.role, kind)
        })
        .await;
    if !may {
        return Ok(());
    }
    let now = now_ms()?;
    let checked = command.clone();
    for actor in confirmations_mut(command) {
        let who = actor.person.to_string();
        if actor.method == AuthMethod::Passkey {
            let Some(assertion) = &actor.assertion else {
                return Err(ApiError::bad(format!(
                    "{who} confirms this act by passkey: their assertion is needed (method passkey, assertion)"
                ))
                .field(format!("passkeys.{who}")));
            };
            crate::passkeys::check_confirmation(app, &actor.person, assertion, &checked).await?;
            continue;
        }
        // Only a passkey confirmation carries an assertion.
        actor.assertion = None;
        let Some(pin) = pins.get(&who).filter(|p| !p.is_empty()) else {
            return Err(ApiError::bad(format!(
                "{who} confirms this act: their PIN is needed (pins.{who})"
            ))
            .field(format!("pins.{who}")));
        };
        if let Err(mut err) = check_secret(app, &actor.person, Secret::Pin, pin, now, None).await {
            err.field = Some(format!("pins.{who}"));
            return Err(err);
        }
        actor.method = AuthMethod::Pin;
    }
    Ok(())
}

/// Runs a command through the node: a dry run first, so a STATE refusal (unknown id, out of
/// order) is answered without being logged; then the real, logged, durable decision.
pub async fn run_command(
    app: &App,
    actor: &Actor,
    command: &Command,
    key: Option<&str>,
) -> Result<Outcome, ApiError> {
    let at = now().map_err(ApiError::internal)?;
    let person = actor.person.as_str();
    if !app
        .refusals()
        .allows(person.to_owned(), at.as_unix_millis())
    {
        tracing::warn!(
            "{person} had {} acts refused within a minute: further acts are not recorded until it passes",
            crate::REFUSALS_PER_MINUTE
        );
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{person} had {} acts refused within a minute: wait a minute, and ask the armorer what the refusals said",
                crate::REFUSALS_PER_MINUTE
            ),
        ));
    }
    // A STATE refusal (unknown id, act out of order) comes back as `Invalid` and is not logged;
    // safety and role refusals are logged by the node as near misses.
    let outcome = match app.node().execute_once(key, actor, command, at).await {
        Ok(outcome) => outcome,
        Err(NodeError::Invalid(refusal)) => return Err(ApiError::refused(refusal, None)),
        Err(e @ NodeError::KeyReused) => {
            return Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
                    .field("Idempotency-Key"),
            );
        }
        Err(e) => return Err(not_recorded(e)),
    };
    if matches!(outcome, Outcome::Refused { .. }) {
        app.refusals().add(person.to_owned(), at.as_unix_millis());
    }
    let m = app.metrics();
    Metrics::add(match &outcome {
        Outcome::Done { .. } => &m.commands_done,
        Outcome::Refused { .. } => &m.commands_refused,
        Outcome::Repeated(_) => &m.commands_repeated,
    });
    Ok(outcome)
}

/// The JSON answer to an outcome.
pub fn outcome_response(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Done { events, appended } => (
            StatusCode::OK,
            axum::Json(json!({
                "outcome": "done",
                "first_index": appended.first_index,
                "count": appended.count,
                "events": events,
                "receipt": format!("/api/log/receipts/{}", appended.first_index),
            })),
        )
            .into_response(),
        Outcome::Refused { refusal, appended } => {
            ApiError::refused(refusal, Some(appended.first_index)).into_response()
        }
        Outcome::Repeated(recorded) => match recorded.refusal {
            Some(refusal) => {
                let mut e = ApiError::refused(refusal, Some(recorded.first_index));
                e.error = format!("(a repeat; nothing new was recorded) {}", e.error);
                e.into_response()
            }
            None => (
                StatusCode::OK,
                axum::Json(json!({
                    "outcome": "repeated",
                    "first_index": recorded.first_index,
                    "count": recorded.count,
                    "receipt": format!("/api/log/receipts/{}", recorded.first_index),
                })),
            )
                .into_response(),
        },
    }
}

/// The idempotency key of a request, scoped to the caller so two people cannot collide.
pub fn idempotency_key(caller: &Caller, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v.to_str().unwrap_or_default().trim();
    if k.is_empty() || k.len() > 128 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            ApiError::bad("Idempotency-Key must be 1 to 128 visible ASCII characters")
                .field("Idempotency-Key"),
        );
    }
    Ok(Some(format!("{}:{k}", caller.person)))
}

/// `POST /api/commands` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The command, as armory-core's `Command` JSON (`{"type": "issue", ...}`).
    pub command: Command,
    /// Act in this role instead of the session's or token's.
    #[serde(default)]
    pub role: Option<Role>,
    /// PINs of the people who confirm the act (show check, meeting, incident close, override).
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
}

pub async fn submit(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &headers).await?;
    check_csrf_header(&caller, &headers)?;
    let key = idempotency_key(&caller, &headers)?;
    let mut submission: Submission = parse_json(&headers, body)?;
    let mut actor = caller.actor();
    if let Some(role) = submission.role {
        actor.role = role;
    }
    confirm_with_pins(&app, &actor, &mut submission.command, &submission.pins).await?;
    let flagged = pins_set_by_others(&app, &submission.command).await;
    let outcome = run_command(&app, &actor, &submission.command, key.as_deref()).await?;
    let mut response = outcome_response(outcome);
    if !flagged.is_empty() && response.status() == StatusCode::OK {
        // The flag travels with the answer (and is in the entry: method "pin (set by X)").
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        value["flags"] = json!(flagged);
        response = (parts.status, axum::Json(value)).into_response();
    }
    Ok(response)
}

/// Warnings for confirmations made with a PIN someone else set since the person last set it.
pub async fn pins_set_by_others(app: &App, command: &Command) -> Vec<String> {
    app.node()
        .with_state(|s| s.pins_set_by_others(command))
        .await
        .into_iter()
        .map(|(person, by)| {
            format!(
                "{person} confirmed with a PIN that {by} set, and {person} has not set their own since: this confirmation may not be theirs"
            )
        })
        .collect()
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub person: String,
    pub password: String,
    #[serde(default)]
    pub role: Option<Role>,
}

/// Signs `person` in with a password: a new session (any old one ended) in `role` or their first.
pub async fn start_session(
    app: &App,
    headers: &HeaderMap,
    person: &str,
    password: &str,
    role: Option<Role>,
    source: Option<std::net::IpAddr>,
) -> Result<(String, Session, Option<String>), ApiError> {
    let person =
        PersonId::parse(person).map_err(|e| ApiError::bad(e.to_string()).field("person"))?;
    let now = now_ms()?;
    let device = cookie(headers, DEVICE_COOKIE);
    // The person's own device is never held back by what others sent from its address.
    let own_device = match &device {
        Some(d) => app.auth().knows_device(&person, d).await?,
        None => false,
    };
    if let Some(source) = source
        && !own_device
        && !app.sign_in_failures_by_source().allows(source, now)
    {
        tracing::warn!("sign-in from {source} refused: too many failed passwords from there");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} failed sign-ins from this device's network address in ten minutes: wait, or sign in from a phone that signed in before",
                crate::SIGN_IN_FAILURES_PER_SOURCE
            ),
        ));
    }
    let checked = check_secret(
        app,
        &person,
        Secret::Password,
        password,
        now,
        device.as_deref(),
    )
    .await;
    if let (Err(_), Some(source)) = (&checked, source)
        && !own_device
    {
        app.sign_in_failures_by_source().add(source, now);
    }
    checked?;
    let roles = app
        .node()
        .with_state(|s| {
            s.people
                .get(&person)
                .filter(|p| p.active)
                .map(|p| p.roles.clone())
        })
        .await
        .unwrap_or_default();
    let role = match role {
        Some(r) if roles.contains(&r) => r,
        Some(r) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("{person} does not hold the role {r} in this production"),
            )
            .field("role"));
        }
        None => roles.iter().next().copied().ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                format!("{person} holds no role in this production"),
            )
        })?,
    };
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        app.auth().end_session(&old).await?;
    }
    let ttl = i64::try_from(app.config().session_ttl.as_millis()).unwrap_or(i64::MAX);
    let (id, session) = app.auth().create_session(&person, role, now, ttl).await?;
    let device = app
        .auth()
        .remember_device(&person, device.as_deref(), now)
        .await?;
    Ok((id, session, device))
}

/// The Set-Cookie header of a device a person signed in on: their later password attempts from
/// it count apart from strangers' (so strangers cannot lock them out).
pub fn device_cookie(app: &App, token: &str) -> Result<HeaderValue, ApiError> {
    cookie_header(app, DEVICE_COOKIE, token, "/", 31_536_000)
}

pub async fn sign_in(
    State(app): State<App>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let form: SignIn = parse_json(&headers, body)?;
    let source = peer.map(|p| p.0.0.ip());
    let (id, session, device) = start_session(
        &app,
        &headers,
        &form.person,
        &form.password,
        form.role,
        source,
    )
    .await?;
    let max_age = app.config().session_ttl.as_secs() as i64;
    let mut response = (
        [(header::SET_COOKIE, session_cookie(&app, &id, max_age)?)],
        axum::Json(json!({
            "person": session.person,
            "role": session.role,
            "csrf": session.csrf,
            "expires_ms": session.expires_ms,
        })),
    )
        .into_response();
    if let Some(token) = device {
        response
            .headers_mut()
            .append(header::SET_COOKIE, device_cookie(&app, &token)?);
    }
    Ok(response)
}

pub async fn sign_out(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = caller(&app, &headers).await?;
    check_csrf_header(&caller, &headers)?;
    if let Some(id) = &caller.session_id {
        app.auth().end_session(id).await?;
    }
    Ok((
        [(header::SET_COOKIE, session_cookie(&app, "", 0)?)],
        axum::Json(json!({"signed_out": true})),
    )
        .into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// How long it lasts, in days (1 to 365; default 90).
    #[serde(default)]
    pub days: Option<u32>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeToken {
    /// The token's id as `GET /api/tokens` lists it.
    pub token: String,
}

/// `GET /api/tokens`: the caller's API tokens (an admin's: everyone's), never their secrets.
pub async fn list_tokens(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = caller(&app, &headers).await?;
    let whose = (caller.role != Role::Admin).then_some(&caller.person);
    let tokens = app.auth().tokens(whose).await?;
    Ok(axum::Json(json!({"tokens": tokens})).into_response())
}

/// `POST /api/tokens/revoke`: ends an API token at once (the caller's own; an admin's: anyone's),
/// recorded in the log as `token_revoked`.
pub async fn revoke_token(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &headers).await?;
    check_csrf_header(&caller, &headers)?;
    let form: RevokeToken = parse_json(&headers, body)?;
    let whose = (caller.role != Role::Admin).then_some(&caller.person);
    let Some(owner) = app.auth().revoke_token(whose, form.token.trim()).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no API token {:?} of yours: name one as GET /api/tokens lists it",
                form.token
            ),
        )
        .field("token"));
    };
    let person = PersonId::parse(&owner).map_err(ApiError::internal)?;
    log_account_event(
        &app,
        &caller.actor(),
        Event::TokenRevoked {
            person: person.clone(),
            token: form.token.trim().to_ascii_lowercase(),
            by: caller.person.clone(),
        },
    )
    .await?;
    Ok(axum::Json(json!({"revoked": form.token.trim(), "person": person})).into_response())
}

pub async fn create_token(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &headers).await?;
    if caller.session.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "API tokens are created from a signed-in session, not with another token",
        ));
    }
    check_csrf_header(&caller, &headers)?;
    let form: NewToken = parse_json(&headers, body)?;
    if form.name.trim().is_empty() || form.name.len() > 64 {
        return Err(ApiError::bad("name the token (1 to 64 characters)").field("name"));
    }
    if form
        .days
        .is_some_and(|d| !(1..=crate::auth::TOKEN_MAX_DAYS).contains(&d))
    {
        return Err(ApiError::bad(format!(
            "an API token lasts 1 to {} days",
            crate::auth::TOKEN_MAX_DAYS
        ))
        .field("days"));
    }
    log_account_event(
        &app,
        &caller.actor(),
        Event::SecretSet {
            person: caller.person.clone(),
            kind: SecretKind::ApiToken,
            by: caller.person.clone(),
        },
    )
    .await?;
    let token = app
        .auth()
        .create_token(
            &caller.person,
            caller.role,
            form.name.trim(),
            now_ms()?,
            form.days.unwrap_or(crate::auth::TOKEN_DAYS),
        )
        .await?;
    Ok(
        axum::Json(json!({"token": token, "person": caller.person, "role": caller.role}))
            .into_response(),
    )
}

/// How many of an item's latest history entries the compact state lists.
const STATE_HISTORY: usize = 20;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// Everything, including every item's whole history and the note and refusal entry lists.
    #[serde(default)]
    full: bool,
}

/// The current state. By default compact, so that it does not grow with the log: each item's
/// `history` holds its latest 20 entries (with `history_len`), and the note and refusal entry lists
/// are replaced by `notes_count` and `refusals_count` (the entries are in the log). `?full=true`
/// gives the whole projection.
pub async fn state(
    State(app): State<App>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<StateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let axum::extract::Query(query) =
        query.map_err(|e| ApiError::bad(format!("{e}; the only option is ?full=true")))?;
    // Serialized under the lock rather than copied: no whole-state clone per request.
    let body = app
        .node()
        .with_state(|s| {
            if query.full {
                serde_json::to_vec(s)
            } else {
                compact(s).and_then(|v| serde_json::to_vec(&v))
            }
        })
        .await
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The state without the lists that grow with the log: the note and refusal lists become their
/// counts, and each item's history its latest [`STATE_HISTORY`] entries and `history_len`. Built
/// without serializing what it leaves out, so it costs the same on the first day and the last.
fn compact(s: &armory_core::State) -> Result<Value, serde_json::Error> {
    use armory_store::fields::fields_except;
    use armory_store::projection::WithHistory;
    fn items<K: AsRef<str>, V: serde::Serialize + WithHistory>(
        items: &std::collections::BTreeMap<K, V>,
    ) -> Result<Value, serde_json::Error> {
        let mut out = serde_json::Map::new();
        for (id, item) in items {
            let mut fields = fields_except(item, &["history"])?;
            let history = item.history();
            let latest = &history[history.len().saturating_sub(STATE_HISTORY)..];
            fields.insert("history".into(), json!(latest));
            fields.insert("history_len".into(), json!(history.len()));
            out.insert(id.as_ref().to_owned(), Value::Object(fields));
        }
        Ok(Value::Object(out))
    }
    const GROWING: &[&str] = &[
        "notes",
        "refusals",
        "firearms",
        "lots",
        "containers",
        "scenes",
    ];
    let mut root = fields_except(s, GROWING)?;
    root.insert("notes_count".into(), json!(s.notes.len()));
    root.insert("refusals_count".into(), json!(s.refusals.len()));
    root.insert("firearms".into(), items(&s.firearms)?);
    root.insert("lots".into(), items(&s.lots)?);
    root.insert("containers".into(), items(&s.containers)?);
    root.insert("scenes".into(), items(&s.scenes)?);
    Ok(Value::Object(root))
}

pub async fn alerts(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let at = now().map_err(ApiError::internal)?;
    let node = app.node();
    let list = node
        .with_state(|s| armory_core::alerts(&node.policy(), s, at))
        .await;
    Ok(axum::Json(with_node_alert(&app, list)).into_response())
}

/// The alerts, critical first, with the node's own at the top when it records nothing.
pub fn with_node_alert(app: &App, list: Vec<armory_core::Alert>) -> Vec<armory_core::Alert> {
    let node =
        crate::metrics::storage_fault(app).map(|why| armory_core::alerts::not_recording(&why));
    let (critical, warnings): (Vec<_>, Vec<_>) = list.into_iter().partition(|a| a.critical);
    node.into_iter().chain(critical).chain(warnings).collect()
}

fn firearm_id(id: &str) -> Result<armory_core::FirearmId, ApiError> {
    armory_core::FirearmId::parse(id).map_err(|e| ApiError::bad(e.to_string()).field("id"))
}

pub async fn firearm(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let id = firearm_id(&id)?;
    let found = app
        .node()
        .with_state(|s| s.firearms.get(&id).cloned())
        .await;
    match found {
        Some(f) => Ok(axum::Json(json!({"id": id, "firearm": f})).into_response()),
        None => Err(no_firearm(&id)),
    }
}

fn no_firearm(id: &armory_core::FirearmId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no firearm {id} is registered in this production"),
    )
    .field("id")
}

/// Entries `indexes` of the log, decoded as JSON.
pub async fn entries_json(app: &App, indexes: &[u64]) -> Result<Vec<Value>, ApiError> {
    let rows = app
        .node()
        .store()
        .entries_at(indexes)
        .await
        .map_err(ApiError::internal)?;
    rows.into_iter()
        .map(|(_, bytes)| serde_json::from_slice(&bytes).map_err(ApiError::internal))
        .collect()
}

/// How many history lines one page holds by default, and at most.
pub const HISTORY_PAGE: usize = 100;
const HISTORY_PAGE_MAX: usize = 1000;

/// A page of a history (oldest first): the last `limit` entries before `before`.
pub fn history_page(history: &[u64], before: Option<u64>, limit: usize) -> (&[u64], Option<u64>) {
    let end = match before {
        Some(b) => history.partition_point(|&i| i < b),
        None => history.len(),
    };
    let start = end.saturating_sub(limit);
    let page = &history[start..end];
    let older = if start > 0 {
        page.first().copied()
    } else {
        None
    };
    (page, older)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only entries before this index.
    before: Option<u64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<usize>,
}

/// The `before` and `limit` of a history page request (default: the latest [`HISTORY_PAGE`]).
pub(crate) fn history_query(
    query: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(Option<u64>, usize), ApiError> {
    let axum::extract::Query(query) = query.map_err(|e| {
        ApiError::bad(format!(
            "{e}; use ?before=<entry index>&limit=<1..{HISTORY_PAGE_MAX}>"
        ))
    })?;
    let limit = query.limit.unwrap_or(HISTORY_PAGE);
    if !(1..=HISTORY_PAGE_MAX).contains(&limit) {
        return Err(ApiError::bad(format!("limit must be 1 to {HISTORY_PAGE_MAX}")).field("limit"));
    }
    Ok((query.before, limit))
}

/// A firearm's history, a page at a time (newest page first; within a page, oldest first). When
/// there is more, the `X-Older` header holds the `before` value of the next page.
pub async fn history(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let (before, limit) = history_query(query)?;
    let id = firearm_id(&id)?;
    let (page, older) = app
        .node()
        .with_state(|s| {
            s.firearms.get(&id).map(|f| {
                let (page, older) = history_page(&f.history, before, limit);
                (page.to_vec(), older)
            })
        })
        .await
        .ok_or_else(|| no_firearm(&id))?;
    // Each entry is stored as canonical JSON, so the page is the stored bytes in a JSON array,
    // sent without parsing them.
    let entries = app
        .entry_bytes()
        .get(&app, &page, |bytes| Ok(bytes.into()))
        .await?;
    let mut body = Vec::with_capacity(2 + entries.iter().map(|e| e.len() + 1).sum::<usize>());
    body.push(b'[');
    for (k, bytes) in entries.iter().enumerate() {
        if k > 0 {
            body.push(b',');
        }
        body.extend_from_slice(bytes);
    }
    body.push(b']');
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(older) = older
        && let Ok(v) = HeaderValue::from_str(&older.to_string())
    {
        response.headers_mut().insert("x-older", v);
    }
    Ok(response)
}

pub async fn checkpoint(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let note = app
        .node()
        .store()
        .latest_checkpoint()
        .await
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

fn index(text: &str) -> Result<u64, ApiError> {
    let i: u64 = text.parse().map_err(|_| {
        ApiError::bad(format!("{text:?} is not an entry index (0, 1, 2, ...)")).field("index")
    })?;
    // No log reaches 2^63 entries (the database counts in signed 64-bit integers).
    if i > i64::MAX as u64 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("entry {i} does not exist in this log"),
        )
        .field("index"));
    }
    Ok(i)
}

pub async fn entry(
    State(app): State<App>,
    headers: HeaderMap,
    Path(i): Path<String>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let i = index(&i)?;
    let mut found = entries_json(&app, &[i]).await?;
    match found.pop() {
        Some(v) => Ok(axum::Json(v).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("entry {i} does not exist in this log"),
        )
        .field("index")),
    }
}

pub async fn receipt(
    State(app): State<App>,
    headers: HeaderMap,
    Path(i): Path<String>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let i = index(&i)?;
    match armory_store::proofs::receipt(app.node().store(), i).await {
        Ok(proof) => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            proof.to_text(),
        )
            .into_response()),
        Err(armory_store::StoreError::NoSuchEntry(..)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("entry {i} is not in the log's latest checkpoint"),
        )
        .field("index")),
        Err(e) => Err(ApiError::internal(e)),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

/// `GET /api/log/consistency?old=N[&new=M]`: the consistency proof from size N to the checkpoint
/// of size M (the latest when left out), as the body of a C2SP tlog-witness add-checkpoint.
pub async fn consistency(
    State(app): State<App>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller(&app, &headers).await?;
    let axum::extract::Query(q) = query.map_err(|e| {
        ApiError::bad(format!(
            "{e}; use ?old=<tree size>&new=<tree size of a signed checkpoint>"
        ))
    })?;
    use armory_store::proofs::ConsistencyError;
    match armory_store::proofs::consistency_request(app.node().store(), q.old, q.new).await {
        Ok(body) => {
            Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
        }
        Err(e @ ConsistencyError::NoCheckpoint(_)) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, e.to_string()).field("new"))
        }
        Err(e @ ConsistencyError::OldTooLarge { .. }) => {
            Err(ApiError::bad(e.to_string()).field("old"))
        }
        Err(ConsistencyError::Store(e)) => Err(ApiError::internal(e)),
    }
}

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("nothing at {}; see /api/openapi.json", uri.path()),
    )
}

/// Every command type, for the OpenAPI document.
pub const COMMAND_TYPES: &[&str] = &[
    "open_production",
    "add_person",
    "grant_role",
    "revoke_role",
    "remove_person",
    "record_credential",
    "assign_duty",
    "release_duty",
    "designate_armorer",
    "add_location",
    "set_location_lock",
    "register_firearm",
    "receive_lot",
    "verify_lot",
    "reopen_lot",
    "transfer_rounds",
    "remove_rounds",
    "store",
    "take_out",
    "assign_custodian",
    "confirm_handover",
    "cancel_handover",
    "plan_scene",
    "approve_close_range_load",
    "record_public_notice",
    "record_risk_assessment",
    "hold_meeting",
    "load",
    "unload",
    "show_check",
    "issue",
    "return",
    "expend",
    "bore_check",
    "brief_performer",
    "recover_round",
    "report_discharge",
    "report_incident",
    "close_incident",
    "report_missing",
    "record_police_report",
    "reconcile",
    "override",
    "correct",
    "note",
];

/// A JSON value's type, as JSON Schema names it.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The `Command` schema: one variant per command type, tagged by `type`, each with a real example
/// (the first of its kind in the demo's shoot days, as serde writes it), and its fields as the
/// example has them. Fields left out of an example are optional ones.
fn command_schema() -> Value {
    let mut examples: std::collections::BTreeMap<&str, Value> = Default::default();
    for scenario in [
        armory_core::demo::Scenario::Safe,
        armory_core::demo::Scenario::Unsafe,
    ] {
        for step in armory_core::demo::script(scenario).unwrap_or_default() {
            if let Ok(v) = serde_json::to_value(&step.command) {
                examples.entry(step.command.kind()).or_insert(v);
            }
        }
    }
    // The kinds the demo days never use, written out (the tests parse every example).
    for example in [
        json!({"type": "grant_role", "person": "sarah", "role": "property_master"}),
        json!({"type": "revoke_role", "person": "sarah", "role": "property_master"}),
        json!({"type": "remove_person", "person": "extra"}),
        json!({"type": "set_location_lock", "location": "CART", "locked": false}),
        json!({"type": "reopen_lot", "lot": "DUM-1", "reason": "a round looked odd at the rattle check"}),
        json!({"type": "assign_custodian", "item": {"firearm": "REV-2"}, "person": "sarah"}),
        json!({"type": "report_incident", "kind": "near_miss", "severity": "note", "covers": "all",
               "description": "a muzzle swept the crew", "anonymous": true}),
        json!({"type": "override", "rule": "DAILY-MEETING", "reason": "meeting held by radio",
               "target": {"firearm": "REV-2", "day": "2021-10-21"},
               "confirmations": [{"person": "sam", "role": "safety_rep", "method": "pin"}]}),
        json!({"type": "correct", "entry": 12, "reason": "the serial was misread: it is 4411"}),
        json!({"type": "note", "text": "REV-9 came in its own case"}),
    ] {
        if let Some(kind) = example["type"]
            .as_str()
            .and_then(|k| COMMAND_TYPES.iter().find(|t| **t == k))
        {
            examples.entry(kind).or_insert(example);
        }
    }
    let variants: Vec<Value> = COMMAND_TYPES
        .iter()
        .map(|kind| {
            let mut properties = serde_json::Map::new();
            properties.insert("type".into(), json!({"const": kind}));
            let mut variant = json!({"type": "object", "required": ["type"], "title": kind});
            if let Some(example) = examples.get(kind) {
                if let Value::Object(fields) = example {
                    for (name, value) in fields.iter().filter(|(n, _)| *n != "type") {
                        properties.insert(name.clone(), json!({"type": json_type(value)}));
                    }
                }
                variant["examples"] = json!([example]);
            }
            variant["properties"] = Value::Object(properties);
            variant
        })
        .collect();
    json!({
        "description": "armory-core Command: tagged by `type`, snake_case fields, unknown fields refused; the ids and texts are checked when parsed (a 400 names the field)",
        "oneOf": variants,
        "discriminator": {"propertyName": "type"}
    })
}

pub async fn openapi() -> Response {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let errors = json!({
        "400": {"description": "bad request (malformed JSON, wrong type, unknown field, missing PIN)", "content": {"application/json": {"schema": error}}},
        "401": {"description": "not signed in, or wrong password/PIN", "content": {"application/json": {"schema": error}}},
        "403": {"description": "refused by rule ROLE, or CSRF token missing", "content": {"application/json": {"schema": error}}},
        "409": {"description": "refused by a safety rule; logged as a near miss (logged_as)", "content": {"application/json": {"schema": error}}},
        "413": {"description": "body larger than 64 KiB", "content": {"application/json": {"schema": error}}},
        "422": {"description": "refused by rule STATE (unknown id, out of order), or an Idempotency-Key first used for another act (field: Idempotency-Key); not logged", "content": {"application/json": {"schema": error}}},
        "429": {"description": "locked out after repeated failures; wait for the backoff", "content": {"application/json": {"schema": error}}},
        "503": {"description": "storage is failing, or the node's clock is behind its log: the act was not recorded (\"not recorded: ...\"), or its outcome is unknown (\"the outcome is unknown: ...\"); retry with the same Idempotency-Key, which records it at most once", "content": {"application/json": {"schema": error}}}
    });
    let read = |summary: &str| json!({"get": {"summary": summary, "security": [{"session": []}, {"token": []}], "responses": {"200": {"description": "ok"}, "401": errors["401"], "404": {"description": "not found", "content": {"application/json": {"schema": error}}}}}});
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Armory set node", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Every act is a command decided by the rules engine and recorded in a signed log. Mutating requests signed in by cookie need X-CSRF-Token; every mutating request may carry Idempotency-Key."},
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "token": {"type": "http", "scheme": "bearer"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"}, "field": {"type": "string"},
                    "rule": {"type": "string"}, "why": {"type": "string"}, "needed": {"type": "string"},
                    "logged_as": {"type": "integer"},
                    "outcome": {"type": "string", "enum": ["not_recorded", "unknown"], "description": "with a 503: whether the act is known not to be in the log, or may be"}}},
                "Command": command_schema(),
                "Submission": {"type": "object", "additionalProperties": false, "required": ["command"], "properties": {
                    "command": {"$ref": "#/components/schemas/Command"},
                    "role": {"type": "string", "enum": Role::ALL.map(Role::as_str)},
                    "pins": {"type": "object", "additionalProperties": {"type": "string"}, "description": "person id -> PIN of each person confirming the act"}}}
            }
        },
        "paths": {
            "/api/session": {
                "post": {"summary": "sign in with a password (sets the session cookie, returns the CSRF token)",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["person", "password"], "properties": {"person": {"type": "string"}, "password": {"type": "string"}, "role": {"type": "string"}}}}}},
                    "responses": {"200": {"description": "signed in"}, "401": errors["401"], "429": errors["429"]}},
                "delete": {"summary": "sign out", "responses": {"200": {"description": "signed out"}}}
            },
            "/api/tokens": {"post": {"summary": "create an API token acting as the session's person and role", "responses": {"200": {"description": "the token, shown once"}}}},
            "/api/commands": {"post": {"summary": "attempt an act",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}, {"name": "X-CSRF-Token", "in": "header", "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}},
                "responses": {"200": {"description": "done (or a repeat of a done act)"}, "400": errors["400"], "401": errors["401"], "403": errors["403"], "409": errors["409"], "413": errors["413"], "422": errors["422"], "429": errors["429"], "503": errors["503"]}}},
            "/api/state": read("the current state (projection of the log); compact: each item's latest 20 history entries with history_len, notes_count and refusals_count; ?full=true for everything"),
            "/api/alerts": read("alerts the rules raise now"),
            "/api/firearms/{id}": read("one firearm"),
            "/api/firearms/{id}/history": read("the log entries about one firearm"),
            "/api/log/checkpoint": read("the latest signed checkpoint (C2SP tlog-checkpoint)"),
            "/api/log/entries/{index}": read("one log entry (canonical JSON)"),
            "/api/log/receipts/{index}": read("a C2SP tlog-proof receipt for one entry"),
            "/api/log/consistency": read("?old=N[&new=M]: the RFC 6962 consistency proof from size N to the checkpoint of size M (the latest by default), as a C2SP tlog-witness add-checkpoint body"),
            "/log/{origin}/checkpoint": {"get": {"summary": "C2SP tlog-tiles checkpoint (public)", "responses": {"200": {"description": "text/plain"}}}},
            "/log/{origin}/tile/{path}": {"get": {"summary": "C2SP tlog-tiles hash tiles and entry bundles (public)", "responses": {"200": {"description": "application/octet-stream"}, "404": {"description": "no such tile"}}}},
            "/healthz": {"get": {"summary": "liveness, and whether the log's storage works", "responses": {"200": {"description": "ok"}, "503": {"description": "storage is failing (disk full, read-only, I/O error): the fault, and since when; acts are not being recorded"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text/plain; version=0.0.4"}}}}
        }
    });
    axum::Json(doc).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_tells_the_client_an_id_never_the_cause() {
        let cause = "no such table: accounts in /data/armory/auth.db";
        let e = ApiError::internal(cause);
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !e.error.contains("auth.db") && !e.error.contains("accounts"),
            "{}",
            e.error
        );
        let id = e
            .error
            .split("(error ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or_default();
        assert_eq!(id.len(), 12, "{}", e.error);
        let db = ApiError::from(AuthError::Database(cause.into()));
        assert!(!db.error.contains("auth.db"), "{}", db.error);
    }
}
