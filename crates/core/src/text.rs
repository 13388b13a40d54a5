//! Free text the crew types: short names (`Name`) and longer remarks, reasons and findings (`Text`).

use crate::parse::{ParseError, shown, string_newtype};

/// Longest `Name`, in characters.
pub const NAME_MAX: usize = 200;
/// Longest `Text`, in characters (a log entry holds at most 64 KiB).
pub const TEXT_MAX: usize = 4000;

fn check_name(input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(ParseError::new("name", "must not be empty"));
    }
    if t.chars().count() > NAME_MAX {
        return Err(ParseError::new(
            "name",
            format!("must be at most {NAME_MAX} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(ParseError::new(
            "name",
            format!(
                "must be one line without control characters (got {})",
                shown(t)
            ),
        ));
    }
    Ok(t.to_owned())
}

fn check_text(input: &str) -> Result<String, ParseError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(ParseError::new(
            "text",
            "must not be empty: write what happened or why",
        ));
    }
    if t.chars().count() > TEXT_MAX {
        return Err(ParseError::new(
            "text",
            format!("must be at most {TEXT_MAX} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ParseError::new(
            "text",
            "must not contain control characters other than newlines and tabs",
        ));
    }
    Ok(t.to_owned())
}

string_newtype!(
    /// A short, one-line, non-empty name: a person's name, a make, a supplier, a location's name.
    Name,
    check_name
);

string_newtype!(
    /// A non-empty remark of up to 4000 characters: a reason, findings, a description.
    Text,
    check_text
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_empty() {
        assert_eq!(
            Name::parse("  Hannah  ").map(String::from),
            Ok("Hannah".to_owned())
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("a\nb").is_err());
        assert!(Text::parse("a\nb").is_ok());
        assert!(Text::parse("").is_err());
    }
}
