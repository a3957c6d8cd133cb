-- Starts sent with an idempotency key: the same key from the same user within a day gives back
-- the job it started (`fingerprint`: what the start asked for, to refuse the key with other
-- parameters). Keys older than a day are ignored, and deleted as events are pruned.
CREATE TABLE start_keys (
    owner       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    job_id      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
) WITHOUT ROWID;
CREATE INDEX start_keys_created_at ON start_keys (created_at);

-- Kinds an operator paused (`*`: every kind): claims pass their queued jobs over.
CREATE TABLE kind_pauses (
    kind      TEXT    PRIMARY KEY,
    paused_by TEXT    NOT NULL,
    paused_at INTEGER NOT NULL
);

-- Automatic retries: a job's current (or next) attempt, how many it may take, and the attempts
-- that failed and were tried again (a JSON array of {n, started_at, finished_at, error}); each
-- log line says which attempt wrote it.
ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN attempts TEXT;
ALTER TABLE job_logs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
