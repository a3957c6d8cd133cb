-- A job's message and its error in the words of Headway's catalogs (model::Said as JSON), when
-- Headway wrote them: a page says them in its reader's language. NULL for a program's own text.
ALTER TABLE jobs ADD COLUMN said TEXT;
ALTER TABLE jobs ADD COLUMN error_said TEXT;
