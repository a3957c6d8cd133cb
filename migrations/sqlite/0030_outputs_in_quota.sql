-- Jobs' outputs count against their owner's file quota, as uploads do: one quota for the files a
-- user keeps. The bytes a job's outputs list are added to its owner's running totals
-- (`upload_totals.bytes`; `count` stays the number of uploads) by these triggers, whichever
-- path writes the list (an output attached or replaced, the outputs of a step a re-run keeps,
-- their expiry, the job deleted), so the quota still reads one row.

-- What the jobs kept so far list.
INSERT OR IGNORE INTO upload_totals (owner, count, bytes)
    SELECT DISTINCT owner, 0, 0 FROM jobs WHERE outputs IS NOT NULL;

UPDATE upload_totals SET bytes = bytes + (
    SELECT COALESCE(SUM(json_extract(o.value, '$.size')), 0)
    FROM jobs j, json_each(CASE WHEN json_valid(j.outputs) THEN j.outputs ELSE '[]' END) o
    WHERE j.owner = upload_totals.owner AND j.outputs IS NOT NULL);

CREATE TRIGGER output_totals_insert AFTER INSERT ON jobs WHEN NEW.outputs IS NOT NULL BEGIN
    INSERT OR IGNORE INTO upload_totals (owner, count, bytes) VALUES (NEW.owner, 0, 0);
    UPDATE upload_totals SET bytes = bytes + (
        SELECT COALESCE(SUM(json_extract(value, '$.size')), 0)
        FROM json_each(CASE WHEN json_valid(NEW.outputs) THEN NEW.outputs ELSE '[]' END))
    WHERE owner = NEW.owner;
END;

CREATE TRIGGER output_totals_update AFTER UPDATE OF outputs ON jobs
WHEN OLD.outputs IS NOT NEW.outputs BEGIN
    INSERT OR IGNORE INTO upload_totals (owner, count, bytes) VALUES (NEW.owner, 0, 0);
    UPDATE upload_totals SET bytes = bytes
        + (SELECT COALESCE(SUM(json_extract(value, '$.size')), 0)
           FROM json_each(CASE WHEN json_valid(NEW.outputs) THEN NEW.outputs ELSE '[]' END))
        - (SELECT COALESCE(SUM(json_extract(value, '$.size')), 0)
           FROM json_each(CASE WHEN json_valid(OLD.outputs) THEN OLD.outputs ELSE '[]' END))
    WHERE owner = NEW.owner;
END;

CREATE TRIGGER output_totals_delete AFTER DELETE ON jobs WHEN OLD.outputs IS NOT NULL BEGIN
    UPDATE upload_totals SET bytes = bytes - (
        SELECT COALESCE(SUM(json_extract(value, '$.size')), 0)
        FROM json_each(CASE WHEN json_valid(OLD.outputs) THEN OLD.outputs ELSE '[]' END))
    WHERE owner = OLD.owner;
END;
