-- 6: service levels. An inbound's next deadline instant (a warning, a
-- breach, a pending period's wake-up) and its earliest due time, NULL when
-- none. The partial index on sla_next holds only the interactions that
-- have one, so a Tick reads the few that are due; the second orders a
-- queue by due time for queues routed by deadline.
ALTER TABLE {s}.interactions ADD COLUMN sla_next timestamptz;
ALTER TABLE {s}.interactions ADD COLUMN sla_due timestamptz;
CREATE INDEX interactions_sla_next ON {s}.interactions (sla_next, id)
	WHERE sla_next IS NOT NULL;
CREATE INDEX interactions_waiting_due ON {s}.interactions
	(queue, sla_due NULLS LAST, priority DESC, queued_at, created_at, id) WHERE state = 'queued';
