-- Bytes of log each job has written (the lines dropped past its bound included): the bound on
-- a job's log is checked against it as each line is written.
ALTER TABLE jobs ADD COLUMN log_bytes INTEGER NOT NULL DEFAULT 0;

-- Each owner's uploads, counted and summed as they come and go: the quota and the bound on
-- their number read one row rather than every upload. An upload reserves its place here in
-- the statement before its insert; a delete, whichever path makes it, gives it back.
CREATE TABLE upload_totals (
    owner TEXT    PRIMARY KEY NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO upload_totals (owner, count, bytes)
    SELECT owner, COUNT(*), COALESCE(SUM(size), 0) FROM uploads GROUP BY owner;

CREATE TRIGGER upload_totals_delete AFTER DELETE ON uploads BEGIN
    UPDATE upload_totals SET count = count - 1, bytes = bytes - OLD.size WHERE owner = OLD.owner;
END;
