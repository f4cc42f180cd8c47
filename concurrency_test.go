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
	for i := 0; i < agents; i++ {
		id := fmt.Sprintf("agent-%02d", i)
		c := 1 + i%3
		guard.capacity[id] = c
		require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default"}, Capacity: c}))
		require.NoError(t, ws.SetStatus(ctx, id, emailflow.StatusReady))
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
				offers, err := ws.Interactions(ctx, emailflow.Query{OfferedTo: id, States: []interaction.State{interaction.StateOffered}})
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
						if err := ws.Decline(ctx, id, o.ID, "busy"); err != nil && !errors.Is(err, emailflow.ErrInvalidTransition) {
							t.Error(err)
						}
						continue
					}
					if _, err := ws.Accept(ctx, id, o.ID); err != nil {
						t.Error(err)
						continue
					}
					if err := ws.MarkDone(ctx, id, o.ID); err != nil {
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

	all, err := ws.Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
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
