//! Receipts (C2SP tlog-proof): parsing never panics, a parsed receipt prints back the same, and
//! its verification against any entry bytes never panics.
#![no_main]
use armory_ledger::keys::LogVerifier;
use armory_ledger::proof::EntryProof;
use libfuzzer_sys::fuzz_target;

/// A key made for this run: the fuzzer never sees its private half.
fn verifier() -> &'static LogVerifier {
    static KEY: std::sync::OnceLock<LogVerifier> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        armory_ledger::keys::LogSigner::generate("armory.test/fuzz")
            .and_then(|s| s.verifier())
            .unwrap()
    })
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(proof) = EntryProof::parse(bytes) {
        assert_eq!(proof.to_text(), bytes, "a parsed receipt prints back the same");
        assert!(proof.verify(b"{}", verifier()).is_err());
    }
});
