//! C2SP `tlog-checkpoint`: the signed statement of the log's size and root.
//!
//! The note text is (c2sp.org/tlog-checkpoint, "Note text"): the origin line, the tree size as ASCII
//! decimal with no leading zeroes, the root hash in standard base64, then zero or more extension lines;
//! every line ends in a newline. It is signed as a c2sp.org/signed-note by the log's Ed25519 key,
//! whose name is the origin.

use crate::keys::{KeyError, LogSigner, LogVerifier, NoteCheckError};
use crate::merkle::Hash;

/// A checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

/// Why a checkpoint is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint text is malformed: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Signature(#[from] NoteCheckError),
    #[error("checkpoint is for log {found:?}, not {expected:?}")]
    WrongOrigin { expected: String, found: String },
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl Checkpoint {
    /// The note text.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for ext in &self.extensions {
            text.push_str(ext);
            text.push('\n');
        }
        text
    }

    /// Parses note text (without signatures).
    pub fn parse_text(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("text must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Malformed("missing origin line"))?;
        let size_line = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing tree size line"))?;
        let valid_decimal = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        let size = size_line
            .parse::<u64>()
            .ok()
            .filter(|_| valid_decimal)
            .ok_or(CheckpointError::Malformed(
                "tree size is not a decimal without leading zeroes",
            ))?;
        let root = lines
            .next()
            .and_then(Hash::from_base64)
            .ok_or(CheckpointError::Malformed(
                "root hash is not 32 bytes of base64",
            ))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint with the log's key.
    pub fn sign(&self, signer: &LogSigner) -> Result<Vec<u8>, CheckpointError> {
        Ok(signer.sign_note(&self.text())?)
    }

    /// Verifies a signed checkpoint against the log's key and returns its content. The origin must be
    /// the key's name.
    pub fn open(note: &[u8], verifier: &LogVerifier) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::from_opened(verifier.open(note), verifier)
    }

    /// [`Checkpoint::open`] of each note, in order, their signatures checked in batches
    /// ([`LogVerifier::open_all`]).
    pub fn open_all(
        notes: &[&[u8]],
        verifier: &LogVerifier,
    ) -> Vec<Result<Checkpoint, CheckpointError>> {
        verifier
            .open_all(notes)
            .into_iter()
            .map(|text| Checkpoint::from_opened(text, verifier))
            .collect()
    }

    /// The checkpoint in a note's text, once the note is opened.
    fn from_opened(
        text: Result<String, NoteCheckError>,
        verifier: &LogVerifier,
    ) -> Result<Checkpoint, CheckpointError> {
        let checkpoint = Checkpoint::parse_text(&text?)?;
        if checkpoint.origin != verifier.name() {
            return Err(CheckpointError::WrongOrigin {
                expected: verifier.name().to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::empty_root;

    #[test]
    fn sign_open_and_tamper() {
        let signer = LogSigner::generate("armory.test/main").unwrap();
        let verifier = signer.verifier().unwrap();
        let cp = Checkpoint {
            origin: "armory.test/main".into(),
            size: 12,
            root: empty_root(),
            extensions: vec![],
        };
        let note = cp.sign(&signer).unwrap();
        assert_eq!(Checkpoint::open(&note, &verifier).unwrap(), cp);
        let tampered = String::from_utf8(note.clone())
            .unwrap()
            .replacen("\n12\n", "\n13\n", 1);
        assert!(matches!(
            Checkpoint::open(tampered.as_bytes(), &verifier),
            Err(CheckpointError::Signature(NoteCheckError::BadSignature(_)))
        ));
        let other = LogSigner::generate("armory.test/other").unwrap();
        let foreign = Checkpoint {
            origin: "armory.test/other".into(),
            ..cp.clone()
        };
        let foreign_note = foreign.sign(&other).unwrap();
        assert!(Checkpoint::open(&foreign_note, &verifier).is_err());
    }

    #[test]
    fn malformed_texts() {
        let root = empty_root().to_base64();
        for text in [
            format!("o\n012\n{root}\n"),
            format!("o\n12\n{root}"),
            "o\n12\nAAAA\n".to_string(),
            format!("\n12\n{root}\n"),
            format!("o\n-1\n{root}\n"),
        ] {
            assert!(Checkpoint::parse_text(&text).is_err(), "{text:?}");
        }
        let ok = Checkpoint::parse_text(&format!("o\n0\n{root}\next a\n")).unwrap();
        assert_eq!(ok.extensions, vec!["ext a".to_string()]);
    }
}
