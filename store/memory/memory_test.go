package memory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) emailflow.Store { return memory.New(nil) })
}

// A panic in a transaction function rolls the transaction back, so the
// host that recovers it (net/http does) keeps a consistent store.
func TestUpdatePanicRollsBack(t *testing.T) {
	s := memory.New(nil)
	ctx := t.Context()
	it := &interaction.Interaction{ID: "it", Kind: interaction.KindInbound, State: interaction.StateOffered, ThreadID: "it", OfferedTo: "ann"}
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.CreateInteraction(ctx, it) }))

	assert.PanicsWithValue(t, "boom", func() {
		_ = s.Update(ctx, func(tx emailflow.Tx) error {
			got, err := tx.Interaction(ctx, "it")
			require.NoError(t, err)
			got.State, got.Owner, got.OfferedTo = interaction.StateHandling, "ann", ""
			require.NoError(t, tx.UpdateInteraction(ctx, got))
			require.NoError(t, tx.PutAgent(ctx, &emailflow.Agent{ID: "bob"}))
			require.NoError(t, tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventAccepted}))
			panic("boom")
		})
	})

	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		got, err := tx.Interaction(ctx, "it")
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, interaction.StateOffered, got.State)
		found, err := tx.FindInteractions(ctx, emailflow.Query{States: []interaction.State{interaction.StateHandling}})
		require.NoError(t, err)
		assert.Empty(t, found)
		found, err = tx.FindInteractions(ctx, emailflow.Query{OfferedTo: "ann"})
		require.NoError(t, err)
		assert.Len(t, found, 1)
		_, err = tx.Agent(ctx, "bob")
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
		evs, err := tx.Events(ctx, 0, 10)
		require.NoError(t, err)
		assert.Empty(t, evs)
		return nil
	}))

	// The lock was released and the store still works.
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		return tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventAccepted})
	}))
}

// A caller changing its own copy, read from the store, changes nothing
// and is not a fault.
func TestGuardLetsCallersChangeTheirCopies(t *testing.T) {
	ctx := context.Background()
	s := memory.New(nil)
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		return tx.CreateInteraction(ctx, &interaction.Interaction{ID: "it", Kind: interaction.KindInbound, State: interaction.StateQueued, ThreadID: "it"})
	}))
	var got *interaction.Interaction
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		var err error
		got, err = tx.Interaction(ctx, "it")
		return err
	}))
	got.Owner, got.State = "mallory", interaction.StateDone
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		it, err := tx.Interaction(ctx, "it")
		if err == nil {
			assert.Equal(t, interaction.StateQueued, it.State)
			assert.Empty(t, it.Owner)
		}
		return err
	}))
}

// The event log keeps the most recent Options.EventLog events, and a
// rolled-back append never shows, even when it had to drop the oldest.
func TestEventLogKeepsRecent(t *testing.T) {
	s := memory.New(&memory.Options{EventLog: 3})
	ctx := t.Context()
	appendN := func(n int, fail bool) error {
		return s.Update(ctx, func(tx emailflow.Tx) error {
			for range n {
				require.NoError(t, tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventUpdated}))
			}
			if fail {
				return context.Canceled
			}
			return nil
		})
	}
	seqs := func() []int64 {
		var out []int64
		require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
			evs, err := tx.Events(ctx, 0, 100)
			for _, e := range evs {
				out = append(out, e.Seq)
			}
			return err
		}))
		return out
	}

	require.NoError(t, appendN(5, false))
	assert.Equal(t, []int64{3, 4, 5}, seqs())

	require.ErrorIs(t, appendN(2, true), context.Canceled)
	got := seqs()
	assert.Subset(t, []int64{3, 4, 5}, got, "only committed events")
	assert.Contains(t, got, int64(5), "the newest committed event stays")

	require.NoError(t, appendN(1, false))
	got = seqs()
	require.NotEmpty(t, got)
	assert.Equal(t, int64(6), got[len(got)-1])
	assert.LessOrEqual(t, len(got), 3)
}

// A negative Query.Offset skips nothing, as contact.Page's does, rather
// than panicking.
func TestFindNegativeOffset(t *testing.T) {
	s := memory.New(nil)
	ctx := t.Context()
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		for _, id := range []string{"a", "b"} {
			it := &interaction.Interaction{ID: id, Kind: interaction.KindInbound, State: interaction.StateNew, ThreadID: id}
			if err := tx.CreateInteraction(ctx, it); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		found, err := tx.FindInteractions(ctx, emailflow.Query{Offset: -1})
		require.NoError(t, err)
		assert.Len(t, found, 2)
		return nil
	}))
}
