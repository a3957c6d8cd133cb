-- Bytes of log each job has written (the lines dropped past its bound included): the bound on
-- a job's log is checked against it as each line is written.
ALTER TABLE jobs ADD COLUMN log_bytes BIGINT NOT NULL DEFAULT 0;

-- Each owner's uploads, counted and summed as they come and go: the quota and the bound on
-- their number read one row rather than every upload. An upload reserves its place here
-- (the row lock orders concurrent uploads of one owner) before its insert; a delete,
-- whichever path makes it, gives it back.
CREATE TABLE upload_totals (
    owner TEXT COLLATE "C" PRIMARY KEY,
    count BIGINT NOT NULL,
    bytes BIGINT NOT NULL
);

INSERT INTO upload_totals (owner, count, bytes)
    SELECT owner, COUNT(*), COALESCE(SUM(size), 0) FROM uploads GROUP BY owner;

CREATE FUNCTION upload_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE upload_totals SET count = count - 1, bytes = bytes - OLD.size WHERE owner = OLD.owner;
    RETURN NULL;
END
$$;

CREATE TRIGGER upload_totals_delete AFTER DELETE ON uploads
    FOR EACH ROW EXECUTE FUNCTION upload_totals_follow();
