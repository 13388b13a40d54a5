//! Canonical JSON: the one byte form of a log entry.
//!
//! Rules (DESIGN.md §4): UTF-8; object keys sorted by their UTF-8 bytes; no insignificant whitespace;
//! numbers are integers only (fitting i64 or u64); strings escaped as `serde_json` escapes them
//! (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as `\u00XX`, everything else
//! as raw UTF-8). The decoder re-encodes what it parsed and refuses any input whose bytes differ, so
//! duplicate keys, floats, `-0`, unsorted keys, extra spaces and alternative escapes are all refused.

use serde_json::Value;

/// Why bytes are not canonical JSON, or why a value cannot be encoded canonically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("not valid JSON: {0}")]
    Syntax(String),
    #[error("number {0} is not an integer; canonical entries hold integers only")]
    NotInteger(String),
    #[error(
        "not in canonical form at byte {offset} (keys must be sorted, no spaces, no duplicate keys, minimal escapes)"
    )]
    NotCanonical { offset: usize },
}

/// Encodes `value` canonically.
pub fn encode(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out)?;
    Ok(out)
}

pub(crate) fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalError::NotInteger(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map order depends on a crate feature.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write(v, out)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping is minimal and deterministic; writing to a Vec cannot fail.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// Checks that `input` is byte for byte the canonical form `canonical`; names the first difference.
pub(crate) fn same_bytes(canonical: &[u8], input: &[u8]) -> Result<(), CanonicalError> {
    if canonical == input {
        return Ok(());
    }
    let offset = canonical
        .iter()
        .zip(input)
        .position(|(a, b)| a != b)
        .unwrap_or(canonical.len().min(input.len()));
    Err(CanonicalError::NotCanonical { offset })
}

/// Parses canonical JSON, refusing any byte form other than the canonical one.
pub fn decode(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| CanonicalError::Syntax(e.to_string()))?;
    same_bytes(&encode(&value)?, bytes)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_spaces_removed() {
        let v = json!({"b": 1, "a": [true, null, "x\ny"], "A": -3});
        assert_eq!(
            encode(&v).unwrap(),
            br#"{"A":-3,"a":[true,null,"x\ny"],"b":1}"#.to_vec()
        );
    }

    #[test]
    fn decode_refuses_every_other_form() {
        assert!(decode(br#"{"a":1,"b":2}"#).is_ok());
        for bad in [
            &br#"{"b":2,"a":1}"#[..],
            br#"{"a": 1}"#,
            br#"{"a":1,"a":1}"#,
            br#"{"a":1.0}"#,
            br#"{"a":1e2}"#,
            br#"{"a":-0}"#,
            br#"{"a":"\u0041"}"#,
            br#"{"a":1} "#,
            br#"{"a":18446744073709551616}"#,
        ] {
            assert!(
                decode(bad).is_err(),
                "accepted {}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn floats_are_refused_on_encode() {
        assert!(matches!(
            encode(&json!({"x": 0.5})),
            Err(CanonicalError::NotInteger(_))
        ));
    }
}
