-- The operator's page reads every user's jobs that finished in the last hour.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
