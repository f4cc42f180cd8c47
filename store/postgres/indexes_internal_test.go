package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// statementLog is a pgx tracer keeping the statements on interactions
// sent while it is on, with their arguments, so that a test can ask
// PostgreSQL for the plan of the very text a method sends.
type statementLog struct {
	mu    sync.Mutex
	on    bool
	stmts []loggedStatement
}

type loggedStatement struct {
	sql  string
	args []any
}

func (l *statementLog) note(sql string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on && strings.Contains(sql, ".interactions") {
		l.stmts = append(l.stmts, loggedStatement{sql, args})
	}
}

// take returns the statements logged since the last take and turns the
// log on.
func (l *statementLog) take() []loggedStatement {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stmts
	l.stmts, l.on = nil, true
	return out
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.note(d.SQL, d.Args)
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *statementLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (l *statementLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	l.note(d.SQL, d.Args)
}

func (l *statementLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// populatedStore returns a store whose schema holds n interactions in the
// proportions of a desk that has run for a while (most done or sent, a few
// percent open, in 10 queues, 200 agents, 5 workbins), and the agents
// and their queue memberships, analysed; and the log of its statements.
func populatedStore(t *testing.T, n int) (*Store, *statementLog) {
	t.Helper()
	dsn := os.Getenv("EMAILFLOW_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	log := &statementLog{}
	cfg.ConnConfig.Tracer = log
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "eftest_indexes_" + hex.EncodeToString(b[:])
	s, err := New(ctx, pool, &Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	// g % 100: 0-3 queued, 4 offered, 5-9 handling, 10-12 parked, 13
	// draft, 14 transferred, 15 quarantined, 16-55 done, 56-99 sent. An
	// outbound shares the thread of the inbound before it.
	_, err = pool.Exec(ctx, s.sql(`
WITH r AS (SELECT g, g % 100 AS k, 'a' || (g % 200) AS agent, 'a' || ((g + 1) % 200) AS other FROM generate_series(1, $1::int) g),
c AS (SELECT *, CASE
	WHEN k < 4 THEN 'queued' WHEN k = 4 THEN 'offered' WHEN k < 10 THEN 'handling'
	WHEN k < 13 THEN 'parked' WHEN k = 13 THEN 'draft' WHEN k = 14 THEN 'transferred'
	WHEN k = 15 THEN 'quarantined' WHEN k < 56 THEN 'done' ELSE 'sent' END AS state,
	CASE WHEN k = 13 OR k >= 56 THEN 'outbound' ELSE 'inbound' END AS kind FROM r)
INSERT INTO {s}.interactions (id, kind, state, owner, offered_to, queue, workbin, thread_id, contact_id,
	priority, queued_at, created_at, skills, language, declined, preferred, prefer_until, version, data,
	offered_at, sla_next, sla_due)
SELECT 'i' || g, kind, state,
	CASE WHEN state IN ('queued', 'offered', 'quarantined') THEN '' ELSE agent END,
	CASE WHEN state IN ('offered', 'transferred') THEN agent ELSE '' END,
	'q' || (g % 10), CASE WHEN state = 'parked' THEN 'bin' || (g % 5) ELSE '' END,
	CASE WHEN kind = 'outbound' THEN 'i' || (g - 1) ELSE 'i' || g END, 'c' || (g % 20000),
	g % 3, now() - g * interval '1 second', now() - g * interval '1 second', NULL, 'fr',
	CASE WHEN state = 'queued' AND g % 1000 = 0 THEN ARRAY[other] END,
	CASE WHEN state = 'queued' AND g % 500 = 1 THEN agent ELSE '' END,
	now() - interval '1 hour' + (g % 7200) * interval '1 second', 1,
	CASE WHEN state = 'transferred' THEN jsonb_build_object('TransferFrom', other) ELSE '{}' END,
	CASE WHEN state IN ('offered', 'transferred') THEN now() - (g % 600) * interval '1 second' END,
	CASE WHEN kind = 'inbound' AND k < 16 THEN now() + (g % 600 - 30) * interval '1 minute' END,
	CASE WHEN kind = 'inbound' AND k < 16 THEN now() + (g % 900) * interval '1 minute' END
FROM c`), n)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, s.sql(`INSERT INTO {s}.agents (id, status, max_load, idle_since, roles, data)
SELECT 'a' || g, 'ready', 1000, now() - g * interval '1 second', '{}', '{}' FROM generate_series(0, 199) g`))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, s.sql(`INSERT INTO {s}.agent_queues (queue, agent_id, ready, idle_since, max_load, has_room)
SELECT 'q' || (g % 10), 'a' || g, g % 4 <> 0, now() - g * interval '1 second', 1000, true FROM generate_series(0, 199) g`))
	require.NoError(t, err)
	for _, tbl := range []string{"interactions", "agents", "agent_queues"} {
		_, err = pool.Exec(ctx, s.sql("ANALYZE {s}."+tbl))
		require.NoError(t, err)
	}
	return s, log
}

// errRollback ends a transaction of the test without committing it.
var errRollback = errors.New("rolled back by the test")

// seqScan finds a sequential scan of interactions in a plan.
var seqScan = regexp.MustCompile(`Seq Scan on (\S+\.)?interactions\b`)

// interactionIndex finds the indexes of interactions a plan reads.
var interactionIndex = regexp.MustCompile(`(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (interactions_\w+)`)

// explain returns the plan PostgreSQL makes for st.
func explain(t *testing.T, pool *pgxpool.Pool, st loggedStatement) string {
	t.Helper()
	rows, err := pool.Query(t.Context(), "EXPLAIN "+st.sql, st.args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

// explainGeneric is explain with the plan PostgreSQL caches for a
// prepared statement after its first executions (a generic plan, made
// without the arguments' values), which is the one the pool's statement
// cache runs from then on.
func explainGeneric(t *testing.T, pool *pgxpool.Pool, st loggedStatement) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "PREPARE efgeneric AS "+st.sql)
	require.NoError(t, err)
	defer conn.Exec(context.Background(), "DEALLOCATE efgeneric") //nolint:errcheck // the connection goes back either way
	params := make([]string, len(st.args))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	var plan string
	require.NoError(t, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
			return err
		}
		// EXECUTE takes no parameters of the protocol: the arguments go in as
		// literals, the simple protocol quoting them.
		rows, err := tx.Query(ctx, "EXPLAIN EXECUTE efgeneric("+strings.Join(params, ", ")+")", append([]any{pgx.QueryExecModeSimpleProtocol}, st.args...)...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		plan = strings.Join(lines, "\n")
		return err
	}))
	return plan
}

// TestQueriesUseIndexes: on a populated schema (100,000 interactions,
// most of them done or sent), every statement on interactions of the
// hot paths (routing, load counts, Tick's claims, the thread lookup of
// ingest, the lists by agent, workbin, contact and queue) reads a range
// of one of its indexes, named here, and never scans the table: the
// plans PostgreSQL makes for the texts the methods send, with their
// arguments, and sequential scans allowed; and so are the generic plans
// the statement cache runs after a few executions.
func TestQueriesUseIndexes(t *testing.T) {
	s, log := populatedStore(t, 100_000)
	ctx := t.Context()
	now := time.Now()
	for _, c := range []struct {
		name    string
		indexes []string // every statement on interactions uses one of these
		run     func(port.Tx) error
	}{
		{"routing: available agents and their load", []string{"interactions_load"}, func(tx port.Tx) error {
			_, err := tx.AvailableAgents(ctx, "q3", 0, 16)
			return err
		}},
		{"routing: waiting", []string{"interactions_waiting"}, func(tx port.Tx) error {
			_, err := tx.Waiting(ctx, "q3", 0, 64)
			return err
		}},
		{"routing: waiting by due time", []string{"interactions_waiting_due"}, func(tx port.Tx) error {
			_, err := tx.(port.ServiceLevelTx).WaitingByDue(ctx, "q3", 0, 64)
			return err
		}},
		{"load count", []string{"interactions_load"}, func(tx port.Tx) error {
			_, err := tx.Load(ctx, "a7")
			return err
		}},
		{"thread lookup", []string{"interactions_pkey", "interactions_thread"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Kind: interaction.KindInbound, ThreadID: "i4001"})
			return err
		}},
		{"thread", []string{"interactions_pkey", "interactions_thread"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{ThreadID: "i4001"})
			return err
		}},
		{"thread with a reply", []string{"interactions_pkey", "interactions_thread"}, func(tx port.Tx) error {
			// i4056 is outbound, in the thread of i4055.
			found, err := tx.FindInteractions(ctx, port.Query{ThreadID: "i4055"})
			if err == nil && len(found) != 2 {
				err = fmt.Errorf("thread i4055: %d interactions, want 2", len(found))
			}
			return err
		}},
		{"by owner", []string{"interactions_owner"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Owner: "a7"})
			return err
		}},
		{"offered to", []string{"interactions_offered", "interactions_load"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{OfferedTo: "a4"})
			return err
		}},
		{"workbin", []string{"interactions_workbin", "interactions_open"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Workbin: "bin1", States: []interaction.State{interaction.StateParked}})
			return err
		}},
		{"owner's workbin", []string{"interactions_owner", "interactions_workbin", "interactions_open"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Owner: "a11", Workbin: "bin1", States: []interaction.State{interaction.StateParked}})
			return err
		}},
		{"queue: queued", []string{"interactions_waiting", "interactions_waiting_due", "interactions_open"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Queue: "q3", States: []interaction.State{interaction.StateQueued}})
			return err
		}},
		{"queue: offered", []string{"interactions_offer_due", "interactions_open"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Queue: "q3", States: []interaction.State{interaction.StateOffered}})
			return err
		}},
		{"queue: set aside", []string{"interactions_open"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Queue: "q3", States: []interaction.State{interaction.StateQuarantined, interaction.StateFailed}})
			return err
		}},
		{"queue: open inbound, a page", []string{"interactions_open"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{Kind: interaction.KindInbound, Queue: "q3", States: []interaction.State{
				interaction.StateQueued, interaction.StateOffered, interaction.StateHandling, interaction.StateParked,
				interaction.StateTransferred}, Offset: 100, Limit: 100})
			return err
		}},
		{"contact history", []string{"interactions_contact"}, func(tx port.Tx) error {
			_, err := tx.FindInteractions(ctx, port.Query{ContactID: "c77"})
			return err
		}},
		{"one interaction", []string{"interactions_pkey"}, func(tx port.Tx) error {
			_, err := tx.Interaction(ctx, "i77")
			return err
		}},
		{"due deadlines", []string{"interactions_sla_next"}, func(tx port.Tx) error {
			_, err := tx.(port.ServiceLevelTx).DueSLA(ctx, now, 256)
			return err
		}},
		{"Tick: due offer", []string{"interactions_offer_due"}, func(tx port.Tx) error {
			_, err := tx.(port.TimerTx).ClaimDueOffer(ctx, now.Add(-5*time.Minute), nil)
			return err
		}},
		{"Tick: expired preference", []string{"interactions_prefer_due"}, func(tx port.Tx) error {
			_, err := tx.(port.TimerTx).ClaimExpiredPreference(ctx, now, nil)
			return err
		}},
		{"Tick: declined", []string{"interactions_declined"}, func(tx port.Tx) error {
			_, err := tx.(port.TimerTx).ClaimDeclined(ctx, nil)
			return err
		}},
		{"Tick: due deadline", []string{"interactions_sla_next"}, func(tx port.Tx) error {
			_, err := tx.(port.DeadlineClaimTx).ClaimDueSLA(ctx, now, nil)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			log.take()
			// Rolled back: the claims lock what they find, nothing else.
			err := s.Update(ctx, func(tx port.Tx) error {
				if err := c.run(tx); err != nil {
					return err
				}
				return errRollback
			})
			require.ErrorIs(t, err, errRollback)
			stmts := log.take()
			require.NotEmpty(t, stmts, "no statement on interactions")
			for _, st := range stmts {
				plan := explain(t, s.pool, st)
				assert.NotRegexp(t, seqScan, plan, "%s\n%s", st.sql, plan)
				generic := explainGeneric(t, s.pool, st)
				assert.NotRegexp(t, seqScan, generic, "generic plan of %s\n%s", st.sql, generic)
				used := interactionIndex.FindAllStringSubmatch(plan, -1)
				require.NotEmpty(t, used, "%s\n%s", st.sql, plan)
				for _, u := range used {
					assert.Contains(t, c.indexes, u[1], "%s\n%s", st.sql, plan)
				}
				t.Logf("%s\n%s", strings.Join(strings.Fields(st.sql), " "), plan)
			}
		})
	}
}
