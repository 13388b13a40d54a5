//! People and what they may do: roles (RULES.md §4), how an actor authenticated, the `Actor` who
//! issues a command or confirms one, and credentials (permits and courses, with expiry).

use std::fmt;

use crate::ids::PersonId;
use crate::parse::{ParseError, shown, string_newtype};
use crate::time::Date;

/// A role of RULES.md §4. A person may hold several; each act is done in one of them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything with firearms and ammunition; custodian of firearms.
    Armorer,
    /// As armorer when holding the credentials the policy names, unless the policy forbids it.
    PropertyMaster,
    /// Schedules firearm scenes, runs safety meetings, confirms show checks.
    FirstAd,
    /// Confirms meetings, closes incidents with the armorer, approves overrides.
    SafetyRep,
    /// Confirms a show check; receives and returns an issued firearm.
    Performer,
    /// Staffing and schedule; approves staffing overrides with the safety rep.
    Producer,
    /// Reads and verifies everything; changes nothing.
    Auditor,
    /// Manages people, roles and credentials; no firearm work unless also armorer.
    Admin,
    // Added later; declared last so the order of the roles above (map keys in logged
    // policies, sorted role lists in logged events) stays as it was.
    /// As property master, under the same conditions.
    AssistantPropertyMaster,
    /// Reads everything and records risk assessments; never handles firearms.
    SafetyAdvisor,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 10] = [
        Role::Armorer,
        Role::PropertyMaster,
        Role::AssistantPropertyMaster,
        Role::SafetyAdvisor,
        Role::FirstAd,
        Role::SafetyRep,
        Role::Performer,
        Role::Producer,
        Role::Auditor,
        Role::Admin,
    ];

    /// The snake_case name used in the log and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Armorer => "armorer",
            Role::PropertyMaster => "property_master",
            Role::AssistantPropertyMaster => "assistant_property_master",
            Role::SafetyAdvisor => "safety_advisor",
            Role::FirstAd => "first_ad",
            Role::SafetyRep => "safety_rep",
            Role::Performer => "performer",
            Role::Producer => "producer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// How the role reads in a sentence ("the 1st AD").
    pub fn title(self) -> &'static str {
        match self {
            Role::Armorer => "armorer",
            Role::PropertyMaster => "property master",
            Role::AssistantPropertyMaster => "assistant property master",
            Role::SafetyAdvisor => "safety advisor",
            Role::FirstAd => "1st AD",
            Role::SafetyRep => "safety representative",
            Role::Performer => "performer",
            Role::Producer => "producer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name such as `first_ad`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let t = input.trim();
        Role::ALL.into_iter().find(|r| r.as_str() == t).ok_or_else(|| {
            ParseError::new(
                "role",
                format!(
                    "must be one of armorer, property_master, assistant_property_master, safety_advisor, first_ad, safety_rep, performer, producer, auditor, admin (got {})",
                    shown(t)
                ),
            )
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the actor proved who they are.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A password.
    Password,
    /// A short PIN on a set device.
    Pin,
    /// A WebAuthn passkey.
    Passkey,
    /// An API token.
    ApiToken,
    /// Local access to the node (the CLI on the set laptop).
    Local,
}

impl AuthMethod {
    /// Every method.
    pub const ALL: [AuthMethod; 5] = [
        AuthMethod::Password,
        AuthMethod::Pin,
        AuthMethod::Passkey,
        AuthMethod::ApiToken,
        AuthMethod::Local,
    ];

    /// The snake_case name used in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::Pin => "pin",
            AuthMethod::Passkey => "passkey",
            AuthMethod::ApiToken => "api_token",
            AuthMethod::Local => "local",
        }
    }

    /// Parses a method name such as `pin`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let t = input.trim();
        AuthMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == t)
            .ok_or_else(|| {
                ParseError::new(
                    "authentication method",
                    format!(
                        "must be one of password, pin, passkey, api_token, local (got {})",
                        shown(t)
                    ),
                )
            })
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Someone acting (or confirming an act) in one of their roles, as authenticated by the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Who.
    pub person: PersonId,
    /// In which role they act; they must hold it in the production.
    pub role: Role,
    /// How they authenticated.
    pub method: AuthMethod,
    /// With a passkey: the WebAuthn assertion over the act confirmed (armory-ledger's
    /// `webauthn::Assertion`), written into the entry so that anyone can check it offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<serde_json::Value>,
}

impl Actor {
    /// An actor.
    pub fn new(person: PersonId, role: Role, method: AuthMethod) -> Self {
        Self {
            person,
            role,
            method,
            assertion: None,
        }
    }
}

fn check_kind(input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(t.to_owned())
    } else {
        Err(ParseError::new(
            "credential kind",
            format!(
                "must be 1 to 64 lowercase letters, digits, '_' or '-', e.g. entertainment_firearms_permit (got {})",
                shown(t)
            ),
        ))
    }
}

fn check_number(input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    if t.is_empty() || t.len() > 64 || t.chars().any(char::is_control) {
        return Err(ParseError::new(
            "credential number",
            format!(
                "must be 1 to 64 characters on one line, as printed on the card (got {})",
                shown(t)
            ),
        ));
    }
    Ok(t.to_owned())
}

string_newtype!(
    /// A kind of credential the policy can require, e.g. `entertainment_firearms_permit` (CA Labor
    /// Code 9153) or `csatf_firearms_course`.
    CredentialKind,
    check_kind
);
string_newtype!(
    /// The number printed on a permit or certificate.
    CredentialNumber,
    check_number
);

/// A credential a person holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// Its number.
    pub number: CredentialNumber,
    /// Last day it is valid.
    pub expires: Date,
}

impl Credential {
    /// Valid on `day` (inclusive of the expiry day).
    pub fn valid_on(&self, day: Date) -> bool {
        day <= self.expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_serialize_by_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
            assert_eq!(
                serde_json::to_string(&r).ok(),
                Some(format!("\"{}\"", r.as_str()))
            );
        }
        assert!(Role::parse("director").is_err());
        for m in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(m.as_str()), Ok(m));
            assert_eq!(serde_json::to_string(&m).ok(), Some(format!("\"{m}\"")));
        }
        assert!(CredentialKind::parse("Entertainment Permit").is_err());
    }
}

/// A sign-in secret, as named in the log (never the secret itself, nor its hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// A password.
    Password,
    /// A PIN, used to confirm acts (show checks, handovers, approvals).
    Pin,
    /// An API token.
    ApiToken,
}

impl SecretKind {
    /// The word for it in messages.
    pub fn word(self) -> &'static str {
        match self {
            SecretKind::Password => "password",
            SecretKind::Pin => "PIN",
            SecretKind::ApiToken => "API token",
        }
    }
}
