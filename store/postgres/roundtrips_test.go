package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
)

// lifecycleTrips is the round trips of a lifecycle as measured.
//
// The emails path: Enqueue's insert rides with Send's next statement
// (27 → 26).
//
// Send's review check looks at the draft the view before it read, at the
// same version, rather than reading its emails again (26 → 25).
//
// Ingest's look-ups are one batch: the emails its ids name and the
// sender's contacts are read ahead, with the sender rule's read, in the
// View's snapshot (7 → 5); Reply reads the inbound's contact only for a
// signature, and then ahead, with the interaction's read (6 → 5): 25 → 22.
//
// The last write of Accept and of the delivery outcome (UpdateInteractionLast)
// rides with the events and COMMIT, the server refusing a stale one
// itself; a new interaction's insert (Reply's draft) rides with the next
// statement (22 → 19).
//
// Reply and Send have no View before their transaction: its first batch
// reads the interaction and its emails with the agent, and the draft is
// built or rendered in it (19 → 17).
//
// Send's writes of the draft and of the inbound it answers are checked by
// the server too (UpdateInteractionLast), so the inbound's rides with the
// freed agent's writes and the read of its queue (17 → 16).
const lifecycleTrips = 16

// lifecycleStatements is the statements of a lifecycle as measured (the
// agent path: one lock and count of the agent per transaction, PutAgent
// in place; see agents.go).
//
// The emails path: a transaction's events in one insert with COMMIT
// (8 → 5 per lifecycle), Send not recording again the Message-ID of the
// draft it read (2 → 1): 67 → 63.
//
// Accept and Reply lock the agent without counting its load, which they
// do not read (AgentOnly): 63 → 61.
//
// The delivery's outcome commits asynchronously, said in a statement
// riding with its first batch (see AsyncCommit): 61 → 62.
//
// A draft's transaction reads its inbound again, with the agent it no
// longer locks (see AgentOnly), so that writing the inbound back moves no
// load and takes no agent lock: 62 → 63, no round trip more.
//
// Reply reads the inbound's contact only when a signature takes its
// fields: 63 → 62.
//
// Reply and Send without their View: its BEGIN and ROLLBACK, and Reply's
// second read of the inbound, are gone; Send, having read the draft's
// email in its transaction, does not record its Message-ID again: 62 → 56.
const lifecycleStatements = 56

// tripCounter is a pgx tracer counting round trips to the server: a
// query or Exec is one (BEGIN and COMMIT included), a batch is one
// however many statements it carries. Prepares are left out (see
// TracePrepareStart).
type tripCounter struct {
	trips      atomic.Int64
	statements atomic.Int64 // statements, batched ones counted one by one

	mu  sync.Mutex
	log []string // the statements, when logging
	on  bool
}

func (c *tripCounter) note(indent, sql string) {
	c.mu.Lock()
	if c.on {
		c.log = append(c.log, indent+strings.Join(strings.Fields(sql), " "))
	}
	c.mu.Unlock()
}

// counting marks the contexts of the actions counted: the store's
// background work (numbering events after a commit) is not on their path.
type counting struct{}

func counted(ctx context.Context) bool { return ctx.Value(counting{}) != nil }

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !counted(ctx) {
		return ctx
	}
	c.trips.Add(1)
	c.statements.Add(1)
	c.note("", d.SQL)
	return ctx
}

func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	if !counted(ctx) {
		return ctx
	}
	c.trips.Add(1)
	c.note("", "-- batch")
	return ctx
}

func (c *tripCounter) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if !counted(ctx) {
		return
	}
	c.statements.Add(1)
	c.note("   ", d.SQL)
}

func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TracePrepareStart counts nothing: a statement is prepared once per
// connection, and which of the pool's connections has prepared what
// depends on the order they were handed out; the counts are of a warm
// pool.
func (c *tripCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}

func (c *tripCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// counted returns the round trips and statements fn makes.
func (c *tripCounter) counted(fn func() error) (trips, statements int64, err error) {
	t0, s0 := c.trips.Load(), c.statements.Load()
	err = fn()
	return c.trips.Load() - t0, c.statements.Load() - s0, err
}

// tracedWorkspace is benchWorkspace on a pool of its own whose round
// trips c counts.
func tracedWorkspace(t testing.TB, c *tripCounter) *emailflow.Workspace {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn())
	require.NoError(t, err)
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	cfg.ConnConfig.Tracer = c
	// The pool pings a connection idle for a second before handing it
	// out: a health check, not the actions' work, and it would make the
	// count depend on the machine's speed.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(context.Background(), pool, &postgres.Options{Schema: freshSchema(t)})
	require.NoError(t, err)
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	ctx := context.Background()
	for _, id := range []string{"alice", "bob"} {
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"support-fr"}, Capacity: 1 << 20}))
		require.NoError(t, ws.As(id).SetStatus(ctx, emailflow.StatusReady))
	}
	return ws
}

// lifecycleSteps is lifecycle, step by step, for counting.
func lifecycleSteps(ctx context.Context, ws *emailflow.Workspace, raw []byte) []func() error {
	var id, agent, reply string
	return []func() error{
		func() error {
			it, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(raw))
			if err == nil {
				id, agent = it.ID, it.OfferedTo
			}
			return err
		},
		func() error { _, err := ws.As(agent).Accept(ctx, id); return err },
		func() error {
			r, err := ws.As(agent).Reply(ctx, id)
			if err == nil {
				reply = r.ID
			}
			return err
		},
		func() error { _, err := ws.As(agent).Send(ctx, reply, nil); return err },
	}
}

// TestRoundTrips counts the round trips of each action of a lifecycle
// (ingest → accept → reply → send with delivery), once the statements
// are prepared, and keeps the lifecycle within the count measured, so
// that a change adding round trips is seen (docs/postgres.md has the
// figures, statement by statement with -v).
func TestRoundTrips(t *testing.T) {
	c := &tripCounter{}
	ws := tracedWorkspace(t, c)
	ctx := context.WithValue(t.Context(), counting{}, true)
	raw := benchOrder(t)
	for i := range 2 { // prepares every statement
		for _, step := range lifecycleSteps(ctx, ws, benchMail(raw, int64(i))) {
			require.NoError(t, step())
		}
	}
	c.mu.Lock()
	c.on = testing.Verbose()
	c.mu.Unlock()
	names := []string{"Ingest", "Accept", "Reply", "Send"}
	var total, totalStatements int64
	report := ""
	for i, step := range lifecycleSteps(ctx, ws, benchMail(raw, 99)) {
		trips, statements, err := c.counted(step)
		require.NoError(t, err, names[i])
		total += trips
		totalStatements += statements
		report += fmt.Sprintf("%s %d (%d statements); ", names[i], trips, statements)
	}
	t.Logf("round trips: %slifecycle %d (%d statements)", report, total, totalStatements)
	if testing.Verbose() {
		t.Log("\n" + strings.Join(c.log, "\n"))
	}
	require.LessOrEqual(t, total, int64(lifecycleTrips), "round trips of a lifecycle")
	require.LessOrEqual(t, totalStatements, int64(lifecycleStatements), "statements of a lifecycle")
}
