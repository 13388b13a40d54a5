//! Identifiers of the things the log talks about: productions, people, firearms, lots, containers,
//! locations, scenes and incidents. Each is its own type so a firearm id can never be passed where a
//! lot id is expected. Ids are chosen by people (printed on labels and QR codes), except incident ids,
//! which the rules engine numbers itself so that `decide` stays deterministic.

use crate::parse::{ParseError, shown, string_newtype};

/// Longest id, in characters.
pub const ID_MAX: usize = 64;

fn check_id(what: &'static str, input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(ParseError::new(what, "must not be empty"));
    }
    if t.len() > ID_MAX {
        return Err(ParseError::new(
            what,
            format!("must be at most {ID_MAX} characters (got {})", shown(t)),
        ));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if !t.chars().all(ok_char) {
        return Err(ParseError::new(
            what,
            format!(
                "may hold only letters, digits and - _ . : (no spaces); got {}",
                shown(t)
            ),
        ));
    }
    if !t.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(ParseError::new(
            what,
            format!("must start with a letter or digit (got {})", shown(t)),
        ));
    }
    Ok(t.to_owned())
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        string_newtype!($(#[$meta])* $name, |s| check_id($what, s));
    };
}

id_type!(
    /// A production (a film or series); one state and one policy per production.
    ProductionId,
    "production id"
);
id_type!(
    /// A person of the production's crew or cast.
    PersonId,
    "person id"
);
id_type!(
    /// A firearm (functional, blank-adapted, replica, rubber, airsoft).
    FirearmId,
    "firearm id"
);
id_type!(
    /// An ammunition lot: rounds of one kind and calibre from one supplier and shipment.
    LotId,
    "lot id"
);
id_type!(
    /// A container (box, tray, belt) holding rounds of exactly one lot.
    ContainerId,
    "container id"
);
id_type!(
    /// A place items are kept: a safe, a truck, a cart.
    LocationId,
    "location id"
);
id_type!(
    /// A scene of the schedule (a rehearsal or a take).
    SceneId,
    "scene id"
);
id_type!(
    /// An incident; numbered by the rules engine (`INC-0001`, ...).
    IncidentId,
    "incident id"
);

impl IncidentId {
    /// The id of the production's `n`th incident (`INC-0001`). Deterministic, so replays agree.
    pub fn sequential(n: u64) -> Self {
        Self(format!("INC-{n:04}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_label_text_and_refuse_the_rest() {
        assert_eq!(
            FirearmId::parse(" REV-01 ").map(String::from),
            Ok("REV-01".to_owned())
        );
        let e = FirearmId::parse("rev 01")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("firearm id") && e.contains("no spaces"), "{e}");
        assert!(LotId::parse("").is_err());
        assert!(LotId::parse("-x").is_err());
        assert!(PersonId::parse(&"a".repeat(65)).is_err());
        assert_eq!(IncidentId::sequential(7).as_str(), "INC-0007");
        assert!(serde_json::from_str::<SceneId>("\"bad id\"").is_err());
        assert_eq!(
            serde_json::from_str::<SceneId>("\"S-12\"")
                .ok()
                .map(String::from),
            Some("S-12".to_owned())
        );
    }
}
