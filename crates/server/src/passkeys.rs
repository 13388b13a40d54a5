//! Passkeys: a person registers one on their own device (a `passkey_registered` entry), and
//! confirms acts with it: the node prepares the act (log, person, command as signed, log size, a
//! nonce), the device signs its hash as the WebAuthn challenge, and the assertion goes into the
//! entry, where `armory verify` checks it with no server (armory-ledger's `webauthn`).
//!
//! Challenges live in memory for five minutes and are used once. WebAuthn binds a passkey to a
//! site name: the node must be reached by name (`https://armory.local:8443`, `localhost`), not
//! by an IP address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use armory_core::people::AuthMethod;
use armory_core::{Command, Event, PersonId};
use armory_ledger::webauthn::{self, Assertion, PublicKey, b64, unb64};
use armory_store::Store;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use crate::App;
use crate::api::{self, ApiError, Caller};

/// How long a challenge may be answered.
const TTL_MS: i64 = 5 * 60 * 1000;

enum Purpose {
    Register { rp_id: String },
    Confirm { act: Value },
}

struct Pending {
    person: PersonId,
    purpose: Purpose,
    expires: i64,
}

/// Challenges handed out and not yet answered, by challenge (base64url).
#[derive(Default)]
pub struct Challenges(Mutex<HashMap<String, Pending>>);

impl Challenges {
    fn put(&self, challenge: &[u8], pending: Pending) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = pending.expires - TTL_MS;
        map.retain(|_, p| p.expires > now);
        map.insert(b64(challenge), pending);
    }

    /// Takes (uses up) the challenge, if it is still open.
    fn take(&self, challenge: &[u8], now: i64) -> Option<Pending> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&b64(challenge)).filter(|p| p.expires > now)
    }
}

fn random32() -> [u8; 32] {
    use rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The site name a passkey is bound to: the host the browser reached the node by.
pub fn rp_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    if name.is_empty() || name.parse::<IpAddr>().is_ok() {
        return Err(ApiError::bad(format!(
            "passkeys need the node reached by a name, not by the address {host:?}: WebAuthn binds a passkey to a site name (use e.g. https://armory.local:8443, or http://localhost on this machine)"
        )));
    }
    Ok(name.to_ascii_lowercase())
}

fn webauthn_error(e: webauthn::WebauthnError) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, e.0)
}

/// `POST /api/passkeys/options`: the options for `navigator.credentials.create`, for the
/// signed-in person's own device.
pub async fn registration_options(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = api::caller(&app, &headers).await?;
    api::check_csrf_header(&caller, &headers)?;
    let rp_id = rp_id(&headers)?;
    let (name, existing) = app
        .node()
        .with_state(|s| {
            s.people.get(&caller.person).map(|p| {
                (
                    p.name.to_string(),
                    p.passkeys.keys().cloned().collect::<Vec<_>>(),
                )
            })
        })
        .await
        .ok_or_else(|| ApiError::bad("only a person of the production registers a passkey"))?;
    let challenge = random32();
    app.challenges().put(
        &challenge,
        Pending {
            person: caller.person.clone(),
            purpose: Purpose::Register {
                rp_id: rp_id.clone(),
            },
            expires: api::now_ms()? + TTL_MS,
        },
    );
    let exclude: Vec<Value> = existing
        .iter()
        .map(|id| json!({"type": "public-key", "id": id}))
        .collect();
    Ok(Json(json!({"publicKey": {
        "challenge": b64(&challenge),
        "rp": {"id": rp_id, "name": "Armory"},
        "user": {"id": b64(caller.person.as_str().as_bytes()), "name": caller.person.as_str(), "displayName": name},
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -8}],
        "attestation": "none",
        "authenticatorSelection": {"residentKey": "preferred", "userVerification": "preferred"},
        "excludeCredentials": exclude,
        "timeout": 120000
    }})))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Created {
    attestation_object: String,
    client_data_json: String,
}

/// The challenge a client data JSON carries.
fn challenge_in(client_data_json: &[u8]) -> Result<Vec<u8>, ApiError> {
    let data: Value = serde_json::from_slice(client_data_json)
        .map_err(|_| ApiError::bad("client_data_json is not JSON").field("client_data_json"))?;
    unb64(
        data["challenge"].as_str().unwrap_or_default(),
        "the challenge",
    )
    .map_err(|e| ApiError::bad(e.0).field("client_data_json"))
}

/// `POST /api/passkeys`: the browser's answer to `navigator.credentials.create`; the passkey is
/// registered by a log entry.
pub async fn register(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = api::caller(&app, &headers).await?;
    api::check_csrf_header(&caller, &headers)?;
    let created: Created = api::parse_json(&headers, body)?;
    let object = unb64(&created.attestation_object, "attestation_object")
        .map_err(|e| ApiError::bad(e.0).field("attestation_object"))?;
    let client = unb64(&created.client_data_json, "client_data_json")
        .map_err(|e| ApiError::bad(e.0).field("client_data_json"))?;
    let challenge = challenge_in(&client)?;
    let pending = app
        .challenges()
        .take(&challenge, api::now_ms()?)
        .filter(|p| p.person == caller.person);
    let Some(Pending {
        purpose: Purpose::Register { rp_id },
        ..
    }) = pending
    else {
        return Err(ApiError::bad(
            "this registration answers no open challenge of yours (expired after 5 minutes, or used): start again",
        ));
    };
    let reg = webauthn::register(&object, &client, &challenge, &rp_id).map_err(webauthn_error)?;
    let credential = b64(&reg.credential);
    let known = app
        .node()
        .with_state(|s| {
            s.people
                .values()
                .any(|p| p.passkeys.contains_key(&credential))
        })
        .await;
    if known {
        return Err(ApiError::bad("this passkey is already registered"));
    }
    let event = Event::PasskeyRegistered {
        person: caller.person.clone(),
        credential: credential.clone(),
        public_key: b64(&reg.public_key),
        rp_id,
    };
    api::log_account_event(&app, &caller.actor(), event).await?;
    Ok(Json(json!({"credential": credential})))
}

/// The options for `navigator.credentials.get` confirming `command` as `person`, and the act
/// they sign.
pub async fn confirm_options(
    app: &App,
    headers: &HeaderMap,
    command: &Value,
    person: &PersonId,
) -> Result<Value, ApiError> {
    let rp_id = rp_id(headers)?;
    // The command as the node reads it (ids normalised, every field present), so that the act
    // signed is byte for byte the one checked when the command is submitted.
    let parsed: Command = serde_json::from_value(command.clone())
        .map_err(|e| ApiError::bad(format!("the command to confirm does not parse: {e}")))?;
    let command = serde_json::to_value(&parsed).map_err(ApiError::internal)?;
    let keys: Vec<String> = app
        .node()
        .with_state(|s| {
            s.people.get(person).map(|p| {
                p.passkeys
                    .iter()
                    .filter(|(_, k)| k.rp_id == rp_id)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
        })
        .await
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(ApiError::bad(format!(
            "{person} has no passkey registered on {rp_id}: they confirm with their PIN, or register a passkey on their Account page"
        ))
        .field(format!("pins.{person}")));
    }
    let size = app.node().with_state(|s| s.next_index).await;
    let act = json!({
        "v": 1,
        "log": app.node().store().origin(),
        "person": person.as_str(),
        "size": size,
        "nonce": b64(&random32()[..16]),
        "command": webauthn::signed_command(&command),
    });
    let challenge = webauthn::challenge_of(&act).map_err(|e| ApiError::bad(e.0))?;
    app.challenges().put(
        &challenge,
        Pending {
            person: person.clone(),
            purpose: Purpose::Confirm { act: act.clone() },
            expires: api::now_ms()? + TTL_MS,
        },
    );
    let allow: Vec<Value> = keys
        .iter()
        .map(|id| json!({"type": "public-key", "id": id}))
        .collect();
    Ok(json!({"publicKey": {
        "challenge": b64(&challenge),
        "rpId": rp_id,
        "allowCredentials": allow,
        "userVerification": "preferred",
        "timeout": 120000
    }, "act": act}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmRequest {
    command: Value,
    person: PersonId,
}

/// `POST /api/confirmations/options`: a passkey confirmation of a command about to be submitted.
pub async fn confirmation_options(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller: Caller = api::caller(&app, &headers).await?;
    api::check_csrf_header(&caller, &headers)?;
    let req: ConfirmRequest = api::parse_json(&headers, body)?;
    Ok(Json(
        confirm_options(&app, &headers, &req.command, &req.person).await?,
    ))
}

/// Checks a passkey confirmation of `command` by `person`: the challenge is open (and is used
/// up), the act is the command submitted, and the person's registered key signed it.
pub async fn check_confirmation(
    app: &App,
    person: &PersonId,
    assertion: &Value,
    command: &Command,
) -> Result<(), ApiError> {
    let field = format!("passkeys.{person}");
    let assertion: Assertion = serde_json::from_value(assertion.clone()).map_err(|e| {
        ApiError::bad(format!("the passkey assertion is malformed: {e}")).field(&field)
    })?;
    let challenge = webauthn::challenge_of(&assertion.act).map_err(|e| ApiError::bad(e.0))?;
    let Some(Pending {
        person: for_whom,
        purpose: Purpose::Confirm { act },
        ..
    }) = app.challenges().take(&challenge, api::now_ms()?)
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this passkey confirmation answers no open challenge (expired after 5 minutes, or used): confirm again",
        )
        .field(field));
    };
    let submitted = serde_json::to_value(command).map_err(ApiError::internal)?;
    if &for_whom != person
        || act != assertion.act
        || act["command"] != webauthn::signed_command(&submitted)
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "{person}'s passkey confirmed another act than the one submitted: confirm this one"
            ),
        )
        .field(field));
    }
    let registered = app
        .node()
        .with_state(|s| {
            s.people
                .get(person)
                .and_then(|p| p.passkeys.get(&assertion.credential).cloned())
        })
        .await
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("the passkey used is not one {person} registered"),
            )
            .field(&field)
        })?;
    let key = unb64(&registered.public_key, "the registered key")
        .and_then(|k| PublicKey::from_cose(&k))
        .map_err(|e| ApiError::internal(e.0))?;
    assertion
        .verify(&key, &registered.rp_id)
        .map_err(|e| webauthn_error(e).field(field))
}

/// Marks the confirmations `passkeys` (person -> assertion) answers as passkey confirmations.
pub fn apply(command: &mut Command, passkeys: &HashMap<String, Value>) {
    for actor in api::confirmations_mut(command) {
        if let Some(a) = passkeys.get(actor.person.as_str()) {
            actor.method = AuthMethod::Passkey;
            actor.assertion = Some(a.clone());
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Removal {
    credential: String,
    #[serde(default)]
    person: Option<PersonId>,
}

/// Removes `credential` from `person`'s passkeys by a log entry; `by` is the person or an admin.
pub async fn remove(
    app: &App,
    by: &Caller,
    person: &PersonId,
    credential: &str,
) -> Result<(), ApiError> {
    if &by.person != person && by.role != armory_core::Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("only {person} or an admin removes {person}'s passkeys"),
        ));
    }
    let known = app
        .node()
        .with_state(|s| {
            s.people
                .get(person)
                .is_some_and(|p| p.passkeys.contains_key(credential))
        })
        .await;
    if !known {
        return Err(
            ApiError::bad(format!("{person} has no passkey {credential}")).field("credential"),
        );
    }
    let event = Event::PasskeyRemoved {
        person: person.clone(),
        credential: credential.to_owned(),
        by: by.person.clone(),
    };
    api::log_account_event(app, &by.actor(), event).await
}

/// `POST /api/passkeys/remove {credential, person?}`: a lost or replaced phone's passkey stops
/// confirming anything (the owner, or an admin for anyone).
pub async fn remove_api(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = api::caller(&app, &headers).await?;
    api::check_csrf_header(&caller, &headers)?;
    let r: Removal = api::parse_json(&headers, body)?;
    let person = r.person.unwrap_or_else(|| caller.person.clone());
    remove(&app, &caller, &person, &r.credential).await?;
    Ok(Json(json!({"removed": r.credential})))
}
