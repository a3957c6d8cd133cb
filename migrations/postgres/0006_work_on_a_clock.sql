-- Starts sent with an idempotency key: the same key from the same user within a day gives back
-- the job it started (`fingerprint`: what the start asked for, to refuse the key with other
-- parameters). Keys older than a day are ignored, and deleted as events are pruned.
CREATE TABLE start_keys (
    owner       TEXT COLLATE "C" NOT NULL,
    key         TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT   NOT NULL,
    job_id      TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX start_keys_created_at ON start_keys (created_at);

-- Kinds an operator paused (`*`: every kind): claims pass their queued jobs over.
CREATE TABLE kind_pauses (
    kind      TEXT COLLATE "C" PRIMARY KEY,
    paused_by TEXT   NOT NULL,
    paused_at BIGINT NOT NULL
);

-- Automatic retries: a job's current (or next) attempt, how many it may take, and the attempts
-- that failed and were tried again (a JSON array of {n, started_at, finished_at, error}); each
-- log line says which attempt wrote it.
ALTER TABLE jobs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN max_attempts BIGINT NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN attempts TEXT;
ALTER TABLE job_logs ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;
