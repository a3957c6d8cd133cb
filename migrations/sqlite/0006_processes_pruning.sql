-- The processes using the database (on SQLite, the one server and the tools beside it), with
-- their heartbeats: the jobs of a process that is gone are taken over. And how far events have
-- been pruned, kept with the counter of ids, so that every reader can check a replay against it.

CREATE TABLE processes (
    id           TEXT    PRIMARY KEY NOT NULL,
    role         TEXT    NOT NULL,
    build        TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

ALTER TABLE event_ids ADD COLUMN pruned_through INTEGER NOT NULL DEFAULT 0;

-- Events below the oldest one kept were pruned (or never stored); with none kept, every id
-- handed out so far.
UPDATE event_ids SET pruned_through = COALESCE((SELECT MIN(id) - 1 FROM events), last);
