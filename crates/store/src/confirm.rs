//! The passkey confirmations of a stored log, checked in order: each assertion against the key
//! its person registered earlier in the log (armory-ledger's `webauthn::Confirmations`). A pass
//! of its own beside [`crate::check::check_log`], which checks entries on several threads: this
//! one needs them in order, and decodes only the few entries that concern passkeys.

use crate::{Store, StoreError};
use armory_ledger::verify::{Problem, check_confirmations};
use armory_ledger::webauthn::Confirmations;

/// Entries read at a time.
const CHUNK: u64 = 4096;

/// Why the confirmations do not hold: the store failed, or an entry is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Problem(#[from] Problem),
}

/// Checks every passkey confirmation of the first `size` entries; returns how many there were.
pub async fn check_passkeys<S: Store>(store: &S, size: u64) -> Result<u64, ConfirmError> {
    let mut confirmations = Confirmations::new();
    let mut start = 0;
    while start < size {
        let end = (start + CHUNK).min(size);
        for (index, bytes) in store.entries(start..end).await? {
            check_confirmations(&mut confirmations, index, &bytes)?;
        }
        start = end;
    }
    Ok(confirmations.checked)
}
