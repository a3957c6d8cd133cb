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

-- Schedules: a job of `kind` with `params`, started as `owner` at every fire time of `cron` in
-- `timezone`. `next_fire_at` is the fire time it waits for: a fire moves it on, in the
-- transaction that starts the job, only while it is still that time, so that a fire time starts
-- at most one job whatever the number of processes.
CREATE TABLE schedules (
    id           TEXT    NOT NULL PRIMARY KEY,
    owner        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    params       TEXT    NOT NULL,
    cron         TEXT    NOT NULL,
    timezone     TEXT    NOT NULL,
    enabled      INTEGER NOT NULL,
    overlap      TEXT    NOT NULL CHECK (overlap IN ('skip', 'start')),
    catch_up     TEXT    NOT NULL CHECK (catch_up IN ('skip', 'one')),
    max_attempts INTEGER,
    next_fire_at INTEGER,
    last_job_id  TEXT,
    last_fire_at INTEGER,
    last_skip    TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled = 1;
CREATE INDEX schedules_by_owner ON schedules (owner, created_at);
-- The schedule that started a job, and the fire time it stands for: one job per fire time.
ALTER TABLE jobs ADD COLUMN schedule_id TEXT;
ALTER TABLE jobs ADD COLUMN scheduled_for INTEGER;
CREATE UNIQUE INDEX jobs_one_per_fire_time ON jobs (schedule_id, scheduled_for)
    WHERE scheduled_for IS NOT NULL;
CREATE INDEX jobs_by_schedule ON jobs (schedule_id, seq) WHERE schedule_id IS NOT NULL;
