//! A check of an entry's bytes that builds nothing: for `armory verify`, which needs to know that
//! bytes are a canonical entry, and its index and origin, but not the entry itself.
//!
//! [`scan_entry`] accepts exactly the bytes [`super::Entry::decode`] accepts (the tests compare the
//! two over generated entries and mutations of them). It reads the one byte form the canonical
//! writer produces (DESIGN.md §4, [`crate::canonical`]) rather than parsing any JSON and writing it
//! back, so each rule below is stated as what that writer emits:
//! - the top level is `{"actors":[...],"event":{...},"index":N,"origin":"...","time":"...","v":1}`
//!   in that order (the writer's field order, which is sorted), nothing missing or extra
//!   (`deny_unknown_fields`); an actor is `{"assertion":X,"method":"...","person":"...","role":"..."}`
//!   with `assertion` optional and never `null` (it decodes to `None`, which the writer leaves out);
//! - no whitespace anywhere;
//! - object keys strictly increasing by the UTF-8 bytes of the decoded key (so no duplicates);
//! - integers only, minimal: `0`, or a non-zero digit then digits, with a `-` only before a non-zero
//!   value (`-0` parses as a float); in `i64::MIN..=u64::MAX` (larger ones parse as floats);
//!   `index` and `v` in `u64`, `v` exactly 1;
//! - strings escape `"` `\` and the control characters below 0x20 exactly as `serde_json` writes
//!   them (`\b \f \n \r \t`, others `\u00xx` in lowercase hex), nothing else: every other character,
//!   `/` and DEL included, is raw UTF-8;
//! - at most 127 nested arrays and objects, counting the entry's own object (`serde_json`'s
//!   recursion limit of 128 refuses the 128th);
//! - `time` is `YYYY-MM-DDTHH:MM:SS.mmmZ` with a real date; `event` is an object whose `type` is a
//!   non-empty string; the whole entry is at most [`super::MAX_ENTRY_SIZE`] bytes.

use super::{MAX_ENTRY_SIZE, is_rfc3339_millis_bytes};
use std::cmp::Ordering;

/// `serde_json`'s recursion limit: opening the 128th nested array or object is refused.
const DEPTH_LIMIT: usize = 128;

/// What the scan of a valid entry read: its index, its time, and its origin as written (a JSON
/// string body, still escaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHead<'a> {
    pub index: u64,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, a real date (the same bytes [`super::entry_time`] reads).
    pub time: [u8; 24],
    origin: &'a [u8],
}

impl EntryHead<'_> {
    /// Whether the entry's origin is `origin`. The stored form is the canonical escape of the
    /// origin, and that escape is one-to-one, so escaping `origin` and comparing bytes decides it.
    pub fn origin_is(&self, origin: &str) -> bool {
        // Most origins need no escape, and then their stored form is themselves; an origin that
        // needs one is never stored as itself (the escape is longer).
        if self.origin == origin.as_bytes() {
            return !origin.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        }
        let mut raw = self.origin.iter().copied();
        let mut expect = |want: &[u8]| want.iter().all(|&w| raw.next() == Some(w));
        let hex = b"0123456789abcdef";
        let all = origin.bytes().all(|b| match b {
            b'"' => expect(b"\\\""),
            b'\\' => expect(b"\\\\"),
            0x08 => expect(b"\\b"),
            0x0C => expect(b"\\f"),
            b'\n' => expect(b"\\n"),
            b'\r' => expect(b"\\r"),
            b'\t' => expect(b"\\t"),
            0x00..=0x1F => expect(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                hex[usize::from(b >> 4)],
                hex[usize::from(b & 0xF)],
            ]),
            _ => expect(&[b]),
        });
        all && raw.next().is_none()
    }
}

/// Scans `bytes` as a canonical entry; `None` when [`super::Entry::decode`] would refuse them.
/// (It says nothing of why: the caller decodes a refused entry for the message.)
pub fn scan_entry(bytes: &[u8]) -> Option<EntryHead<'_>> {
    if bytes.len() > MAX_ENTRY_SIZE {
        return None;
    }
    // The entry must be valid UTF-8. Outside strings the grammar allows ASCII only, so it is
    // exactly when each string's body is, and [`Cursor::string`] checks those.
    let mut c = Cursor { b: bytes, i: 0 };
    // Depth 1: the entry; 2: the actors array and the event; 3: an actor.
    c.lit(b"{\"actors\":[")?;
    if !c.eat(b']') {
        loop {
            c.actor()?;
            if c.eat(b',') {
                continue;
            }
            c.lit(b"]")?;
            break;
        }
    }
    c.lit(b",\"event\":{")?;
    if !c.object_members(2, true)? {
        return None;
    }
    c.lit(b",\"index\":")?;
    let index = c.unsigned()?;
    c.lit(b",\"origin\":")?;
    let origin = c.string()?;
    c.lit(b",\"time\":")?;
    let time = c.string()?;
    if !is_rfc3339_millis_bytes(time) {
        return None;
    }
    let time = time.try_into().ok()?;
    // `v` is a u64 written minimally, and only version 1 is read.
    c.lit(b",\"v\":1}")?;
    (c.i == bytes.len()).then_some(EntryHead {
        index,
        time,
        origin,
    })
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Reads the literal `s`. Its length is a constant, so the comparison is a few compares of
    /// words in place, not a call to `memcmp` (a `&[u8]` of unknown length was one per literal).
    fn lit<const N: usize>(&mut self, s: &[u8; N]) -> Option<()> {
        let end = self.i.checked_add(N)?;
        let here: &[u8; N] = self.b.get(self.i..end)?.try_into().ok()?;
        (here == s).then(|| self.i = end)
    }

    /// `{"assertion":X,"method":"...","person":"...","role":"..."}`, `assertion` optional, not null.
    fn actor(&mut self) -> Option<()> {
        self.lit(b"{")?;
        if self.lit(b"\"assertion\":").is_some() {
            if self.peek() == Some(b'n') {
                return None;
            }
            self.value(3)?;
            self.lit(b",")?;
        }
        self.lit(b"\"method\":")?;
        self.string()?;
        self.lit(b",\"person\":")?;
        self.string()?;
        self.lit(b",\"role\":")?;
        self.string()?;
        self.lit(b"}")
    }

    /// Any JSON value inside a container at `depth`.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' if depth + 1 >= DEPTH_LIMIT => None,
            b'{' => {
                self.i += 1;
                self.object_members(depth + 1, false).map(|_| ())
            }
            b'[' => {
                self.i += 1;
                if self.eat(b']') {
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    if self.eat(b',') {
                        continue;
                    }
                    return self.lit(b"]");
                }
            }
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            _ => self.integer(),
        }
    }

    /// The members and closing brace of an object at `depth` whose `{` was read. With `event`,
    /// returns whether it has a `type` that is a non-empty string (and refuses a `type` that is
    /// not a string); otherwise returns false.
    fn object_members(&mut self, depth: usize, event: bool) -> Option<bool> {
        if self.eat(b'}') {
            return Some(false);
        }
        let mut typed = false;
        let mut previous: Option<&'a [u8]> = None;
        loop {
            let key = self.string()?;
            if let Some(p) = previous
                && compare_decoded(p, key) != Ordering::Less
            {
                return None;
            }
            previous = Some(key);
            self.lit(b":")?;
            // A canonical key has one spelling, so the decoded key "type" is written `type`.
            if event && key == b"type" {
                typed = !self.string()?.is_empty();
            } else {
                self.value(depth)?;
            }
            if !self.eat(b',') {
                self.lit(b"}")?;
                return Some(typed);
            }
        }
    }

    /// A string of valid UTF-8; returns its body as written (between the quotes, escapes not
    /// decoded).
    fn string(&mut self) -> Option<&'a [u8]> {
        self.lit(b"\"")?;
        let start = self.i;
        // Every byte of the body outside escapes passes through `plain_run`, which ORs them in
        // here (and perhaps a few after them): with no top bit set the body is ASCII, valid
        // UTF-8 without a second look.
        let mut seen = 0u64;
        loop {
            self.i += plain_run(self.b.get(self.i..)?, &mut seen);
            match self.next()? {
                b'"' => {
                    let body = self.b.get(start..self.i - 1)?;
                    if seen & HIGH != 0 {
                        std::str::from_utf8(body).ok()?;
                    }
                    return Some(body);
                }
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        self.lit(b"00")?;
                        let high = match self.next()? {
                            b'0' => 0,
                            b'1' => 16,
                            _ => return None,
                        };
                        let low = match self.next()? {
                            d @ b'0'..=b'9' => d - b'0',
                            d @ b'a'..=b'f' => d - b'a' + 10,
                            _ => return None,
                        };
                        // These five have a short escape, which is the one written.
                        if matches!(high + low, 0x08 | 0x09 | 0x0A | 0x0C | 0x0D) {
                            return None;
                        }
                    }
                    _ => return None,
                },
                0x00..=0x1F => return None,
                // Not reached (`plain_run` stops only at the bytes above), but counted if it were.
                other => seen |= u64::from(other),
            }
        }
    }

    /// An integer as written for a `u64` or `i64`.
    fn integer(&mut self) -> Option<()> {
        if self.eat(b'-') {
            // A negative value is at most 2^63 in magnitude; `-0` is a float.
            match self.digits()? {
                0 => None,
                m if m <= 1u64 << 63 => Some(()),
                _ => None,
            }
        } else {
            self.digits().map(|_| ())
        }
    }

    fn unsigned(&mut self) -> Option<u64> {
        self.digits()
    }

    /// Minimal decimal digits of a value that fits a u64.
    fn digits(&mut self) -> Option<u64> {
        let first = self.next()?;
        if first == b'0' {
            return (!self.peek().is_some_and(|d| d.is_ascii_digit())).then_some(0);
        }
        if !(b'1'..=b'9').contains(&first) {
            return None;
        }
        let mut n = u64::from(first - b'0');
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        Some(n)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
/// The top bit of each byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// How many leading bytes of `b` need no attention inside a string: not `"`, `\\` or a control
/// character. Eight bytes at a time, then byte by byte for the last few of `b`. Every byte of the
/// run is ORed into `seen` (so is the rest of the word that ends it: more, never fewer).
///
/// A word holds such a byte exactly when one of the three classic zero-byte tests on it is
/// non-zero, and the lowest byte each test flags is its first match (a borrow only runs towards
/// the higher bytes, from a byte that matched), so the word's lowest flag is where the run ends.
fn plain_run(b: &[u8], seen: &mut u64) -> usize {
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut i = 0;
    for word in b.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        *seen |= w;
        // A byte below 0x20: the "has less than n" form of the zero-byte test, exact for n <= 128.
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
        let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
        let flags = control | quote | backslash;
        if flags != 0 {
            // Little-endian: the lowest flag is the first of the word's bytes that ends the run.
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    for &c in b.get(i..).unwrap_or_default() {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        *seen |= u64::from(c);
        i += 1;
    }
    i
}

/// Compares two canonical string bodies by the bytes of the strings they encode.
fn compare_decoded(a: &[u8], b: &[u8]) -> Ordering {
    if !a.contains(&b'\\') && !b.contains(&b'\\') {
        return a.cmp(b);
    }
    Decoded(a).cmp(Decoded(b))
}

/// The bytes a canonical string body encodes (every escape in one stands for one ASCII byte).
struct Decoded<'a>(&'a [u8]);

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        if first != b'\\' {
            self.0 = rest;
            return Some(first);
        }
        let (&kind, rest) = rest.split_first()?;
        self.0 = rest;
        Some(match kind {
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                // `\u00xx`: the last two are lowercase hex (checked by the scan).
                let hex = |d: u8| if d >= b'a' { d - b'a' + 10 } else { d - b'0' };
                let value = match rest.get(2..4) {
                    Some(&[h, l]) => hex(h) * 16 + hex(l),
                    _ => 0,
                };
                self.0 = rest.get(4..).unwrap_or(&[]);
                value
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Actor, Entry};
    use super::scan_entry;
    use serde_json::json;

    fn with_text(text: &str) -> Vec<u8> {
        Entry {
            v: 1,
            origin: "armory.test/log".into(),
            index: 7,
            time: "2026-11-23T06:35:55.123Z".into(),
            event: json!({"type": "note", "text": text}),
            actors: vec![Actor {
                person: "p1".into(),
                role: "armorer".into(),
                method: "local".into(),
                assertion: None,
            }],
        }
        .encode()
        .unwrap_or_default()
    }

    /// The run ends at the first byte that needs attention, wherever it falls in a word, with
    /// any bytes before or after it (a borrow from a matched byte must not move the end).
    #[test]
    fn a_plain_run_ends_at_its_first_quote_backslash_or_control_byte() {
        let stoppers = [b'"', b'\\', 0x00, 0x1F, b'\n'];
        let fillers = [
            b'a',
            0x20,
            0x21,
            0x5C + 1,
            0x7F,
            0x80,
            0xA0,
            0xFF,
            0x01 + b'"',
        ];
        for len in 0..20 {
            for at in 0..=len {
                for &stop in &stoppers {
                    for &fill in &fillers {
                        for &after in stoppers.iter().chain(&fillers) {
                            let mut b = vec![fill; len];
                            if at < len {
                                b[at] = stop;
                                for x in b.iter_mut().skip(at + 1) {
                                    *x = after;
                                }
                            }
                            let mut seen = 0;
                            let want = b
                                .iter()
                                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                                .unwrap_or(len);
                            assert_eq!(super::plain_run(&b, &mut seen), want, "{b:?}");
                            if fill >= 0x80 && want > 0 {
                                assert_ne!(seen & super::HIGH, 0);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The scan checks UTF-8 only in string bodies that are not ASCII: every other byte of an
    /// entry is ASCII by its grammar. Bad sequences at every place in a body (word-aligned or
    /// not, at its start and its end) are refused, as the decoder refuses them.
    #[test]
    fn strings_must_be_valid_utf8_wherever_the_bad_byte_falls() {
        let good = with_text("é€😀 plain ascii after");
        let head = scan_entry(&good).map(|h| (h.index, h.time));
        assert_eq!(head, Some((7, *b"2026-11-23T06:35:55.123Z")));
        let marker = b"QQQQQQQQQQQQQQQQQQQQ";
        let base = with_text(std::str::from_utf8(marker).unwrap_or_default());
        let at = base
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap_or_default();
        let bad: [&[u8]; 6] = [
            &[0x80],                   // a lone continuation byte
            &[0xC3],                   // a lead byte with nothing after it
            &[0xC0, 0xAF],             // an overlong '/'
            &[0xED, 0xA0, 0x80],       // a surrogate
            &[0xF4, 0x90, 0x80, 0x80], // past U+10FFFF
            &[0xE2, 0x82],             // a cut sequence
        ];
        for seq in bad {
            for offset in 0..=marker.len() - seq.len() {
                let mut bytes = base.clone();
                bytes[at + offset..at + offset + seq.len()].copy_from_slice(seq);
                assert!(Entry::decode(&bytes).is_err());
                assert_eq!(scan_entry(&bytes), None, "{seq:?} at {offset}");
            }
        }
        // A key of the event that is not ASCII (sorted before `type`), and the same cut short.
        let keyed = String::from_utf8(good.clone())
            .unwrap_or_default()
            .replace("\"text\"", "\"s\u{e9}\"");
        assert!(scan_entry(keyed.as_bytes()).is_some());
        let mut broken = keyed.into_bytes();
        let e = broken.iter().position(|&b| b == 0xC3).unwrap_or_default();
        broken[e + 1] = b'x';
        assert!(Entry::decode(&broken).is_err());
        assert_eq!(scan_entry(&broken), None);
    }
}
