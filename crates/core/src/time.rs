//! Time as the log records it: UTC instants (`Timestamp`, milliseconds since the Unix epoch) and
//! calendar days (`Date`), in the RFC 3339 subset the log uses (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
//!
//! The calendar math is written out by hand (proleptic Gregorian calendar, Howard Hinnant's
//! `days_from_civil` / `civil_from_days`) so the core needs no date crate. Years are limited to
//! 0000..=9999 so every value prints in the fixed-width format and no arithmetic can overflow.

use std::fmt;

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date. `month` is 1..=12.
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a number of days since 1970-01-01.
const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

const fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const MIN_DAY: i64 = days_from_civil(0, 1, 1);
const MAX_DAY: i64 = days_from_civil(9999, 12, 31);

/// Why a time or date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text does not have the expected shape.
    #[error("expected a UTC time like 2021-10-21T13:46:00.000Z or 2021-10-21T13:46:00Z (got {0})")]
    TimeFormat(String),
    /// The text does not have the expected shape of a date.
    #[error("expected a date like 2021-10-21 (got {0})")]
    DateFormat(String),
    /// The fields are in range of the shape but name no real instant (e.g. February 30th).
    #[error("{0} is not a real date or time: {1}")]
    NoSuchTime(String, &'static str),
    /// Outside the years 0000 to 9999.
    #[error("times must fall between the years 0000 and 9999")]
    OutOfRange,
    /// Not a time of day.
    #[error("expected a time of day like 07:30 (24-hour clock; got {0})")]
    ClockFormat(String),
}

/// Reads `n` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let mut v = 0i64;
    for i in 0..n {
        let c = *b.get(at + i)?;
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at) == Some(&c)).then_some(())
}

/// Reads `YYYY-MM-DD` at the start of `b` and returns days since the epoch.
fn parse_date_prefix(b: &[u8]) -> Option<Result<i64, &'static str>> {
    let y = digits(b, 0, 4)?;
    expect(b, 4, b'-')?;
    let m = digits(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let d = digits(b, 8, 2)?;
    if !(1..=12).contains(&m) {
        return Some(Err("the month must be 01 to 12"));
    }
    if d < 1 || d > days_in_month(y, m) {
        return Some(Err("that month has no such day"));
    }
    Some(Ok(days_from_civil(y, m, d)))
}

/// An instant in UTC, in milliseconds since 1970-01-01T00:00:00Z, between the years 0000 and 9999.
/// Serialized as the RFC 3339 string `YYYY-MM-DDTHH:MM:SS.mmmZ`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(i64);

impl Timestamp {
    /// 1970-01-01T00:00:00.000Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// From milliseconds since the Unix epoch; refused outside the years 0000..=9999.
    pub fn from_unix_millis(ms: i64) -> Result<Self, TimeError> {
        let day = ms.div_euclid(MS_PER_DAY);
        if (MIN_DAY..=MAX_DAY).contains(&day) {
            Ok(Self(ms))
        } else {
            Err(TimeError::OutOfRange)
        }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_unix_millis(self) -> i64 {
        self.0
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS.mmmZ` or `YYYY-MM-DDTHH:MM:SSZ` (UTC only, no leap second).
    pub fn parse_rfc3339(input: &str) -> Result<Self, TimeError> {
        let b = input.as_bytes();
        let bad = || TimeError::TimeFormat(crate::parse::shown(input));
        if b.len() != 20 && b.len() != 24 {
            return Err(bad());
        }
        let day = match parse_date_prefix(b) {
            None => return Err(bad()),
            Some(Err(why)) => return Err(TimeError::NoSuchTime(crate::parse::shown(input), why)),
            Some(Ok(d)) => d,
        };
        let fields = (|| {
            expect(b, 10, b'T')?;
            let h = digits(b, 11, 2)?;
            expect(b, 13, b':')?;
            let mi = digits(b, 14, 2)?;
            expect(b, 16, b':')?;
            let s = digits(b, 17, 2)?;
            let ms = if b.len() == 24 {
                expect(b, 19, b'.')?;
                expect(b, 23, b'Z')?;
                digits(b, 20, 3)?
            } else {
                expect(b, 19, b'Z')?;
                0
            };
            Some((h, mi, s, ms))
        })();
        let (h, mi, s, ms) = fields.ok_or_else(bad)?;
        if h > 23 || mi > 59 || s > 59 {
            return Err(TimeError::NoSuchTime(
                crate::parse::shown(input),
                "hours must be 00-23, minutes and seconds 00-59",
            ));
        }
        Self::from_unix_millis(day * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000 + ms)
    }

    /// Always `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn to_rfc3339(self) -> String {
        let day = self.0.div_euclid(MS_PER_DAY);
        let rem = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(day);
        let (h, mi, s, ms) = (
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000,
        );
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }

    /// This instant plus some minutes (negative goes back), clamped to the supported years.
    pub fn plus_minutes(self, minutes: i64) -> Self {
        let ms = self.0.saturating_add(minutes.saturating_mul(60_000));
        Self(ms.clamp(MIN_DAY * MS_PER_DAY, (MAX_DAY + 1) * MS_PER_DAY - 1))
    }

    /// This instant to the minute on a clock `offset_minutes` from UTC, as people on set read it:
    /// `2021-10-21 07:46`.
    pub fn local_minute(self, offset_minutes: i32) -> String {
        let local = self.plus_minutes(i64::from(offset_minutes)).to_rfc3339();
        format!("{} {}", &local[..10], &local[11..16])
    }

    /// The calendar day of this instant at a fixed offset from UTC (in minutes, e.g. -360 for MDT).
    pub fn date_at_offset(self, offset_minutes: i32) -> Date {
        let local = self.plus_minutes(i64::from(offset_minutes));
        Date(local.0.div_euclid(MS_PER_DAY))
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse_rfc3339(&s)
    }
}
impl TryFrom<&str> for Timestamp {
    type Error = TimeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse_rfc3339(s)
    }
}
impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_rfc3339()
    }
}
impl std::str::FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_rfc3339(s)
    }
}
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A calendar day (a shoot day, a credential's expiry), `YYYY-MM-DD`, years 0000..=9999.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Date(i64);

impl Date {
    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(input: &str) -> Result<Self, TimeError> {
        let b = input.as_bytes();
        if b.len() != 10 {
            return Err(TimeError::DateFormat(crate::parse::shown(input)));
        }
        match parse_date_prefix(b) {
            None => Err(TimeError::DateFormat(crate::parse::shown(input))),
            Some(Err(why)) => Err(TimeError::NoSuchTime(crate::parse::shown(input), why)),
            Some(Ok(d)) => Ok(Self(d)),
        }
    }

    /// From year, month (1..=12) and day; `None` if no such date or outside 0000..=9999.
    pub fn from_ymd(year: i64, month: i64, day: i64) -> Option<Self> {
        if !(0..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Self(days_from_civil(year, month, day)))
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, i64, i64) {
        civil_from_days(self.0)
    }

    /// Days since 1970-01-01.
    pub const fn days_since_epoch(self) -> i64 {
        self.0
    }

    /// This date plus some days (negative goes back), clamped to the supported years.
    pub fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days).clamp(MIN_DAY, MAX_DAY))
    }

    /// Whole days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.0 - self.0
    }

    /// Midnight UTC at the start of this day.
    pub fn start(self) -> Timestamp {
        Timestamp(self.0 * MS_PER_DAY)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}
impl TryFrom<String> for Date {
    type Error = TimeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl TryFrom<&str> for Date {
    type Error = TimeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}
impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}
impl std::str::FromStr for Date {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// An offset from UTC in minutes as people write it: `UTC-06:00`, `UTC+05:30`.
pub fn utc_offset_words(offset_minutes: i32) -> String {
    let off = offset_minutes.unsigned_abs();
    format!(
        "UTC{}{:02}:{:02}",
        if offset_minutes < 0 { '-' } else { '+' },
        off / 60,
        off % 60
    )
}

/// A time of day on the set's clock (at the policy's offset), `HH:MM`, 24-hour: a call time.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(u16);

impl ClockTime {
    /// Parses exactly `HH:MM` (00:00 to 23:59).
    pub fn parse(input: &str) -> Result<Self, TimeError> {
        let b = input.trim().as_bytes();
        let read = || {
            if b.len() != 5 {
                return None;
            }
            expect(b, 2, b':')?;
            let (h, m) = (digits(b, 0, 2)?, digits(b, 3, 2)?);
            (h < 24 && m < 60).then(|| Self(u16::try_from(h * 60 + m).unwrap_or(0)))
        };
        read().ok_or_else(|| TimeError::ClockFormat(crate::parse::shown(input)))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}
impl TryFrom<String> for ClockTime {
    type Error = TimeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<ClockTime> for String {
    fn from(t: ClockTime) -> String {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        match Timestamp::parse_rfc3339(s) {
            Ok(t) => t,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(ts("1970-01-01T00:00:00.000Z").as_unix_millis(), 0);
        assert_eq!(ts("1970-01-01T00:00:00Z").as_unix_millis(), 0);
        assert_eq!(
            ts("2000-01-01T00:00:00.000Z").as_unix_millis(),
            946_684_800_000
        );
        // The Rust shooting, 1:46 pm MDT = 19:46 UTC.
        assert_eq!(
            ts("2021-10-21T19:46:00.000Z").as_unix_millis(),
            1_634_845_560_000
        );
        assert_eq!(
            ts("2038-01-19T03:14:07.999Z").as_unix_millis(),
            2_147_483_647_999
        );
        assert_eq!(ts("1969-12-31T23:59:59.999Z").as_unix_millis(), -1);
        assert_eq!(
            ts("0000-01-01T00:00:00.000Z").as_unix_millis(),
            -62_167_219_200_000
        );
        assert_eq!(
            ts("9999-12-31T23:59:59.999Z").as_unix_millis(),
            253_402_300_799_999
        );
    }

    #[test]
    fn printing_is_fixed_width_and_round_trips() {
        assert_eq!(
            ts("2021-10-21T19:46:00Z").to_rfc3339(),
            "2021-10-21T19:46:00.000Z"
        );
        for ms in [
            0,
            -1,
            1,
            951_782_400_000,
            1_709_164_800_123,
            -62_167_219_200_000,
            253_402_300_799_999,
        ] {
            let Ok(t) = Timestamp::from_unix_millis(ms) else {
                panic!("{ms} in range")
            };
            assert_eq!(ts(&t.to_rfc3339()), t);
        }
    }

    #[test]
    fn leap_years() {
        assert!(Timestamp::parse_rfc3339("2024-02-29T12:00:00Z").is_ok());
        assert!(Timestamp::parse_rfc3339("2000-02-29T12:00:00Z").is_ok());
        assert!(Timestamp::parse_rfc3339("1900-02-29T12:00:00Z").is_err());
        assert!(Timestamp::parse_rfc3339("2023-02-29T12:00:00Z").is_err());
        assert_eq!(
            ts("2024-03-01T00:00:00Z").as_unix_millis()
                - ts("2024-02-28T00:00:00Z").as_unix_millis(),
            2 * MS_PER_DAY
        );
        assert_eq!(
            ts("2023-03-01T00:00:00Z").as_unix_millis()
                - ts("2023-02-28T00:00:00Z").as_unix_millis(),
            MS_PER_DAY
        );
        assert_eq!(
            Date::from_ymd(2024, 2, 29).map(|d| d.to_string()),
            Some("2024-02-29".to_owned())
        );
        assert_eq!(Date::from_ymd(2100, 2, 29), None);
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "2021-10-21 19:46:00Z",
            "2021-10-21T19:46:00+00:00",
            "2021-10-21T19:46:00.0Z",
            "2021-10-21T19:46Z",
            "2021-13-01T00:00:00Z",
            "2021-04-31T00:00:00Z",
            "2021-10-21T24:00:00Z",
            "2021-10-21T23:60:00Z",
            "2021-10-21T23:59:60Z",
            "２０２１-10-21T19:46:00Z",
            "",
        ] {
            assert!(
                Timestamp::parse_rfc3339(bad).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(Timestamp::from_unix_millis(i64::MAX).is_err());
    }

    #[test]
    fn dates_and_offsets() {
        let Ok(d) = Date::parse("2021-10-21") else {
            panic!("date")
        };
        assert_eq!(d.ymd(), (2021, 10, 21));
        assert_eq!(d.plus_days(11).to_string(), "2021-11-01");
        assert_eq!(d.plus_days(-21).to_string(), "2021-09-30");
        // 03:00 UTC on the 22nd is still the 21st in New Mexico (UTC-6 in October).
        assert_eq!(ts("2021-10-22T03:00:00Z").date_at_offset(-360), d);
        assert_eq!(ts("2021-10-22T03:00:00Z").date_at_offset(0), d.plus_days(1));
        assert!(Date::parse("2021-1-21").is_err());
        let json = serde_json::to_string(&d).unwrap_or_default();
        assert_eq!(json, "\"2021-10-21\"");
    }

    #[test]
    fn serde_uses_rfc3339() {
        let t = ts("2021-10-21T19:46:00Z");
        assert_eq!(
            serde_json::to_string(&t).ok(),
            Some("\"2021-10-21T19:46:00.000Z\"".to_owned())
        );
        assert!(serde_json::from_str::<Timestamp>("\"2021-10-21T19:46:00+01:00\"").is_err());
        assert_eq!(
            serde_json::from_str::<Timestamp>("\"2021-10-21T19:46:00Z\"").ok(),
            Some(t)
        );
    }
}
