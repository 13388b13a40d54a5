//! Free text the crew types: short names (`Name`) and longer remarks, reasons and findings (`Text`).

use crate::parse::{ParseError, shown, string_newtype};

/// Longest `Name`, in characters.
pub const NAME_MAX: usize = 200;
/// Longest `Text`, in characters (a log entry holds at most 64 KiB).
pub const TEXT_MAX: usize = 4000;

/// Characters that change how text around them is shown without being seen: the direction
/// overrides, embeddings and isolates (a name that reads one way and sorts another), directional
/// marks, zero-width spaces, word joiners and the byte-order mark. The zero-width joiner and
/// non-joiner are kept where a script needs them: between two letters.
fn hidden_formatting(t: &str) -> Option<char> {
    let chars: Vec<char> = t.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let between_letters = || {
            i > 0
                && chars[i - 1].is_alphabetic()
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())
        };
        let hidden = match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
            '\u{200E}' | '\u{200F}' | '\u{061C}' => true,
            '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}' => true,
            '\u{200C}' | '\u{200D}' => !between_letters(),
            _ => false,
        };
        hidden.then_some(c)
    })
}

fn no_hidden(what: &'static str, t: &str) -> Result<(), ParseError> {
    match hidden_formatting(t) {
        None => Ok(()),
        Some(c) => Err(ParseError::new(
            what,
            format!(
                "contains an invisible formatting character (U+{:04X}) that changes how it reads; type it again without it",
                u32::from(c)
            ),
        )),
    }
}

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
    no_hidden("name", t)?;
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
    no_hidden("text", t)?;
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

    #[test]
    fn invisible_formatting_is_refused_where_no_script_needs_it() {
        // A right-to-left override makes "REV-1\u{202E}2-VER" read as another id.
        for bad in [
            "Hannah\u{202E}hannaH",
            "Ha\u{200B}nnah",
            "\u{FEFF}Hannah",
            "Han\u{2066}nah",
            "Hannah\u{200F}",
            "Han\u{200D}",
        ] {
            let e = Name::parse(bad).map_or_else(|e| e.to_string(), |n| format!("accepted {n:?}"));
            assert!(e.contains("invisible formatting character"), "{bad:?}: {e}");
            assert!(Text::parse(bad).is_err(), "{bad:?}");
        }
        // A Persian name with its zero-width non-joiner between letters is fine.
        assert!(Name::parse("\u{0645}\u{06CC}\u{200C}\u{0634}\u{0648}\u{062F}").is_ok());
        assert!(Name::parse("Zoë O'Brien-Łukasz").is_ok());
    }
}
