-- The log: entries, the RFC 6962 stored hashes (Go tlog numbering), signed checkpoints.
-- Rows are only ever inserted; the triggers refuse updates and deletes made through SQLite.
-- (Someone who drops the triggers can still edit the file: `armory verify` finds that.)
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE entries (
    idx  INTEGER PRIMARY KEY NOT NULL,
    data BLOB NOT NULL
) STRICT;

CREATE TABLE hashes (
    id   INTEGER PRIMARY KEY NOT NULL,
    hash BLOB NOT NULL
) STRICT;

CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY NOT NULL,
    note BLOB NOT NULL
) STRICT;

CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'log entries are append-only'); END;
CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, 'log entries are append-only'); END;
CREATE TRIGGER hashes_append_only_u BEFORE UPDATE ON hashes BEGIN SELECT RAISE(ABORT, 'log hashes are append-only'); END;
CREATE TRIGGER hashes_append_only_d BEFORE DELETE ON hashes BEGIN SELECT RAISE(ABORT, 'log hashes are append-only'); END;
CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
