-- 11: the function refuse_interaction_write, which raises the error of a
-- write of an interaction that changed no row, so that the write can ride
-- in one batch with the events and COMMIT (see UpdateInteractionLast):
-- the error aborts the transaction, and COMMIT, skipped, commits nothing.
-- It tells why in its SQLSTATE, as the Go code did with a second look:
-- EF001 a stale version, EF002 no such interaction, EF003 another thread,
-- EF004 changed and changed back meanwhile. It is VOLATILE, so its read
-- takes a snapshot of its own, after the write: it sees the row that
-- refused it. No table changes.
CREATE FUNCTION {s}.refuse_interaction_write(p_id text, p_version bigint, p_thread text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v bigint;
	th text;
BEGIN
	SELECT version, thread_id INTO v, th FROM {s}.interactions WHERE id = p_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'EF002', MESSAGE = format('no interaction "%s"', p_id);
	ELSIF v <> p_version THEN
		RAISE EXCEPTION USING ERRCODE = 'EF001',
			MESSAGE = format('interaction %s is at version %s, the write was based on %s', p_id, v, p_version);
	ELSIF th <> p_thread THEN
		RAISE EXCEPTION USING ERRCODE = 'EF003', MESSAGE = format('interaction %s cannot change thread', p_id);
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'EF004', MESSAGE = format('interaction %s changed concurrently', p_id);
END
$$;
