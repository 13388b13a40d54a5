-- One row the writer rewrites after a storage fault: a small durable write that proves writing
-- works again, and whose WAL frame takes the place of anything a failed commit left behind (see
-- src/sqlite/writer.rs). Not part of the log.
CREATE TABLE probe (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
