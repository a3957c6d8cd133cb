-- Each user's tokens in force are bounded in number, counted as a token is added (revoked ones
-- do not count), and listed a page at a time, newest first: both read the owner's rows through
-- these indexes rather than every token they ever had.
CREATE INDEX api_tokens_in_force ON api_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_by_age ON api_tokens (user_id, created_at, id);
CREATE INDEX anonymous_tokens_in_force ON anonymous_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX anonymous_tokens_by_age ON anonymous_tokens (user_id, created_at, id);
