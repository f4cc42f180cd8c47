package emailflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// capacityGuard wraps a Store and checks, inside every transaction before
// it commits, that no agent it touched is above capacity.
type capacityGuard struct {
	emailflow.Store
	violations atomic.Int64
	capacity   map[string]int
}

func (g *capacityGuard) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	return g.Store.Update(ctx, func(tx emailflow.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		for id, c := range g.capacity {
			load, err := tx.Load(ctx, id)
			if err != nil {
				return err
			}
			if load > c {
				g.violations.Add(1)
			}
		}
		return nil
	})
}

// TestConcurrentRouting: 50 agents and 2,000 interactions, agents accepting
// and declining at random from their own goroutines while mail keeps
// arriving: every interaction ends handled exactly once and no agent is
// ever above capacity.
func TestConcurrentRouting(t *testing.T) {
	const agents, mails = 50, 2000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	guard := &capacityGuard{Store: memory.New(nil), capacity: map[string]int{}}
	ws, err := emailflow.New(emailflow.Ports{Store: guard, Directory: guard.Store.(emailflow.Directory), Sender: &transport.Sender{}}, nil)
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	for i := 0; i < agents; i++ {
		id := fmt.Sprintf("agent-%02d", i)
		c := 1 + i%3
		guard.capacity[id] = c
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default"}, Capacity: c}))
		require.NoError(t, ws.As(id).SetStatus(ctx, emailflow.StatusReady))
	}

	var wg sync.WaitGroup
	// Mail arrives from 4 goroutines.
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < mails; i += 4 {
				raw := fmt.Sprintf("From: c%d@exemple.fr\r\nTo: support@boutique.example\r\nSubject: n%d\r\nMessage-ID: <m%d@exemple.fr>\r\n\r\nhi\r\n", i, i, i)
				if _, err := ws.Ingest(ctx, "support@boutique.example", bytes.NewReader([]byte(raw))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var done atomic.Int64
	for i := 0; i < agents; i++ {
		id := fmt.Sprintf("agent-%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for done.Load() < mails && ctx.Err() == nil {
				offers, err := ws.As(id).Interactions(ctx, emailflow.Query{OfferedTo: id, States: []interaction.State{interaction.StateOffered}})
				if err != nil {
					t.Error(err)
					return
				}
				if len(offers) == 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				for _, o := range offers {
					if rng.IntN(5) == 0 {
						if err := ws.As(id).Decline(ctx, o.ID, "busy"); err != nil && !errors.Is(err, emailflow.ErrInvalidTransition) {
							t.Error(err)
						}
						continue
					}
					if _, err := ws.As(id).Accept(ctx, o.ID); err != nil {
						t.Error(err)
						continue
					}
					if err := ws.As(id).MarkDone(ctx, o.ID); err != nil {
						t.Error(err)
						continue
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, ctx.Err(), "every interaction was handled in time")

	all, err := ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
	require.NoError(t, err)
	require.Len(t, all, mails)
	assert.Equal(t, int64(mails), done.Load())
	for _, it := range all {
		accepts, completes := 0, 0
		for _, h := range it.History {
			switch h.Action {
			case string(interaction.EventAccept):
				accepts++
			case string(interaction.EventComplete):
				completes++
			}
		}
		if !assert.Equal(t, interaction.StateDone, it.State, it.ID) || !assert.Equal(t, 1, accepts, it.ID) || !assert.Equal(t, 1, completes, it.ID) {
			break
		}
	}
	assert.Zero(t, guard.violations.Load(), "no agent was ever above capacity")
}

// interleave wraps a Store and, once armed, runs a hook right after the
// next read-only transaction (hook): another user's action landing
// between an action's snapshot and its write. With lose armed, the next
// read-write transaction runs whole, then loses the race whatever it
// decided: it is rolled back with ErrConflict, as a write made stale by
// another instance's commit is, and lose (that other change) lands
// before the Workspace tries again. tries counts the read-write
// transactions, the hook's left out.
type interleave struct {
	emailflow.Store
	hook  func()
	lose  func()
	tries int
}

func (s *interleave) View(ctx context.Context, fn func(emailflow.Tx) error) error {
	err := s.Store.View(ctx, fn)
	if h := s.hook; h != nil {
		s.hook = nil
		h()
	}
	return err
}

func (s *interleave) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	s.tries++
	h := s.lose
	if h == nil {
		return s.Store.Update(ctx, fn)
	}
	s.lose = nil
	err := s.Store.Update(ctx, func(tx emailflow.Tx) error {
		if err := fn(tx); err != nil {
			return fmt.Errorf("%w: lost the race (%w)", emailflow.ErrConflict, err)
		}
		return fmt.Errorf("%w: lost the race", emailflow.ErrConflict)
	})
	n := s.tries
	h()
	s.tries = n
	return err
}

// An inbound or a draft changed by another user while an action works on
// it: the action's transaction loses the race, the action starts over
// from the new state, and nothing of the lost try is kept.
func TestActionsStartOverAfterAConcurrentChange(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*emailflow.Workspace, *interleave, *transport.Sender, string) {
		store := &interleave{Store: memory.New(nil)}
		sender := &transport.Sender{}
		ws, err := emailflow.New(emailflow.Ports{Store: store, Directory: store.Store.(emailflow.Directory), Sender: sender}, &emailflow.Options{
			Hostname:  "desk.boutique.example",
			Mailboxes: []emailflow.Mailbox{{Address: support, Name: "Service Client", Queue: "support-fr"}},
		})
		require.NoError(t, err)
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"support-fr"}, Capacity: 5}))
		require.NoError(t, ws.As("bob").SetStatus(ctx, emailflow.StatusReady))
		it, err := ws.Ingest(ctx, support, bytes.NewReader(readFile(t, "testdata/french-order.eml")))
		require.NoError(t, err)
		_, err = ws.As("bob").Accept(ctx, it.ID)
		require.NoError(t, err)
		return ws, store, sender, it.ID
	}

	t.Run("Reply", func(t *testing.T) {
		ws, store, _, id := setup(t)
		store.lose = func() { require.NoError(t, ws.As("bob").AddNote(ctx, id, "appelée entre-temps")) }
		store.tries = 0
		draft, err := ws.As("bob").Reply(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 2, store.tries, "the reply was built again from the new state")
		inbound, err := ws.As("bob").Interaction(ctx, id)
		require.NoError(t, err)
		require.Len(t, inbound.Notes, 1, "the concurrent note is kept")
		var replies int
		for _, e := range inbound.History {
			if e.Action == string(interaction.PurposeReply) {
				replies++
				assert.Equal(t, draft.ID, e.Detail)
			}
		}
		assert.Equal(t, 1, replies, "one reply recorded")
		drafts, err := ws.As("bob").Interactions(ctx, emailflow.Query{ThreadID: inbound.ThreadID, Kind: interaction.KindOutbound})
		require.NoError(t, err)
		assert.Len(t, drafts, 1, "the stale attempt left no draft")
	})

	t.Run("ReplyToAnInboundDoneMeanwhile", func(t *testing.T) {
		ws, store, _, id := setup(t)
		store.lose = func() { require.NoError(t, ws.As("bob").MarkDone(ctx, id)) }
		_, err := ws.As("bob").Reply(ctx, id)
		assert.ErrorIs(t, err, emailflow.ErrInvalidTransition)
		inbound, err := ws.As("bob").Interaction(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "complete", inbound.History[len(inbound.History)-1].Action, "no reply recorded after done")
		drafts, err := ws.As("bob").Interactions(ctx, emailflow.Query{ThreadID: inbound.ThreadID, Kind: interaction.KindOutbound})
		require.NoError(t, err)
		assert.Empty(t, drafts)
	})

	t.Run("SendOnceRecipientsWereAddedMeanwhile", func(t *testing.T) {
		ws, store, sender, id := setup(t)
		draft, err := ws.As("bob").Reply(ctx, id)
		require.NoError(t, err)
		d, err := draftEmail(ws.As("bob").Draft(ctx, draft.ID))
		require.NoError(t, err)
		require.NoError(t, errOf(ws.As("bob").ReplaceDraft(ctx, draft.ID, emailflow.DraftContent{Subject: d.Subject, Text: d.Text})))
		store.lose = func() {
			require.NoError(t, errOf(ws.As("bob").ReplaceDraft(ctx, draft.ID, emailflow.DraftContent{To: d.To, Subject: d.Subject, Text: d.Text})))
		}
		sent, err := ws.As("bob").Send(ctx, draft.ID, nil)
		require.NoError(t, err, "the recipient added meanwhile counts")
		assert.Equal(t, interaction.StateSent, sent.State)
		require.Len(t, sender.Sent(), 1)
		assert.Equal(t, []string{"helene.dupre@exemple.fr"}, sender.Sent()[0].To)
	})

	t.Run("Send", func(t *testing.T) {
		ws, store, sender, id := setup(t)
		draft, err := ws.As("bob").Reply(ctx, id)
		require.NoError(t, err)
		d, err := draftEmail(ws.As("bob").Draft(ctx, draft.ID))
		require.NoError(t, err)
		store.lose = func() {
			require.NoError(t, errOf(ws.As("bob").ReplaceDraft(ctx, draft.ID, emailflow.DraftContent{To: d.To, Subject: "Re: colis retrouvé", Text: "Bonne nouvelle."})))
		}
		sent, err := ws.As("bob").Send(ctx, draft.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, interaction.StateSent, sent.State)
		require.Len(t, sender.Sent(), 1, "sent once")
		assert.Contains(t, string(sender.Sent()[0].Raw), "Subject: =?utf-8?q?Re:_colis_retrouv=C3=A9?=", "the edited version, not the stale render")
	})
}
