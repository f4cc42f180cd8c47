-- 2: attachment bodies move to a table of their own, keyed by the SHA-256
-- of their bytes, so a body sent to many (a signature logo, a forwarded
-- file) is stored once. An email lists its bodies' keys in the order of
-- its attachments (NULL for a body kept in a BlobStore).
CREATE TABLE {s}.blobs (
	hash bytea PRIMARY KEY,
	body bytea NOT NULL
);
ALTER TABLE {s}.emails ADD COLUMN blob_keys bytea[];

-- Bodies of version 1's attachments column.
INSERT INTO {s}.blobs (hash, body)
	SELECT DISTINCT ON (sha256(b)) sha256(b), b
	FROM {s}.emails e, unnest(e.attachments) AS b
	WHERE b IS NOT NULL
	ON CONFLICT DO NOTHING;
UPDATE {s}.emails e SET blob_keys = (
	SELECT coalesce(array_agg(sha256(b) ORDER BY i), '{}')
	FROM unnest(e.attachments) WITH ORDINALITY AS u(b, i))
	WHERE e.attachments IS NOT NULL;

-- Bodies of rows written before that column: base64 inside the JSON.
INSERT INTO {s}.blobs (hash, body)
	SELECT DISTINCT ON (sha256(b)) sha256(b), b FROM (
		SELECT decode(a->>'Data', 'base64') AS b
		FROM {s}.emails e, jsonb_array_elements(CASE WHEN jsonb_typeof(e.data->'Attachments') = 'array'
			THEN e.data->'Attachments' ELSE '[]' END) AS a
		WHERE e.attachments IS NULL AND jsonb_typeof(e.data->'Attachments') = 'array'
			AND a->>'Data' IS NOT NULL) AS j
	ON CONFLICT DO NOTHING;
UPDATE {s}.emails e SET
	blob_keys = (
		SELECT coalesce(array_agg(sha256(decode(a->>'Data', 'base64')) ORDER BY i), '{}')
		FROM jsonb_array_elements(e.data->'Attachments') WITH ORDINALITY AS u(a, i)),
	data = jsonb_set(e.data, '{Attachments}', (
		SELECT coalesce(jsonb_agg(a - 'Data' ORDER BY i), '[]')
		FROM jsonb_array_elements(e.data->'Attachments') WITH ORDINALITY AS u(a, i)))
	WHERE e.attachments IS NULL AND jsonb_typeof(e.data->'Attachments') = 'array';

ALTER TABLE {s}.emails DROP COLUMN attachments;
