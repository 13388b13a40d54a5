//! The allocation-free entry check `armory verify` uses ([`scan_entry`]) accepts exactly the bytes
//! [`Entry::decode`] accepts, with the same index and origin: over generated entries (strings with
//! escapes, unicode and control characters, nested event values) and many mutations of their
//! bytes, and for hand-written cases of every rule.

use armory_ledger::entry::{Entry, EntryFault, check_canonical_entry, scan_entry};
use armory_ledger::{Actor, canonical};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Both checks agree on `bytes`: both refuse, or both accept with the same index and origin.
fn agree(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let scanned = scan_entry(bytes);
    let decoded = Entry::decode(bytes);
    match (&scanned, &decoded) {
        (Some(head), Ok(entry)) => {
            prop_assert_eq!(head.index, entry.index);
            prop_assert!(head.origin_is(&entry.origin), "origin {:?}", entry.origin);
            let other = format!("{}x", entry.origin);
            prop_assert!(!head.origin_is(&other));
            prop_assert_eq!(
                check_canonical_entry(bytes, &entry.origin, entry.index),
                Ok(())
            );
            Ok(true)
        }
        (None, Err(_)) => Ok(false),
        _ => Err(TestCaseError::fail(format!(
            "scan {:?}, decode {:?}: {}",
            scanned.map(|h| h.index),
            decoded.map(|e| e.index),
            String::from_utf8_lossy(bytes)
        ))),
    }
}

fn accepted(bytes: &[u8]) -> bool {
    match agree(bytes) {
        Ok(ok) => ok,
        Err(e) => panic!("{e}"),
    }
}

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z]{1,3}",
        1 => Just("\"".to_owned()),
        1 => Just("\\".to_owned()),
        1 => Just("/".to_owned()),
        1 => Just("\u{7f}".to_owned()),
        1 => Just("é€😀".to_owned()),
        2 => (0u32..0x20).prop_map(|c| char::from_u32(c).map(String::from).unwrap_or_default()),
        1 => any::<char>().prop_map(String::from),
        1 => Just(String::new()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|p| p.concat())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..12).prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn actor() -> impl Strategy<Value = Actor> {
    (
        text(),
        text(),
        text(),
        prop_oneof![3 => Just(None), 2 => value().prop_map(Some)],
    )
        .prop_map(|(person, role, method, assertion)| Actor {
            person,
            role,
            method,
            assertion,
        })
}

fn entry() -> impl Strategy<Value = Entry> {
    let origin = prop_oneof![3 => Just("armory.test/log".to_owned()), 1 => text()];
    let index = prop_oneof![0u64..100, any::<u64>()];
    let time = prop_oneof![
        8 => (0i64..253_402_300_799_999)
            .prop_map(|ms| armory_ledger::entry::format_unix_millis(ms).unwrap_or_default()),
        1 => text(),
        1 => Just("2026-02-29T00:00:00.000Z".to_owned()),
    ];
    let event_type = prop_oneof![
        6 => text().prop_map(Value::String),
        1 => value(),
    ];
    let event = (
        event_type,
        prop::collection::vec((text(), value()), 0..4),
        0u8..10,
    )
        .prop_map(|(t, members, shape)| {
            let mut map: Map<String, Value> = members.into_iter().collect();
            match shape {
                0 => return Value::Array(map.into_values().collect()),
                1 => {}
                _ => {
                    map.insert("type".into(), t);
                }
            }
            Value::Object(map)
        });
    (
        prop_oneof![9 => Just(1u64), 1 => 0u64..3],
        origin,
        index,
        time,
        event,
        prop::collection::vec(actor(), 0..3),
    )
        .prop_map(|(v, origin, index, time, event, actors)| Entry {
            v,
            origin,
            index,
            time,
            event,
            actors,
        })
}

/// The canonical form of an entry's JSON, valid or not (bad times, events, versions, null
/// assertions are written as they are, for the checks to refuse).
fn bytes_of(e: &Entry) -> Vec<u8> {
    let value = serde_json::to_value(e).unwrap_or(Value::Null);
    canonical::encode(&value).unwrap_or_default()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Swap(usize, usize, usize),
    Replace(usize, usize),
}

const INSERTS: &[u8] = b" \n\t\r\\\"0-+.eE,:{}[]u/\x7f\xc3\x80n1";

/// Textual swaps that keep JSON valid but break one canonical rule (or not, which is the point
/// of comparing).
const REPLACEMENTS: &[(&str, &str)] = &[
    (":1", ":01"),
    (":1", ":-1"),
    (":1", ":1.0"),
    (":1", ":1e0"),
    (":0", ":-0"),
    ("\\n", "\\u000a"),
    ("\\t", "\\u0009"),
    ("\\u001f", "\\u001F"),
    ("\\u0000", "\\u0000\\u0000"),
    ("/", "\\/"),
    ("a", "\\u0061"),
    ("\"method\"", "\"person\""),
    ("\"person\"", "\"method\""),
    ("\"role\"", "\"rolf\""),
    ("\"type\"", "\"typ\""),
    ("\"type\"", "\"\\u0074ype\""),
    ("{\"", "{\"assertion\":null,\""),
    ("{\"", "{\"a\":1,\""),
    (",\"", ",\"zz\":1,\""),
    ("}", ",\"a\":1}"),
    ("[", "[null,"),
    ("\"v\":1", "\"v\":2"),
    ("\"v\":1", "\"v\":1,\"v\":1"),
    ("Z\"", "z\""),
    ("true", "1"),
    ("null", "{}"),
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0usize..400;
    prop_oneof![
        (at.clone(), 0u8..8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        (at.clone(), 0..INSERTS.len()).prop_map(|(i, k)| Mutation::Insert(i, k)),
        (at.clone(), 1usize..4).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (at.clone(), 1usize..12).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        (at.clone(), at.clone(), 1usize..12).prop_map(|(a, b, n)| Mutation::Swap(a, b, n)),
        (at, 0..REPLACEMENTS.len()).prop_map(|(i, k)| Mutation::Replace(i, k)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match *m {
        Mutation::Flip(i, bit) => bytes[i % len] ^= 1 << bit,
        Mutation::Insert(i, k) => bytes.insert(i % (len + 1), INSERTS[k]),
        Mutation::Delete(i, n) => {
            let i = i % len;
            bytes.drain(i..(i + n).min(len));
        }
        Mutation::Duplicate(i, n) => {
            let i = i % len;
            let piece = bytes[i..(i + n).min(len)].to_vec();
            bytes.splice(i..i, piece);
        }
        Mutation::Swap(a, b, n) => {
            // Two non-overlapping ranges of n bytes trade places (e.g. two keys, two values).
            let (a, b) = ((a % len).min(b % len), (a % len).max(b % len));
            if a + n <= b && b + n <= len {
                let first = bytes[a..a + n].to_vec();
                let second = bytes[b..b + n].to_vec();
                bytes.splice(b..b + n, first);
                bytes.splice(a..a + n, second);
            }
        }
        Mutation::Replace(i, k) => {
            // Replace the occurrence of the pattern nearest after position i (wrapping).
            let (from, to) = REPLACEMENTS[k];
            let from = from.as_bytes();
            let hits: Vec<usize> = (0..len.saturating_sub(from.len() - 1))
                .filter(|&p| bytes[p..].starts_with(from))
                .collect();
            if let Some(&p) = hits.iter().find(|&&p| p >= i % len).or(hits.first()) {
                bytes.splice(p..p + from.len(), to.bytes());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn scan_and_decode_agree_on_generated_entries(e in entry()) {
        let bytes = bytes_of(&e);
        let valid = e.encode().is_ok() && e.actors.iter().all(|a| a.assertion != Some(Value::Null));
        prop_assert_eq!(agree(&bytes)?, valid, "{}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn scan_and_decode_agree_on_mutated_entries(
        e in entry(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = bytes_of(&e);
        for m in &mutations {
            apply(&mut bytes, m);
            agree(&bytes)?;
        }
    }
}

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

fn with_event(event: Value) -> Vec<u8> {
    let mut e = sample();
    e.event = event;
    bytes_of(&e)
}

/// The sample's bytes with `from` replaced by `to` (which must occur).
fn edited(from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes_of(&sample())).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn the_entry_shape() {
    assert!(accepted(&bytes_of(&sample())));
    let mut e = sample();
    e.actors.clear();
    assert!(accepted(&bytes_of(&e)));
    e.actors = vec![sample().actors[0].clone(); 3];
    e.actors[1].assertion = Some(json!({"z": [1, {"a": null}], "a": "x"}));
    e.actors[2].assertion = Some(json!(false));
    assert!(accepted(&bytes_of(&e)));
    // `"assertion":null` decodes to no assertion, which is written without the key.
    e.actors[2].assertion = Some(Value::Null);
    assert!(!accepted(&bytes_of(&e)));
    for (from, to) in [
        ("{\"actors\"", "{\"a\":1,\"actors\""),
        (",\"v\":1}", ",\"v\":1,\"w\":1}"),
        ("\"local\",", "\"local\",\"other\":\"x\","),
        (",\"role\":\"armorer\"", ""),
        (",\"index\":7", ""),
        ("\"v\":1", "\"v\":2"),
        ("\"v\":1", "\"v\":01"),
        ("\"v\":1", "\"v\":1.0"),
        ("\"index\":7", "\"index\":07"),
        ("\"index\":7", "\"index\":-7"),
        ("\"index\":7", "\"index\":\"7\""),
        ("\"origin\":\"armory.test/log\"", "\"origin\":null"),
        ("\"armorer\"", "7"),
        ("[{", "[{},{"),
        ("55.123Z", "55Z"),
        ("55.123Z", "61.123Z"),
        ("T06", " 06"),
    ] {
        assert!(!accepted(&edited(from, to)), "{from} -> {to}");
    }
    assert!(!accepted(&with_event(json!({"text": "no type"}))));
    assert!(!accepted(&with_event(json!({"type": ""}))));
    assert!(!accepted(&with_event(json!({"type": 1}))));
    assert!(!accepted(&with_event(json!(["type", "note"]))));
    assert!(!accepted(&with_event(json!("note"))));
    assert!(accepted(&with_event(json!({"type": "x"}))));
    assert!(accepted(&with_event(
        json!({"a": {"type": 1}, "type": "x"})
    )));
}

#[test]
fn no_whitespace_and_nothing_after() {
    let good = bytes_of(&sample());
    for at in [0, 1, 10, good.len() - 1, good.len()] {
        for ws in [b' ', b'\n', b'\t', b'\r'] {
            let mut b = good.clone();
            b.insert(at, ws);
            assert!(!accepted(&b));
        }
    }
    let mut b = good.clone();
    b.extend_from_slice(b"{}");
    assert!(!accepted(&b));
    assert!(!accepted(b""));
    assert!(!accepted(b"{}"));
}

#[test]
fn integers_are_minimal_and_fit_i64_or_u64() {
    let number = |n: &str| edited("\"text\"", &format!("\"n\":{n},\"text\""));
    for ok in [
        "0",
        "1",
        "-1",
        "10",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
    ] {
        assert!(accepted(&number(ok)), "{ok}");
    }
    for bad in [
        "-0",
        "01",
        "00",
        "+1",
        "1.0",
        "1e2",
        "1E2",
        "0.5",
        "-",
        "18446744073709551616",
        "-9223372036854775809",
        "-18446744073709551615",
        "99999999999999999999",
        "NaN",
        "Infinity",
    ] {
        assert!(!accepted(&number(bad)), "{bad}");
    }
    let index = |n: &str| edited("\"index\":7", &format!("\"index\":{n}"));
    assert_eq!(
        scan_entry(&index("18446744073709551615")).map(|h| h.index),
        Some(u64::MAX)
    );
    assert!(!accepted(&index("18446744073709551616")));
    assert!(accepted(&index("0")));
    assert!(!accepted(&index("-1")));
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let string = |s: &str| edited("\"dummies rattle-checked\"", &format!("\"{s}\""));
    let mut ok: Vec<String> = [
        "\\\"",
        "\\\\",
        "\\b",
        "\\f",
        "\\n",
        "\\r",
        "\\t",
        "/",
        "\u{7f}",
        "é€😀",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut bad: Vec<String> = [
        "\\/",
        "\\u0041",
        "\\a",
        "\\",
        "\\u00",
        "\\u00e9",
        "\\ud83d\\ude00",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in 0u8..0x20 {
        let lower = format!("\\u{c:04x}");
        let upper = format!("\\u{c:04X}");
        if upper != lower {
            bad.push(upper);
        }
        if matches!(c, 0x08 | 0x09 | 0x0A | 0x0C | 0x0D) {
            bad.push(lower);
        } else {
            ok.push(lower);
        }
        bad.push((c as char).to_string());
    }
    for s in &ok {
        assert!(accepted(&string(s)), "{s:?}");
    }
    for s in &bad {
        assert!(!accepted(&string(s)), "{s:?}");
    }
    // The same inside long strings, at every offset (strings are scanned eight bytes at a time).
    for at in 0..20 {
        let long = |piece: &str| format!("{}{piece}{}", "x".repeat(at), "y".repeat(20 - at));
        for s in &ok {
            assert!(accepted(&string(&long(s))), "{s:?} at {at}");
        }
        for s in &bad {
            assert!(!accepted(&string(&long(s))), "{s:?} at {at}");
        }
        assert!(!accepted(&string(&long("\""))), "quote at {at}");
    }
    // Invalid UTF-8, in a string and outside one.
    let mut b = string("ab");
    let at = b.windows(2).position(|w| w == b"ab").unwrap();
    b[at] = 0xff;
    assert!(!accepted(&b));
    b[at] = 0xc3;
    assert!(!accepted(&b));
    let mut b = bytes_of(&sample());
    b.insert(1, 0xc3);
    assert!(!accepted(&b));
}

#[test]
fn keys_are_strictly_sorted_by_their_decoded_bytes() {
    // Raw, `\u001f` sorts after `\"` (`u` > `"`); decoded, 0x1f sorts before 0x22.
    let e = with_event(json!({"type": "x", "\u{1f}": 1, "\"": 2}));
    let text = String::from_utf8(e.clone()).unwrap();
    assert!(text.contains(r#"{"\u001f":1,"\"":2,"type":"x"}"#), "{text}");
    assert!(accepted(&e));
    let swapped = text.replace(r#""\u001f":1,"\"":2"#, r#""\"":2,"\u001f":1"#);
    assert!(!accepted(swapped.as_bytes()));
    // `\n` (0x0a) before `[` (0x5b), though its raw `\` is 0x5c.
    assert!(accepted(&with_event(json!({"\n": 1, "[": 2, "type": "x"}))));
    let dup = edited("\"text\"", "\"text\":1,\"text\"");
    assert!(!accepted(&dup));
    let unsorted = edited("\"text\"", "\"z\":1,\"text\"");
    assert!(!accepted(&unsorted));
    // A prefix sorts first.
    assert!(accepted(&with_event(
        json!({"type": "x", "typ": 1, "typea": 2})
    )));
}

/// An event value nested `levels` deep in arrays.
fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(1), |v, _| json!([v]))
}

#[test]
fn nesting_stops_where_serde_json_stops() {
    // The entry's object is level 1 and the event's level 2, so the event holds 125 more levels.
    let deep = |levels| with_event(json!({"type": "x", "v": nested(levels)}));
    assert!(accepted(&deep(125)));
    assert!(!accepted(&deep(126)));
    // An assertion sits in the actors array (2) and the actor (3).
    let mut e = sample();
    e.actors[0].assertion = Some(nested(124));
    assert!(accepted(&bytes_of(&e)));
    e.actors[0].assertion = Some(nested(125));
    assert!(!accepted(&bytes_of(&e)));
    // Objects count as arrays do.
    let objects = |levels: usize| (0..levels).fold(json!(1), |v, _| json!({ "k": v }));
    assert!(accepted(&with_event(
        json!({"type": "x", "v": objects(125)})
    )));
    assert!(!accepted(&with_event(
        json!({"type": "x", "v": objects(126)})
    )));
}

#[test]
fn the_size_limit() {
    let base = bytes_of(&sample()).len();
    let text_len = "dummies rattle-checked".len();
    let sized = |total: usize| {
        let mut e = sample();
        e.event = json!({"type": "note", "text": "x".repeat(total - base + text_len)});
        let b = bytes_of(&e);
        assert_eq!(b.len(), total);
        b
    };
    assert!(accepted(&sized(armory_ledger::MAX_ENTRY_SIZE)));
    assert!(!accepted(&sized(armory_ledger::MAX_ENTRY_SIZE + 1)));
}

#[test]
fn index_and_origin_faults_are_named() {
    let bytes = bytes_of(&sample());
    assert_eq!(check_canonical_entry(&bytes, "armory.test/log", 7), Ok(()));
    assert_eq!(
        check_canonical_entry(&bytes, "armory.test/log", 8),
        Err(EntryFault::Index(7))
    );
    assert_eq!(
        check_canonical_entry(&bytes, "other/log", 7),
        Err(EntryFault::Origin("armory.test/log".into()))
    );
    assert!(matches!(
        check_canonical_entry(b"{}", "armory.test/log", 7),
        Err(EntryFault::Invalid(_))
    ));
    let mut e = sample();
    e.origin = "a\"b\\c\u{1}\n/é".into();
    let bytes = bytes_of(&e);
    assert_eq!(check_canonical_entry(&bytes, &e.origin, 7), Ok(()));
    let head = scan_entry(&bytes).unwrap();
    assert!(head.origin_is(&e.origin));
    assert!(!head.origin_is("a\"b\\c\u{1}\n/"));
    assert!(!head.origin_is("a\"b\\c\u{2}\n/é"));
    // An origin whose stored (escaped) form is spelled like another origin unescaped.
    e.origin = "a\\b".into();
    let bytes = bytes_of(&e);
    let head = scan_entry(&bytes).unwrap();
    assert!(head.origin_is("a\\b"));
    assert!(!head.origin_is("a\\\\b"));
}
