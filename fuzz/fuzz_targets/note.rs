//! Checkpoints and signed notes: parsing never panics, a parsed checkpoint prints back to the
//! same text, and nothing verifies against a key that did not sign it.
#![no_main]
use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::keys::LogVerifier;
use libfuzzer_sys::fuzz_target;

#[path = "shared/key.rs"]
mod key;
use key::verifier;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(c) = Checkpoint::parse_text(text) {
            assert_eq!(c.text(), text, "a parsed checkpoint prints back the same");
        }
        let _ = LogVerifier::from_text(text);
    }
    // The fuzzer cannot forge Ed25519: anything that opens is a bug.
    assert!(verifier().open(bytes).is_err(), "a note verified without the key");
    assert!(Checkpoint::open(bytes, verifier()).is_err());
});
