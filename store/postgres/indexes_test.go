package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
)

// interactionIndexes are the indexes of interactions and the predicate of
// each partial one (docs/postgres.md says what each is for): every write
// of an interaction inserts into each whose predicate the new row meets,
// so one added here costs every lifecycle.
var interactionIndexes = map[string]string{
	"interactions_pkey":        "",
	"interactions_waiting":     "(state = 'queued'::text)",
	"interactions_waiting_due": "(state = 'queued'::text)",
	"interactions_load":        "(load_agent IS NOT NULL)",
	"interactions_open":        "(state <> ALL (ARRAY['done'::text, 'deleted'::text, 'sent'::text]))",
	"interactions_thread":      "(thread_id <> id)",
	"interactions_contact":     "(contact_id <> ''::text)",
	"interactions_owner":       "(owner <> ''::text)",
	"interactions_offered":     "(offered_to <> ''::text)",
	"interactions_workbin":     "(workbin <> ''::text)",
	"interactions_offer_due":   "(state = ANY (ARRAY['offered'::text, 'transferred'::text]))",
	"interactions_prefer_due":  "((state = 'queued'::text) AND (preferred <> ''::text))",
	"interactions_declined":    "((state = 'queued'::text) AND (cardinality(declined) > 0))",
	"interactions_sla_next":    "(sla_next IS NOT NULL)",
}

// TestInteractionIndexes checks the indexes of interactions after every
// migration, and measures what a write of an interaction costs in WAL
// over lifecycles (ingest → accept → reply → send), from
// pg_stat_statements when the server has it: the figures of
// docs/postgres.md.
func TestInteractionIndexes(t *testing.T) {
	ctx := context.Background()
	pool := sharedPool(t)
	schema := freshSchema(t)
	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	table := pgx.Identifier{schema}.Sanitize() + ".interactions"
	rows, err := pool.Query(ctx, `SELECT c.relname, coalesce(pg_get_expr(i.indpred, i.indrelid), '')
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = $1::regclass`, table)
	require.NoError(t, err)
	got := map[string]string{}
	var name, pred string
	_, err = pgx.ForEachRow(rows, []any{&name, &pred}, func() error { got[name] = pred; return nil })
	require.NoError(t, err)
	assert.Equal(t, interactionIndexes, got)

	var stats bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('pg_stat_statements') IS NOT NULL`).Scan(&stats))
	if !stats {
		t.Log("pg_stat_statements is not installed in this database: the WAL figures are not measured")
		return
	}
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	for _, id := range []string{"alice", "bob"} {
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"support-fr"}, Capacity: 1 << 20}))
		require.NoError(t, ws.As(id).SetStatus(ctx, emailflow.StatusReady))
	}
	// The figures so far (a schema may be reused by the package's tests):
	// the lifecycles' are the difference.
	type figures struct{ calls, records, fpi, bytes, blocks, dirtied int64 }
	read := func() map[string]figures {
		rows, err := pool.Query(ctx, `SELECT split_part(query, ' ', 1), sum(calls)::bigint, sum(wal_records)::bigint,
				sum(wal_fpi)::bigint, sum(wal_bytes)::bigint, sum(shared_blks_hit + shared_blks_read)::bigint,
				sum(shared_blks_dirtied)::bigint
			FROM pg_stat_statements
			WHERE (query LIKE 'INSERT INTO ' || $1 || ' %' OR query LIKE 'UPDATE ' || $1 || ' %')
			GROUP BY 1`, table)
		require.NoError(t, err)
		out := map[string]figures{}
		var verb string
		var f figures
		_, err = pgx.ForEachRow(rows, []any{&verb, &f.calls, &f.records, &f.fpi, &f.bytes, &f.blocks, &f.dirtied}, func() error {
			out[verb] = f
			return nil
		})
		require.NoError(t, err)
		return out
	}
	before := read()
	const lifecycles = 50
	raw := benchOrder(t)
	for i := range lifecycles {
		for _, step := range lifecycleSteps(ctx, ws, benchMail(raw, int64(i))) {
			require.NoError(t, step())
		}
	}
	after := read()
	for _, verb := range []string{"INSERT", "UPDATE"} {
		a, b := after[verb], before[verb]
		calls := float64(a.calls - b.calls)
		require.Positive(t, calls, verb)
		t.Logf("%s interactions: %.0f calls over %d lifecycles; per call %.2f WAL records (%.2f full pages), %.0f WAL bytes, %.1f buffers, %.2f dirtied",
			verb, calls, lifecycles, float64(a.records-b.records)/calls, float64(a.fpi-b.fpi)/calls,
			float64(a.bytes-b.bytes)/calls, float64(a.blocks-b.blocks)/calls, float64(a.dirtied-b.dirtied)/calls)
		assert.Positive(t, a.records-b.records, verb)
	}
}
