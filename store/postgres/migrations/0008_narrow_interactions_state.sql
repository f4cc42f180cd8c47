-- 8: the index of interactions by state covers the open ones only. It
-- served lists by state (and by queue and state, filtered); every write
-- of an interaction inserted into it, and the done, deleted and sent
-- interactions, most of the table once a desk has run for a while, are
-- in no list by state on a path that matters: routing, Tick and the load
-- counts read other indexes, the lists by owner, offer, workbin, thread
-- and contact theirs. Its replacement holds the open interactions only,
-- so the last write of each lifecycle (done, sent) skips it and it stays
-- the size of the work in progress. A list of closed interactions by
-- state alone (an administrator's report) reads the table.
--
-- Both statements run in this migration's transaction: the build scans
-- the table and blocks its writes meanwhile (a SHARE lock), about a
-- second per million interactions; the drop is immediate.
CREATE INDEX IF NOT EXISTS interactions_open ON {s}.interactions
	(state, priority DESC, queued_at, created_at, id) WHERE state NOT IN ('done', 'deleted', 'sent');
DROP INDEX IF EXISTS {s}.interactions_state;
