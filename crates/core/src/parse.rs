//! Parse, don't validate: the error every domain value's `parse` returns, and the macro that
//! builds string newtypes whose only way in (including serde) is their `parse` function.

use std::fmt;

/// Why a piece of input could not become a domain value. The message is written for the person
/// who typed it: it names the field and says what a good value looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The kind of value that was expected, e.g. "firearm id".
    pub what: &'static str,
    /// What was wrong and what would be accepted.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, message: impl Into<String>) -> Self {
        Self {
            what,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.message)
    }
}

/// Shortens user input for inclusion in an error message.
pub(crate) fn shown(input: &str) -> String {
    let mut s: String = input.chars().take(40).collect();
    if input.chars().count() > 40 {
        s.push('…');
    }
    format!("{s:?}")
}

/// Declares a `String` newtype whose constructor is `$check(&str) -> Result<String, ParseError>`.
/// It gets `parse`, `as_str`, `TryFrom<&str>`, `TryFrom<String>`, `FromStr`, `Display`,
/// `Into<String>`, and serde support that goes through `parse`.
macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $check:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses user input; the error says what a valid value looks like.
            pub fn parse(input: &str) -> Result<Self, $crate::parse::ParseError> {
                let check: fn(&str) -> Result<String, $crate::parse::ParseError> = $check;
                check(input).map(Self)
            }
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<&str> for $name {
            type Error = $crate::parse::ParseError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $name {
            type Error = $crate::parse::ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::parse::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_newtype;
