package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jonboulle/clockwork"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/sla"
	"github.com/emailflow/emailflow/store/postgres"
	"github.com/emailflow/emailflow/store/storetest"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// Two application instances, each with its own pool, Store and Workspace
// on one schema, Tick from two goroutines each at the same instants: every
// deadline's warning and breach is emitted once, and the escalation moves
// each interaction once.
func TestSLAEventsOnceAcrossInstances(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	opts := &emailflow.Options{
		ServiceLevels: sla.Config{
			Policies: []sla.Policy{{Name: "standard",
				FirstResponse: sla.Target{Within: 4 * time.Hour, Warn: 75,
					Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.MoveToQueue, Queue: "escalated"}}},
				Resolution: sla.Target{Within: 24 * time.Hour}}},
			Default: "standard",
		},
		Queues: []emailflow.Queue{{Name: "escalated"}},
	}
	var wss []*emailflow.Workspace
	for range 2 {
		pool, err := connect(ctx, 4)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &transport.Sender{}, Clock: clock}, opts)
		require.NoError(t, err)
		wss = append(wss, ws)
	}
	const n = 30
	for i := range n {
		_, err := wss[i%2].Ingest(ctx, "support@boutique.example", strings.NewReader(mailN(i)))
		require.NoError(t, err)
	}
	for _, step := range []time.Duration{3 * time.Hour, time.Hour, 20 * time.Hour} {
		clock.Advance(step)
		storetest.TickTogether(ctx, t, wss, 4)
	}
	require.NoError(t, wss[0].PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	evs, err := wss[1].As("admin").Events(ctx, 0, 100_000)
	require.NoError(t, err)
	count := map[emailflow.EventType]int{}
	seen := map[string]bool{}
	for _, e := range evs {
		switch e.Type {
		case emailflow.EventSLAWarning, emailflow.EventSLABreached, emailflow.EventSLAEscalated:
			count[e.Type]++
			k := fmt.Sprintf("%s %s %s", e.Type, e.InteractionID, e.Detail)
			assert.False(t, seen[k], "%s twice", k)
			seen[k] = true
		}
	}
	assert.Equal(t, n, count[emailflow.EventSLAWarning])
	assert.Equal(t, 2*n, count[emailflow.EventSLABreached], "first response and resolution")
	assert.Equal(t, n, count[emailflow.EventSLAEscalated], "each moved once")
	its, err := wss[0].As("admin").Interactions(ctx, emailflow.Query{Queue: "escalated"})
	require.NoError(t, err)
	assert.Len(t, its, n)
}

// BenchmarkTickDeadlines: a Tick with 100 breaches due among 1,000 or
// 100,000 open interactions on PostgreSQL: the due ones are claimed from
// the partial index on sla_next, so the cost follows the 100. -short
// keeps the smallest scene (storing 100,000 takes a minute).
func BenchmarkTickDeadlines(b *testing.B) {
	for _, open := range []int{1_000, 100_000} {
		if testing.Short() && open > 1_000 {
			break
		}
		var scene *storetest.TickScene
		parent := b
		b.Run(fmt.Sprintf("open=%d/due=100", open), func(b *testing.B) {
			if scene == nil {
				st := sceneTB{b, parent}
				scene = storetest.NewTickScene(st, freshStore(st), open, 100)
			}
			scene.Run(b)
		})
	}
}

// The due deadlines are read from the partial index on sla_next, never by
// a scan of the interactions: PostgreSQL's plan for the claim among
// 20,000 open interactions says so.
func TestDueDeadlinesUseTheIndex(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	pool := sharedPool(t)
	_, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	table := pgx.Identifier{schema, "interactions"}.Sanitize()
	_, err = pool.Exec(ctx, `INSERT INTO `+table+` (id, kind, state, owner, offered_to, queue, workbin,
		thread_id, contact_id, priority, queued_at, created_at, language, preferred, prefer_until, version,
		data, sla_next, sla_due)
	SELECT 'i' || g, 'inbound', 'handling', 'ann', '', 'sales', '', 'i' || g, '', 0, now(), now(), '', '',
		now(), 1, '{}', now() + g * interval '1 minute', now() + g * interval '2 minute'
	FROM generate_series(1, 20000) g`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE `+table)
	require.NoError(t, err)
	for name, q := range map[string]string{
		"DueSLA": `SELECT id FROM ` + table + ` WHERE sla_next IS NOT NULL AND sla_next <= $1
			ORDER BY sla_next, id LIMIT 256`,
		"ClaimDueSLA": `SELECT data, version FROM ` + table + `
			WHERE sla_next IS NOT NULL AND sla_next <= $1 AND id <> ALL('{}')
			ORDER BY sla_next, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
	} {
		rows, err := pool.Query(ctx, "EXPLAIN "+q, time.Now().Add(100*time.Minute))
		require.NoError(t, err)
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		text := strings.Join(plan, "\n")
		assert.Contains(t, text, "interactions_sla_next", "%s: %s", name, text)
		assert.NotContains(t, text, "Seq Scan", "%s: %s", name, text)
	}
}
