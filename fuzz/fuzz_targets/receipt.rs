//! Receipts (C2SP tlog-proof): parsing never panics, a parsed receipt prints back the same, and
//! its verification against any entry bytes never panics.
#![no_main]
use armory_ledger::proof::EntryProof;
use libfuzzer_sys::fuzz_target;

#[path = "shared/key.rs"]
mod key;
use key::verifier;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(proof) = EntryProof::parse(bytes) {
        assert_eq!(proof.to_text(), bytes, "a parsed receipt prints back the same");
        assert!(proof.verify(b"{}", verifier()).is_err());
    }
});
