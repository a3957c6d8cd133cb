-- The jobs that hold a slot (running or cancelling, with no plan: not a workflow run's own job nor
-- a parent waiting for its children), by kind and owner: every claim counts them, and reads
-- them from this index alone (the columns of its condition are in it too, so that SQLite need
-- not look at the rows) rather than from the rows of every running job, a run's wide rows
-- included.
CREATE INDEX jobs_working ON jobs (kind, owner, status, plan)
    WHERE status IN ('running', 'cancelling') AND plan IS NULL;
