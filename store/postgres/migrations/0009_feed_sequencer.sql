-- 9: the feed's sequencer (see feed.go) as a function, so that a run is
-- one statement in the caller's implicit transaction rather than four
-- (BEGIN, the lock, the UPDATE, COMMIT), and a run that does not get the
-- lock ends before the UPDATE is planned or run. It is VOLATILE: each
-- statement in it takes its own snapshot, so the UPDATE's is taken after
-- the lock, as the sequencer needs (this holds under READ COMMITTED only,
-- which it checks). It returns how many events it numbered, or -1 when
-- another run held the lock (wait false). Old and new releases share the
-- lock key, so they can run side by side.
CREATE FUNCTION {s}.sequence_events(lock_key bigint, channel text, wait boolean)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	numbered integer;
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'emailflow: the event sequencer needs READ COMMITTED, not %', current_setting('transaction_isolation');
	END IF;
	IF wait THEN
		PERFORM pg_advisory_xact_lock(lock_key);
	ELSIF NOT pg_try_advisory_xact_lock(lock_key) THEN
		RETURN -1;
	END IF;
	-- At most 10,000 events a run, the oldest first; the next run takes
	-- the rest. The rows are found again by ctid, not by a descent of the
	-- primary key: events are only inserted, and pos is set by nobody
	-- but this lock's holder, so a row found here has not moved.
	WITH next AS (
		SELECT ctid AS row, row_number() OVER (ORDER BY seq) AS n FROM {s}.events
		WHERE pos IS NULL ORDER BY seq LIMIT 10000),
	top AS (SELECT coalesce(max(pos), 0) AS top FROM {s}.events)
	UPDATE {s}.events e SET pos = top.top + next.n FROM next, top WHERE e.ctid = next.row;
	GET DIAGNOSTICS numbered = ROW_COUNT;
	IF numbered > 0 THEN
		PERFORM pg_notify(channel, 's');
	END IF;
	RETURN numbered;
END
$$;
