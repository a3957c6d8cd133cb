-- The counts of jobs by owner, kind and status keep the steps of workflow runs (and the items of
-- fan-outs: every job with a parent) apart, `nested`: the dashboard and the history count a run
-- once, while a user's queued jobs and a kind's unfinished ones still count every job that waits
-- or runs.
DROP TRIGGER job_counts_insert;
DROP TRIGGER job_counts_update;
DROP TRIGGER job_counts_delete;

CREATE TABLE job_counts_nested (
    owner  TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    status TEXT    NOT NULL,
    nested INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (owner, kind, status, nested)
) WITHOUT ROWID;
INSERT INTO job_counts_nested (owner, kind, status, nested, n)
    SELECT owner, kind, status, parent_id IS NOT NULL, COUNT(*) FROM jobs
    GROUP BY owner, kind, status, parent_id IS NOT NULL;
DROP TABLE job_counts;
ALTER TABLE job_counts_nested RENAME TO job_counts;

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts (owner, kind, status, nested, n)
        VALUES (NEW.owner, NEW.kind, NEW.status, NEW.parent_id IS NOT NULL, 1)
        ON CONFLICT (owner, kind, status, nested) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER job_counts_update AFTER UPDATE OF status ON jobs
    WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE job_counts SET n = n - 1
        WHERE owner = OLD.owner AND kind = OLD.kind AND status = OLD.status
          AND nested = (OLD.parent_id IS NOT NULL);
    INSERT INTO job_counts (owner, kind, status, nested, n)
        VALUES (NEW.owner, NEW.kind, NEW.status, NEW.parent_id IS NOT NULL, 1)
        ON CONFLICT (owner, kind, status, nested) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1
        WHERE owner = OLD.owner AND kind = OLD.kind AND status = OLD.status
          AND nested = (OLD.parent_id IS NOT NULL);
END;
