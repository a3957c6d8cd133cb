-- Each user's queued jobs, oldest first: a claim finds the users with jobs waiting by skipping
-- from one to the next along it, and gives a free slot to the one with the fewest running.
CREATE INDEX jobs_queued_by_owner ON jobs (owner, seq) WHERE status = 'queued';
