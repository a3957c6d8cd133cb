-- The counts of jobs by owner, kind and status keep the steps of workflow runs (and the items of
-- fan-outs: every job with a parent) apart, `nested`: the dashboard and the history count a run
-- once, while a user's queued jobs and a kind's unfinished ones still count every job that waits
-- or runs.
ALTER TABLE job_counts ADD COLUMN nested BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE job_counts DROP CONSTRAINT job_counts_pkey;
DELETE FROM job_counts;
INSERT INTO job_counts (owner, kind, status, nested, n)
    SELECT owner, kind, status, parent_id IS NOT NULL, COUNT(*) FROM jobs
    GROUP BY owner, kind, status, parent_id IS NOT NULL;
ALTER TABLE job_counts ADD PRIMARY KEY (owner, kind, status, nested);

CREATE OR REPLACE FUNCTION job_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE job_counts SET n = n - 1
            WHERE owner = OLD.owner AND kind = OLD.kind AND status = OLD.status
              AND nested = (OLD.parent_id IS NOT NULL);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO job_counts (owner, kind, status, nested, n)
            VALUES (NEW.owner, NEW.kind, NEW.status, NEW.parent_id IS NOT NULL, 1)
            ON CONFLICT (owner, kind, status, nested) DO UPDATE SET n = job_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;
