package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
)

// senderLists skips the test when the store's Tx keeps no sender lists
// (the ability is optional).
func senderLists(t *testing.T, s emailflow.Store) {
	t.Helper()
	var ok bool
	view(t, s, func(_ context.Context, tx emailflow.Tx) { _, ok = tx.(emailflow.SenderListTx) })
	if !ok {
		t.Skip("storetest: the store's Tx is no emailflow.SenderListTx: sender lists not checked")
	}
}

// rateCounters skips the test when the store's Tx keeps no rate counters
// (the ability is optional).
func rateCounters(t *testing.T, s emailflow.Store) {
	t.Helper()
	var ok bool
	view(t, s, func(_ context.Context, tx emailflow.Tx) { _, ok = tx.(emailflow.RateTx) })
	if !ok {
		t.Skip("storetest: the store's Tx is no emailflow.RateTx: rate counters not checked")
	}
}

// rule returns a sender rule set at minute.
func rule(pattern string, a emailflow.ListAction, minute int) emailflow.SenderRule {
	return emailflow.SenderRule{Pattern: pattern, Action: a, Note: "décidé par l'équipe", By: "sup", At: at(minute)}
}

func testSenderRules(t *testing.T, newStore newFunc) {
	t.Run("PutLookUpList", func(t *testing.T) {
		s := fresh(t, newStore)
		senderLists(t, s)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			for _, r := range []emailflow.SenderRule{
				rule("deals.example", emailflow.ListReject, 0),
				rule("boss@deals.example", emailflow.ListAllow, 1),
				rule("example", emailflow.ListQuarantine, 2),
			} {
				require.NoError(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, r))
			}
		})
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			got, err := tx.(emailflow.SenderListTx).SenderRules(ctx, []string{"boss@deals.example", "deals.example", "nothing.example", "example", "deals.example"})
			require.NoError(t, err)
			require.Len(t, got, 3, "in the order of the patterns, each once, the unknown left out")
			same(t, rule("boss@deals.example", emailflow.ListAllow, 1), got[0])
			same(t, rule("deals.example", emailflow.ListReject, 0), got[1])
			same(t, rule("example", emailflow.ListQuarantine, 2), got[2])
			none, err := tx.(emailflow.SenderListTx).SenderRules(ctx, nil)
			require.NoError(t, err)
			assert.Empty(t, none)

			all, err := tx.(emailflow.SenderListTx).ListSenderRules(ctx, 0, 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"boss@deals.example", "deals.example", "example"}, patternsOf(all), "byte order")
			page, err := tx.(emailflow.SenderListTx).ListSenderRules(ctx, 1, 1)
			require.NoError(t, err)
			assert.Equal(t, []string{"deals.example"}, patternsOf(page))
			past, err := tx.(emailflow.SenderListTx).ListSenderRules(ctx, 5, 10)
			require.NoError(t, err)
			assert.Empty(t, past)
		})
	})
	t.Run("ReplaceAndDelete", func(t *testing.T) {
		s := fresh(t, newStore)
		senderLists(t, s)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, rule("deals.example", emailflow.ListReject, 0)))
		})
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, rule("deals.example", emailflow.ListAllow, 5)))
		})
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			got, err := tx.(emailflow.SenderListTx).SenderRules(ctx, []string{"deals.example"})
			require.NoError(t, err)
			require.Len(t, got, 1)
			same(t, rule("deals.example", emailflow.ListAllow, 5), got[0])
		})
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.(emailflow.SenderListTx).DeleteSenderRule(ctx, "deals.example"))
			assert.ErrorIs(t, tx.(emailflow.SenderListTx).DeleteSenderRule(ctx, "deals.example"), emailflow.ErrNotFound)
		})
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			got, err := tx.(emailflow.SenderListTx).ListSenderRules(ctx, 0, 0)
			require.NoError(t, err)
			assert.Empty(t, got)
		})
	})
	t.Run("RolledBack", func(t *testing.T) {
		s := fresh(t, newStore)
		senderLists(t, s)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, rule("kept.example", emailflow.ListAllow, 0)))
		})
		err := s.Update(t.Context(), func(tx emailflow.Tx) error {
			ctx := t.Context()
			require.NoError(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, rule("new.example", emailflow.ListReject, 1)))
			require.NoError(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, rule("kept.example", emailflow.ListReject, 1)))
			require.NoError(t, tx.(emailflow.SenderListTx).DeleteSenderRule(ctx, "kept.example"))
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			got, err := tx.(emailflow.SenderListTx).ListSenderRules(ctx, 0, 0)
			require.NoError(t, err)
			require.Len(t, got, 1)
			same(t, rule("kept.example", emailflow.ListAllow, 0), got[0])
		})
	})
	t.Run("ReadOnly", func(t *testing.T) {
		s := fresh(t, newStore)
		senderLists(t, s)
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			assert.Error(t, tx.(emailflow.SenderListTx).PutSenderRule(ctx, rule("x.example", emailflow.ListAllow, 0)))
			assert.Error(t, tx.(emailflow.SenderListTx).DeleteSenderRule(ctx, "x.example"))
		})
	})
}

func patternsOf(rs []emailflow.SenderRule) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Pattern)
	}
	return out
}

func testRates(t *testing.T, newStore newFunc) {
	t.Run("CountPerKeyAndWindow", func(t *testing.T) {
		s := fresh(t, newStore)
		rateCounters(t, s)
		hour := base.Truncate(time.Hour)
		var got []int
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			for _, c := range []struct {
				key    string
				window time.Time
				n      int
			}{
				{"auto-mail a@x", hour, 1},
				{"auto-mail a@x", hour, 1},
				{"auto-mail b@x", hour, 1},
				{"auto-mail a@x", hour.Add(time.Hour), 1},
				{"auto-mail a@x", hour.In(time.FixedZone("CET", 3600)), 3}, // the same instant
			} {
				n, err := tx.(emailflow.RateTx).CountRate(ctx, c.key, c.window, c.n)
				require.NoError(t, err)
				got = append(got, n)
			}
		})
		assert.Equal(t, []int{1, 2, 1, 1, 5}, got)
		err := s.Update(t.Context(), func(tx emailflow.Tx) error {
			_, err := tx.(emailflow.RateTx).CountRate(t.Context(), "auto-mail a@x", hour, 100)
			require.NoError(t, err)
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			n, err := tx.(emailflow.RateTx).CountRate(ctx, "auto-mail a@x", hour, 1)
			require.NoError(t, err)
			assert.Equal(t, 6, n, "a rolled-back count counts nothing")
		})
	})
	t.Run("Prune", func(t *testing.T) {
		s := fresh(t, newStore)
		rateCounters(t, s)
		hour := base.Truncate(time.Hour)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			for i := range 3 {
				_, err := tx.(emailflow.RateTx).CountRate(ctx, "k", hour.Add(time.Duration(i)*time.Hour), 2)
				require.NoError(t, err)
			}
		})
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			n, err := tx.(emailflow.RateTx).PruneRates(ctx, hour.Add(2*time.Hour))
			require.NoError(t, err)
			assert.Equal(t, 2, n)
		})
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			n, err := tx.(emailflow.RateTx).CountRate(ctx, "k", hour, 1)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "pruned: counted afresh")
			n, err = tx.(emailflow.RateTx).CountRate(ctx, "k", hour.Add(2*time.Hour), 1)
			require.NoError(t, err)
			assert.Equal(t, 3, n, "kept")
		})
	})
	t.Run("ReadOnly", func(t *testing.T) {
		s := fresh(t, newStore)
		rateCounters(t, s)
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			_, err := tx.(emailflow.RateTx).CountRate(ctx, "k", base, 1)
			assert.Error(t, err)
			_, err = tx.(emailflow.RateTx).PruneRates(ctx, base)
			assert.Error(t, err)
		})
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Counts made at once, in transactions of their own, all count.
		s := fresh(t, newStore)
		rateCounters(t, s)
		const workers, each = 8, 10
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					err := s.Update(t.Context(), func(tx emailflow.Tx) error {
						_, err := tx.(emailflow.RateTx).CountRate(t.Context(), "busy", base, 1)
						return err
					})
					assert.NoError(t, err)
				}
			})
		}
		wg.Wait()
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			n, err := tx.(emailflow.RateTx).CountRate(ctx, "busy", base, 0)
			require.NoError(t, err)
			assert.Equal(t, workers*each, n)
		})
	})
}
