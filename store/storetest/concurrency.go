package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// race runs fn(i) for i in [0, n) on n goroutines released together, and
// returns their errors. fn must not call t.FailNow.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

func testConcurrency(t *testing.T, newStore newFunc) {
	rounds := 100
	if testing.Short() {
		rounds = 10
	}

	t.Run("UpdateSameVersion", func(t *testing.T) {
		// Agents load the same version of an offer, then each tries to
		// accept it in its own transaction: exactly one may win.
		for _, racers := range []int{2, 8} {
			t.Run(fmt.Sprintf("%dRacers", racers), func(t *testing.T) {
				s := fresh(t, newStore)
				ctx := t.Context()
				for r := range rounds {
					id := fmt.Sprintf("offer-%d", r)
					it := plain(id, interaction.KindInbound, interaction.StateOffered)
					it.OfferedTo = "anyone"
					create(t, s, it)

					loaded := make([]*interaction.Interaction, racers)
					for i := range racers {
						loaded[i] = load(t, s, id)
					}
					errs := race(racers, func(i int) error {
						return s.Update(ctx, func(tx emailflow.Tx) error {
							it := loaded[i]
							it.State, it.Owner, it.OfferedTo = interaction.StateHandling, fmt.Sprintf("agent-%d", i), ""
							return tx.UpdateInteraction(ctx, it)
						})
					})

					winner := -1
					for i, err := range errs {
						switch {
						case err == nil:
							if !assert.Equal(t, -1, winner, "round %d: agents %d and %d both won", r, winner, i) {
								return
							}
							winner = i
						case !errors.Is(err, emailflow.ErrConflict):
							t.Fatalf("round %d: agent %d: got %v, want nil or ErrConflict", r, i, err)
						}
					}
					require.NotEqual(t, -1, winner, "round %d: nobody won", r)
					got := load(t, s, id)
					require.Equal(t, fmt.Sprintf("agent-%d", winner), got.Owner, "round %d", r)
					require.Equal(t, int64(2), got.Version, "round %d", r)
				}
			})
		}
	})

	t.Run("ViewThenUpdate", func(t *testing.T) {
		// The same race, with each goroutine loading in its own View
		// before the race starts and updating after every load.
		s := fresh(t, newStore)
		ctx := t.Context()
		for r := range rounds {
			id := fmt.Sprintf("offer-%d", r)
			create(t, s, plain(id, interaction.KindInbound, interaction.StateOffered))
			var loadedAll sync.WaitGroup
			loadedAll.Add(2)
			errs := race(2, func(i int) error {
				var it *interaction.Interaction
				err := s.View(ctx, func(tx emailflow.Tx) error {
					var err error
					it, err = tx.Interaction(ctx, id)
					return err
				})
				loadedAll.Done()
				if err != nil {
					return err
				}
				loadedAll.Wait()
				return s.Update(ctx, func(tx emailflow.Tx) error {
					it.Owner = fmt.Sprintf("agent-%d", i)
					return tx.UpdateInteraction(ctx, it)
				})
			})
			ok, conflicts := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, emailflow.ErrConflict):
					conflicts++
				default:
					t.Fatalf("round %d: got %v, want nil or ErrConflict", r, err)
				}
			}
			require.Equal(t, 1, ok, "round %d: successes", r)
			require.Equal(t, 1, conflicts, "round %d: conflicts", r)
		}
	})

	t.Run("CreateSameID", func(t *testing.T) {
		s := fresh(t, newStore)
		ctx := t.Context()
		errs := race(8, func(i int) error {
			return s.Update(ctx, func(tx emailflow.Tx) error {
				it := plain("same", interaction.KindInbound, interaction.StateNew)
				it.Subject = fmt.Sprint(i)
				return tx.CreateInteraction(ctx, it)
			})
		})
		winner := ""
		for i, err := range errs {
			if err == nil {
				assert.Empty(t, winner, "two creates of one id succeeded")
				winner = fmt.Sprint(i)
				continue
			}
			assert.ErrorIs(t, err, emailflow.ErrConflict)
		}
		require.NotEmpty(t, winner, "no create succeeded")
		assert.Equal(t, winner, load(t, s, "same").Subject)
	})

	t.Run("ClaimIngest", func(t *testing.T) {
		// The same message delivered to several processes at once yields
		// one owner.
		s := fresh(t, newStore)
		ctx := t.Context()
		const n = 8
		owners := make([]string, n)
		claimed := make([]bool, n)
		errs := race(n, func(i int) error {
			return s.Update(ctx, func(tx emailflow.Tx) error {
				var err error
				owners[i], claimed[i], err = tx.ClaimIngest(ctx, "mailbox|<dup@exemple.fr>", fmt.Sprintf("it-%d", i))
				return err
			})
		})
		winner := -1
		for i := range n {
			require.NoError(t, errs[i])
			if claimed[i] {
				require.Equal(t, -1, winner, "two claims of one key succeeded")
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "no claim succeeded")
		for i := range n {
			assert.Equal(t, fmt.Sprintf("it-%d", winner), owners[i], "owner seen by claimer %d", i)
		}
	})

	t.Run("AppendEvent", func(t *testing.T) {
		s := fresh(t, newStore)
		ctx := t.Context()
		const n, each = 8, 5
		errs := race(n, func(i int) error {
			for j := range each {
				err := s.Update(ctx, func(tx emailflow.Tx) error {
					return tx.AppendEvent(ctx, event(emailflow.EventUpdated, fmt.Sprintf("it-%d-%d", i, j), j))
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		var evs []emailflow.Event
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			var err error
			evs, err = tx.Events(ctx, 0, 1000)
			require.NoError(t, err)
		})
		require.Len(t, evs, n*each)
		seen := map[string]bool{}
		for i, e := range evs {
			if i > 0 {
				assert.Greater(t, e.Seq, evs[i-1].Seq, "events in increasing Seq")
			}
			assert.False(t, seen[e.InteractionID], "event for %s twice", e.InteractionID)
			seen[e.InteractionID] = true
		}
	})

	t.Run("Views", func(t *testing.T) {
		// Read-only transactions run side by side, also on queues, agents
		// and threads nothing was ever written to.
		s := fresh(t, newStore)
		seed(t, s)
		ctx := t.Context()
		errs := race(8, func(i int) error {
			for j := range 20 {
				err := s.View(ctx, func(tx emailflow.Tx) error {
					q := fmt.Sprintf("queue-%d-%d", i, j%4)
					if _, err := tx.FindInteractions(ctx, emailflow.Query{Queue: q, States: []interaction.State{interaction.StateQueued}, Limit: 5}); err != nil {
						return err
					}
					if _, err := tx.FindInteractions(ctx, emailflow.Query{ThreadID: q, Owner: q, OfferedTo: q}); err != nil {
						return err
					}
					if _, err := tx.AvailableAgents(ctx, q, 0, 5); err != nil {
						return err
					}
					if _, err := tx.Agents(ctx, q); err != nil {
						return err
					}
					if _, err := tx.Load(ctx, q); err != nil {
						return err
					}
					if _, err := tx.EmailsOf(ctx, q); err != nil {
						return err
					}
					if _, err := tx.DueOutbox(ctx, at(j), 5); err != nil {
						return err
					}
					_, err := tx.Events(ctx, int64(j), 5)
					return err
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range errs {
			assert.NoError(t, err)
		}
	})

	t.Run("ReadersAndWriters", func(t *testing.T) {
		// Views run while Updates commit; a View sees either all of a
		// transaction's writes or none: an interaction and its email are
		// written together.
		s := fresh(t, newStore)
		ctx := t.Context()
		const writers, each = 4, 10
		errs := race(writers*2, func(i int) error {
			if i%2 == 0 {
				for j := range each {
					id := fmt.Sprintf("w%d-%d", i, j)
					err := s.Update(ctx, func(tx emailflow.Tx) error {
						it := plain(id, interaction.KindInbound, interaction.StateQueued)
						it.Queue = "sales"
						if err := tx.CreateInteraction(ctx, it); err != nil {
							return err
						}
						return tx.PutEmail(ctx, message(id+"-mail", id, id+"@exemple.fr", j))
					})
					if err != nil {
						return err
					}
				}
				return nil
			}
			for range each {
				err := s.View(ctx, func(tx emailflow.Tx) error {
					found, err := tx.FindInteractions(ctx, emailflow.Query{Queue: "sales"})
					if err != nil {
						return err
					}
					for _, it := range found {
						es, err := tx.EmailsOf(ctx, it.ID)
						if err != nil {
							return err
						}
						if len(es) != 1 {
							return fmt.Errorf("interaction %s visible with %d emails, want 1", it.ID, len(es))
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range errs {
			assert.NoError(t, err)
		}
	})
}
