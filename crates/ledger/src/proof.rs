//! C2SP `tlog-proof`: an offline-verifiable receipt that one entry is in the log.
//!
//! c2sp.org/tlog-proof, "Format": the line `c2sp.org/tlog-proof@v1`; optionally `extra <base64>`;
//! `index <decimal>`; zero or more base64 inclusion-proof hashes "starting from the leaf's sibling hash
//! up to the root's child hash"; an empty line; then the signed checkpoint verbatim.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::keys::LogVerifier;
use crate::merkle::{Hash, ProofError, leaf_hash, verify_inclusion};
use base64::Engine;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A receipt for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// Why a receipt is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProofError {
    #[error("not a c2sp.org/tlog-proof@v1 receipt: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the entry is not in the checkpointed tree: {0}")]
    Inclusion(#[from] ProofError),
}

impl EntryProof {
    /// The receipt's text.
    pub fn to_text(&self) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", b64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }

    /// Parses a receipt.
    pub fn parse(bytes: &[u8]) -> Result<EntryProof, EntryProofError> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| EntryProofError::Malformed("not UTF-8"))?;
        let (head, checkpoint) = text.split_once("\n\n").ok_or(EntryProofError::Malformed(
            "no empty line before the checkpoint",
        ))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(EntryProofError::Malformed(
                "first line must be c2sp.org/tlog-proof@v1",
            ));
        }
        let mut line = lines
            .next()
            .ok_or(EntryProofError::Malformed("missing index line"))?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(e)
                .map_err(|_| EntryProofError::Malformed("extra is not base64"))?;
            extra = Some(decoded);
            line = lines
                .next()
                .ok_or(EntryProofError::Malformed("missing index line"))?;
        }
        let digits = line
            .strip_prefix("index ")
            .ok_or(EntryProofError::Malformed("missing index line"))?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || (digits.len() > 1 && digits.starts_with('0'))
        {
            return Err(EntryProofError::Malformed(
                "index is not a decimal without leading zeroes",
            ));
        }
        let index = digits
            .parse()
            .map_err(|_| EntryProofError::Malformed("index is too large"))?;
        let proof = lines
            .map(|l| {
                Hash::from_base64(l).ok_or(EntryProofError::Malformed(
                    "a proof line is not a base64 hash",
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EntryProof {
            extra,
            index,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// Checks the receipt for `entry` (its bytes) against the log's key; returns the checkpoint.
    pub fn verify(
        &self,
        entry: &[u8],
        verifier: &LogVerifier,
    ) -> Result<Checkpoint, EntryProofError> {
        let checkpoint = Checkpoint::open(&self.checkpoint, verifier)?;
        verify_inclusion(
            self.index,
            checkpoint.size,
            &leaf_hash(entry),
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}
