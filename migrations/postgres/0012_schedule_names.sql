-- A schedule's optional name, so that two schedules of one kind can be told apart.
ALTER TABLE schedules ADD COLUMN name TEXT;
