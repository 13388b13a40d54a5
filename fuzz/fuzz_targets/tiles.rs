//! Tiles and entry bundles as a client fetches them: tile paths parse back to themselves, and
//! bundles and hash tiles decode without panicking, re-encoding to the same bytes.
#![no_main]
use armory_ledger::tiles::{Tile, decode_bundle, decode_hash_tile, encode_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(path) = std::str::from_utf8(bytes)
        && let Ok(tile) = Tile::parse(path)
    {
        assert_eq!(tile.path(), path, "a parsed tile path prints back the same");
    }
    if let Ok(entries) = decode_bundle(bytes) {
        assert_eq!(encode_bundle(entries).unwrap(), bytes);
    }
    let _ = decode_hash_tile(bytes);
});
