-- Headway on PostgreSQL: the same tables as on SQLite (times are Unix milliseconds, UTC), and
-- what several processes sharing the database need: the processes and their heartbeats, and
-- event ids that follow commit order.
--
-- Identifiers and owners compare byte for byte (COLLATE "C"): a prefix of a job id is a range
-- of the unique index whatever the database's locale.

CREATE TABLE jobs (
    -- Insertion order: the key for newest-first keyset pagination and for the queue.
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT COLLATE "C" NOT NULL UNIQUE,
    owner         TEXT COLLATE "C" NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL,
    params        TEXT    NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,
    current       BIGINT  NOT NULL DEFAULT 0,
    total         BIGINT,
    unit          TEXT    NOT NULL DEFAULT '',
    message       TEXT    NOT NULL DEFAULT '',
    level         TEXT    NOT NULL DEFAULT 'success',
    error_code    TEXT,
    error_message TEXT,
    created_at    BIGINT  NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT,
    -- Id of the latest event about this job.
    event_id      BIGINT  NOT NULL,
    -- Number of log lines written so far (the next line gets log_seq + 1).
    log_seq       BIGINT  NOT NULL DEFAULT 0,
    timeout_ms    BIGINT,
    -- The job this one re-runs.
    origin        TEXT,
    -- JSON saved by a resumable kind: where to continue after an interruption.
    checkpoint    TEXT,
    -- When the job reported its latest progress sample.
    progress_at   BIGINT,
    -- The process running the job: every write the job makes is fenced by it.
    claimed_by    TEXT COLLATE "C"
);

CREATE INDEX jobs_owner_seq ON jobs (owner, seq);
CREATE INDEX jobs_active ON jobs (status) WHERE status IN ('queued', 'running', 'cancelling');
CREATE INDEX jobs_queue ON jobs (seq) WHERE status = 'queued';
CREATE INDEX jobs_owner_status_seq ON jobs (owner, status, seq);
CREATE INDEX jobs_owner_kind_seq ON jobs (owner, kind, seq);
CREATE INDEX jobs_owner_finished ON jobs (owner, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_claimed ON jobs (claimed_by) WHERE status IN ('running', 'cancelling');

-- Every event sent on a stream, so that a reconnecting client can be replayed what it missed and
-- every process can read what the others wrote. `owner` is NULL for an event to everyone
-- (notices, a new build's `version`).
CREATE TABLE events (
    id     BIGINT PRIMARY KEY,
    owner  TEXT COLLATE "C",
    job_id TEXT COLLATE "C",
    type   TEXT   NOT NULL,
    data   TEXT   NOT NULL,
    at     BIGINT NOT NULL
);

CREATE INDEX events_owner_id ON events (owner, id);
CREATE INDEX events_job_id ON events (job_id, id);

CREATE TABLE job_logs (
    job_id TEXT COLLATE "C" NOT NULL,
    seq    BIGINT NOT NULL,
    level  TEXT   NOT NULL,
    line   TEXT   NOT NULL,
    at     BIGINT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- How many jobs each owner has per kind and status, kept exact by the trigger below, so that
-- the history's counts read a handful of rows whatever the size of `jobs`.
CREATE TABLE job_counts (
    owner  TEXT COLLATE "C" NOT NULL,
    kind   TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (owner, kind, status)
);

CREATE FUNCTION job_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE job_counts SET n = n - 1
            WHERE owner = OLD.owner AND kind = OLD.kind AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO job_counts (owner, kind, status, n) VALUES (NEW.owner, NEW.kind, NEW.status, 1)
            ON CONFLICT (owner, kind, status) DO UPDATE SET n = job_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_counts_follow();
CREATE TRIGGER job_counts_update AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION job_counts_follow();
CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_counts_follow();

-- Messages from the operator to every user. `id` is the id of the `notice` event that announced it.
CREATE TABLE notices (
    id           BIGINT PRIMARY KEY,
    text         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    withdrawn_at BIGINT
);

-- The one row every transaction that writes events locks first (`SELECT ... FOR UPDATE`), then
-- moves: event ids are handed out in commit order, so a reader that has seen id N never later
-- finds a smaller id committed. `pruned_through`: events up to it may be deleted (announced
-- before they are).
CREATE TABLE event_ids (
    one            INTEGER PRIMARY KEY CHECK (one = 1),
    last           BIGINT NOT NULL,
    pruned_through BIGINT NOT NULL
);
INSERT INTO event_ids (one, last, pruned_through) VALUES (1, 0, 0);

-- Sessions: opaque records with their expiry (Unix seconds) and their user.
CREATE TABLE sessions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    data       BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL,
    user_id    TEXT COLLATE "C"
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;

-- The database's clock, in Unix milliseconds: heartbeats and leases are compared on it, so that
-- processes on machines whose clocks differ agree on who is late.
CREATE FUNCTION headway_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

-- The Headway processes sharing the database. A process refreshes its heartbeat (the
-- database's clock, Unix milliseconds) well within the lease; one silent for longer is taken
-- for dead and its jobs are taken over.
CREATE TABLE processes (
    id           TEXT COLLATE "C" PRIMARY KEY,
    role         TEXT   NOT NULL,
    build        TEXT   NOT NULL,
    host         TEXT   NOT NULL,
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

-- Work one process at a time does for everyone (pruning): whoever holds the lease, until it
-- expires unless renewed.
CREATE TABLE leases (
    name   TEXT COLLATE "C" PRIMARY KEY,
    holder TEXT   NOT NULL,
    until  BIGINT NOT NULL
);
