-- A run's (and a fan-out group's) counts of its steps, kept in its own row
-- (model::workflows::run::Tally): how many it made, how many ended and how many succeeded. The
-- transaction that ends a step adds to them, so that settling a run reads one row however many
-- steps it has. The index on the steps now leads with their status too, for the active steps
-- whose progress moves the run's bar.
ALTER TABLE jobs ADD COLUMN steps_made INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN steps_ended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN steps_succeeded INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET
    steps_made = (SELECT COUNT(*) FROM jobs s WHERE s.parent_id = jobs.id),
    steps_ended = (SELECT COUNT(*) FROM jobs s WHERE s.parent_id = jobs.id
                   AND s.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')),
    steps_succeeded = (SELECT COUNT(*) FROM jobs s WHERE s.parent_id = jobs.id
                       AND s.status = 'succeeded')
WHERE plan IS NOT NULL;
DROP INDEX jobs_parent;
CREATE INDEX jobs_parent ON jobs (parent_id, status) WHERE parent_id IS NOT NULL;
