//! Passkeys (WebAuthn), checked from the log alone.
//!
//! A person registers a passkey: the registration (credential id, COSE public key, the relying
//! party id it is bound to) is a `passkey_registered` entry. A confirmation by passkey signs an
//! *act*: a JSON object naming the log, the confirming person, the command confirmed and the log
//! size when it was prepared. The WebAuthn challenge is SHA-256 of the act's canonical JSON, so the
//! entry carries the act and the assertion (authenticator data, client data, signature), and
//! anyone holding the log checks, with no server, that the registered key signed exactly this act
//! and that the act is the one the entry records ([`Confirmations`]).
//!
//! Keys: ES256 (P-256 ECDSA, what phones and security keys make) and EdDSA (Ed25519).
//! Attestation is not checked (registration asks for none): the key is trusted because the
//! person registered it while signed in, and that registration is itself in the log.

use std::collections::HashMap;
use std::io::Cursor;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::value::Value as Cbor;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical;
use crate::entry::Entry;

/// Why a registration or an assertion does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WebauthnError(pub String);

fn bad<T>(why: impl Into<String>) -> Result<T, WebauthnError> {
    Err(WebauthnError(why.into()))
}

/// Base64url without padding, as WebAuthn writes binary fields.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads base64url (padding tolerated), naming `what` on failure.
pub fn unb64(text: &str, what: &str) -> Result<Vec<u8>, WebauthnError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| WebauthnError(format!("{what} is not base64url")))
}

/// The challenge a confirmation signs: SHA-256 of the act's canonical JSON.
pub fn challenge_of(act: &Value) -> Result<[u8; 32], WebauthnError> {
    let bytes = canonical::encode(act)
        .map_err(|e| WebauthnError(format!("the act is not canonical JSON: {e}")))?;
    Ok(Sha256::digest(bytes).into())
}

/// A command as a confirmation signs it: how each person authenticated (`method`, `assertion`)
/// is left out, so that several people confirming the same command sign the same thing.
pub fn signed_command(command: &Value) -> Value {
    match command {
        Value::Object(map) => {
            let is_actor = map.contains_key("person") && map.contains_key("role");
            Value::Object(
                map.iter()
                    .filter(|(k, _)| !(is_actor && (*k == "method" || *k == "assertion")))
                    .map(|(k, v)| (k.clone(), signed_command(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(signed_command).collect()),
        other => other.clone(),
    }
}

/// A public key as registered.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// COSE alg -7.
    Es256(p256::ecdsa::VerifyingKey),
    /// COSE alg -8.
    EdDsa(ed25519_dalek::VerifyingKey),
}

fn int(v: &Cbor) -> Option<i128> {
    v.as_integer().map(i128::from)
}

fn field(map: &[(Cbor, Cbor)], key: i128) -> Option<&Cbor> {
    map.iter()
        .find(|(k, _)| int(k) == Some(key))
        .map(|(_, v)| v)
}

impl PublicKey {
    /// Reads a COSE_Key (RFC 9052/9053): EC2 P-256 with ES256, or OKP Ed25519 with EdDSA.
    pub fn from_cose(bytes: &[u8]) -> Result<PublicKey, WebauthnError> {
        let value: Cbor = ciborium::de::from_reader(bytes)
            .map_err(|_| WebauthnError("the public key is not CBOR".into()))?;
        let Some(map) = value.as_map() else {
            return bad("the public key is not a COSE key (a CBOR map)");
        };
        let bytes_of = |k| field(map, k).and_then(|v| v.as_bytes().cloned());
        match (
            field(map, 1).and_then(int),
            field(map, 3).and_then(int),
            field(map, -1).and_then(int),
        ) {
            (Some(2), Some(-7), Some(1)) => {
                let (Some(x), Some(y)) = (bytes_of(-2), bytes_of(-3)) else {
                    return bad("the P-256 key lacks its x or y coordinate");
                };
                if x.len() != 32 || y.len() != 32 {
                    return bad("the P-256 key's coordinates are not 32 bytes each");
                }
                let mut sec1 = vec![4u8];
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map(PublicKey::Es256)
                    .map_err(|_| WebauthnError("the P-256 key is not a point on the curve".into()))
            }
            (Some(1), Some(-8), Some(6)) => {
                let Some(x) = bytes_of(-2) else {
                    return bad("the Ed25519 key lacks its x coordinate");
                };
                let Ok(x) = <[u8; 32]>::try_from(x.as_slice()) else {
                    return bad("the Ed25519 key is not 32 bytes");
                };
                ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map(PublicKey::EdDsa)
                    .map_err(|_| WebauthnError("the Ed25519 key is not valid".into()))
            }
            (kty, alg, crv) => bad(format!(
                "unsupported passkey algorithm (COSE kty {kty:?}, alg {alg:?}, crv {crv:?}): use a passkey with ES256 (P-256) or EdDSA (Ed25519)"
            )),
        }
    }

    fn verify(&self, signed: &[u8], signature: &[u8]) -> Result<(), WebauthnError> {
        let ok = match self {
            PublicKey::Es256(key) => {
                use p256::ecdsa::signature::Verifier;
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify(signed, &sig).is_ok())
            }
            PublicKey::EdDsa(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(signed, &sig).is_ok()),
        };
        if ok {
            Ok(())
        } else {
            bad("the passkey signature does not verify with the registered key")
        }
    }
}

/// Authenticator data flags.
const USER_PRESENT: u8 = 0x01;
const ATTESTED: u8 = 0x40;

/// The parts of authenticator data a check needs.
struct AuthData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    rest: &'a [u8],
}

fn auth_data(bytes: &[u8]) -> Result<AuthData<'_>, WebauthnError> {
    if bytes.len() < 37 {
        return bad("the authenticator data is shorter than 37 bytes");
    }
    Ok(AuthData {
        rp_id_hash: &bytes[..32],
        flags: bytes[32],
        rest: &bytes[37..],
    })
}

/// Checks client data: its type, that it carries `challenge`, and that its origin is `rp_id`.
fn check_client_data(
    json: &[u8],
    kind: &str,
    challenge: &[u8],
    rp_id: &str,
) -> Result<(), WebauthnError> {
    let data: Value = serde_json::from_slice(json)
        .map_err(|_| WebauthnError("the client data is not JSON".into()))?;
    if data["type"] != kind {
        return bad(format!(
            "the client data is of type {}, not {kind}",
            data["type"]
        ));
    }
    let signed = unb64(
        data["challenge"].as_str().unwrap_or_default(),
        "the challenge",
    )?;
    if signed != challenge {
        return bad("the passkey signed another challenge than this act's");
    }
    let origin = data["origin"].as_str().unwrap_or_default();
    let host = origin
        .split_once("://")
        .map(|(_, rest)| rest.split([':', '/']).next().unwrap_or_default())
        .unwrap_or_default();
    if host != rp_id {
        return bad(format!("the passkey was used on {origin}, not on {rp_id}"));
    }
    Ok(())
}

fn check_auth_data(data: &AuthData<'_>, rp_id: &str) -> Result<(), WebauthnError> {
    if data.rp_id_hash != Sha256::digest(rp_id.as_bytes()).as_slice() {
        return bad(format!("the passkey belongs to another site than {rp_id}"));
    }
    if data.flags & USER_PRESENT == 0 {
        return bad("the authenticator did not see the person present (no touch)");
    }
    Ok(())
}

/// A registration, read from the browser's answer to `navigator.credentials.create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The credential id.
    pub credential: Vec<u8>,
    /// The COSE public key, as the authenticator wrote it.
    pub public_key: Vec<u8>,
}

/// Reads and checks a registration: client data of type `webauthn.create` carrying `challenge`
/// from `rp_id`, and an attestation object whose authenticator data holds the new credential.
pub fn register(
    attestation_object: &[u8],
    client_data_json: &[u8],
    challenge: &[u8],
    rp_id: &str,
) -> Result<Registration, WebauthnError> {
    check_client_data(client_data_json, "webauthn.create", challenge, rp_id)?;
    let object: Cbor = ciborium::de::from_reader(attestation_object)
        .map_err(|_| WebauthnError("the attestation object is not CBOR".into()))?;
    let auth = object
        .as_map()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.as_text() == Some("authData"))
                .map(|(_, v)| v)
        })
        .and_then(Cbor::as_bytes)
        .ok_or_else(|| WebauthnError("the attestation object has no authData".into()))?;
    let data = auth_data(auth)?;
    check_auth_data(&data, rp_id)?;
    if data.flags & ATTESTED == 0 {
        return bad("the authenticator data carries no new credential");
    }
    let rest = data.rest;
    if rest.len() < 18 {
        return bad("the credential data is truncated");
    }
    let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
    let Some(credential) = rest.get(18..18 + len) else {
        return bad("the credential id is truncated");
    };
    let key_bytes = &rest[18 + len..];
    let mut cursor = Cursor::new(key_bytes);
    let _: Cbor = ciborium::de::from_reader(&mut cursor)
        .map_err(|_| WebauthnError("the credential's public key is not CBOR".into()))?;
    let used = usize::try_from(cursor.position()).unwrap_or(key_bytes.len());
    let public_key = key_bytes[..used.min(key_bytes.len())].to_vec();
    PublicKey::from_cose(&public_key)?;
    Ok(Registration {
        credential: credential.to_vec(),
        public_key,
    })
}

/// An assertion as an entry carries it (binary fields in base64url).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// What was confirmed: `{"v":1,"log":...,"person":...,"size":...,"nonce":...,"command":...}`.
    pub act: Value,
    /// The credential used.
    pub credential: String,
    /// The authenticator data signed.
    pub authenticator_data: String,
    /// The client data JSON signed (through its hash).
    pub client_data_json: String,
    /// The signature.
    pub signature: String,
}

impl Assertion {
    /// Checks the signature of `key` (registered for `rp_id`) over this act.
    pub fn verify(&self, key: &PublicKey, rp_id: &str) -> Result<(), WebauthnError> {
        let challenge = challenge_of(&self.act)?;
        let client = unb64(&self.client_data_json, "the client data")?;
        check_client_data(&client, "webauthn.get", &challenge, rp_id)?;
        let auth = unb64(&self.authenticator_data, "the authenticator data")?;
        check_auth_data(&auth_data(&auth)?, rp_id)?;
        let mut signed = auth.clone();
        signed.extend_from_slice(&Sha256::digest(&client));
        key.verify(&signed, &unb64(&self.signature, "the signature")?)
    }
}

/// A registered passkey, as the log holds it.
#[derive(Debug, Clone)]
struct Registered {
    key: PublicKey,
    rp_id: String,
}

/// The event fields an act's command names the same way, whose values must agree: a confirmed
/// act's entry names the same firearm, scene, people, incident as the command confirmed.
const BOUND: [&str; 10] = [
    "firearm",
    "scene",
    "performer",
    "first_ad",
    "incident",
    "item",
    "person",
    "rule",
    "day",
    "policy",
];

/// Passkey confirmations checked over a log read in order: registrations are collected as they
/// come, and every assertion is checked against the key registered before it.
#[derive(Debug, Default)]
pub struct Confirmations {
    keys: HashMap<(String, String), Registered>,
    /// Each signature seen, and the last entry that carried it.
    signatures: HashMap<String, u64>,
    /// Assertions checked.
    pub checked: u64,
}

impl Confirmations {
    /// A checker for a log from its start.
    pub fn new() -> Confirmations {
        Confirmations::default()
    }

    /// Whether an entry's bytes may concern passkeys (a cheap filter before decoding it).
    pub fn concerns(bytes: &[u8]) -> bool {
        memchr::memmem::find(bytes, b"passkey").is_some()
    }

    /// Takes the next entry of the log (decoded), checking every assertion it carries.
    pub fn entry(&mut self, entry: &Entry) -> Result<(), WebauthnError> {
        if entry.event["type"] == "passkey_registered" {
            let e = &entry.event;
            let person = e["person"].as_str().unwrap_or_default().to_owned();
            let credential = e["credential"].as_str().unwrap_or_default().to_owned();
            let key = PublicKey::from_cose(&unb64(
                e["public_key"].as_str().unwrap_or_default(),
                "the registered public key",
            )?)?;
            let rp_id = e["rp_id"].as_str().unwrap_or_default().to_owned();
            self.keys
                .insert((person, credential), Registered { key, rp_id });
        }
        if entry.event["type"] == "passkey_removed" {
            let e = &entry.event;
            let person = e["person"].as_str().unwrap_or_default().to_owned();
            let credential = e["credential"].as_str().unwrap_or_default().to_owned();
            self.keys.remove(&(person, credential));
        }
        for actor in &entry.actors {
            let Some(raw) = &actor.assertion else {
                continue;
            };
            let assertion: Assertion = serde_json::from_value(raw.clone()).map_err(|e| {
                WebauthnError(format!("{}'s assertion is malformed: {e}", actor.person))
            })?;
            let Some(reg) = self
                .keys
                .get(&(actor.person.clone(), assertion.credential.clone()))
            else {
                return bad(format!(
                    "{} confirmed with passkey {}, which is not registered to them earlier in the log (or was removed)",
                    actor.person, assertion.credential
                ));
            };
            if actor.method != "passkey" {
                return bad(format!(
                    "{} carries an assertion but is recorded as method {}",
                    actor.person, actor.method
                ));
            }
            let act = &assertion.act;
            if act["v"] != 1
                || act["log"] != entry.origin.as_str()
                || act["person"] != actor.person.as_str()
            {
                return bad(format!(
                    "the act {} signed is not for this log and this person",
                    actor.person
                ));
            }
            if act["size"].as_u64().is_none_or(|size| size > entry.index) {
                return bad(format!(
                    "the act {} signed was prepared after this entry was written",
                    actor.person
                ));
            }
            assertion
                .verify(&reg.key, &reg.rp_id)
                .map_err(|e| WebauthnError(format!("{}'s confirmation: {e}", actor.person)))?;
            bind(&act["command"], &entry.event)
                .map_err(|e| WebauthnError(format!("{}'s confirmation: {e}", actor.person)))?;
            // One act may write several entries in a row (an override used, then the issue;
            // an incident closed, then the lot it held released), each carrying the same
            // confirmation. Anywhere else the same signature is a copy.
            match self
                .signatures
                .insert(assertion.signature.clone(), entry.index)
            {
                Some(last) if last + 1 == entry.index => {}
                Some(_) => {
                    return bad(format!(
                        "{}'s passkey signature appears a second time: one confirmation copied to another entry",
                        actor.person
                    ));
                }
                None => self.checked += 1,
            }
        }
        Ok(())
    }
}

/// The value an entry names for `value` of a command: an actor by their person, an item by the
/// firearm or container it is.
fn named(value: &Value) -> &Value {
    match value {
        Value::Object(m) if m.contains_key("person") => &m["person"],
        Value::Object(m) if m.len() == 1 => m.values().next().unwrap_or(value),
        v => v,
    }
}

/// Checks that `event` is what `command` (as signed) produced: a refusal of the same kind of act,
/// the override it used, or an event agreeing on every field both name.
fn bind(command: &Value, event: &Value) -> Result<(), WebauthnError> {
    match event["type"].as_str() {
        Some("refused") => {
            return if event["command"] == command["type"] {
                Ok(())
            } else {
                bad("the signed act is not the one this refusal records")
            };
        }
        Some("override_used") => return Ok(()),
        _ => {}
    }
    let mut shared = 0;
    for key in BOUND {
        let (Some(c), Some(e)) = (command.get(key), event.get(key)) else {
            // An item the command names is the firearm the event names.
            if key == "firearm"
                && let (Some(item), Some(e)) = (command.get("item"), event.get("firearm"))
            {
                if named(item) != e {
                    return bad(format!(
                        "the entry records firearm {e}, the act was about {item}"
                    ));
                }
                shared += 1;
            }
            continue;
        };
        if named(c) != named(e) {
            return bad(format!(
                "the entry records {key} {e}, but the act confirmed was about {key} {c}"
            ));
        }
        shared += 1;
    }
    if shared == 0 {
        return bad(format!(
            "the entry ({}) names nothing the act confirmed ({}) names",
            event["type"], command["type"]
        ));
    }
    Ok(())
}

/// A software authenticator (a P-256 key, as a phone holds one), for tests and the demo: it
/// answers `navigator.credentials.create` and `.get` the way a real one does.
pub mod testing {
    use super::*;
    use ciborium::value::Integer;
    use p256::ecdsa::{SigningKey, signature::Signer};
    use serde_json::json;

    /// A passkey on a device.
    pub struct Authenticator {
        key: SigningKey,
        /// Its credential id.
        pub credential: Vec<u8>,
    }

    impl Authenticator {
        /// A passkey whose private key is `seed` repeated (kept within 1..=0x7f, so that it is a
        /// valid P-256 scalar).
        pub fn new(seed: u8) -> Authenticator {
            let bytes = [seed.clamp(1, 0x7f); 32];
            let Ok(key) = SigningKey::from_slice(&bytes) else {
                unreachable!("a repeated byte below 0x80 is a scalar below the group order")
            };
            Authenticator {
                key,
                credential: vec![seed; 16],
            }
        }

        /// Its COSE public key.
        pub fn cose(&self) -> Vec<u8> {
            let point = self.key.verifying_key().to_encoded_point(false);
            let coord = |c: Option<&p256::FieldBytes>| c.map(|c| c.to_vec()).unwrap_or_default();
            let map = Cbor::Map(vec![
                (
                    Cbor::Integer(Integer::from(1)),
                    Cbor::Integer(Integer::from(2)),
                ),
                (
                    Cbor::Integer(Integer::from(3)),
                    Cbor::Integer(Integer::from(-7)),
                ),
                (
                    Cbor::Integer(Integer::from(-1)),
                    Cbor::Integer(Integer::from(1)),
                ),
                (
                    Cbor::Integer(Integer::from(-2)),
                    Cbor::Bytes(coord(point.x())),
                ),
                (
                    Cbor::Integer(Integer::from(-3)),
                    Cbor::Bytes(coord(point.y())),
                ),
            ]);
            let mut out = Vec::new();
            let _ = ciborium::ser::into_writer(&map, &mut out);
            out
        }

        fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
            json!({"type": kind, "challenge": b64(challenge), "origin": origin, "crossOrigin": false})
                .to_string()
                .into_bytes()
        }

        /// `navigator.credentials.create`: (attestationObject, clientDataJSON).
        pub fn create(&self, challenge: &[u8], rp_id: &str, origin: &str) -> (Vec<u8>, Vec<u8>) {
            let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
            auth.push(USER_PRESENT | ATTESTED);
            auth.extend_from_slice(&[0, 0, 0, 0]);
            auth.extend_from_slice(&[0; 16]);
            auth.extend_from_slice(
                &u16::try_from(self.credential.len())
                    .unwrap_or(0)
                    .to_be_bytes(),
            );
            auth.extend_from_slice(&self.credential);
            auth.extend_from_slice(&self.cose());
            let object = Cbor::Map(vec![
                (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
                (Cbor::Text("attStmt".into()), Cbor::Map(vec![])),
                (Cbor::Text("authData".into()), Cbor::Bytes(auth)),
            ]);
            let mut out = Vec::new();
            let _ = ciborium::ser::into_writer(&object, &mut out);
            (out, Self::client_data("webauthn.create", challenge, origin))
        }

        /// `navigator.credentials.get` over `act`.
        pub fn sign(&self, act: Value, rp_id: &str, origin: &str) -> Assertion {
            let challenge = challenge_of(&act).unwrap_or_default();
            let client = Self::client_data("webauthn.get", &challenge, origin);
            let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
            auth.push(USER_PRESENT);
            auth.extend_from_slice(&[0, 0, 0, 1]);
            let mut signed = auth.clone();
            signed.extend_from_slice(&Sha256::digest(&client));
            let sig: p256::ecdsa::Signature = self.key.sign(&signed);
            Assertion {
                act,
                credential: b64(&self.credential),
                authenticator_data: b64(&auth),
                client_data_json: b64(&client),
                signature: b64(sig.to_der().as_bytes()),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::testing::Authenticator;
    use super::*;
    use ciborium::value::Integer;
    use serde_json::json;

    fn act() -> Value {
        json!({"v": 1, "log": "armory.test/log", "person": "alec", "size": 3, "nonce": "n",
               "command": {"type": "show_check", "firearm": "REV-1", "scene": "CHURCH",
                           "performer": {"person": "alec", "role": "performer"},
                           "first_ad": {"person": "dave", "role": "first_ad"}}})
    }

    #[test]
    fn a_registration_yields_the_key_that_then_verifies_an_assertion() {
        let phone = Authenticator::new(7);
        let (object, client) = phone.create(
            b"0123456789abcdef",
            "armory.local",
            "https://armory.local:8443",
        );
        let reg = register(&object, &client, b"0123456789abcdef", "armory.local").unwrap();
        assert_eq!(reg.credential, phone.credential);
        assert_eq!(reg.public_key, phone.cose());
        let key = PublicKey::from_cose(&reg.public_key).unwrap();
        let a = phone.sign(act(), "armory.local", "https://armory.local:8443");
        a.verify(&key, "armory.local").unwrap();

        // Another challenge, another site, a changed act, a flipped signature: each refused.
        let e = register(&object, &client, b"another challenge", "armory.local").unwrap_err();
        assert!(e.0.contains("another challenge"), "{e}");
        let e = register(&object, &client, b"0123456789abcdef", "evil.example").unwrap_err();
        assert!(e.0.contains("not on evil.example"), "{e}");
        let mut changed = a.clone();
        changed.act["command"]["scene"] = json!("CHURCH-TAKE");
        assert!(
            changed
                .verify(&key, "armory.local")
                .unwrap_err()
                .0
                .contains("another challenge")
        );
        let mut flipped = a.clone();
        let mut sig = unb64(&flipped.signature, "").unwrap();
        let last = sig.len() - 1;
        sig[last] ^= 1;
        flipped.signature = b64(&sig);
        assert!(flipped.verify(&key, "armory.local").is_err());
        let other = PublicKey::from_cose(&Authenticator::new(8).cose()).unwrap();
        assert!(
            a.verify(&other, "armory.local")
                .unwrap_err()
                .0
                .contains("does not verify")
        );
    }

    #[test]
    fn the_signed_command_leaves_out_how_people_authenticated() {
        let with = json!({"type": "show_check", "performer": {"person": "alec", "role": "performer", "method": "passkey", "assertion": {"x": 1}},
                          "first_ad": {"person": "dave", "role": "first_ad", "method": "pin"}, "scene": "CHURCH"});
        assert_eq!(
            signed_command(&with),
            json!({"type": "show_check", "performer": {"person": "alec", "role": "performer"},
                   "first_ad": {"person": "dave", "role": "first_ad"}, "scene": "CHURCH"})
        );
    }

    #[test]
    fn an_entry_must_record_what_was_confirmed() {
        let cmd = &act()["command"];
        let ok = json!({"type": "show_checked", "firearm": "REV-1", "scene": "CHURCH", "performer": "alec", "first_ad": "dave", "condition": "cold"});
        bind(cmd, &ok).unwrap();
        let moved = json!({"type": "show_checked", "firearm": "REV-2", "scene": "CHURCH", "performer": "alec", "first_ad": "dave", "condition": "cold"});
        assert!(bind(cmd, &moved).unwrap_err().0.contains("firearm"));
        let unrelated = json!({"type": "note", "text": "x"});
        assert!(bind(cmd, &unrelated).is_err());
        bind(cmd, &json!({"type": "refused", "command": "show_check"})).unwrap();
        assert!(bind(cmd, &json!({"type": "refused", "command": "issue"})).is_err());
        let confirm = json!({"type": "confirm_handover", "item": {"firearm": "REV-1"}});
        bind(
            &confirm,
            &json!({"type": "firearm_issued", "firearm": "REV-1"}),
        )
        .unwrap();
        assert!(
            bind(
                &confirm,
                &json!({"type": "firearm_issued", "firearm": "REV-2"})
            )
            .is_err()
        );
    }

    fn entry(index: u64, event: Value, assertion: Option<&Assertion>) -> Entry {
        Entry {
            v: 1,
            origin: "armory.test/log".into(),
            index,
            time: "2026-12-02T10:00:00.000Z".into(),
            event,
            actors: vec![crate::entry::Actor {
                person: "alec".into(),
                role: "performer".into(),
                method: if assertion.is_some() {
                    "passkey"
                } else {
                    "password"
                }
                .into(),
                assertion: assertion.map(|a| serde_json::to_value(a).unwrap()),
            }],
        }
    }

    #[test]
    fn a_log_of_registrations_confirmations_and_removals_checks_in_order() {
        let phone = Authenticator::new(5);
        let registered = json!({"type": "passkey_registered", "person": "alec",
            "credential": b64(&phone.credential), "public_key": b64(&phone.cose()), "rp_id": "armory.local"});
        let shown = json!({"type": "show_checked", "firearm": "REV-1", "scene": "CHURCH", "performer": "alec", "first_ad": "dave", "condition": "cold"});
        let a = phone.sign(act(), "armory.local", "https://armory.local");
        let mut log = Confirmations::new();
        // Before its registration, the passkey confirms nothing.
        let e = log.entry(&entry(3, shown.clone(), Some(&a))).unwrap_err();
        assert!(e.0.contains("not registered"), "{e}");
        log.entry(&entry(2, registered.clone(), None)).unwrap();
        log.entry(&entry(3, shown.clone(), Some(&a))).unwrap();
        assert_eq!(log.checked, 1);
        // The next entry of the same act carries it too (an override used, then the act)...
        log.entry(&entry(4, shown.clone(), Some(&a))).unwrap();
        assert_eq!(log.checked, 1);
        // ...but the same signature in a later entry is a copy.
        let e = log.entry(&entry(6, shown.clone(), Some(&a))).unwrap_err();
        assert!(e.0.contains("second time"), "{e}");
        // An act prepared after the entry it sits in was not signed for it.
        let e = log
            .entry(&entry(
                2,
                shown.clone(),
                Some(&phone.sign(act(), "armory.local", "https://armory.local")),
            ))
            .unwrap_err();
        assert!(e.0.contains("prepared after"), "{e}");
        // Removed: later confirmations with it fail.
        log.entry(&entry(
            5,
            json!({"type": "passkey_removed", "person": "alec",
            "credential": b64(&phone.credential), "by": "alec"}),
            None,
        ))
        .unwrap();
        let mut later = act();
        later["nonce"] = json!("m");
        let b = phone.sign(later, "armory.local", "https://armory.local");
        let e = log.entry(&entry(7, shown, Some(&b))).unwrap_err();
        assert!(e.0.contains("or was removed"), "{e}");
    }

    #[test]
    fn unsupported_and_malformed_keys_are_named() {
        assert!(
            PublicKey::from_cose(b"\xff")
                .unwrap_err()
                .0
                .contains("not CBOR")
        );
        let rsa = Cbor::Map(vec![
            (
                Cbor::Integer(Integer::from(1)),
                Cbor::Integer(Integer::from(3)),
            ),
            (
                Cbor::Integer(Integer::from(3)),
                Cbor::Integer(Integer::from(-257)),
            ),
        ]);
        let mut out = Vec::new();
        ciborium::ser::into_writer(&rsa, &mut out).unwrap();
        assert!(PublicKey::from_cose(&out).unwrap_err().0.contains("ES256"));
    }
}
