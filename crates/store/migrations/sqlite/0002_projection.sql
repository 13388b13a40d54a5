-- The projection: the current state, one row per item (see src/projection.rs). A cache of the log:
-- written with the entries that change it, rebuilt from the log at start-up when it disagrees.
CREATE TABLE projection (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (collection, key)
) STRICT, WITHOUT ROWID;
