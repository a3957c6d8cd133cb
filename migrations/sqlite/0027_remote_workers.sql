-- Workers on other machines (`headway worker`): each one is a process of the registry with the
-- role `remote`, its name, its slots, the commands file it runs the kinds of, its state
-- (`active`, `draining`: finishes what it runs and takes no more, `disabled`: takes nothing and
-- is told to stop) and the worker token it registered with. Its heartbeat is the server's, at
-- each of the worker's polls.
ALTER TABLE processes ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE processes ADD COLUMN slots INTEGER NOT NULL DEFAULT 0;
ALTER TABLE processes ADD COLUMN commands TEXT NOT NULL DEFAULT '';
ALTER TABLE processes ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE processes ADD COLUMN token_id TEXT;

-- The tokens workers connect with: they may take work and report on it, nothing else. They are
-- the deployment's, not an account's: an admin makes and revokes them.
CREATE TABLE worker_tokens (
    id           TEXT    PRIMARY KEY NOT NULL,
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
