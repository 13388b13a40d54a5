//! What more than one target uses.
use armory_ledger::keys::LogVerifier;

/// A key made for this run: the fuzzer never sees its private half.
pub fn verifier() -> &'static LogVerifier {
    static KEY: std::sync::OnceLock<LogVerifier> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        armory_ledger::keys::LogSigner::generate("armory.test/fuzz")
            .and_then(|s| s.verifier())
            .unwrap()
    })
}
