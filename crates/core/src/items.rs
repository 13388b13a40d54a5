//! The things in custody and how they are described: firearms (serial, calibre, class, number of
//! chambers or magazine positions), ammunition (kind, blank load, round counts, per-round
//! verification results) and what a chamber holds.

use std::fmt;

use crate::ids::{ContainerId, FirearmId, LotId};
use crate::parse::{ParseError, shown, string_newtype};

fn check_serial(input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    let ok = !t.is_empty()
        && t.len() <= 40
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '.'));
    if ok {
        Ok(t.to_ascii_uppercase())
    } else {
        Err(ParseError::new(
            "serial number",
            format!(
                "must be 1 to 40 letters, digits, '-', '/' or '.', exactly as stamped on the frame (got {})",
                shown(t)
            ),
        ))
    }
}

fn check_calibre(input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= 32
        && t.chars().any(|c| c.is_ascii_alphanumeric())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '/' | 'x' | '×'));
    if ok {
        Ok(t.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Err(ParseError::new(
            "calibre",
            format!(
                "must be written like .45 Long Colt, 9mm or 12 gauge (up to 32 characters; got {})",
                shown(t)
            ),
        ))
    }
}

string_newtype!(
    /// A firearm's serial number as stamped on the frame (stored upper-case).
    SerialNumber,
    check_serial
);
string_newtype!(
    /// A calibre, e.g. `.45 Long Colt`, `9mm`, `12 gauge`. Compared exactly: a round fits a firearm
    /// only if their calibres are written the same.
    Calibre,
    check_calibre
);

/// The most rounds one count may hold.
pub const ROUND_COUNT_MAX: u32 = 1_000_000;

/// A number of rounds (0..=1,000,000). Serialized as a JSON integer.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct RoundCount(u32);

impl RoundCount {
    /// No rounds.
    pub const ZERO: RoundCount = RoundCount(0);

    /// Parses a whole number of rounds.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let t = input.trim();
        let n: u32 = t.parse().map_err(|_| {
            ParseError::new(
                "round count",
                format!(
                    "must be a whole number of rounds, like 50 (got {})",
                    shown(t)
                ),
            )
        })?;
        Self::try_from(n)
    }

    /// The count.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RoundCount {
    type Error = ParseError;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        if n > ROUND_COUNT_MAX {
            Err(ParseError::new(
                "round count",
                format!("must be at most {ROUND_COUNT_MAX} (got {n})"),
            ))
        } else {
            Ok(Self(n))
        }
    }
}
impl TryFrom<&str> for RoundCount {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}
impl From<RoundCount> for u32 {
    fn from(c: RoundCount) -> u32 {
        c.0
    }
}
impl fmt::Display for RoundCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The most chambers or magazine positions a firearm may have.
pub const POSITIONS_MAX: u16 = 200;

/// How many chambers (revolver) or positions (chamber + magazine) a firearm has: 1..=200.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u16", into = "u16")]
pub struct Positions(u16);

impl Positions {
    /// Parses a number of positions.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let t = input.trim();
        let n: u16 = t.parse().map_err(|_| {
            ParseError::new(
                "positions",
                format!(
                    "must be the number of chambers or magazine positions, like 6 (got {})",
                    shown(t)
                ),
            )
        })?;
        Self::try_from(n)
    }
    /// The number.
    pub const fn get(self) -> u16 {
        self.0
    }
}
impl TryFrom<u16> for Positions {
    type Error = ParseError;
    fn try_from(n: u16) -> Result<Self, Self::Error> {
        if n == 0 || n > POSITIONS_MAX {
            Err(ParseError::new(
                "positions",
                format!("must be 1 to {POSITIONS_MAX} chambers or magazine positions (got {n})"),
            ))
        } else {
            Ok(Self(n))
        }
    }
}
impl From<Positions> for u16 {
    fn from(p: Positions) -> u16 {
        p.0
    }
}

/// What kind of firearm this is; decides whether it can fire at all.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FirearmClass {
    /// A real firearm that fires (blanks, or worse if live rounds reach it).
    Functional,
    /// A firearm adapted to fire blanks only.
    BlankAdapted,
    /// A replica that cannot fire.
    NonFiringReplica,
    /// A rubber prop.
    Rubber,
    /// An airsoft gun.
    Airsoft,
}

impl FirearmClass {
    /// Whether it can discharge a round at all.
    pub fn can_fire(self) -> bool {
        matches!(self, FirearmClass::Functional | FirearmClass::BlankAdapted)
    }
}

/// The load of a blank, from light to full.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BlankLoad {
    /// Quarter load.
    Quarter,
    /// Half load.
    Half,
    /// Three-quarter load.
    ThreeQuarter,
    /// Full load.
    Full,
}

/// Kind of ammunition (RULES.md §2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AmmoKind {
    /// No powder, no live primer; usually rattles.
    Dummy,
    /// Primer and powder, no projectile; with its load.
    Blank(BlankLoad),
    /// Primer, powder and projectile. Never admissible.
    Live,
}

impl AmmoKind {
    /// "dummy", "blank" or "live".
    pub fn word(self) -> &'static str {
        match self {
            AmmoKind::Dummy => "dummy",
            AmmoKind::Blank(_) => "blank",
            AmmoKind::Live => "live",
        }
    }
}

/// The result of checking one round of a lot at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundCheck {
    /// A dummy that rattles, with no live primer (hole or mark seen).
    Rattled,
    /// A blank whose crimp or wad is intact, with no projectile.
    Crimped,
    /// A defective round (dented, loose crimp, unclear): the lot cannot be released until removed.
    Defective,
    /// A live round (projectile, or a dummy that does not rattle and has a live primer).
    Live,
}

/// An item that can be stored, moved or given a custodian.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemRef {
    /// A firearm.
    Firearm(FirearmId),
    /// A container of rounds.
    Container(ContainerId),
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemRef::Firearm(id) => write!(f, "firearm {id}"),
            ItemRef::Container(id) => write!(f, "container {id}"),
        }
    }
}

/// What the armorer puts into one chamber or magazine position (in a `Load` command).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChamberLoad {
    /// Nothing.
    Empty,
    /// One round taken from this container.
    Round(ContainerId),
}

/// What one chamber or position holds, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Chamber {
    /// Verified empty.
    Empty,
    /// A round of `lot`, taken from `container`, of kind `kind`.
    Round {
        /// Where it came from (and goes back to on unload).
        container: ContainerId,
        /// Its lot.
        lot: LotId,
        /// Its kind.
        kind: AmmoKind,
    },
    /// A spent blank casing of `lot`.
    Spent {
        /// Its lot.
        lot: LotId,
    },
}

/// The state of a firearm derived from its recorded chambers, as shown to the performer and 1st AD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Every chamber verified empty.
    Cold,
    /// Dummies only (and empties).
    Dummies,
    /// Blanks only (and empties).
    Blanks,
    /// Dummies and blanks.
    Mixed,
}

impl Condition {
    /// Derives the condition from recorded chambers; `None` if a spent casing or live round is in one.
    pub fn of(chambers: &[Chamber]) -> Option<Self> {
        let (mut dummies, mut blanks) = (false, false);
        for c in chambers {
            match c {
                Chamber::Empty => {}
                Chamber::Round {
                    kind: AmmoKind::Dummy,
                    ..
                } => dummies = true,
                Chamber::Round {
                    kind: AmmoKind::Blank(_),
                    ..
                } => blanks = true,
                Chamber::Round {
                    kind: AmmoKind::Live,
                    ..
                }
                | Chamber::Spent { .. } => return None,
            }
        }
        Some(match (dummies, blanks) {
            (false, false) => Condition::Cold,
            (true, false) => Condition::Dummies,
            (false, true) => Condition::Blanks,
            (true, true) => Condition::Mixed,
        })
    }

    /// How it reads to the crew.
    pub fn words(self) -> &'static str {
        match self {
            Condition::Cold => "cold (every chamber empty)",
            Condition::Dummies => "loaded with dummies",
            Condition::Blanks => "loaded with blanks",
            Condition::Mixed => "loaded with dummies and blanks",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_with_actionable_messages() {
        assert_eq!(
            SerialNumber::parse("ab-123").map(String::from),
            Ok("AB-123".to_owned())
        );
        assert!(SerialNumber::parse("AB 123").is_err());
        assert_eq!(
            Calibre::parse(" .45   Long Colt ").map(String::from),
            Ok(".45 Long Colt".to_owned())
        );
        assert!(Calibre::parse("...").is_err());
        assert_eq!(RoundCount::parse("50").map(RoundCount::get), Ok(50));
        let e = RoundCount::parse("fifty")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("whole number"), "{e}");
        assert!(Positions::try_from(0).is_err());
        assert!(serde_json::from_str::<Positions>("0").is_err());
        assert!(serde_json::from_str::<RoundCount>("2000000").is_err());
    }

    #[test]
    fn condition_is_derived_from_every_chamber() {
        let Ok(c) = ContainerId::parse("C1") else {
            panic!()
        };
        let Ok(l) = LotId::parse("L1") else { panic!() };
        let dummy = Chamber::Round {
            container: c.clone(),
            lot: l.clone(),
            kind: AmmoKind::Dummy,
        };
        let blank = Chamber::Round {
            container: c,
            lot: l.clone(),
            kind: AmmoKind::Blank(BlankLoad::Quarter),
        };
        assert_eq!(
            Condition::of(&[Chamber::Empty, Chamber::Empty]),
            Some(Condition::Cold)
        );
        assert_eq!(
            Condition::of(&[dummy.clone(), Chamber::Empty]),
            Some(Condition::Dummies)
        );
        assert_eq!(Condition::of(&[dummy, blank]), Some(Condition::Mixed));
        assert_eq!(Condition::of(&[Chamber::Spent { lot: l }]), None);
    }
}
