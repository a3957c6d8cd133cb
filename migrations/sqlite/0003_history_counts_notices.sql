-- History at scale (exact counts without scanning, the chart of finished jobs), stall warnings,
-- and operator notices.

-- When the job reported its latest progress sample: a running job silent for too long is stalled.
ALTER TABLE jobs ADD COLUMN progress_at INTEGER;

-- How many jobs each owner has per kind and status, kept exact by the triggers below, so that
-- the history's counts read a handful of rows whatever the size of `jobs`.
CREATE TABLE job_counts (
    owner  TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    status TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (owner, kind, status)
) WITHOUT ROWID;

INSERT INTO job_counts (owner, kind, status, n)
    SELECT owner, kind, status, COUNT(*) FROM jobs GROUP BY owner, kind, status;

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts (owner, kind, status, n) VALUES (NEW.owner, NEW.kind, NEW.status, 1)
        ON CONFLICT (owner, kind, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER job_counts_update AFTER UPDATE OF status ON jobs
    WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE job_counts SET n = n - 1
        WHERE owner = OLD.owner AND kind = OLD.kind AND status = OLD.status;
    INSERT INTO job_counts (owner, kind, status, n) VALUES (NEW.owner, NEW.kind, NEW.status, 1)
        ON CONFLICT (owner, kind, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1
        WHERE owner = OLD.owner AND kind = OLD.kind AND status = OLD.status;
END;

-- Finished jobs by time: the per-minute chart of the last hour reads only that hour.
CREATE INDEX jobs_owner_finished ON jobs (owner, finished_at) WHERE finished_at IS NOT NULL;

-- Messages from the operator to every user. `id` is the id of the `notice` event that announced
-- it, from the same sequence as every other event.
CREATE TABLE notices (
    id           INTEGER PRIMARY KEY,
    text         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    withdrawn_at INTEGER
);
