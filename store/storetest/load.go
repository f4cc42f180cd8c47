package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// loads returns the Load of each agent.
func loads(t *testing.T, s emailflow.Store, agents ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		for _, a := range agents {
			n, err := tx.Load(ctx, a)
			require.NoError(t, err)
			out[a] = n
		}
	})
	return out
}

func testLoad(t *testing.T, newStore newFunc) {
	t.Run("Counts", func(t *testing.T) {
		s := fresh(t, newStore)
		mk := func(id string, k interaction.Kind, st interaction.State, owner, offeredTo string) *interaction.Interaction {
			it := plain(id, k, st)
			it.Owner, it.OfferedTo = owner, offeredTo
			if st == interaction.StateTransferred {
				it.TransferFrom = owner
			}
			return it
		}
		in, out, consult := interaction.KindInbound, interaction.KindOutbound, interaction.KindConsult
		create(t, s,
			mk("ann-offered", in, interaction.StateOffered, "", "ann"),                // ann +1
			mk("ann-transferred", in, interaction.StateTransferred, "bob", "ann"),     // bob +1: pending, it stays on its sender
			mk("ann-handling", in, interaction.StateHandling, "ann", ""),              // ann +1
			mk("ann-consult", consult, interaction.StateHandling, "ann", ""),          // ann +1
			mk("ann-parked", in, interaction.StateParked, "ann", ""),                  // parked: no
			mk("ann-done", in, interaction.StateDone, "ann", ""),                      // done: no
			mk("ann-draft", out, interaction.StateDraft, "ann", ""),                   // a draft: no
			mk("queued", in, interaction.StateQueued, "", ""),                         // nobody
			mk("bob-handling", in, interaction.StateHandling, "bob", ""),              // bob +1
			mk("bob-offered", consult, interaction.StateOffered, "", "bob"),           // bob +1
			mk("carol-transferred", in, interaction.StateTransferred, "ann", "carol"), // ann +1, not carol
		)
		assert.Equal(t, map[string]int{"ann": 4, "bob": 3, "carol": 0, "dave": 0}, loads(t, s, "ann", "bob", "carol", "dave"))
	})

	t.Run("FollowsStates", func(t *testing.T) {
		s := fresh(t, newStore)
		create(t, s, plain("it", interaction.KindInbound, interaction.StateQueued))
		steps := []struct {
			name string
			set  func(*interaction.Interaction)
			want map[string]int
		}{
			{"OfferedToAnn", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "ann" }, map[string]int{"ann": 1, "bob": 0}},
			{"TimedOut", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateQueued, "" }, map[string]int{"ann": 0, "bob": 0}},
			{"OfferedToBob", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "bob" }, map[string]int{"ann": 0, "bob": 1}},
			{"AcceptedByBob", func(it *interaction.Interaction) {
				it.State, it.Owner, it.OfferedTo = interaction.StateHandling, "bob", ""
			}, map[string]int{"ann": 0, "bob": 1}},
			{"Parked", func(it *interaction.Interaction) { it.State = interaction.StateParked }, map[string]int{"ann": 0, "bob": 0}},
			{"Resumed", func(it *interaction.Interaction) { it.State = interaction.StateHandling }, map[string]int{"ann": 0, "bob": 1}},
			{"TransferredToAnn", func(it *interaction.Interaction) {
				it.State, it.OfferedTo, it.TransferFrom = interaction.StateTransferred, "ann", "bob"
			}, map[string]int{"ann": 0, "bob": 1}}, // pending: still bob's
			{"DeclinedByAnn", func(it *interaction.Interaction) {
				it.State, it.OfferedTo, it.TransferFrom = interaction.StateHandling, "", ""
			}, map[string]int{"ann": 0, "bob": 1}},
			{"OwnerChanged", func(it *interaction.Interaction) { it.Owner = "ann" }, map[string]int{"ann": 1, "bob": 0}},
			{"Done", func(it *interaction.Interaction) { it.State = interaction.StateDone }, map[string]int{"ann": 0, "bob": 0}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				change(t, s, "it", st.set)
				assert.Equal(t, st.want, loads(t, s, "ann", "bob"))
			})
		}
	})

	t.Run("RolledBackChange", func(t *testing.T) {
		s := fresh(t, newStore)
		it := plain("it", interaction.KindInbound, interaction.StateHandling)
		it.Owner = "ann"
		create(t, s, it)
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			require.NoError(t, loadAnd(ctx, tx, "it", func(it *interaction.Interaction) {
				it.State = interaction.StateDone
			}))
			other := plain("other", interaction.KindInbound, interaction.StateOffered)
			other.OfferedTo = "bob"
			require.NoError(t, tx.CreateInteraction(ctx, other))
			assertLoad(t, ctx, tx, "ann", 0)
			assertLoad(t, ctx, tx, "bob", 1)
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		assert.Equal(t, map[string]int{"ann": 1, "bob": 0}, loads(t, s, "ann", "bob"))
	})
}
