package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jonboulle/clockwork"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
	"github.com/emailflow/emailflow/sla"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// deadlines skips the test when the store's Tx keeps no deadline index
// (the ability is optional).
func deadlines(t *testing.T, s emailflow.Store) {
	t.Helper()
	var ok bool
	view(t, s, func(_ context.Context, tx emailflow.Tx) { _, ok = tx.(emailflow.ServiceLevelTx) })
	if !ok {
		t.Skip("storetest: the store's Tx is no emailflow.ServiceLevelTx: deadline indexes not checked")
	}
}

// dueSLA returns the ids DueSLA gives at minute.
func dueSLA(t *testing.T, s emailflow.Store, minute, limit int) []string {
	t.Helper()
	var got []string
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		got, err = tx.(emailflow.ServiceLevelTx).DueSLA(ctx, at(minute), limit)
		require.NoError(t, err)
	})
	return got
}

// waitingByDue returns the ids WaitingByDue gives.
func waitingByDue(t *testing.T, s emailflow.Store, queue string, offset, limit int) []string {
	t.Helper()
	var items []routing.Item
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		items, err = tx.(emailflow.ServiceLevelTx).WaitingByDue(ctx, queue, offset, limit)
		require.NoError(t, err)
	})
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// withNext returns an open inbound whose next deadline instant is at
// minute (none when minute is negative).
func withNext(id string, minute int) *interaction.Interaction {
	it := plain(id, interaction.KindInbound, interaction.StateHandling)
	it.Owner, it.Queue = "ann", "sales"
	if minute >= 0 {
		it.SLA = interaction.ServiceLevel{Policy: "standard", State: sla.State{Arrived: base}, Next: at(minute), Due: at(minute + 60)}
	}
	return it
}

func testDeadlines(t *testing.T, newStore newFunc) {
	t.Run("DueInOrder", func(t *testing.T) {
		s := fresh(t, newStore)
		deadlines(t, s)
		create(t, s, withNext("m30", 30), withNext("m10-b", 10), withNext("none", -1), withNext("m10-a", 10), withNext("m90", 90))
		emptyOr(t, nil, dueSLA(t, s, 9, 0), "nothing due before the first")
		assert.Equal(t, []string{"m10-a", "m10-b"}, dueSLA(t, s, 10, 0), "due at its instant; ties by id")
		assert.Equal(t, []string{"m10-a", "m10-b", "m30"}, dueSLA(t, s, 89, 0))
		assert.Equal(t, []string{"m10-a", "m10-b", "m30", "m90"}, dueSLA(t, s, 10_000, 0), "never one without a next instant")
		assert.Equal(t, []string{"m10-a", "m10-b"}, dueSLA(t, s, 10_000, 2), "limit")
	})

	t.Run("FollowsWrites", func(t *testing.T) {
		s := fresh(t, newStore)
		deadlines(t, s)
		create(t, s, withNext("a", 10), withNext("b", 20), withNext("c", -1))
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			a, err := tx.Interaction(ctx, "a")
			require.NoError(t, err)
			a = a.Clone()
			a.SLA.Next = at(50) // its warning fired: next is the breach
			require.NoError(t, tx.UpdateInteraction(ctx, a))
			b, err := tx.Interaction(ctx, "b")
			require.NoError(t, err)
			b = b.Clone()
			b.State, b.SLA.Next = interaction.StateDone, time.Time{} // done: nothing more
			require.NoError(t, tx.UpdateInteraction(ctx, b))
			c, err := tx.Interaction(ctx, "c")
			require.NoError(t, err)
			c = c.Clone()
			c.SLA.Next = at(5) // set pending with a wake-up
			require.NoError(t, tx.UpdateInteraction(ctx, c))
		})
		assert.Equal(t, []string{"c", "a"}, dueSLA(t, s, 100, 0))
		got := read(t, s, "c")
		assert.True(t, at(5).Equal(got.SLA.Next))
	})

	t.Run("RollbackKeepsIndex", func(t *testing.T) {
		s := fresh(t, newStore)
		deadlines(t, s)
		create(t, s, withNext("a", 10))
		boom := errors.New("boom")
		err := s.Update(t.Context(), func(tx emailflow.Tx) error {
			ctx := t.Context()
			a, err := tx.Interaction(ctx, "a")
			require.NoError(t, err)
			a = a.Clone()
			a.SLA.Next = at(500)
			require.NoError(t, tx.UpdateInteraction(ctx, a))
			require.NoError(t, tx.CreateInteraction(ctx, withNext("b", 1)))
			got, err := tx.(emailflow.ServiceLevelTx).DueSLA(ctx, at(100), 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"b"}, got, "the transaction sees its own writes")
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.Equal(t, []string{"a"}, dueSLA(t, s, 100, 0))
	})

	t.Run("WaitingByDue", func(t *testing.T) {
		s := fresh(t, newStore)
		deadlines(t, s)
		mk := func(id string, due, priority, queued int) *interaction.Interaction {
			it := plain(id, interaction.KindInbound, interaction.StateQueued)
			it.Queue, it.Priority, it.QueuedAt, it.CreatedAt = "sales", priority, at(queued), at(queued)
			if due >= 0 {
				it.SLA = interaction.ServiceLevel{State: sla.State{Arrived: at(queued)}, Due: at(due), Next: at(due)}
			}
			return it
		}
		create(t, s,
			mk("no-due-p9", -1, 9, 0), mk("due-90", 90, 0, 5), mk("due-30-p1", 30, 1, 7), mk("due-30-p5", 30, 5, 8),
			mk("no-due-p0", -1, 0, 1), mk("due-10-late", 10, 0, 20))
		other := withNext("handled", 1) // not waiting
		create(t, s, other)
		want := []string{"due-10-late", "due-30-p5", "due-30-p1", "due-90", "no-due-p9", "no-due-p0"}
		assert.Equal(t, want, waitingByDue(t, s, "sales", 0, 100))
		var paged []string
		for offset := 0; offset < len(want); offset += 4 {
			paged = append(paged, waitingByDue(t, s, "sales", offset, 4)...)
		}
		assert.Equal(t, want, paged, "pages")
		emptyOr(t, nil, waitingByDue(t, s, "billing", 0, 10))
		// Waiting keeps its own order.
		assert.Equal(t, []string{"no-due-p9", "due-30-p5", "due-30-p1", "no-due-p0", "due-90", "due-10-late"}, waiting(t, s, "sales", 0, 100))
	})

	t.Run("TickReadsTheDue", func(t *testing.T) { testTickReadsTheDue(t, newStore) })

	t.Run("EventsOnceAcrossWorkspaces", func(t *testing.T) {
		testDeadlineEventsOnce(t, fresh(t, newStore))
	})
}

// read returns interaction id.
func read(t *testing.T, s emailflow.Store, id string) *interaction.Interaction {
	t.Helper()
	var it *interaction.Interaction
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		it, err = tx.Interaction(ctx, id)
		require.NoError(t, err)
	})
	return it
}

// testDeadlineEventsOnce: two Workspaces on one store, each Ticking from
// two goroutines at once, emit each deadline's warning and breach once.
func testDeadlineEventsOnce(t *testing.T, s emailflow.Store) {
	ctx := t.Context()
	clock := clockwork.NewFakeClockAt(base)
	opts := &emailflow.Options{
		Hostname:  "desk.shop.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@shop.example", Queue: "sales"}},
		ServiceLevels: sla.Config{
			Policies: []sla.Policy{{Name: "standard",
				FirstResponse: sla.Target{Within: time.Hour, Warn: 50},
				Resolution:    sla.Target{Within: 4 * time.Hour}}},
			Default: "standard",
		},
	}
	dir, ok := s.(emailflow.Directory)
	if !ok {
		dir = memory.New(nil) // contacts from elsewhere, as from a CRM
	}
	var wss []*emailflow.Workspace
	for range 2 {
		ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &transport.Sender{}, Clock: clock, Directory: dir}, opts)
		require.NoError(t, err)
		wss = append(wss, ws)
	}
	const n = 12
	for i := range n {
		raw := "From: c" + string(rune('a'+i)) + "@exemple.fr\r\nTo: support@shop.example\r\nSubject: q\r\nMessage-ID: <sla-" + string(rune('a'+i)) + "@exemple.fr>\r\n\r\nBonjour\r\n"
		_, err := wss[i%2].Ingest(ctx, "support@shop.example", strings.NewReader(raw))
		require.NoError(t, err)
	}
	for _, step := range []time.Duration{30 * time.Minute, 30 * time.Minute, 3 * time.Hour} {
		clock.Advance(step)
		TickTogether(ctx, t, wss, 4)
	}
	var evs []emailflow.Event
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		evs, err = tx.Events(ctx, 0, 100_000)
		require.NoError(t, err)
	})
	count := map[emailflow.EventType]int{}
	seen := map[string]int{}
	for _, e := range evs {
		if e.Type == emailflow.EventSLAWarning || e.Type == emailflow.EventSLABreached {
			count[e.Type]++
			seen[e.InteractionID+" "+e.Detail]++
		}
	}
	assert.Equal(t, n, count[emailflow.EventSLAWarning], "one warning each")
	assert.Equal(t, 2*n, count[emailflow.EventSLABreached], "two breaches each: first response, resolution")
	for k, c := range seen {
		assert.Equal(t, 1, c, "%s emitted %d times", k, c)
	}
}

// counting is a Store that counts the interactions its transactions hand
// out, keeping the deadline index of the store it wraps.
type counting struct {
	emailflow.Store
	mu    sync.Mutex
	reads int
}

func (c *counting) add(n int) {
	c.mu.Lock()
	c.reads += n
	c.mu.Unlock()
}

func (c *counting) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	return c.Store.Update(ctx, func(tx emailflow.Tx) error { return fn(countingTx{tx, tx.(emailflow.ServiceLevelTx), c}) })
}

func (c *counting) View(ctx context.Context, fn func(emailflow.Tx) error) error {
	return c.Store.View(ctx, func(tx emailflow.Tx) error { return fn(countingTx{tx, tx.(emailflow.ServiceLevelTx), c}) })
}

type countingTx struct {
	emailflow.Tx
	emailflow.ServiceLevelTx
	c *counting
}

func (t countingTx) Interaction(ctx context.Context, id string) (*interaction.Interaction, error) {
	t.c.add(1)
	return t.Tx.Interaction(ctx, id)
}

func (t countingTx) FindInteractions(ctx context.Context, q emailflow.Query) ([]*interaction.Interaction, error) {
	its, err := t.Tx.FindInteractions(ctx, q)
	t.c.add(len(its))
	return its, err
}

func (t countingTx) Waiting(ctx context.Context, queue string, offset, limit int) ([]routing.Item, error) {
	its, err := t.Tx.Waiting(ctx, queue, offset, limit)
	t.c.add(len(its))
	return its, err
}

// testTickReadsTheDue: a Tick reads the interactions that are due from
// the index, each once, never the open ones that are not: the work
// follows the number due, not the number open.
func testTickReadsTheDue(t *testing.T, newStore newFunc) {
	s := fresh(t, newStore)
	deadlines(t, s)
	c := &counting{Store: s}
	const open, due = 2000, 20
	ws, _, _ := tickSetup(t, c, open, due)
	c.mu.Lock()
	c.reads = 0
	c.mu.Unlock()
	_, err := ws.Runner(nil).Tick(t.Context())
	require.NoError(t, err)
	assert.Equal(t, due, c.reads, "one read of each due interaction")
	var evs []emailflow.Event
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		evs, err = tx.Events(ctx, 0, 10_000)
		require.NoError(t, err)
	})
	breaches := 0
	for _, e := range evs {
		if e.Type == emailflow.EventSLABreached {
			breaches++
		}
	}
	assert.Equal(t, due, breaches)
}

// TickTogether runs n Ticks at once, taking the Workspaces of wss in
// turn, as the runners of several instances on one store would, and
// fails t if any Tick fails.
func TickTogether(ctx context.Context, t testing.TB, wss []*emailflow.Workspace, n int) {
	t.Helper()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := wss[i%len(wss)].Runner(nil).Tick(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
