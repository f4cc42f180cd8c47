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
-- The drop comes first: it takes the table's strongest lock at once, so
-- the build (which needs a weaker one) adds no lock upgrade that could
-- deadlock with a running transaction that read interactions and then
-- writes them. Statements on interactions wait for the build, which
-- scans the table: about half a second per million rows on a 2-core
-- machine (0.24 s for 500,000 rows of 600 bytes, 15 % of them open).
DROP INDEX IF EXISTS {s}.interactions_state;
CREATE INDEX IF NOT EXISTS interactions_open ON {s}.interactions
	(state, priority DESC, queued_at, created_at, id) WHERE state NOT IN ('done', 'deleted', 'sent');
