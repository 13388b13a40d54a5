//! People, roles, credentials and sign-in secrets. Adding people, roles and credentials are core
//! commands (posted to `/act`, decided by armory-core: RULES.md §4 gives them to the admin).
//! Passwords and PINs are not part of the log: an admin sets a person's first password and PIN
//! here, straight into `auth.db`; the log never sees them.

use super::flows::open_form;
use super::{
    FormError, FormMap, StrictForm, error_page, esc, field, html, input, page, signed_form,
    signed_in,
};
use crate::App;
use crate::api::{ApiError, Caller};
use armory_core::{PersonId, Role};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write;

/// What to do on a node where nobody can sign in yet (shown on the sign-in page).
pub fn first_run_hint() -> &'static str {
    "No account can sign in yet. On the set node, create the production and its first admin:\n  \
     armory user bootstrap --production ID --title \"TITLE\" --admin YOUR-ID --name \"YOUR NAME\"\n\
     (it reads the admin's password from standard input). The admin then adds people and sets \
     their first password and PIN on the People page, or with `armory user set-password PERSON` \
     and `armory user set-pin PERSON`."
}

/// The first-run hint as HTML when no account holds a password, else nothing.
pub(crate) async fn no_accounts_hint(app: &App) -> String {
    match app.auth().password_count().await {
        Ok(0) => format!(
            "<section class=error role=status id=first-run><p><b>Nobody can sign in yet.</b></p><pre>{}</pre></section>",
            esc(first_run_hint())
        ),
        _ => String::new(),
    }
}

fn role_options(selected: &str) -> String {
    Role::ALL
        .iter()
        .map(|r| {
            format!(
                "<option value={}{}>{}</option>",
                r.as_str(),
                if r.as_str() == selected {
                    " selected"
                } else {
                    ""
                },
                esc(r.title())
            )
        })
        .collect()
}

/// The caller acts as admin (and holds the role now): the only people who set others' secrets.
async fn acting_admin(app: &App, c: &Caller) -> bool {
    c.role == Role::Admin
        && app
            .node()
            .with_state(|s| {
                s.people
                    .get(&c.person)
                    .is_some_and(|p| p.acts_as(Role::Admin))
            })
            .await
}

/// `GET /admin`: everyone on the production with roles, credentials and which secrets they hold
/// (everyone may read it); the forms only for a person acting as admin.
pub async fn people_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let (c, roles) = match signed_in(&app, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let held: HashMap<String, (bool, bool)> = match app.auth().secrets_held().await {
        Ok(v) => v.into_iter().map(|(p, a, b)| (p, (a, b))).collect(),
        Err(e) => return error_page(Some((&c, &roles)), &ApiError::from(e)),
    };
    let admin = acting_admin(&app, &c).await;
    let mut b = String::from(
        "<h1>People</h1><table><tr><th>Person</th><th>Roles</th><th>Credentials</th><th>Sign-in</th></tr>",
    );
    let ids: Vec<String> = app
        .node()
        .with_state(|s| {
            for (id, p) in &s.people {
                let roles: Vec<&str> = p.roles.iter().map(|r| r.title()).collect();
                let creds: Vec<String> = p
                    .credentials
                    .iter()
                    .map(|(k, cr)| format!("{k} {} until {}", cr.number, cr.expires))
                    .collect();
                let (pw, pin) = held.get(id.as_ref()).copied().unwrap_or_default();
                let _ = write!(
                    b,
                    "<tr><td><b>{}</b> ({}){}</td><td>{}</td><td>{}</td><td>{} · {}</td></tr>",
                    esc(p.name.as_ref()),
                    esc(id.as_ref()),
                    if p.active { "" } else { " <i>removed</i>" },
                    esc(&roles.join(", ")),
                    esc(&creds.join("; ")),
                    if pw {
                        "password set"
                    } else {
                        "<b>no password</b>"
                    },
                    if pin { "PIN set" } else { "<b>no PIN</b>" }
                );
            }
            s.people.keys().map(|k| k.to_string()).collect()
        })
        .await;
    b.push_str("</table>");
    let passkeys: Vec<String> = app
        .node()
        .with_state(|s| {
            s.people
                .get(&c.person)
                .map(|p| p.passkeys.keys().cloned().collect())
                .unwrap_or_default()
        })
        .await;
    b.push_str(&super::account::own_secret_form(&c, &passkeys));
    if !admin {
        b.push_str("<p class=muted>Adding people, roles, credentials and sign-in secrets is for a person acting as admin.</p>");
        return html(StatusCode::OK, page("People", Some((&c, &roles)), &b));
    }
    let people: String = ids
        .iter()
        .map(|id| format!("<option value=\"{0}\">{0}</option>", esc(id)))
        .collect();
    let person_select = |form: &str| {
        format!(
            "<label for=person_{form}>Person</label><select id=person_{form} name=person>{people}</select>"
        )
    };
    b.push_str(&open_form(&c, "add_person", "Add a person", "/admin"));
    b.push_str(&input(
        "person",
        "Id (what they sign in with)",
        "",
        "required autocapitalize=none",
    ));
    b.push_str(&input("name", "Name", "", "required"));
    b.push_str("<fieldset><legend>Roles</legend>");
    for r in Role::ALL {
        let _ = write!(
            b,
            "<label class=check><input type=checkbox name=role_{}> {}</label>",
            r.as_str(),
            esc(r.title())
        );
    }
    b.push_str("</fieldset><p><button type=submit>Add person</button></p></form></fieldset>");
    for (kind, legend) in [
        ("grant_role", "Grant a role"),
        ("revoke_role", "Revoke a role"),
    ] {
        b.push_str(&open_form(&c, kind, legend, "/admin"));
        let _ = write!(
            b,
            "{}<label for=role_{kind}>Role</label><select id=role_{kind} name=role>{}</select><p><button type=submit>{}</button></p></form></fieldset>",
            person_select(kind),
            role_options(""),
            esc(legend)
        );
    }
    b.push_str(&open_form(
        &c,
        "remove_person",
        "Take a person off the production",
        "/admin",
    ));
    b.push_str(&person_select("remove"));
    b.push_str("<p class=muted>Their history stays in the log; they can no longer act.</p><p><button type=submit>Take off the production</button></p></form></fieldset>");
    b.push_str(&open_form(
        &c,
        "record_credential",
        "Record a credential",
        "/admin",
    ));
    b.push_str(&person_select("credential"));
    b.push_str(&input(
        "cred_kind",
        "Kind",
        armory_core::policy::ENTERTAINMENT_FIREARMS_PERMIT,
        "required",
    ));
    b.push_str(&input("number", "Number", "", "required"));
    b.push_str(&input(
        "expires",
        "Last valid day",
        "",
        "required type=date",
    ));
    b.push_str("<p><button type=submit>Record credential</button></p></form></fieldset>");
    let _ = write!(
        b,
        "<fieldset><legend>Set a first password and PIN</legend><form method=post action=/admin/secret>{}{}\
         <label for=password>Password (at least {} characters; leave blank to keep)</label><input id=password name=password type=password autocomplete=new-password>\
         <label for=pin>PIN (4 to 8 digits; leave blank to keep)</label><input id=pin name=pin type=password inputmode=numeric autocomplete=off>\
         <p><button type=submit>Set</button></p></form></fieldset>\
         <p class=muted>Passwords and PINs are kept in auth.db as argon2 hashes, never in the log. Tell the person in private and have them change it.</p>",
        super::csrf_field(&c),
        person_select("secret"),
        crate::auth::MIN_PASSWORD_CHARS
    );
    html(StatusCode::OK, page("People", Some((&c, &roles)), &b))
}

/// `POST /admin/secret`: an admin sets a person's password and/or PIN.
pub async fn set_secret(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (c, roles, form) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ctx = Some((&c, roles.as_slice()));
    if !acting_admin(&app, &c).await {
        return error_page(
            ctx,
            &ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "only a person acting as admin sets others' passwords and PINs; {} acts as {}",
                    c.person,
                    c.role.title()
                ),
            )
            .field("role"),
        );
    }
    let result: Result<Vec<&str>, ApiError> = async {
        let person = PersonId::parse(field(&form, "person"))
            .map_err(|e| ApiError::bad(e.to_string()).field("person"))?;
        let active = app
            .node()
            .with_state(|s| s.people.get(&person).is_some_and(|p| p.active))
            .await;
        if !active {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{person} is not on this production; add them first"),
            )
            .field("person"));
        }
        let password = form.get("password").map(String::as_str).unwrap_or_default();
        let pin = field(&form, "pin");
        if password.is_empty() && pin.is_empty() {
            return Err(ApiError::bad("write a password, a PIN, or both").field("password"));
        }
        super::account::set_secrets(&app, &c, &person, [("password", password), ("pin", pin)]).await
    }
    .await;
    match result {
        Err(e) => error_page(ctx, &e),
        Ok(done) => super::account::done_page(
            ctx,
            &format!(
                "{} set for {} (the secret is kept in auth.db; the log records that you set it, and their confirmations are marked until they set their own PIN)",
                done.join(" and "),
                field(&form, "person")
            ),
        ),
    }
}

/// The command JSON of a people form (`None`: not a people act).
pub(crate) fn command_of(kind: &str, form: &FormMap) -> Option<Result<Value, ApiError>> {
    let f = |n: &str| field(form, n).to_owned();
    Some(Ok(match kind {
        "add_person" => {
            let roles: Vec<&str> = Role::ALL
                .iter()
                .map(|r| r.as_str())
                .filter(|r| field(form, &format!("role_{r}")) == "on")
                .collect();
            json!({"type": "add_person", "person": f("person"), "name": f("name"), "roles": roles})
        }
        "remove_person" => json!({"type": "remove_person", "person": f("person")}),
        "grant_role" | "revoke_role" => {
            json!({"type": kind, "person": f("person"), "role": f("role")})
        }
        "record_credential" => {
            json!({"type": "record_credential", "person": f("person"), "kind": f("cred_kind"),
                   "number": f("number"), "expires": f("expires")})
        }
        _ => return None,
    }))
}
