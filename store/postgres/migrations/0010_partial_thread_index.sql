-- 10: the index of interactions by thread holds the later interactions of
-- a thread only. A thread's first interaction has thread_id = id, and
-- most interactions are the first of theirs, so the full index held a
-- copy of the primary key that every write of an interaction inserted
-- into (no write is HOT). A thread is now found by two ranges, the first
-- interaction by the primary key and the others by this index
-- ((id = $1 AND thread_id = $1) OR (thread_id = $1 AND thread_id <> id),
-- a BitmapOr of both), so a thread of one interaction costs no entry
-- here.
--
-- The drop comes first, as in migration 8: it takes the table's
-- strongest lock at once, so the build adds no lock upgrade that could
-- deadlock with a running transaction. Statements on interactions wait
-- for the build, which scans the table.
DROP INDEX IF EXISTS {s}.interactions_thread;
CREATE INDEX IF NOT EXISTS interactions_thread ON {s}.interactions (thread_id) WHERE thread_id <> id;
