package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

func testInteraction(t *testing.T, newStore newFunc) {
	t.Run("NotFound", func(t *testing.T) {
		s := fresh(t, newStore)
		create(t, s, plain("known", interaction.KindInbound, interaction.StateNew))
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			it, err := tx.Interaction(ctx, "unknown")
			assert.ErrorIs(t, err, emailflow.ErrNotFound)
			assert.Nil(t, it)
		})
	})

	t.Run("RoundTrip", func(t *testing.T) {
		outbound := full("out")
		outbound.Kind, outbound.Purpose, outbound.State = interaction.KindOutbound, interaction.PurposeReplyAll, interaction.StateDraft
		outbound.ParentID = "in"
		transferred := full("transferred")
		transferred.State, transferred.OfferedTo, transferred.TransferFrom = interaction.StateTransferred, "bob", "ann"
		for _, it := range []*interaction.Interaction{
			full("in"),
			outbound,
			transferred,
			plain("bare", interaction.KindConsult, interaction.StateOffered),
		} {
			t.Run(it.ID, func(t *testing.T) {
				s := fresh(t, newStore)
				want := it.Clone()
				want.Version = 1
				create(t, s, it)
				same(t, want, load(t, s, it.ID))
			})
		}
	})

	t.Run("CreateSetsVersion1", func(t *testing.T) {
		for _, v := range []int64{0, 1, 42, -3} {
			s := fresh(t, newStore)
			it := full("v")
			it.Version = v
			create(t, s, it)
			assert.Equal(t, int64(1), it.Version, "version of the value passed, which was %d", v)
			assert.Equal(t, int64(1), load(t, s, "v").Version, "stored version, the value passed was %d", v)
		}
	})

	t.Run("CreateDuplicate", func(t *testing.T) {
		s := fresh(t, newStore)
		first := full("dup")
		create(t, s, first)
		second := plain("dup", interaction.KindOutbound, interaction.StateDraft)
		second.Subject = "the second one"
		err := s.Update(t.Context(), func(tx emailflow.Tx) error {
			return tx.CreateInteraction(t.Context(), second)
		})
		assert.ErrorIs(t, err, emailflow.ErrConflict)
		want := full("dup")
		want.Version = 1
		same(t, want, load(t, s, "dup"), "the first interaction stays")
	})

	t.Run("UpdateIncrementsVersion", func(t *testing.T) {
		s := fresh(t, newStore)
		create(t, s, full("u"))
		for v := int64(1); v <= 3; v++ {
			var sent *interaction.Interaction
			got := change(t, s, "u", func(it *interaction.Interaction) {
				require.Equal(t, v, it.Version)
				it.Subject = fmt.Sprintf("edit %d", v)
				it.CaseData.Put("step", it.Subject, false)
				it.Record("ann", "case-data", at(int(10*v)), it.Subject)
				sent = it.Clone()
			})
			assert.Equal(t, v+1, got.Version, "the value passed carries the new version")
			sent.Version = v + 1
			same(t, sent, load(t, s, "u"), "stored after update %d", v)
		}
	})

	t.Run("UpdateStale", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			stale func(stored int64) int64
		}{
			{"Older", func(v int64) int64 { return v - 1 }},
			{"Newer", func(v int64) int64 { return v + 1 }},
			{"Zero", func(int64) int64 { return 0 }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := fresh(t, newStore)
				create(t, s, full("s"))
				want := change(t, s, "s", func(it *interaction.Interaction) { it.Owner = "bob" })
				require.Equal(t, int64(2), want.Version)

				stale := load(t, s, "s")
				stale.Version = tc.stale(stale.Version)
				stale.Owner, stale.State = "carol", interaction.StateDone
				stale.CaseData.Put("reason", "overwritten", false)
				err := s.Update(t.Context(), func(tx emailflow.Tx) error {
					return tx.UpdateInteraction(t.Context(), stale)
				})
				assert.ErrorIs(t, err, emailflow.ErrStaleVersion)
				assert.ErrorIs(t, err, emailflow.ErrConflict)
				same(t, want, load(t, s, "s"), "a stale write changes nothing")
			})
		}
	})

	t.Run("UpdateStaleInSameTransaction", func(t *testing.T) {
		s := fresh(t, newStore)
		create(t, s, full("s"))
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			a, err := tx.Interaction(ctx, "s")
			require.NoError(t, err)
			b := a.Clone()
			a.Owner = "bob"
			require.NoError(t, tx.UpdateInteraction(ctx, a))
			b.Owner = "carol"
			err = tx.UpdateInteraction(ctx, b)
			assert.ErrorIs(t, err, emailflow.ErrStaleVersion)
			assert.ErrorIs(t, err, emailflow.ErrConflict)
		})
		got := load(t, s, "s")
		assert.Equal(t, "bob", got.Owner)
		assert.Equal(t, int64(2), got.Version)
	})

	t.Run("UpdateUnknown", func(t *testing.T) {
		s := fresh(t, newStore)
		create(t, s, full("known"))
		err := s.Update(t.Context(), func(tx emailflow.Tx) error {
			it := full("unknown")
			it.Version = 1
			return tx.UpdateInteraction(t.Context(), it)
		})
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			_, err := tx.Interaction(ctx, "unknown")
			assert.ErrorIs(t, err, emailflow.ErrNotFound, "an update does not create")
		})
	})

	t.Run("UpdateLast", func(t *testing.T) {
		// A store with port.LastWriteTx may check the write with the
		// commit: it succeeds as UpdateInteraction does, and a stale one
		// fails the transaction with ErrStaleVersion, nothing of it kept.
		type lastWriter interface {
			UpdateInteractionLast(ctx context.Context, it *interaction.Interaction) error
		}
		s := fresh(t, newStore)
		create(t, s, full("l"))
		supported := false
		err := s.Update(t.Context(), func(tx emailflow.Tx) error {
			l, ok := tx.(lastWriter)
			if supported = ok; !ok {
				return nil
			}
			if p, ok := tx.(interface{ PrefetchInteraction(context.Context, string) }); ok {
				p.PrefetchInteraction(t.Context(), "l") // as the Workspace reads what it acts on
			}
			it, err := tx.Interaction(t.Context(), "l")
			if err != nil {
				return err
			}
			it.Subject = "last"
			if err := l.UpdateInteractionLast(t.Context(), it); err != nil {
				return err
			}
			assert.Equal(t, int64(2), it.Version, "the value passed carries the new version")
			return nil
		})
		if !supported {
			t.Skip("the store has no port.LastWriteTx")
		}
		require.NoError(t, err)
		want := load(t, s, "l")
		assert.Equal(t, "last", want.Subject)
		assert.Equal(t, int64(2), want.Version)

		stale := want.Clone()
		stale.Version, stale.Subject = 1, "stale"
		err = s.Update(t.Context(), func(tx emailflow.Tx) error {
			e := &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "l", Actor: "ann", At: at(1)}
			if err := tx.AppendEvent(t.Context(), e); err != nil {
				return err
			}
			return tx.(lastWriter).UpdateInteractionLast(t.Context(), stale)
		})
		assert.ErrorIs(t, err, emailflow.ErrStaleVersion)
		assert.ErrorIs(t, err, emailflow.ErrConflict)
		same(t, want, load(t, s, "l"), "a stale write changes nothing")
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			evs, err := tx.Events(ctx, 0, 0)
			require.NoError(t, err)
			assert.Empty(t, evs, "nor is the transaction's event kept")
		})
	})

	t.Run("Copies", func(t *testing.T) {
		// Each mutation changes a value after the store gave it: it is the
		// caller's own. (A value passed to a write may be kept by the store
		// and is not changed afterwards: see emailflow.Tx.)
		mutations := []struct {
			name   string
			mutate func(*interaction.Interaction)
		}{
			{"Scalar", func(it *interaction.Interaction) { it.Subject, it.Owner, it.Priority = "changed", "mallory", 99 }},
			{"CaseData", func(it *interaction.Interaction) { it.CaseData[0].Value, it.CaseData[1].Key = "changed", "changed" }},
			{"CaseDataAppend", func(it *interaction.Interaction) { it.CaseData = append(it.CaseData[:1], interaction.Field{Key: "x"}) }},
			{"History", func(it *interaction.Interaction) { it.History[0].Detail, it.History[1].Actor = "changed", "mallory" }},
			{"HistoryAppend", func(it *interaction.Interaction) { it.History = append(it.History[:2], interaction.Entry{Action: "x"}) }},
			{"Declined", func(it *interaction.Interaction) { it.Declined[0] = "mallory" }},
			{"Excluded", func(it *interaction.Interaction) { it.Excluded[0] = "mallory" }},
			{"Skills", func(it *interaction.Interaction) { it.Skills["billing"], it.Skills["new"] = 0, 1 }},
			{"Notes", func(it *interaction.Interaction) { it.Notes[0].Text = "changed" }},
		}
		// Each source hands the test a value the store handed out.
		sources := []struct {
			name string
			get  func(t *testing.T, s emailflow.Store) *interaction.Interaction
		}{
			{"FromInteraction", func(t *testing.T, s emailflow.Store) *interaction.Interaction {
				create(t, s, full("c"))
				return load(t, s, "c")
			}},
			{"FromFindInteractions", func(t *testing.T, s emailflow.Store) *interaction.Interaction {
				create(t, s, full("c"))
				var found []*interaction.Interaction
				view(t, s, func(ctx context.Context, tx emailflow.Tx) {
					var err error
					found, err = tx.FindInteractions(ctx, emailflow.Query{ThreadID: "thread-c"})
					require.NoError(t, err)
				})
				require.Len(t, found, 1)
				return found[0]
			}},
		}
		for _, src := range sources {
			for _, m := range mutations {
				t.Run(src.name+"/"+m.name, func(t *testing.T) {
					s := fresh(t, newStore)
					it := src.get(t, s)
					want := it.Clone()
					m.mutate(it)
					same(t, want, load(t, s, "c"))
				})
			}
		}
	})
}
