-- A job may be started to run after a given time (Unix ms): until then it waits `queued`, out of
-- line (claims and queue places pass it over).
ALTER TABLE jobs ADD COLUMN run_after BIGINT;
-- The queued jobs that wait for their time, soonest first: when the runners look next.
CREATE INDEX jobs_waiting_for_time ON jobs (run_after) WHERE status = 'queued' AND run_after IS NOT NULL;
