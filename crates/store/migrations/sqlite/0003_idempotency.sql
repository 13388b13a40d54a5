-- Idempotency keys of mutating requests, written in the same transaction as the entries they
-- produced, so that a retry over flaky set Wi-Fi finds the first attempt's outcome.
CREATE TABLE idempotency (
    key     TEXT PRIMARY KEY NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
