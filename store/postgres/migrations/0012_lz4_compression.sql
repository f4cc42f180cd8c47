-- 12: the large values (an interaction's, an email's and an outbox
-- item's document, a raw message, an attachment body, an event's
-- payload) are compressed with lz4 rather than pglz when the server has
-- it: an interaction's document is compressed again at every write, and
-- pglz was the largest single cost of those writes. Values written before
-- keep their compression and are read as they are; no table is
-- rewritten (each ALTER changes the catalog only). A server built without
-- lz4 keeps pglz, and the migration still counts as applied.
DO $$
BEGIN
	ALTER TABLE {s}.interactions ALTER COLUMN data SET COMPRESSION lz4;
	ALTER TABLE {s}.emails ALTER COLUMN data SET COMPRESSION lz4, ALTER COLUMN raw SET COMPRESSION lz4;
	ALTER TABLE {s}.outbox ALTER COLUMN data SET COMPRESSION lz4, ALTER COLUMN raw SET COMPRESSION lz4;
	ALTER TABLE {s}.blobs ALTER COLUMN body SET COMPRESSION lz4;
	ALTER TABLE {s}.events ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
	RAISE NOTICE 'emailflow: this server has no lz4 compression; large values stay compressed with pglz';
END
$$;
