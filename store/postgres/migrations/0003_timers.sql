-- 3: the due times of timers as indexed columns, so that Tick reads index
-- ranges (and claims rows with FOR UPDATE SKIP LOCKED) instead of every
-- offer and every queued interaction.
ALTER TABLE {s}.interactions ADD COLUMN offered_at timestamptz;
UPDATE {s}.interactions SET offered_at = (data->>'OfferedAt')::timestamptz
	WHERE state IN ('offered', 'transferred') AND data->>'OfferedAt' IS NOT NULL
		AND (data->>'OfferedAt')::timestamptz > '0001-01-01T00:00:00Z';
-- Offers and transfers by the time they were made: an accept timeout is a
-- range up to now minus the timeout.
CREATE INDEX interactions_offer_due ON {s}.interactions (offered_at)
	WHERE state IN ('offered', 'transferred');
-- Sticky preferences of queued follow-ups by their end.
CREATE INDEX interactions_prefer_due ON {s}.interactions (prefer_until)
	WHERE state = 'queued' AND preferred <> '';
-- Queued interactions that agents declined, routed again at every tick.
CREATE INDEX interactions_declined ON {s}.interactions (id)
	WHERE state = 'queued' AND cardinality(declined) > 0;
