-- The failures of the last day, grouped on the dashboard (`FailureGroupsQuery`): read from the
-- failed jobs alone, by owner or everyone's, instead of every job that ended in the window.
CREATE INDEX jobs_owner_failed ON jobs (owner, finished_at) WHERE status = 'failed';
CREATE INDEX jobs_failed ON jobs (finished_at) WHERE status = 'failed';
