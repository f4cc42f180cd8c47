package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/postgres"
)

// countingSender counts the deliveries of each Message-ID.
type countingSender struct {
	mu    sync.Mutex
	count map[string]int
}

func (s *countingSender) Send(_ context.Context, _ string, _ []string, msg []byte) error {
	id, _, _ := strings.Cut(strings.TrimPrefix(string(msg), "Message-ID: <"), ">")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == nil {
		s.count = map[string]int{}
	}
	s.count[id]++
	return nil
}

// clockInstances starts n instances on one fresh schema, each with its
// own pool, sharing clock and sender.
func clockInstances(t *testing.T, n int, clock emailflow.Clock, sender emailflow.Sender) []instance {
	t.Helper()
	return startInstances(t, n, postgres.Options{}, emailflow.Ports{Sender: sender, Clock: clock}, &emailflow.Options{AcceptTimeout: 30 * time.Second})
}

// TestTimersAcrossInstances: 500 offers run out of time while three
// instances run Tick at once, twice each: every offer times out once
// (one history entry, one event), and the ticks together report 500.
func TestTimersAcrossInstances(t *testing.T) {
	const offers = 500
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	in := clockInstances(t, 3, clock, &countingSender{})
	ctx := t.Context()
	require.NoError(t, in[0].ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"default"}, Capacity: offers}))
	require.NoError(t, in[0].ws.As("ann").SetStatus(ctx, emailflow.StatusReady))
	var wg sync.WaitGroup
	errs := make(chan error, offers)
	for w := range in {
		wg.Go(func() {
			for i := w; i < offers; i += len(in) {
				it, err := in[w].ws.Ingest(ctx, "support@boutique.example", strings.NewReader(mailN(i)))
				if err == nil && it.OfferedTo != "ann" {
					err = fmt.Errorf("mail %d: %s offered to %q", i, it.State, it.OfferedTo)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	n, err := in[1].ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is due before the timeout")
	clock.Advance(31 * time.Second)

	var mu sync.Mutex
	fired := 0
	for w := range 2 * len(in) {
		wg.Go(func() {
			n, err := in[w%len(in)].ws.Runner(nil).Tick(ctx)
			assert.NoError(t, err, "tick %d", w)
			mu.Lock()
			fired += n
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, offers, fired, "timeouts reported by the ticks")

	err = in[2].store.View(ctx, func(tx emailflow.Tx) error {
		its, err := tx.FindInteractions(ctx, emailflow.Query{Kind: interaction.KindInbound})
		require.NoError(t, err)
		require.Len(t, its, offers)
		for _, it := range its {
			timeouts := 0
			for _, h := range it.History {
				if h.Action == string(interaction.EventTimeout) {
					timeouts++
				}
			}
			assert.Equal(t, 1, timeouts, "timeouts in the history of %s", it.ID)
			assert.Equal(t, interaction.StateQueued, it.State, it.ID)
		}
		evs, err := tx.Events(ctx, 0, 100*offers)
		require.NoError(t, err)
		perInteraction := map[string]int{}
		for _, e := range evs {
			if e.Type == emailflow.EventTimedOut {
				perInteraction[e.InteractionID]++
			}
		}
		assert.Len(t, perInteraction, offers)
		for id, c := range perInteraction {
			assert.Equal(t, 1, c, "timed-out events of %s", id)
		}
		return nil
	})
	require.NoError(t, err)
	n, err = in[0].ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a timeout fires once")
}

// TestOutboxAcrossInstances: 500 outbox items due at once, dispatched by
// three instances at once, two dispatchers each: every item is delivered
// once, and its outbound is sent once.
func TestOutboxAcrossInstances(t *testing.T) {
	const items = 500
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	sender := &countingSender{}
	in := clockInstances(t, 3, clock, sender)
	ctx := t.Context()
	at := clock.Now()
	err := in[0].store.Update(ctx, func(tx emailflow.Tx) error {
		for i := range items {
			it, err := interaction.New(fmt.Sprintf("out-%03d", i), interaction.KindOutbound, "ann", at)
			if err != nil {
				return err
			}
			it.State, it.Owner = interaction.StateOutbox, "ann"
			if err := tx.CreateInteraction(ctx, it); err != nil {
				return err
			}
			mid := fmt.Sprintf("m%03d@boutique.example", i)
			err = tx.Enqueue(ctx, &emailflow.OutboxItem{ID: fmt.Sprintf("o-%03d", i), InteractionID: it.ID, MessageID: mid,
				From: "support@boutique.example", To: []string{"client@exemple.fr"}, Raw: []byte("Message-ID: <" + mid + ">\r\n\r\nBonjour\r\n"),
				State: emailflow.OutboxPending, NextAttempt: at, CreatedAt: at, UpdatedAt: at})
			if err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	var wg sync.WaitGroup
	var mu sync.Mutex
	delivered := 0
	for w := range 2 * len(in) {
		wg.Go(func() {
			for {
				n, err := in[w%len(in)].ws.Runner(nil).Dispatch(ctx)
				if !assert.NoError(t, err, "dispatcher %d", w) || n == 0 {
					return
				}
				mu.Lock()
				delivered += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, items, delivered)
	sender.mu.Lock()
	assert.Len(t, sender.count, items)
	for id, c := range sender.count {
		assert.Equal(t, 1, c, "deliveries of %s", id)
	}
	sender.mu.Unlock()
	err = in[1].store.View(ctx, func(tx emailflow.Tx) error {
		its, err := tx.FindInteractions(ctx, emailflow.Query{Kind: interaction.KindOutbound})
		require.NoError(t, err)
		require.Len(t, its, items)
		for _, it := range its {
			assert.Equal(t, interaction.StateSent, it.State, it.ID)
		}
		due, err := tx.DueOutbox(ctx, clock.Now().Add(time.Hour), 10)
		require.NoError(t, err)
		assert.Empty(t, due)
		return nil
	})
	require.NoError(t, err)
}
