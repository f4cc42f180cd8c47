-- 7: large values (a raw message, an attachment body above 256 KiB) are
-- streamed here with COPY by the transaction that writes them, and taken
-- from here by the statement that stores them, which then deletes them:
-- the client never encodes such a value whole as a statement's
-- parameter. Rows live only inside that transaction, so the table is
-- unlogged, and a random token keeps two writers' values apart. Bodies
-- are kept out of line without compression: the statement that stores
-- the value compresses it, once.
CREATE UNLOGGED TABLE {s}.uploads (
	token bigint PRIMARY KEY,
	body bytea NOT NULL
);
ALTER TABLE {s}.uploads ALTER COLUMN body SET STORAGE EXTERNAL;
