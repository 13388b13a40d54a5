//! armory-ledger: the signed, append-only log every act on set is written to.
//!
//! Everything here follows open formats so that an auditor can check a log without Armory:
//! - entries are canonical JSON ([`entry`], [`canonical`]), one byte form per event;
//! - the tree is the RFC 6962 Merkle tree ([`merkle`]);
//! - checkpoints are C2SP `tlog-checkpoint`s signed as C2SP `signed-note`s with Ed25519 ([`checkpoint`], [`keys`];
//!   many at once by batch verification, `notes`);
//! - the tree and entries are published as C2SP `tlog-tiles` ([`tiles`]);
//! - a receipt for one entry is a C2SP `tlog-proof` ([`proof`]);
//! - [`verify`] checks entries, stored hashes, tiles and checkpoints and names the first thing that is wrong.
//!
//! No IO happens here except reading files in [`verify::verify_export_dir`]; storage is `armory-store`'s job.
#![forbid(unsafe_code)]

pub mod canonical;
pub mod checkpoint;
pub mod entry;
pub mod keys;
pub mod merkle;
mod notes;
pub mod proof;
pub mod tiles;
pub mod verify;
pub mod webauthn;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use entry::{Actor, Entry, EntryError, MAX_ENTRY_SIZE};
pub use keys::{KeyError, LogSigner, LogVerifier};
pub use merkle::Hash;
