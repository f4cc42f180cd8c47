package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// pacedInstances starts n instances on one fresh schema, each with its own
// pool and the given sequencer interval.
func pacedInstances(t *testing.T, n int, interval time.Duration) []instance {
	t.Helper()
	return startInstances(t, n, postgres.Options{SequenceInterval: interval}, emailflow.Ports{Sender: &transport.Sender{}}, nil)
}

// TestSequencerRunsPacedByTime: many commits from several workers within
// a span cost each instance at most one sequencer run per interval of the
// span (plus the one under way at each end), not a run per few commits,
// and every event still reaches a subscriber on another instance, once,
// in commit order per agent.
func TestSequencerRunsPacedByTime(t *testing.T) {
	const (
		interval = 50 * time.Millisecond
		workers  = 8
		each     = 40
		commits  = workers * each
	)
	in := pacedInstances(t, 2, interval)
	writer, reader := in[0], in[1]
	ctx := t.Context()
	for w := range workers {
		require.NoError(t, writer.ws.PutAgent(ctx, emailflow.Agent{ID: fmt.Sprintf("agent%d", w)}))
	}
	sub := reader.ws.Subscribe(ctx, &emailflow.SubscribeOptions{Buffer: 2 * commits})
	defer sub.Close()
	require.NoError(t, writer.ws.As("agent0").SetStatus(ctx, emailflow.StatusNotReady))
	require.Len(t, collect(sub, 1, 10*time.Second).events, 1, "the subscription is live")

	writerRuns, readerRuns := writer.store.SequencerRuns(), reader.store.SequencerRuns()
	start := time.Now()
	status := []emailflow.AgentStatus{emailflow.StatusReady, emailflow.StatusNotReady}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			agent := writer.ws.As(fmt.Sprintf("agent%d", w))
			for i := range each {
				assert.NoError(t, agent.SetStatus(ctx, status[i%2]))
			}
		})
	}
	got := collect(sub, commits, 60*time.Second)
	span := time.Since(start)
	writerRuns = writer.store.SequencerRuns() - writerRuns
	readerRuns = reader.store.SequencerRuns() - readerRuns
	wg.Wait()

	require.Len(t, got.events, commits, "events the other instance's subscriber got")
	perAgent := map[string][]string{}
	for i, e := range got.events {
		if i > 0 {
			assert.Greater(t, e.Cursor, got.events[i-1].Cursor, "cursors increase")
		}
		perAgent[e.Agent] = append(perAgent[e.Agent], e.Detail)
	}
	require.Len(t, perAgent, workers)
	for agent, details := range perAgent {
		require.Len(t, details, each, agent)
		for i, d := range details {
			assert.Equal(t, string(status[i%2]), d, "%s: status change %d in commit order", agent, i)
		}
	}

	bound := int64((span+interval-1)/interval) + 2
	t.Logf("%d commits in %v: %d sequencer runs on the writer, %d on the reader (bound %d)", commits, span, writerRuns, readerRuns, bound)
	assert.LessOrEqual(t, writerRuns, bound, "the writer's runs")
	assert.LessOrEqual(t, readerRuns, bound, "the reader's runs")
	assert.Less(t, writerRuns, int64(commits), "fewer runs than commits")
}

// TestSequencerNumbersWhatAPacedReadLeft: events committed without a
// nudge (as by a process that died after its commit) and met by a read
// that the interval kept from running the sequencer are numbered by a run
// at the end of the interval, which nothing else asks for.
func TestSequencerNumbersWhatAPacedReadLeft(t *testing.T) {
	// Long enough that the second read below comes within it.
	const interval = time.Second
	in := pacedInstances(t, 1, interval)
	s := in[0].store
	ctx := t.Context()
	_, err := s.FeedAfter(ctx, 0, 10) // the run of this interval
	require.NoError(t, err)
	runs := s.SequencerRuns()

	_, err = s.Pool().Exec(ctx, `INSERT INTO `+pgx.Identifier{s.Schema()}.Sanitize()+`.events (type, interaction_id, agent, actor, state, at, detail)
		VALUES ('agent-status', '', 'ann', 'ann', '', now(), 'ready')`)
	require.NoError(t, err)
	evs, err := s.FeedAfter(ctx, 0, 10)
	require.NoError(t, err)
	require.Equal(t, runs, s.SequencerRuns(), "the read within the interval ran nothing")
	assert.Empty(t, evs, "not numbered yet")
	var unnumbered int
	require.Eventually(t, func() bool {
		err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{s.Schema()}.Sanitize()+`.events WHERE pos IS NULL`).Scan(&unnumbered)
		return err == nil && unnumbered == 0
	}, 10*time.Second, 10*time.Millisecond, "the event is numbered without another read or commit")
	evs, err = s.FeedAfter(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "ready", evs[0].Detail)
}

// TestNegativeSequenceInterval: New refuses a negative interval.
func TestNegativeSequenceInterval(t *testing.T) {
	_, err := postgres.New(t.Context(), sharedPool(t), &postgres.Options{Schema: freshSchema(t), SequenceInterval: -time.Millisecond})
	require.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

// TestFeedHeadAfterALargeBacklog: more events waiting for their numbers
// than one sequencer run takes (a process that wrote for long with no
// run, say) are all before the cursor FeedHead returns: a subscription
// from that head gets none of them.
func TestFeedHeadAfterALargeBacklog(t *testing.T) {
	in := pacedInstances(t, 1, time.Hour) // no background run meanwhile
	s := in[0].store
	ctx := t.Context()
	const backlog = 10_005 // one run's batch and five more
	_, err := s.Pool().Exec(ctx, `INSERT INTO `+pgx.Identifier{s.Schema()}.Sanitize()+`.events (type, interaction_id, agent, actor, state, at, detail)
		SELECT 'agent-status', '', 'ann', 'ann', '', now(), 'ready ' || g FROM generate_series(1, $1) g`, backlog)
	require.NoError(t, err)

	head, err := s.FeedHead(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(backlog), head, "the head follows every event committed before the call")
	after, err := s.FeedAfter(ctx, head, 100)
	require.NoError(t, err)
	assert.Empty(t, after, "nothing committed before FeedHead comes after its cursor")
	first, err := s.FeedAfter(ctx, 0, 1)
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, "ready 1", first[0].Detail, "numbered in the order written")
}

// TestFeedWithRepeatableReadSessions: the sequencer needs READ COMMITTED
// and says so in its transaction, so a pool whose sessions default to
// REPEATABLE READ (a setting of the role, the database or the pool) still
// has a working feed: a subscriber on another instance gets the events.
func TestFeedWithRepeatableReadSessions(t *testing.T) {
	schema := freshSchema(t)
	ctx := t.Context()
	var ws [2]*emailflow.Workspace
	for i := range ws {
		cfg, err := pgxpool.ParseConfig(dsn())
		require.NoError(t, err)
		cfg.MaxConns = 4
		cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "repeatable read"
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		ws[i], err = emailflow.New(emailflow.Ports{Store: s, Sender: &transport.Sender{}}, nil)
		require.NoError(t, err)
	}
	require.NoError(t, ws[0].PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"default"}, Capacity: 1}))
	// Bounded: without a working sequencer the subscription would wait
	// for its starting cursor for ever.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sub := ws[1].Subscribe(sctx, &emailflow.SubscribeOptions{Buffer: 16})
	defer sub.Close()
	require.NoError(t, ws[0].As("ann").SetStatus(ctx, emailflow.StatusReady))
	e, ok := <-sub.C
	require.True(t, ok, "no event reached the other instance's subscriber")
	assert.Equal(t, "ann", e.Agent)
	assert.Positive(t, e.Cursor)
}

// TestCloseEndsTheSequencer: Close does not leave the background
// sequencer waiting for its interval: it makes one last run of what this
// process committed (numbered for every process's followers) and no run
// starts after it returns.
func TestCloseEndsTheSequencer(t *testing.T) {
	in := pacedInstances(t, 1, time.Hour) // the next paced run is an hour away
	s, ws := in[0].store, in[0].ws
	ctx := t.Context()
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"default"}, Capacity: 1}))
	unnumbered := func() int {
		var n int
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{s.Schema()}.Sanitize()+`.events WHERE pos IS NULL`).Scan(&n))
		return n
	}
	require.NoError(t, ws.As("ann").SetStatus(ctx, emailflow.StatusReady)) // a run now, the next an hour later
	require.Eventually(t, func() bool { return unnumbered() == 0 }, 5*time.Second, 10*time.Millisecond,
		"the first commit's run")
	require.NoError(t, ws.As("ann").SetStatus(ctx, emailflow.StatusNotReady))
	require.Equal(t, 1, unnumbered(), "the second commit's event waits for the next paced run")

	s.Close()
	assert.Zero(t, unnumbered(), "Close's last run numbered what was due")
	runs := s.SequencerRuns()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, runs, s.SequencerRuns(), "no run after Close")
}
