package postgres_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// received is what one subscriber got, with when.
type received struct {
	events []emailflow.Event
	delays []time.Duration
}

// collect reads sub until it has n events or the time is up.
func collect(sub *emailflow.Subscription, n int, within time.Duration) received {
	var r received
	deadline := time.After(within)
	for len(r.events) < n {
		select {
		case e, ok := <-sub.C:
			if !ok {
				return r
			}
			r.events = append(r.events, e)
			r.delays = append(r.delays, time.Since(e.At))
		case <-deadline:
			return r
		}
	}
	return r
}

// allEvents returns every event of the store's log, by Seq.
func allEvents(t *testing.T, in instance) []emailflow.Event {
	t.Helper()
	var evs []emailflow.Event
	require.NoError(t, in.store.View(t.Context(), func(tx emailflow.Tx) error {
		var err error
		evs, err = tx.Events(t.Context(), 0, 0)
		return err
	}))
	return evs
}

// TestFeedAcrossInstances: three instances take mail in and route it at
// once; a subscriber on each gets every event committed on any of them,
// none missing, none twice (by cursor, increasing), each interaction's
// events in commit order.
func TestFeedAcrossInstances(t *testing.T) {
	const perInstance = 60
	in := instances(t, 3)
	ctx := t.Context()
	for i := range 6 {
		id := fmt.Sprintf("agent%d", i)
		require.NoError(t, in[0].ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default"}, Capacity: 1000}))
		require.NoError(t, in[i%3].ws.As(id).SetStatus(ctx, emailflow.StatusReady))
	}
	before := len(allEvents(t, in[0]))
	subs := make([]*emailflow.Subscription, len(in))
	for i := range in {
		subs[i] = in[i].ws.Subscribe(ctx, &emailflow.SubscribeOptions{Buffer: 100000})
	}
	// A subscription follows from the moment it is made: wait until all
	// three see an event made after.
	require.NoError(t, in[0].ws.As("agent0").SetStatus(ctx, emailflow.StatusReady))
	for i, s := range subs {
		r := collect(s, 1, 10*time.Second)
		require.Len(t, r.events, 1, "subscriber %d", i)
	}
	start := len(allEvents(t, in[0]))
	require.Equal(t, before+1, start)

	// Subscribers read while the mail comes in, so that the delays are
	// the feed's.
	var target atomic.Int64
	target.Store(1 << 40)
	results := make([]received, len(subs))
	var readers sync.WaitGroup
	for i, s := range subs {
		readers.Go(func() {
			deadline := time.After(60 * time.Second)
			for int64(len(results[i].events)) < target.Load() {
				select {
				case e := <-s.C:
					results[i].events = append(results[i].events, e)
					results[i].delays = append(results[i].delays, time.Since(e.At))
				case <-time.After(50 * time.Millisecond):
				case <-deadline:
					return
				}
			}
		})
	}
	var wg sync.WaitGroup
	for w := range in {
		wg.Go(func() {
			for i := range perInstance {
				raw := fmt.Sprintf("From: c%d@exemple.fr\r\nTo: support@boutique.example\r\nSubject: s\r\nMessage-ID: <feed%d-%d@exemple.fr>\r\n\r\nBonjour\r\n", i%7, w, i)
				_, err := in[w].ws.Ingest(ctx, "support@boutique.example", strings.NewReader(raw))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	want := allEvents(t, in[1])[start:]
	require.NotEmpty(t, want)
	target.Store(int64(len(want)))
	readers.Wait()
	wantSeqs := make([]int64, len(want))
	for i, e := range want {
		wantSeqs[i] = e.Seq
	}

	var delays []time.Duration
	for i, s := range subs {
		r := results[i]
		assert.Zero(t, s.Dropped(), "subscriber %d dropped", i)
		require.Len(t, r.events, len(want), "subscriber %d: events received", i)
		got := make([]int64, len(r.events))
		perInteraction := map[string][]int64{}
		for j, e := range r.events {
			got[j] = e.Seq
			if j > 0 {
				require.Greater(t, e.Cursor, r.events[j-1].Cursor, "subscriber %d: cursors increase", i)
			}
			if e.InteractionID != "" {
				perInteraction[e.InteractionID] = append(perInteraction[e.InteractionID], e.Seq)
			}
		}
		slices.Sort(got)
		assert.Equal(t, wantSeqs, got, "subscriber %d: every event once", i)
		for id, seqs := range perInteraction {
			assert.True(t, slices.IsSorted(seqs), "subscriber %d: events of %s out of order: %v", i, id, seqs)
		}
		delays = append(delays, r.delays...)
		s.Close()
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	t.Logf("%d events, each seen by 3 subscribers: delay from the action's start p50 %v, p99 %v, max %v",
		len(want), delays[len(delays)/2], delays[len(delays)*99/100], delays[len(delays)-1])
}

// TestFeedResume: a subscriber that went away while 1,000 events were
// committed (on another instance) subscribes again after the last cursor
// it got: it gets every one of them, in order, none twice, although its
// buffer is small (catching up waits for it), then the live stream.
func TestFeedResume(t *testing.T) {
	in := instances(t, 2)
	ctx := t.Context()
	require.NoError(t, in[0].ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"default"}}))

	sub := in[0].ws.Subscribe(ctx, &emailflow.SubscribeOptions{Agent: "ann"})
	require.NoError(t, in[1].ws.As("ann").SetStatus(ctx, emailflow.StatusReady))
	r := collect(sub, 1, 10*time.Second)
	require.Len(t, r.events, 1)
	last := r.events[0].Cursor
	require.Positive(t, last)
	sub.Close()

	const missed = 1000
	status := []emailflow.AgentStatus{emailflow.StatusNotReady, emailflow.StatusReady}
	for i := range missed {
		require.NoError(t, in[1].ws.As("ann").SetStatus(ctx, status[i%2]))
	}

	again := in[0].ws.Subscribe(ctx, &emailflow.SubscribeOptions{Agent: "ann", After: last, Buffer: 16})
	r = collect(again, missed, 30*time.Second)
	require.Len(t, r.events, missed, "events missed while away")
	for i, e := range r.events {
		assert.Equal(t, emailflow.EventAgentStatus, e.Type)
		assert.Equal(t, string(status[i%2]), e.Detail, "event %d", i)
		if i > 0 {
			assert.Greater(t, e.Cursor, r.events[i-1].Cursor)
		}
	}
	// Then the live stream, from either instance.
	require.NoError(t, in[0].ws.As("ann").SetStatus(ctx, emailflow.StatusNotReady))
	live := collect(again, 1, 10*time.Second)
	require.Len(t, live.events, 1)
	assert.Greater(t, live.events[0].Cursor, r.events[missed-1].Cursor)
	assert.Zero(t, again.Dropped())
	again.Close()
	_, open := <-again.C
	assert.False(t, open)
}

// TestEventSeqFollowsInteractionCommits: a transaction that took event
// numbers writing one interaction, then writes another after a second
// transaction committed an event about it, gives its event about that
// one a higher Seq, and the feed keeps that order: an interaction's events
// come in the order their transactions committed.
func TestEventSeqFollowsInteractionCommits(t *testing.T) {
	s := freshStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		for _, id := range []string{"x", "y"} {
			it, err := interaction.New(id, interaction.KindInbound, "system", at)
			if err != nil {
				return err
			}
			it.State, it.Queue = interaction.StateQueued, "q"
			if err := tx.CreateInteraction(ctx, it); err != nil {
				return err
			}
		}
		return nil
	}))
	touch := func(tx emailflow.Tx, id, what string) (int64, error) {
		it, err := tx.Interaction(ctx, id)
		if err != nil {
			return 0, err
		}
		it.Priority++
		if err := tx.UpdateInteraction(ctx, it); err != nil {
			return 0, err
		}
		e := &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: id, Actor: "system", State: it.State, At: at, Detail: what}
		err = tx.AppendEvent(ctx, e)
		return e.Seq, err
	}
	wroteY, firstDone := make(chan struct{}), make(chan struct{})
	var second int64
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx emailflow.Tx) error {
			if _, err := touch(tx, "y", "second: y"); err != nil {
				return err
			}
			close(wroteY)
			<-firstDone
			var err error
			second, err = touch(tx, "x", "second: x")
			return err
		})
	}()
	<-wroteY
	var first int64
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		var err error
		first, err = touch(tx, "x", "first: x")
		return err
	}))
	close(firstDone)
	require.NoError(t, <-done)
	assert.Greater(t, second, first, "the later commit's event about x has the higher Seq")

	var feed []emailflow.Event
	require.Eventually(t, func() bool {
		var err error
		feed, err = s.FeedAfter(ctx, 0, 100)
		return err == nil && len(feed) == 3
	}, 5*time.Second, 10*time.Millisecond)
	var xs []string
	for _, e := range feed {
		if e.InteractionID == "x" {
			xs = append(xs, e.Detail)
		}
	}
	assert.Equal(t, []string{"first: x", "second: x"}, xs)
}
