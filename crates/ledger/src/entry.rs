//! A log entry: one event, who did it, when, and where in which log (DESIGN.md §4).
//!
//! The entry's bytes are its canonical JSON ([`crate::canonical`]); [`Entry::decode`] refuses any other
//! byte form, so one entry has exactly one encoding and one leaf hash.

use crate::canonical::{self, CanonicalError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[path = "entry_scan.rs"]
mod scan;
pub use scan::{EntryHead, scan_entry};

/// The entry format version written by this code.
pub const FORMAT_VERSION: u64 = 1;

/// The largest entry, in bytes. C2SP entry bundles prefix each entry with a big-endian uint16 length,
/// so an entry is at most 65,535 bytes.
pub const MAX_ENTRY_SIZE: usize = 65_535;

/// A person who acted in or confirmed the entry's event, and how they proved who they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The person's id in the production.
    pub person: String,
    /// The role they acted in (RULES.md §4).
    pub role: String,
    /// How they authenticated: `password`, `pin`, `passkey`, `api_token`, `local`.
    pub method: String,
    /// A WebAuthn assertion, where a passkey was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<Value>,
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Format version ([`FORMAT_VERSION`]).
    pub v: u64,
    /// The log's origin (the checkpoint origin line).
    pub origin: String,
    /// Zero-based position in the log.
    pub index: u64,
    /// When it happened: RFC 3339 UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub time: String,
    /// The event: a JSON object with a string `type`.
    pub event: Value,
    /// Who acted or confirmed.
    pub actors: Vec<Actor>,
}

/// Why bytes are not a valid entry, or an entry cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error(
        "entry is {0} bytes; the limit is {MAX_ENTRY_SIZE}. Store photos and documents by hash outside the log"
    )]
    TooLarge(usize),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("entry fields are wrong: {0}")]
    Shape(String),
    #[error("format version {0} is not supported (this build reads version {FORMAT_VERSION})")]
    Version(u64),
    #[error("time {0:?} is not RFC 3339 UTC with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)")]
    Time(String),
    #[error("the event must be a JSON object with a non-empty string \"type\"")]
    Event,
}

impl Entry {
    /// Checks the fields that the types cannot: version, time format, event shape.
    pub fn check(&self) -> Result<(), EntryError> {
        if self.v != FORMAT_VERSION {
            return Err(EntryError::Version(self.v));
        }
        if !is_rfc3339_millis_utc(&self.time) {
            return Err(EntryError::Time(self.time.clone()));
        }
        match self.event.get("type") {
            Some(Value::String(t)) if !t.is_empty() => Ok(()),
            _ => Err(EntryError::Event),
        }
    }

    /// The entry's canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        self.check()?;
        let bytes = self.write_canonical()?;
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Writes the canonical form directly (keys in sorted order), without building a JSON tree.
    fn write_canonical(&self) -> Result<Vec<u8>, CanonicalError> {
        let mut out = Vec::with_capacity(320);
        out.extend_from_slice(b"{\"actors\":[");
        for (i, actor) in self.actors.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            if let Some(assertion) = &actor.assertion {
                out.extend_from_slice(b"\"assertion\":");
                canonical::write(assertion, &mut out)?;
                out.push(b',');
            }
            out.extend_from_slice(b"\"method\":");
            canonical::write_string(&actor.method, &mut out);
            out.extend_from_slice(b",\"person\":");
            canonical::write_string(&actor.person, &mut out);
            out.extend_from_slice(b",\"role\":");
            canonical::write_string(&actor.role, &mut out);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"event\":");
        canonical::write(&self.event, &mut out)?;
        out.extend_from_slice(format!(",\"index\":{},\"origin\":", self.index).as_bytes());
        canonical::write_string(&self.origin, &mut out);
        out.extend_from_slice(b",\"time\":");
        canonical::write_string(&self.time, &mut out);
        out.extend_from_slice(format!(",\"v\":{}}}", self.v).as_bytes());
        Ok(out)
    }

    /// Parses an entry, refusing any bytes that are not its canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        let entry: Entry = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_data() {
                EntryError::Shape(e.to_string())
            } else {
                EntryError::Canonical(CanonicalError::Syntax(e.to_string()))
            }
        })?;
        entry.check()?;
        canonical::same_bytes(&entry.write_canonical()?, bytes)?;
        Ok(entry)
    }

    /// The event's `type`.
    pub fn event_type(&self) -> &str {
        self.event.get("type").and_then(Value::as_str).unwrap_or("")
    }
}

/// What is wrong with an entry found at a position of a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryFault {
    /// The bytes are not an entry ([`Entry::decode`]'s reason).
    #[error(transparent)]
    Invalid(#[from] EntryError),
    /// A valid entry that gives another index.
    #[error("it says it is entry {0} (entries were deleted, reordered or copied)")]
    Index(u64),
    /// A valid entry of another log (named here; `verify` adds which log it was checked as).
    #[error("it belongs to log {0:?}")]
    Origin(String),
}

/// Checks that `bytes` are a canonical entry ([`Entry::decode`] accepts them) at position `index`
/// of the log `origin`, without building the entry when they are. Refused bytes are decoded to
/// say why, in [`Entry::decode`]'s words.
pub fn check_canonical_entry(bytes: &[u8], origin: &str, index: u64) -> Result<(), EntryFault> {
    if let Some(head) = scan_entry(bytes)
        && head.index == index
        && head.origin_is(origin)
    {
        return Ok(());
    }
    let entry = Entry::decode(bytes)?;
    if entry.index != index {
        return Err(EntryFault::Index(entry.index));
    }
    if entry.origin != origin {
        return Err(EntryFault::Origin(entry.origin));
    }
    Ok(())
}

/// The time of a canonical entry (one [`check_canonical_entry`] accepts), without parsing it:
/// canonical entries end with `"time":"YYYY-MM-DDTHH:MM:SS.mmmZ","v":1}`. `None` for bytes that
/// do not end that way.
pub fn entry_time(bytes: &[u8]) -> Option<[u8; 24]> {
    let head = bytes.len().checked_sub(40)?;
    let tail = &bytes[head..];
    if !tail.starts_with(b"\"time\":\"") || !tail.ends_with(b"\",\"v\":1}") {
        return None;
    }
    let time: [u8; 24] = tail[8..32].try_into().ok()?;
    is_rfc3339_millis_bytes(&time).then_some(time)
}

/// Formats Unix milliseconds as an entry time, `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0000-9999).
pub fn format_unix_millis(ms: i64) -> Option<String> {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    ))
}

/// Whether `s` is exactly `YYYY-MM-DDTHH:MM:SS.mmmZ` with a real calendar date.
pub fn is_rfc3339_millis_utc(s: &str) -> bool {
    is_rfc3339_millis_bytes(s.as_bytes())
}

/// [`is_rfc3339_millis_utc`] over bytes.
fn is_rfc3339_millis_bytes(b: &[u8]) -> bool {
    if b.len() != 24 {
        return false;
    }
    // `0` marks a digit; anything else must be there as it is.
    const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
    let shape_ok = b.iter().zip(SHAPE).all(|(&c, &s)| {
        if s == b'0' {
            c.is_ascii_digit()
        } else {
            c == s
        }
    });
    if !shape_ok {
        return false;
    }
    let num = |a: usize, z: usize| {
        b[a..z]
            .iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (num(0, 4), num(5, 7), num(8, 10));
    let (hour, minute, second) = (num(11, 13), num(14, 16), num(17, 19));
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Entry {
        Entry {
            v: 1,
            origin: "armory.test/log".into(),
            index: 7,
            time: "2026-11-23T06:35:55.123Z".into(),
            event: json!({"type": "note", "text": "dummies rattle-checked"}),
            actors: vec![Actor {
                person: "p1".into(),
                role: "armorer".into(),
                method: "local".into(),
                assertion: None,
            }],
        }
    }

    #[test]
    fn round_trips_through_one_byte_form() {
        let bytes = sample().encode().unwrap();
        assert_eq!(Entry::decode(&bytes).unwrap(), sample());
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with(
            r#"{"actors":[{"method":"local","person":"p1","role":"armorer"}],"event":{"text""#
        ));
    }

    #[test]
    fn the_time_of_a_canonical_entry_is_read_from_its_end() {
        let bytes = sample().encode().unwrap();
        assert_eq!(entry_time(&bytes), Some(*b"2026-11-23T06:35:55.123Z"));
        // An event holding a time-like text changes nothing: the time is the entry's own.
        let mut other = sample();
        other.event =
            json!({"type": "note", "text": "\"time\":\"2020-01-01T00:00:00.000Z\",\"v\":1}"});
        assert_eq!(
            entry_time(&other.encode().unwrap()),
            Some(*b"2026-11-23T06:35:55.123Z")
        );
        for bad in [&b""[..], b"{}", &bytes[..bytes.len() - 1]] {
            assert_eq!(entry_time(bad), None);
        }
    }

    #[test]
    fn refuses_bad_times_and_events() {
        for t in [
            "2026-02-29T00:00:00.000Z",
            "2026-11-23T06:35:55Z",
            "2026-11-23T24:00:00.000Z",
            "2026-11-23 06:35:55.123Z",
        ] {
            let mut e = sample();
            e.time = t.into();
            assert_eq!(e.encode(), Err(EntryError::Time(t.into())));
        }
        assert!(is_rfc3339_millis_utc("2024-02-29T23:59:59.999Z"));
        let mut e = sample();
        e.event = json!({"text": "no type"});
        assert_eq!(e.encode(), Err(EntryError::Event));
    }

    #[test]
    fn formats_known_times() {
        assert_eq!(format_unix_millis(0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_unix_millis(951_782_400_000).unwrap(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            format_unix_millis(1_795_415_755_123).unwrap(),
            "2026-11-23T06:35:55.123Z"
        );
        assert_eq!(format_unix_millis(-1).unwrap(), "1969-12-31T23:59:59.999Z");
        for ms in [0, 951_782_400_000, 1_795_415_755_123, 4_102_444_799_999] {
            assert!(is_rfc3339_millis_utc(&format_unix_millis(ms).unwrap()));
        }
    }

    #[test]
    fn refuses_oversized_entries() {
        let mut e = sample();
        e.event = json!({"type": "note", "text": "x".repeat(MAX_ENTRY_SIZE)});
        assert!(matches!(e.encode(), Err(EntryError::TooLarge(_))));
    }

    #[test]
    fn the_direct_writer_matches_the_generic_canonical_form() {
        let mut e = sample();
        e.actors.push(Actor {
            person: "p\u{e9}\"2".into(),
            role: "performer".into(),
            method: "passkey".into(),
            assertion: Some(json!({"z": 1, "a": ["\u{1}"]})),
        });
        let direct = e.encode().unwrap();
        let generic = canonical::encode(&serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(direct, generic);
        assert_eq!(Entry::decode(&direct).unwrap(), e);
        for bad in [
            String::from_utf8(direct.clone())
                .unwrap()
                .replace("\"v\":1", "\"v\":1.0"),
            String::from_utf8(direct.clone())
                .unwrap()
                .replace("{\"actors\"", "{ \"actors\""),
            String::from_utf8(direct.clone())
                .unwrap()
                .replace("\"index\":7", "\"index\":7,\"index\":7"),
        ] {
            assert!(Entry::decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_unknown_fields() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["extra"] = json!(1);
        let bytes = canonical::encode(&v).unwrap();
        assert!(matches!(Entry::decode(&bytes), Err(EntryError::Shape(_))));
    }
}
