//! A person's own sign-in: change one's password or PIN, proving it with the current password.
//! A new password ends the person's other sessions (a lost or shared phone stops working).

use super::{FormError, StrictForm, csrf_field, error_page, esc, html, page, signed_form};
use crate::App;
use crate::api::{ApiError, Caller, now_ms};
use crate::auth::{MIN_PASSWORD_CHARS, Secret};
use armory_core::PersonId;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The form on the People page, for whoever is signed in.
pub(crate) fn own_secret_form(c: &Caller, passkeys: &[String]) -> String {
    let mut registered = String::new();
    for id in passkeys {
        registered.push_str(&format!(
            "<form method=post action=/account/passkey/remove class=inline>{}<input type=hidden name=credential value=\"{}\">\
             <span>Passkey {}…</span> <button type=submit>Remove (lost or replaced phone)</button></form>",
            csrf_field(c),
            esc(id),
            esc(&id.chars().take(12).collect::<String>())
        ));
    }
    format!(
        "<fieldset><legend>Your password and PIN ({})</legend><form method=post action=/account/secret>{}\
         <label for=current>Your current password</label><input id=current name=current type=password autocomplete=current-password required>\
         <label for=new_password>New password (at least {MIN_PASSWORD_CHARS} characters; leave blank to keep)</label><input id=new_password name=new_password type=password autocomplete=new-password>\
         <label for=repeat>New password again</label><input id=repeat name=repeat type=password autocomplete=new-password>\
         <label for=new_pin>New PIN (4 to 8 digits; leave blank to keep)</label><input id=new_pin name=new_pin type=password inputmode=numeric autocomplete=off>\
         <p><button type=submit>Change</button></p></form></fieldset>\
         <fieldset><legend>Your passkey</legend>{registered}<form>{}\
         <p class=muted>A passkey on this phone confirms show checks and handovers in your name, more safely than a PIN: \
         registering it is recorded in the log, and every confirmation with it can be checked by anyone from the log alone.</p>\
         <p><button type=button data-passkey-register>Register a passkey on this device</button></p>\
         <p class=passkey-status role=status></p></form></fieldset>",
        esc(c.person.as_ref()),
        csrf_field(c),
        csrf_field(c)
    )
}

/// `POST /account/secret`: the signed-in person changes their own password and/or PIN.
pub async fn own_secret(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (c, roles, form) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ctx = Some((&c, roles.as_slice()));
    let get = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let result: Result<Vec<&str>, ApiError> = async {
        let (password, pin) = (get("new_password"), get("new_pin"));
        if password.is_empty() && pin.is_empty() {
            return Err(
                ApiError::bad("write a new password, a new PIN, or both").field("new_password")
            );
        }
        if password != get("repeat") {
            return Err(
                ApiError::bad("the two new passwords differ; type the same one twice")
                    .field("repeat"),
            );
        }
        // The current password, with its lockout: a phone left signed in does not let someone
        // else take over the account or learn to confirm show checks as its owner.
        let device = super::cookie(&headers, crate::api::DEVICE_COOKIE);
        crate::api::check_secret(
            &app,
            &c.person,
            Secret::Password,
            get("current"),
            now_ms()?,
            device.as_deref(),
        )
        .await
        .map_err(|e| e.field("current"))?;
        let done = set_secrets(
            &app,
            &c,
            &c.person,
            [("new_password", password), ("new_pin", pin)],
        )
        .await?;
        if done.contains(&"password") {
            app.auth()
                .end_other_sessions(&c.person, c.session_id.as_deref())
                .await
                .map_err(ApiError::from)?;
        }
        Ok(done)
    }
    .await;
    match result {
        Err(e) => error_page(ctx, &e),
        Ok(done) => done_page(
            ctx,
            &format!(
                "Your {} changed{}",
                done.join(" and "),
                if done.contains(&"password") {
                    "; your other sessions are signed out"
                } else {
                    ""
                }
            ),
        ),
    }
}

/// Sets the password and PIN given (`[(password field, value), (PIN field, value)]`; a blank one
/// is kept); returns which were set. An error names the field it is about.
pub(super) async fn set_secrets(
    app: &App,
    by: &Caller,
    person: &PersonId,
    [(password_field, password), (pin_field, pin)]: [(&'static str, &str); 2],
) -> Result<Vec<&'static str>, ApiError> {
    let mut done = Vec::new();
    for (which, field, secret, word) in [
        (Secret::Password, password_field, password, "password"),
        (Secret::Pin, pin_field, pin, "PIN"),
    ] {
        if !secret.is_empty() {
            // Weak ones are refused before anything is logged; the change is logged (who, for
            // whom, which kind; never the secret) before it is made.
            crate::auth::check_strength(which, secret)
                .map_err(|e| ApiError::from(e).field(field))?;
            let kind = match which {
                Secret::Password => armory_core::SecretKind::Password,
                Secret::Pin => armory_core::SecretKind::Pin,
            };
            crate::api::log_account_event(
                app,
                &by.actor(),
                armory_core::Event::SecretSet {
                    person: person.clone(),
                    kind,
                    by: by.person.clone(),
                },
            )
            .await?;
            app.auth()
                .set_secret(person, which, secret)
                .await
                .map_err(|e| ApiError::from(e).field(field))?;
            done.push(word);
        }
    }
    Ok(done)
}

/// The page after a sign-in secret changed (`what`: a sentence without its full stop).
pub(super) fn done_page(ctx: Option<(&Caller, &[armory_core::Role])>, what: &str) -> Response {
    html(
        StatusCode::OK,
        page(
            "Done",
            ctx,
            &format!(
                "<section class=done role=status><p><b>Done.</b> {}.</p></section><p><a href=/admin>Back</a> · <a href=/>Board</a></p>",
                esc(what)
            ),
        ),
    )
}

/// `POST /account/passkey/remove`: the signed-in person removes one of their passkeys (a lost
/// phone stops confirming anything in their name); the removal is a log entry.
pub async fn remove_passkey(
    State(app): State<App>,
    headers: HeaderMap,
    form: Result<StrictForm, FormError>,
) -> Response {
    let (c, roles, form) = match signed_form(&app, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ctx = Some((&c, roles.as_slice()));
    let credential = form
        .get("credential")
        .map(String::as_str)
        .unwrap_or_default();
    match crate::passkeys::remove(&app, &c, &c.person, credential).await {
        Ok(()) => done_page(
            ctx,
            "Your passkey was removed; it confirms nothing from now on",
        ),
        Err(e) => error_page(ctx, &e),
    }
}
