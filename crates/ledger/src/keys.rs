//! The log's Ed25519 key in C2SP `signed-note` text form.
//!
//! Private key: `PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>`.
//! Public (verifier) key: `<name>+<key id>+<base64(0x01 || 32-byte public key)>`, where the key id is
//! the first four bytes of `SHA-256(name || 0x0A || 0x01 || public key)` (c2sp.org/signed-note,
//! "Signatures"). The key's name is the log's origin.

use base64::Engine;
use signed_note::{Note, NoteError, Signer, StandardSigner, StandardVerifier, VerifierList};
use std::fmt;

/// Why a key could not be read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the private key is not in signed-note form (PRIVATE+KEY+<name>+<id>+<base64>) or its id does not match"
    )]
    PrivateKey,
    #[error(
        "the public key {0:?} is not a signed-note Ed25519 verifier key (<name>+<id>+<base64>)"
    )]
    PublicKey(String),
    #[error("the log name {0:?} is not allowed: it must be non-empty with no spaces and no '+'")]
    Name(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The node's signing key. `Debug` never shows the secret.
#[derive(Clone)]
pub struct LogSigner {
    signer: StandardSigner,
    private_text: String,
    public_text: String,
}

impl fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigner")
            .field("public", &self.public_text)
            .field("private", &"<redacted>")
            .finish()
    }
}

impl LogSigner {
    /// A new random key for the log `name`.
    pub fn generate(name: &str) -> Result<LogSigner, KeyError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(KeyError::Name(name.to_owned()));
        }
        let (private, _) = signed_note::generate_key(&mut rand_core::OsRng, name);
        LogSigner::from_text(&private)
    }

    /// Reads a private key in signed-note form.
    pub fn from_text(text: &str) -> Result<LogSigner, KeyError> {
        let text = text.trim();
        let signer = StandardSigner::new(text).map_err(|_| KeyError::PrivateKey)?;
        // The seed is the fifth '+' field (base64 may itself hold '+'), after the 0x01 algorithm byte.
        let seed_b64 = text.splitn(5, '+').nth(4).ok_or(KeyError::PrivateKey)?;
        let seed = base64::engine::general_purpose::STANDARD
            .decode(seed_b64)
            .map_err(|_| KeyError::PrivateKey)?;
        let seed: [u8; 32] = seed
            .get(1..)
            .and_then(|s| s.try_into().ok())
            .ok_or(KeyError::PrivateKey)?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public_text =
            signed_note::new_ed25519_verifier_key(signer.name(), &signing.verifying_key());
        Ok(LogSigner {
            signer,
            private_text: text.to_owned(),
            public_text,
        })
    }

    /// The private key text, for the key file only.
    pub fn private_text(&self) -> &str {
        &self.private_text
    }

    /// The public key in signed-note form.
    pub fn public_text(&self) -> &str {
        &self.public_text
    }

    /// The key's (and log's) name.
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Result<LogVerifier, KeyError> {
        LogVerifier::from_text(&self.public_text)
    }

    /// Signs `text` (which must end in a newline) as a signed note.
    pub fn sign_note(&self, text: &str) -> Result<Vec<u8>, KeyError> {
        let mut note = Note::new(text.as_bytes(), &[]).map_err(note_err)?;
        note.add_sigs(&[&self.signer]).map_err(note_err)?;
        Ok(note.to_bytes())
    }
}

fn note_err(e: NoteError) -> KeyError {
    KeyError::Sign(e.to_string())
}

/// A log's public key, for checking its signed notes.
#[derive(Clone)]
pub struct LogVerifier {
    verifier: StandardVerifier,
    /// The key and its ID (c2sp.org/signed-note, "Signatures"), for [`LogVerifier::open_all`].
    pub(crate) key: ed25519_dalek::VerifyingKey,
    pub(crate) id: u32,
    name: String,
    text: String,
}

impl fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogVerifier({})", self.text)
    }
}

/// Why a signed note was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteCheckError {
    #[error("not a well-formed signed note")]
    Malformed,
    #[error("no signature by the log's key {0}")]
    NotSignedByLog(String),
    #[error("the signature by {0} is not valid for this text")]
    BadSignature(String),
}

impl LogVerifier {
    /// Reads a public key in signed-note form.
    pub fn from_text(text: &str) -> Result<LogVerifier, KeyError> {
        let text = text.trim();
        let verifier =
            StandardVerifier::new(text).map_err(|_| KeyError::PublicKey(text.to_owned()))?;
        let bad = || KeyError::PublicKey(text.to_owned());
        // `<name>+<id, 8 hex>+<base64(0x01 || 32-byte key)>`, as StandardVerifier just checked.
        let mut fields = text.splitn(3, '+');
        let name = fields.next().ok_or_else(bad)?.to_owned();
        let id = fields
            .next()
            .and_then(|id| u32::from_str_radix(id, 16).ok())
            .ok_or_else(bad)?;
        let key = fields
            .next()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .and_then(|key| <[u8; 32]>::try_from(key.get(1..)?).ok())
            .and_then(|key| ed25519_dalek::VerifyingKey::from_bytes(&key).ok())
            .ok_or_else(bad)?;
        Ok(LogVerifier {
            verifier,
            key,
            id,
            name,
            text: text.to_owned(),
        })
    }

    /// The key's (and log's) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key in signed-note form.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Checks that `note` carries a valid signature by this key; returns the signed text.
    /// Signatures by other keys are ignored, as c2sp.org/signed-note asks.
    pub fn open(&self, note: &[u8]) -> Result<String, NoteCheckError> {
        let parsed = Note::from_bytes(note).map_err(|_| NoteCheckError::Malformed)?;
        let known = VerifierList::new(vec![Box::new(self.verifier.clone())]);
        match parsed.verify(&known) {
            Ok(_) => {
                String::from_utf8(parsed.text().to_vec()).map_err(|_| NoteCheckError::Malformed)
            }
            Err(NoteError::UnverifiedNote) => {
                Err(NoteCheckError::NotSignedByLog(self.text.clone()))
            }
            Err(NoteError::InvalidSignature { .. }) => {
                Err(NoteCheckError::BadSignature(self.text.clone()))
            }
            Err(_) => Err(NoteCheckError::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_and_signs() {
        let signer = LogSigner::generate("armory.test/log").unwrap();
        let again = LogSigner::from_text(signer.private_text()).unwrap();
        assert_eq!(again.public_text(), signer.public_text());
        let note = signer.sign_note("hello\n").unwrap();
        let verifier = signer.verifier().unwrap();
        assert_eq!(verifier.open(&note).unwrap(), "hello\n");
        let other = LogSigner::generate("armory.test/log").unwrap();
        assert!(matches!(
            other.verifier().unwrap().open(&note),
            Err(NoteCheckError::NotSignedByLog(_))
        ));
        assert!(!format!("{signer:?}").contains(signer.private_text()));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!(
            LogSigner::generate("has space").unwrap_err(),
            KeyError::Name("has space".into())
        );
        assert_eq!(
            LogSigner::from_text("garbage").unwrap_err(),
            KeyError::PrivateKey
        );
        assert!(LogVerifier::from_text("name+00000000+AAAA").is_err());
    }
}
