-- Jobs, their persisted event stream and their log lines.
-- Times are Unix milliseconds (UTC).

CREATE TABLE jobs (
    -- Insertion order: the key for newest-first keyset pagination.
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    owner         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    params        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    current       INTEGER NOT NULL DEFAULT 0,
    total         INTEGER,
    unit          TEXT    NOT NULL DEFAULT '',
    message       TEXT    NOT NULL DEFAULT '',
    level         TEXT    NOT NULL DEFAULT 'success',
    error_code    TEXT,
    error_message TEXT,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    -- Id of the latest event about this job.
    event_id      INTEGER NOT NULL,
    -- Number of log lines written so far (the next line gets log_seq + 1).
    log_seq       INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX jobs_owner_seq ON jobs (owner, seq);
CREATE INDEX jobs_active ON jobs (status) WHERE status IN ('queued', 'running', 'cancelling');

-- Every event ever sent on a stream, so that a reconnecting client can be replayed what it missed.
CREATE TABLE events (
    id     INTEGER PRIMARY KEY,
    owner  TEXT    NOT NULL,
    job_id TEXT,
    type   TEXT    NOT NULL,
    data   TEXT    NOT NULL,
    at     INTEGER NOT NULL
);

CREATE INDEX events_owner_id ON events (owner, id);
CREATE INDEX events_job_id ON events (job_id, id);

CREATE TABLE job_logs (
    job_id TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    level  TEXT    NOT NULL,
    line   TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
