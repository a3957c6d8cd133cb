-- Limits an operator set at run time (model/src/limits.rs), one per signature (kind, what it
-- counts by, window): the limit itself as JSON, who set it and when.
CREATE TABLE limits (
    signature TEXT    PRIMARY KEY,
    data      TEXT    NOT NULL,
    set_by    TEXT    NOT NULL,
    set_at    INTEGER NOT NULL
);
-- A row per start of a job under a rate limit, by the limit's signature and the job's key: a
-- claim counts a key's starts in the window, and deletes the older ones.
CREATE TABLE limit_uses (
    signature TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX limit_uses_by_key ON limit_uses (signature, key, at);
CREATE INDEX limit_uses_by_time ON limit_uses (signature, at);
