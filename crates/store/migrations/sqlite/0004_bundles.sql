-- Sealed bundles: every 256 entries (entries 256n .. 256n+255) are kept as one row, in the C2SP
-- tlog-tiles entry-bundle form (each entry preceded by its length, two bytes big-endian), with the
-- stored hashes those entries create as one row keyed by the first hash's id (the hashes back to
-- back, 32 bytes each, in id order). Reading the log back then costs one row per 256 entries, not
-- three per entry. The entries after the last full bundle, and their hashes, stay one per row in
-- `entries` and `hashes`; the writer seals them, in the same transaction as the append that
-- completes the bundle, and deletes those rows. So a row may be deleted only once the bundle
-- holding it is stored; bundles and hash packs are never changed.
CREATE TABLE bundles (
    n    INTEGER PRIMARY KEY NOT NULL,
    data BLOB NOT NULL
) STRICT;

CREATE TABLE hash_packs (
    first INTEGER PRIMARY KEY NOT NULL,
    data  BLOB NOT NULL
) STRICT;

DROP TRIGGER entries_append_only_d;
CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries
WHEN old.idx < 0 OR NOT EXISTS (SELECT 1 FROM bundles WHERE n = old.idx / 256)
BEGIN SELECT RAISE(ABORT, 'log entries are append-only'); END;

DROP TRIGGER hashes_append_only_d;
CREATE TRIGGER hashes_append_only_d BEFORE DELETE ON hashes
WHEN coalesce((SELECT first + length(data) / 32 FROM hash_packs WHERE first <= old.id ORDER BY first DESC LIMIT 1), 0) <= old.id
BEGIN SELECT RAISE(ABORT, 'log hashes are append-only'); END;

CREATE TRIGGER bundles_append_only_u BEFORE UPDATE ON bundles BEGIN SELECT RAISE(ABORT, 'sealed bundles are append-only'); END;
CREATE TRIGGER bundles_append_only_d BEFORE DELETE ON bundles BEGIN SELECT RAISE(ABORT, 'sealed bundles are append-only'); END;
CREATE TRIGGER hash_packs_append_only_u BEFORE UPDATE ON hash_packs BEGIN SELECT RAISE(ABORT, 'sealed hashes are append-only'); END;
CREATE TRIGGER hash_packs_append_only_d BEFORE DELETE ON hash_packs BEGIN SELECT RAISE(ABORT, 'sealed hashes are append-only'); END;
