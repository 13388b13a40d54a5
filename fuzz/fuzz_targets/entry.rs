//! Entries: the fast scan and the full decoder accept exactly the same bytes, and agree on the
//! index, origin and time of what they accept.
#![no_main]
use armory_ledger::entry::{Entry, check_canonical_entry, entry_time, scan_entry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let decoded = Entry::decode(bytes);
    let scanned = scan_entry(bytes);
    assert_eq!(decoded.is_ok(), scanned.is_some(), "scan and decode disagree");
    if let (Ok(entry), Some(head)) = (&decoded, scanned) {
        assert_eq!(head.index, entry.index);
        assert!(head.origin_is(&entry.origin));
        assert!(check_canonical_entry(bytes, &entry.origin, entry.index).is_ok());
        assert_eq!(entry_time(bytes).map(|t| t.to_vec()), Some(entry.time.as_bytes().to_vec()));
        // Canonical: encoding what was decoded gives the same bytes.
        assert_eq!(entry.encode().unwrap(), bytes);
    }
    let _ = armory_ledger::canonical::decode(bytes);
});
