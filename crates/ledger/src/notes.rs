//! Many signed notes by the log's key, checked at once: what a full verify of the log does with
//! its checkpoints (a node that signs a checkpoint per commit has about one per entry).
//!
//! A note is parsed here per c2sp.org/signed-note, with the same rules, in the same order, as
//! `signed_note::Note::from_bytes` and `Note::verify` that [`LogVerifier::open`] uses (a test
//! compares the two on every mutation of a note), and the log key's signatures of a group of notes
//! are checked together by Ed25519 batch verification (`ed25519_dalek::verify_batch`): one
//! multiscalar multiplication for the group instead of one double multiplication per signature.
//! A group that fails is checked again one signature at a time, so the result still names the
//! exact note that is bad.
//!
//! What batch verification accepts: `verify_batch` checks the sum of the group's verification
//! equations, each weighted by a 128-bit coefficient drawn from a transcript of the whole group.
//! For signatures made without the log's private key it accepts exactly what one-by-one
//! verification accepts (up to a chance of 2^-128). Only the holder of the private key could make
//! a signature that one accepts and the other refuses (by adding a small-order point), and that
//! holder can sign any text anyway.

use crate::keys::{LogVerifier, NoteCheckError};
use base64::Engine;
use ed25519_dalek::{SIGNATURE_LENGTH, Signature, Verifier};

/// The most signatures checked in one batch. The multiscalar multiplication's cost an added
/// point falls with the group's size, but a failed group is checked again one by one.
const BATCH: usize = 128;

/// Limits of `signed_note` (0.2.0), kept so that a note opens here exactly when it opens alone.
const MAX_NOTE_SIZE: usize = 1_000_000;
const MAX_NOTE_SIGNATURES: usize = 100;

/// A note's text and the log key's signature on it, before the signature is checked.
struct Signed<'a> {
    text: &'a [u8],
    signature: Signature,
}

impl LogVerifier {
    /// Checks every note of `notes` as [`LogVerifier::open`] checks one, and returns what it
    /// would return for each, in order; the signatures are checked in batches.
    pub fn open_all(&self, notes: &[&[u8]]) -> Vec<Result<String, NoteCheckError>> {
        let mut opened = Vec::with_capacity(notes.len());
        let mut unchecked = Vec::with_capacity(notes.len());
        for (at, note) in notes.iter().enumerate() {
            match self.signed(note) {
                Ok(signed) => {
                    unchecked.push((at, signed));
                    // Replaced below, once the signature is checked.
                    opened.push(Err(NoteCheckError::Malformed));
                }
                Err(e) => opened.push(Err(e)),
            }
        }
        for group in unchecked.chunks(BATCH) {
            let all_valid = group.len() > 1 && {
                let messages: Vec<&[u8]> = group.iter().map(|(_, s)| s.text).collect();
                let signatures: Vec<Signature> = group.iter().map(|(_, s)| s.signature).collect();
                let keys = vec![self.key; group.len()];
                ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
            };
            for (at, signed) in group {
                let valid = all_valid || self.key.verify(signed.text, &signed.signature).is_ok();
                if let Some(slot) = opened.get_mut(*at) {
                    *slot = if valid {
                        String::from_utf8(signed.text.to_vec())
                            .map_err(|_| NoteCheckError::Malformed)
                    } else {
                        Err(NoteCheckError::BadSignature(self.text().to_owned()))
                    };
                }
            }
        }
        opened
    }

    /// The text of `note` and its signature by this key, or why the note cannot open.
    ///
    /// c2sp.org/signed-note, "Format": "A signed note consists of a text ending in newline
    /// (U+000A), followed by a blank line (only a newline), followed by one or more signature
    /// lines of this form: em dash (U+2014), space (U+0020), key name, space, base64-encoded
    /// signature, newline." "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII
    /// control characters (those below U+0020) other than newline." "The text is separated
    /// from the signatures by the last empty line in the note."
    fn signed<'a>(&self, note: &'a [u8]) -> Result<Signed<'a>, NoteCheckError> {
        let malformed = NoteCheckError::Malformed;
        if note.len() > MAX_NOTE_SIZE {
            return Err(malformed);
        }
        let note = std::str::from_utf8(note).map_err(|_| NoteCheckError::Malformed)?;
        // Bytes of a multi-byte UTF-8 character are all 0x80 or above.
        if note.bytes().any(|b| b < 0x20 && b != b'\n') {
            return Err(malformed);
        }
        let (before, lines) = note.rsplit_once("\n\n").ok_or(NoteCheckError::Malformed)?;
        // The text includes its final newline, not the blank line.
        let text = note
            .as_bytes()
            .get(..before.len() + 1)
            .ok_or(NoteCheckError::Malformed)?;
        let lines = lines.strip_suffix('\n').ok_or(NoteCheckError::Malformed)?;
        // "Signatures": "Verifiers MUST ignore signatures from unknown keys, even if they share
        // a name or ID (but not both) with a known key. If the key name and ID match a known
        // key, verifiers MUST verify the signature." Every line must still be well formed.
        let mut ours = None;
        for (count, line) in lines.split('\n').enumerate() {
            let (name, id, signature) = signature_line(line)?;
            if count >= MAX_NOTE_SIGNATURES {
                return Err(malformed);
            }
            if ours.is_none() && name == self.name() && id == self.id {
                ours = Some(signature);
            }
        }
        let signature =
            ours.ok_or_else(|| NoteCheckError::NotSignedByLog(self.text().to_owned()))?;
        // A signature of another length by this key cannot verify.
        let signature = <[u8; SIGNATURE_LENGTH]>::try_from(signature.as_slice())
            .map_err(|_| NoteCheckError::BadSignature(self.text().to_owned()))?;
        Ok(Signed {
            text,
            signature: Signature::from_bytes(&signature),
        })
    }
}

/// One signature line, `— <name> <base64(key ID || signature)>` without its newline: the key's
/// name, its ID and the signature.
fn signature_line(line: &str) -> Result<(&str, u32, Vec<u8>), NoteCheckError> {
    let malformed = NoteCheckError::Malformed;
    let line = line.strip_prefix("— ").ok_or(NoteCheckError::Malformed)?;
    let (name, b64) = line.split_once(' ').ok_or(NoteCheckError::Malformed)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| NoteCheckError::Malformed)?;
    if decoded.len() < 5 || !signed_note::is_key_name_valid(name) {
        return Err(malformed);
    }
    let (id, signature) = decoded.split_at(4);
    let id = u32::from_be_bytes(id.try_into().map_err(|_| NoteCheckError::Malformed)?);
    Ok((name, id, signature.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::LogSigner;
    use signed_note::{Note, StandardSigner};

    const NAME: &str = "armory.test/main";

    fn texts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{NAME}\n{i}\nroot {i}\n")).collect()
    }

    /// `note` with the byte at `at` of its log signature's bytes changed.
    fn flip_signature_byte(note: &[u8], at: usize) -> Vec<u8> {
        let note = std::str::from_utf8(note).unwrap();
        let (text, line) = note.rsplit_once("\n\n").unwrap();
        let (head, b64) = line.trim_end().rsplit_once(' ').unwrap();
        let engine = base64::engine::general_purpose::STANDARD;
        let mut bytes = engine.decode(b64).unwrap();
        bytes[4 + at] ^= 0x01;
        format!("{text}\n\n{head} {}\n", engine.encode(bytes)).into_bytes()
    }

    #[test]
    fn a_batch_with_one_bad_signature_names_exactly_that_note() {
        let signer = LogSigner::generate(NAME).unwrap();
        let verifier = signer.verifier().unwrap();
        let texts = texts(150);
        let good: Vec<Vec<u8>> = texts.iter().map(|t| signer.sign_note(t).unwrap()).collect();
        // A byte of R, then of s; the note is in the second batch of 64.
        for byte in [10, 40] {
            let mut notes = good.clone();
            notes[70] = flip_signature_byte(&notes[70], byte);
            let all: Vec<&[u8]> = notes.iter().map(Vec::as_slice).collect();
            let opened = verifier.open_all(&all);
            assert_eq!(opened.len(), 150);
            for (i, result) in opened.iter().enumerate() {
                if i == 70 {
                    assert_eq!(
                        result,
                        &Err(NoteCheckError::BadSignature(verifier.text().to_owned()))
                    );
                } else {
                    assert_eq!(result.as_deref(), Ok(texts[i].as_str()), "note {i}");
                }
            }
        }
    }

    #[test]
    fn a_note_by_another_key_of_the_same_name_is_not_signed_by_the_log() {
        let signer = LogSigner::generate(NAME).unwrap();
        let impostor = LogSigner::generate(NAME).unwrap();
        let verifier = signer.verifier().unwrap();
        let ours = signer.sign_note("a\n").unwrap();
        let theirs = impostor.sign_note("b\n").unwrap();
        let opened = verifier.open_all(&[&ours, &theirs, &theirs]);
        let not_ours = Err(NoteCheckError::NotSignedByLog(verifier.text().to_owned()));
        assert_eq!(
            opened,
            vec![Ok("a\n".to_owned()), not_ours.clone(), not_ours.clone()]
        );
        assert_eq!(verifier.open(&theirs), not_ours);
    }

    #[test]
    fn notes_with_foreign_signatures_still_open() {
        let signer = LogSigner::generate(NAME).unwrap();
        let verifier = signer.verifier().unwrap();
        let (witness_key, _) = signed_note::generate_key(&mut rand_core::OsRng, "witness.test/w1");
        let (namesake_key, _) = signed_note::generate_key(&mut rand_core::OsRng, NAME);
        let witness = StandardSigner::new(&witness_key).unwrap();
        let namesake = StandardSigner::new(&namesake_key).unwrap();
        let ours = StandardSigner::new(signer.private_text()).unwrap();
        let texts = texts(5);
        let notes: Vec<Vec<u8>> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mut note = Note::new(text.as_bytes(), &[]).unwrap();
                // Ours first, last or between the others.
                let order: [&dyn signed_note::Signer; 3] = match i % 3 {
                    0 => [&ours, &witness, &namesake],
                    1 => [&witness, &namesake, &ours],
                    _ => [&namesake, &ours, &witness],
                };
                note.add_sigs(&order).unwrap();
                note.to_bytes()
            })
            .collect();
        let all: Vec<&[u8]> = notes.iter().map(Vec::as_slice).collect();
        let opened = verifier.open_all(&all);
        let expected: Vec<Result<String, NoteCheckError>> =
            texts.iter().map(|t| Ok(t.clone())).collect();
        assert_eq!(opened, expected);
        for note in &notes {
            assert!(verifier.open(note).is_ok());
        }
    }

    /// Every change of one byte of a signed note, and every cut: the batch gives what
    /// [`LogVerifier::open`] (signed_note's parser) gives for each.
    #[test]
    fn open_all_agrees_with_open_on_every_mutation() {
        let signer = LogSigner::generate(NAME).unwrap();
        let verifier = signer.verifier().unwrap();
        let (witness_key, _) = signed_note::generate_key(&mut rand_core::OsRng, "witness.test/w1");
        let witness = StandardSigner::new(&witness_key).unwrap();
        let ours = StandardSigner::new(signer.private_text()).unwrap();
        let mut note = Note::new(format!("{NAME}\n7\n\nroot\n").as_bytes(), &[]).unwrap();
        note.add_sigs(&[&witness, &ours]).unwrap();
        let note = note.to_bytes();
        let mut mutants = vec![note.clone()];
        for at in 0..note.len() {
            for byte in [note[at] ^ 0x01, b'\n', b' ', b'+', b'=', 0x00, 0xe2] {
                let mut m = note.clone();
                m[at] = byte;
                mutants.push(m);
            }
            let mut m = note.clone();
            m.remove(at);
            mutants.push(m);
            mutants.push(note[..at].to_vec());
            let mut m = note.clone();
            m.insert(at, b'\n');
            mutants.push(m);
        }
        let all: Vec<&[u8]> = mutants.iter().map(Vec::as_slice).collect();
        let opened = verifier.open_all(&all);
        let mut kinds = std::collections::BTreeSet::new();
        for (mutant, batch) in mutants.iter().zip(&opened) {
            assert_eq!(
                batch,
                &verifier.open(mutant),
                "{:?}",
                String::from_utf8_lossy(mutant)
            );
            kinds.insert(match batch {
                Ok(_) => "opened",
                Err(NoteCheckError::Malformed) => "malformed",
                Err(NoteCheckError::NotSignedByLog(_)) => "not signed by the log",
                Err(NoteCheckError::BadSignature(_)) => "bad signature",
            });
        }
        // Opened, malformed, not signed by the log and bad signature all occurred.
        assert_eq!(kinds.len(), 4);
    }
}
