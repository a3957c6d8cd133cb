-- Jobs are claimed: the process running a job is recorded with it, and every write the job makes
-- is fenced by it (a process that lost a job can no longer change it).
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
