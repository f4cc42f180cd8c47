-- 1: the schema as it was before versioned migrations (every statement
-- idempotent, so a database made by that code migrates to version 1 by
-- running this again). {s} is the store's schema.
--
-- Identifiers and the columns routing orders by use the "C" collation, so
-- the database orders them byte by byte as Go compares strings.
CREATE TABLE IF NOT EXISTS {s}.interactions (
	id           text COLLATE "C" PRIMARY KEY,
	kind         text NOT NULL,
	state        text NOT NULL,
	owner        text COLLATE "C" NOT NULL,
	offered_to   text COLLATE "C" NOT NULL,
	queue        text COLLATE "C" NOT NULL,
	workbin      text COLLATE "C" NOT NULL,
	thread_id    text COLLATE "C" NOT NULL,
	contact_id   text COLLATE "C" NOT NULL,
	priority     integer NOT NULL,
	queued_at    timestamptz NOT NULL,
	created_at   timestamptz NOT NULL,
	skills       jsonb,
	language     text NOT NULL,
	declined     text[],
	preferred    text NOT NULL,
	prefer_until timestamptz NOT NULL,
	load_agent   text COLLATE "C" GENERATED ALWAYS AS (CASE
		WHEN state = 'handling' THEN NULLIF(owner, '')
		WHEN state = 'offered' THEN NULLIF(offered_to, '')
		WHEN state = 'transferred' THEN NULLIF(data->>'TransferFrom', '')
	END) STORED,
	version      bigint NOT NULL,
	data         jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS interactions_waiting ON {s}.interactions
	(queue, priority DESC, queued_at, created_at, id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS interactions_load ON {s}.interactions (load_agent)
	WHERE load_agent IS NOT NULL;
CREATE INDEX IF NOT EXISTS interactions_state ON {s}.interactions
	(state, priority DESC, queued_at, created_at, id);
CREATE INDEX IF NOT EXISTS interactions_thread ON {s}.interactions (thread_id);
CREATE INDEX IF NOT EXISTS interactions_contact ON {s}.interactions (contact_id)
	WHERE contact_id <> '';
CREATE INDEX IF NOT EXISTS interactions_owner ON {s}.interactions (owner, state)
	WHERE owner <> '';
CREATE INDEX IF NOT EXISTS interactions_offered ON {s}.interactions (offered_to)
	WHERE offered_to <> '';
CREATE INDEX IF NOT EXISTS interactions_workbin ON {s}.interactions (workbin)
	WHERE workbin <> '';

CREATE TABLE IF NOT EXISTS {s}.emails (
	id             text COLLATE "C" PRIMARY KEY,
	interaction_id text COLLATE "C" NOT NULL,
	ord            bigint GENERATED ALWAYS AS IDENTITY,
	data           jsonb NOT NULL,
	raw            bytea
);
CREATE INDEX IF NOT EXISTS emails_interaction ON {s}.emails (interaction_id, ord);
-- Attachment bodies, in the order of the email's attachments (NULL for a
-- body kept in a BlobStore), as bytes rather than base64 inside data.
ALTER TABLE {s}.emails ADD COLUMN IF NOT EXISTS attachments bytea[];

CREATE TABLE IF NOT EXISTS {s}.message_ids (
	message_id text COLLATE "C" PRIMARY KEY,
	email_id   text COLLATE "C" NOT NULL
);

CREATE TABLE IF NOT EXISTS {s}.ingest_keys (
	key            text COLLATE "C" PRIMARY KEY,
	interaction_id text COLLATE "C" NOT NULL
);

CREATE TABLE IF NOT EXISTS {s}.outbox (
	id           text COLLATE "C" PRIMARY KEY,
	state        text NOT NULL,
	next_attempt timestamptz NOT NULL,
	data         jsonb NOT NULL,
	raw          bytea
);
CREATE INDEX IF NOT EXISTS outbox_due ON {s}.outbox (next_attempt, id)
	WHERE state = 'pending';

CREATE TABLE IF NOT EXISTS {s}.events (
	seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type           text NOT NULL,
	interaction_id text NOT NULL,
	agent          text NOT NULL,
	actor          text NOT NULL,
	state          text NOT NULL,
	at             timestamptz NOT NULL,
	detail         text NOT NULL
);

CREATE TABLE IF NOT EXISTS {s}.agents (
	id         text COLLATE "C" PRIMARY KEY,
	status     text NOT NULL,
	max_load   integer NOT NULL,
	idle_since timestamptz NOT NULL,
	skills     jsonb,
	languages  text[],
	roles      text[] NOT NULL,
	data       jsonb NOT NULL
);

CREATE TABLE IF NOT EXISTS {s}.agent_queues (
	queue      text COLLATE "C" NOT NULL,
	agent_id   text COLLATE "C" NOT NULL,
	ready      boolean NOT NULL,
	idle_since timestamptz NOT NULL,
	max_load   integer NOT NULL,
	has_room   boolean NOT NULL,
	PRIMARY KEY (queue, agent_id)
);
CREATE INDEX IF NOT EXISTS agent_queues_free ON {s}.agent_queues (queue, idle_since, agent_id)
	WHERE ready AND has_room;
CREATE INDEX IF NOT EXISTS agent_queues_agent ON {s}.agent_queues (agent_id);

CREATE TABLE IF NOT EXISTS {s}.contacts (
	id         text COLLATE "C" PRIMARY KEY,
	updated_at timestamptz NOT NULL,
	sort_last  text COLLATE "C" NOT NULL,
	sort_first text COLLATE "C" NOT NULL,
	data       jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_order ON {s}.contacts (sort_last, sort_first, id);

CREATE TABLE IF NOT EXISTS {s}.contact_addresses (
	address    text COLLATE "C" NOT NULL,
	contact_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (address, contact_id)
);
CREATE INDEX IF NOT EXISTS contact_addresses_contact ON {s}.contact_addresses (contact_id);

CREATE TABLE IF NOT EXISTS {s}.contact_keys (
	key        bytea NOT NULL,
	contact_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (key, contact_id)
);
CREATE INDEX IF NOT EXISTS contact_keys_contact ON {s}.contact_keys (contact_id);

-- The intake's sender lists and rate counters (one block, so that it can
-- become a migration of its own).
CREATE TABLE IF NOT EXISTS {s}.sender_rules (
	pattern text COLLATE "C" PRIMARY KEY,
	action  text NOT NULL,
	data    jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.rate_counters (
	key          text COLLATE "C" NOT NULL,
	window_start timestamptz NOT NULL,
	count        bigint NOT NULL,
	PRIMARY KEY (key, window_start)
);
CREATE INDEX IF NOT EXISTS rate_counters_window ON {s}.rate_counters (window_start);

CREATE TABLE IF NOT EXISTS {s}.checkpoints (
	source     text COLLATE "C" PRIMARY KEY,
	validity   bigint NOT NULL,
	last_uid   bigint NOT NULL,
	updated_at timestamptz NOT NULL
);
