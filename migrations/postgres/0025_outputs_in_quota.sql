-- Jobs' outputs count against their owner's file quota, as uploads do: one quota for the files a
-- user keeps. The bytes a job's outputs list are added to its owner's running totals
-- (`upload_totals.bytes`; `count` stays the number of uploads) by the trigger below, whichever
-- path writes the list (an output attached or replaced, the outputs of a step a re-run keeps,
-- their expiry, the job deleted), so the quota still reads one row.

-- The bytes of the outputs a job's `outputs` lists (a JSON array of {name, size, …}).
CREATE FUNCTION output_bytes(outputs TEXT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CAST(COALESCE(SUM(CAST(o ->> 'size' AS BIGINT)), 0) AS BIGINT)
    FROM json_array_elements(CASE WHEN json_typeof(CAST(outputs AS JSON)) = 'array'
                                  THEN CAST(outputs AS JSON) ELSE CAST('[]' AS JSON) END) o
$$;

-- What the jobs kept so far list.
INSERT INTO upload_totals (owner, count, bytes)
    SELECT owner, 0, CAST(SUM(output_bytes(outputs)) AS BIGINT) FROM jobs WHERE outputs IS NOT NULL GROUP BY owner
    ON CONFLICT (owner) DO UPDATE SET bytes = upload_totals.bytes + excluded.bytes;

CREATE FUNCTION output_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    grown BIGINT := 0;
    whose TEXT;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        grown := grown + output_bytes(NEW.outputs);
        whose := NEW.owner;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        grown := grown - output_bytes(OLD.outputs);
        whose := OLD.owner;
    END IF;
    IF grown <> 0 THEN
        INSERT INTO upload_totals (owner, count, bytes) VALUES (whose, 0, grown)
            ON CONFLICT (owner) DO UPDATE SET bytes = upload_totals.bytes + excluded.bytes;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER output_totals_insert AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.outputs IS NOT NULL) EXECUTE FUNCTION output_totals_follow();
CREATE TRIGGER output_totals_update AFTER UPDATE OF outputs ON jobs
    FOR EACH ROW WHEN (OLD.outputs IS DISTINCT FROM NEW.outputs)
    EXECUTE FUNCTION output_totals_follow();
CREATE TRIGGER output_totals_delete AFTER DELETE ON jobs
    FOR EACH ROW WHEN (OLD.outputs IS NOT NULL) EXECUTE FUNCTION output_totals_follow();
