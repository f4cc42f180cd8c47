package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
)

// availableIDs returns the ids of AvailableAgents(queue, 0, 100) in tx.
func availableIDs(t *testing.T, ctx context.Context, tx emailflow.Tx, queue string) []string {
	t.Helper()
	as, err := tx.AvailableAgents(ctx, queue, 0, 100)
	require.NoError(t, err)
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// availablePage returns AvailableAgents(queue, offset, limit) as "id/load"
// strings.
func availablePage(t *testing.T, s emailflow.Store, queue string, offset, limit int) []string {
	t.Helper()
	var as []routing.Agent
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		as, err = tx.AvailableAgents(ctx, queue, offset, limit)
		require.NoError(t, err)
	})
	out := make([]string, 0, len(as))
	for _, a := range as {
		assert.True(t, a.Ready, "agent %s is listed, so Ready", a.ID)
		assert.Less(t, a.Load, a.Capacity, "agent %s is listed, so below capacity", a.ID)
		out = append(out, fmt.Sprintf("%s/%d", a.ID, a.Load))
	}
	return out
}

// available returns the ids AvailableAgents(queue, 0, 100) gives.
func available(t *testing.T, s emailflow.Store, queue string) []string {
	t.Helper()
	var ids []string
	view(t, s, func(ctx context.Context, tx emailflow.Tx) { ids = availableIDs(t, ctx, tx, queue) })
	return ids
}

// waiting returns the ids Waiting(queue, offset, limit) gives.
func waiting(t *testing.T, s emailflow.Store, queue string, offset, limit int) []string {
	t.Helper()
	var items []routing.Item
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		items, err = tx.Waiting(ctx, queue, offset, limit)
		require.NoError(t, err)
	})
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// emptyOr asserts that got is want, or empty when want is.
func emptyOr(t *testing.T, want, got []string, msgAndArgs ...any) {
	t.Helper()
	if len(want) == 0 {
		assert.Empty(t, got, msgAndArgs...)
		return
	}
	assert.Equal(t, want, got, msgAndArgs...)
}

// team returns agents, none busy, in routing order for queue sales: bob
// and carol idle since -30 (ties by id), then ann; the others are not
// ready or serve another queue.
func team() []*emailflow.Agent {
	mk := func(id string, st emailflow.AgentStatus, idle int, queues ...string) *emailflow.Agent {
		a := agent(id, queues...)
		a.Status, a.IdleSince = st, at(idle)
		return a
	}
	return []*emailflow.Agent{
		mk("ann", emailflow.StatusReady, -10, "sales"),
		mk("bob", emailflow.StatusReady, -30, "sales"),
		mk("carol", emailflow.StatusReady, -30, "support", "sales"),
		mk("dave", emailflow.StatusNotReady, -60, "sales"),
		mk("erin", emailflow.StatusLoggedOut, -60, "sales"),
		mk("frank", emailflow.StatusNotResponding, -60, "sales"),
		mk("gina", emailflow.StatusReady, -90, "support"),
		mk("hugo", emailflow.StatusReady, -90),
	}
}

func testAvailableAgents(t *testing.T, newStore newFunc) {
	newTeamStore := func(t *testing.T) emailflow.Store {
		s := fresh(t, newStore)
		putAgents(t, s, team()...)
		return s
	}

	t.Run("Order", func(t *testing.T) {
		s := newTeamStore(t)
		assert.Equal(t, []string{"bob", "carol", "ann"}, available(t, s, "sales"))
		assert.Equal(t, []string{"gina", "carol"}, available(t, s, "support"))
		assert.Empty(t, available(t, s, "billing"))
		assert.Empty(t, available(t, s, ""))
	})

	t.Run("Values", func(t *testing.T) {
		s := newTeamStore(t)
		var as []routing.Agent
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			var err error
			as, err = tx.AvailableAgents(ctx, "support", 0, 10)
			require.NoError(t, err)
		})
		var want []routing.Agent
		for _, a := range []*emailflow.Agent{team()[6], team()[2]} {
			want = append(want, routing.Agent{
				ID: a.ID, Ready: true, Skills: a.Skills, Languages: a.Languages,
				Roles: []string{"agent", "reviewer"}, Capacity: 2, Load: 0, IdleSince: a.IdleSince,
			})
		}
		same(t, want, as)
	})

	t.Run("Paging", func(t *testing.T) {
		s := newTeamStore(t)
		for _, tc := range []struct {
			offset, limit int
			want          []string
		}{
			{0, 1, []string{"bob/0"}},
			{1, 1, []string{"carol/0"}},
			{2, 1, []string{"ann/0"}},
			{3, 1, nil},
			{1, 5, []string{"carol/0", "ann/0"}},
			{0, 2, []string{"bob/0", "carol/0"}},
			{2, 2, []string{"ann/0"}},
			{10, 2, nil},
		} {
			emptyOr(t, tc.want, availablePage(t, s, "sales", tc.offset, tc.limit), "offset %d limit %d", tc.offset, tc.limit)
		}
	})

	t.Run("FollowsAgentChanges", func(t *testing.T) {
		s := newTeamStore(t)
		steps := []struct {
			name  string
			id    string
			set   func(*emailflow.Agent)
			sales []string
		}{
			{"AnnNotReady", "ann", func(a *emailflow.Agent) { a.Status = emailflow.StatusNotReady }, []string{"bob", "carol"}},
			{"BobBusy", "bob", func(a *emailflow.Agent) { a.IdleSince = at(0) }, []string{"carol", "bob"}},
			{"DaveReady", "dave", func(a *emailflow.Agent) { a.Status = emailflow.StatusReady }, []string{"dave", "carol", "bob"}},
			{"CarolLeavesSales", "carol", func(a *emailflow.Agent) { a.Queues = []string{"support"} }, []string{"dave", "bob"}},
			{"HugoJoinsSales", "hugo", func(a *emailflow.Agent) { a.Queues = []string{"billing", "sales"} }, []string{"hugo", "dave", "bob"}},
			{"AnnReadyAgain", "ann", func(a *emailflow.Agent) { a.Status = emailflow.StatusReady }, []string{"hugo", "dave", "ann", "bob"}},
			{"BobLoggedOut", "bob", func(a *emailflow.Agent) { a.Status = emailflow.StatusLoggedOut }, []string{"hugo", "dave", "ann"}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				a := getAgent(t, s, st.id)
				st.set(a)
				putAgents(t, s, a)
				assert.Equal(t, st.sales, available(t, s, "sales"))
			})
		}
		assert.Equal(t, []string{"gina", "carol"}, available(t, s, "support"))
		assert.Equal(t, []string{"hugo"}, available(t, s, "billing"))
	})

	t.Run("FollowsLoad", func(t *testing.T) {
		// ann takes one interaction at a time (Capacity 0 means 1), bob two.
		s := newTeamStore(t)
		ann, bob := getAgent(t, s, "ann"), getAgent(t, s, "bob")
		ann.Capacity, bob.Capacity = 0, 2
		putAgents(t, s, ann, bob)
		create(t, s,
			plain("i1", interaction.KindInbound, interaction.StateQueued),
			plain("i2", interaction.KindInbound, interaction.StateQueued),
			plain("i3", interaction.KindInbound, interaction.StateQueued))
		steps := []struct {
			name  string
			id    string
			set   func(*interaction.Interaction)
			sales []string
		}{
			{"OfferToAnn", "i1", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "ann" },
				[]string{"bob/0", "carol/0"}},
			{"AnnDeclines", "i1", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateQueued, "" },
				[]string{"bob/0", "carol/0", "ann/0"}},
			{"BobHandlesOne", "i1", func(it *interaction.Interaction) { it.State, it.Owner = interaction.StateHandling, "bob" },
				[]string{"bob/1", "carol/0", "ann/0"}},
			{"OfferToBob", "i2", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "bob" },
				[]string{"carol/0", "ann/0"}},
			{"BobAccepts", "i2", func(it *interaction.Interaction) {
				it.State, it.Owner, it.OfferedTo = interaction.StateHandling, "bob", ""
			}, []string{"carol/0", "ann/0"}},
			{"TransferToAnn", "i2", func(it *interaction.Interaction) {
				it.State, it.OfferedTo, it.TransferFrom = interaction.StateTransferred, "ann", "bob"
			}, []string{"carol/0", "ann/0"}}, // pending: it stays on bob's load
			{"AnnAccepts", "i2", func(it *interaction.Interaction) {
				it.State, it.Owner, it.OfferedTo, it.TransferFrom = interaction.StateHandling, "ann", "", ""
			}, []string{"bob/1", "carol/0"}},
			{"AnnParks", "i2", func(it *interaction.Interaction) { it.State = interaction.StateParked },
				[]string{"bob/1", "carol/0", "ann/0"}},
			{"AnnResumes", "i2", func(it *interaction.Interaction) { it.State = interaction.StateHandling },
				[]string{"bob/1", "carol/0"}},
			{"CarolOffered", "i3", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "carol" },
				[]string{"bob/1", "carol/1"}},
			{"BobDone", "i1", func(it *interaction.Interaction) { it.State = interaction.StateDone },
				[]string{"bob/0", "carol/1"}},
			{"AnnDone", "i2", func(it *interaction.Interaction) { it.State = interaction.StateDone },
				[]string{"bob/0", "carol/1", "ann/0"}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				change(t, s, st.id, st.set)
				assert.Equal(t, st.sales, availablePage(t, s, "sales", 0, 10))
			})
		}
		t.Run("CapacityRaised", func(t *testing.T) {
			change(t, s, "i1", func(it *interaction.Interaction) {
				it.State, it.Owner, it.OfferedTo = interaction.StateHandling, "ann", ""
			})
			assert.Equal(t, []string{"bob/0", "carol/1"}, availablePage(t, s, "sales", 0, 10))
			ann := getAgent(t, s, "ann")
			ann.Capacity = 2
			putAgents(t, s, ann)
			assert.Equal(t, []string{"bob/0", "carol/1", "ann/1"}, availablePage(t, s, "sales", 0, 10))
		})
	})

	t.Run("RolledBack", func(t *testing.T) {
		s := newTeamStore(t)
		create(t, s, plain("i1", interaction.KindInbound, interaction.StateQueued))
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			a, err := tx.Agent(ctx, "bob")
			require.NoError(t, err)
			a.Status = emailflow.StatusNotReady
			require.NoError(t, tx.PutAgent(ctx, a))
			a = agent("zed", "sales")
			a.IdleSince = at(-1000)
			require.NoError(t, tx.PutAgent(ctx, a))
			require.NoError(t, loadAnd(ctx, tx, "i1", func(it *interaction.Interaction) {
				it.State, it.Owner = interaction.StateHandling, "carol"
			}))
			require.NoError(t, loadAnd(ctx, tx, "i1", func(it *interaction.Interaction) {
				it.State, it.OfferedTo, it.TransferFrom = interaction.StateTransferred, "ann", "carol"
			}))
			a, err = tx.Agent(ctx, "carol")
			require.NoError(t, err)
			a.Capacity = 1 // full: the pending transfer stays on her load
			require.NoError(t, tx.PutAgent(ctx, a))
			assert.Equal(t, []string{"zed", "ann"}, availableIDs(t, ctx, tx, "sales"), "the transaction sees its own writes")
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		assert.Equal(t, []string{"bob/0", "carol/0", "ann/0"}, availablePage(t, s, "sales", 0, 10))
	})
}

func testWaiting(t *testing.T, newStore newFunc) {
	// queue returns interactions queued in sales, in routing order.
	queue := func() []*interaction.Interaction {
		mk := func(id string, priority int, queued, created int) *interaction.Interaction {
			it := plain(id, interaction.KindInbound, interaction.StateQueued)
			it.Queue, it.Priority, it.QueuedAt, it.CreatedAt = "sales", priority, at(queued), at(created)
			return it
		}
		return []*interaction.Interaction{
			mk("p9", 9, 50, 50),
			mk("p5-queued-first", 5, 1, 40),
			mk("p5-queued-later", 5, 10, 0),
			mk("p1-created-first", 1, 5, 1),
			mk("p1-created-later", 1, 5, 2),
			mk("p1-tie-a", 1, 6, 3),
			mk("p1-tie-b", 1, 6, 3),
			mk("p0", 0, -100, -100),
			mk("p-negative", -2, -200, -200),
		}
	}
	newQueueStore := func(t *testing.T) emailflow.Store {
		s := fresh(t, newStore)
		q := queue()
		for _, i := range []int{6, 2, 8, 0, 4, 7, 1, 5, 3} {
			create(t, s, q[i])
		}
		// Not waiting in sales: another queue, or not queued any more.
		other := plain("other-queue", interaction.KindInbound, interaction.StateQueued)
		other.Queue, other.Priority = "support", 100
		offered := plain("offered", interaction.KindInbound, interaction.StateOffered)
		offered.Queue, offered.Priority, offered.OfferedTo = "sales", 100, "ann"
		handled := plain("handled", interaction.KindInbound, interaction.StateHandling)
		handled.Queue, handled.Priority, handled.Owner = "sales", 100, "ann"
		create(t, s, other, offered, handled)
		return s
	}

	t.Run("Order", func(t *testing.T) {
		s := newQueueStore(t)
		assert.Equal(t, ids(queue()), waiting(t, s, "sales", 0, 100))
		assert.Equal(t, []string{"other-queue"}, waiting(t, s, "support", 0, 100))
		assert.Empty(t, waiting(t, s, "billing", 0, 100))
	})

	t.Run("Paging", func(t *testing.T) {
		s := newQueueStore(t)
		all := ids(queue())
		for _, limit := range []int{1, 2, 4, 100} {
			var got []string
			for offset := 0; offset <= len(all); offset += limit {
				page := waiting(t, s, "sales", offset, limit)
				assert.LessOrEqual(t, len(page), limit)
				got = append(got, page...)
			}
			assert.Equal(t, all, got, "pages of %d", limit)
		}
		emptyOr(t, nil, waiting(t, s, "sales", len(all), 10), "offset past the end")
	})

	t.Run("Values", func(t *testing.T) {
		s := fresh(t, newStore)
		it := full("w")
		it.State, it.Owner, it.Queue = interaction.StateQueued, "", "sales"
		create(t, s, it)
		var items []routing.Item
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			var err error
			items, err = tx.Waiting(ctx, "sales", 0, 10)
			require.NoError(t, err)
		})
		same(t, []routing.Item{{
			ID: "w", Queue: "sales", Priority: it.Priority, QueuedAt: it.QueuedAt,
			Skills: it.Skills, Language: it.Language, Declined: it.Declined, Excluded: it.Excluded,
			Preferred: it.PreferredAgent, PreferUntil: it.PreferUntil,
		}}, items)
	})

	t.Run("FollowsChanges", func(t *testing.T) {
		s := newQueueStore(t)
		steps := []struct {
			name string
			id   string
			set  func(*interaction.Interaction)
			want []string
		}{
			{"Offered", "p9", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "ann" },
				[]string{"p5-queued-first", "p5-queued-later", "p1-created-first"}},
			{"BackInQueue", "p9", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateQueued, "" },
				[]string{"p9", "p5-queued-first", "p5-queued-later"}},
			{"PriorityRaised", "p-negative", func(it *interaction.Interaction) { it.Priority = 7 },
				[]string{"p9", "p-negative", "p5-queued-first"}},
			{"RequeuedLater", "p5-queued-first", func(it *interaction.Interaction) { it.QueuedAt = at(20) },
				[]string{"p9", "p-negative", "p5-queued-later"}},
			{"MovedToSupport", "p9", func(it *interaction.Interaction) { it.Queue = "support" },
				[]string{"p-negative", "p5-queued-later", "p5-queued-first"}},
			{"Done", "p-negative", func(it *interaction.Interaction) { it.State = interaction.StateDone },
				[]string{"p5-queued-later", "p5-queued-first", "p1-created-first"}},
			{"OfferedJoins", "offered", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateQueued, "" },
				[]string{"offered", "p5-queued-later", "p5-queued-first"}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				change(t, s, st.id, st.set)
				assert.Equal(t, st.want, waiting(t, s, "sales", 0, 3))
				found := find(t, s, emailflow.Query{Queue: "sales", States: states(interaction.StateQueued)})
				assert.Equal(t, waiting(t, s, "sales", 0, 100), found, "Waiting and FindInteractions agree")
			})
		}
		assert.Equal(t, []string{"other-queue", "p9"}, waiting(t, s, "support", 0, 10))
	})

	t.Run("RolledBack", func(t *testing.T) {
		s := newQueueStore(t)
		before := waiting(t, s, "sales", 0, 100)
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			require.NoError(t, loadAnd(ctx, tx, "p9", func(it *interaction.Interaction) { it.State = interaction.StateOffered }))
			require.NoError(t, loadAnd(ctx, tx, "p0", func(it *interaction.Interaction) { it.Priority = 50 }))
			require.NoError(t, loadAnd(ctx, tx, "offered", func(it *interaction.Interaction) { it.State = interaction.StateQueued }))
			it := plain("new", interaction.KindInbound, interaction.StateQueued)
			it.Queue, it.Priority = "sales", 99
			require.NoError(t, tx.CreateInteraction(ctx, it))
			items, err := tx.Waiting(ctx, "sales", 0, 3)
			require.NoError(t, err)
			require.Len(t, items, 3)
			assert.Equal(t, []string{"offered", "new", "p0"}, []string{items[0].ID, items[1].ID, items[2].ID},
				"the transaction sees its own writes")
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		assert.Equal(t, before, waiting(t, s, "sales", 0, 100))
	})
}
