-- 4: the typed parts few events have (a consultation's answer, a review's
-- outcome), as JSON; NULL for the others.
ALTER TABLE {s}.events ADD COLUMN payload jsonb;
