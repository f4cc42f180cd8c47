package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// find runs q and returns the ids found, in order.
func find(t *testing.T, s emailflow.Store, q emailflow.Query) []string {
	t.Helper()
	var found []*interaction.Interaction
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		found, err = tx.FindInteractions(ctx, q)
		require.NoError(t, err)
	})
	return ids(found)
}

// states is shorthand for a States filter.
func states(ss ...interaction.State) []interaction.State { return ss }

// population returns interactions of every kind in many states, all of
// priority 0 and never queued, created one minute apart in this order:
// FindInteractions returns any subset of them in this order.
func population() []*interaction.Interaction {
	type spec struct {
		id      string
		kind    interaction.Kind
		state   interaction.State
		set     func(*interaction.Interaction)
		thread  string
		contact string
	}
	in, out, consult := interaction.KindInbound, interaction.KindOutbound, interaction.KindConsult
	specs := []spec{
		{"in-queued-sales", in, interaction.StateQueued, func(it *interaction.Interaction) { it.Queue = "sales" }, "t1", "c1"},
		{"in-queued-support", in, interaction.StateQueued, func(it *interaction.Interaction) { it.Queue = "support" }, "t2", "c2"},
		{"in-offered-ann", in, interaction.StateOffered, func(it *interaction.Interaction) { it.Queue, it.OfferedTo = "sales", "ann" }, "t3", "c1"},
		{"in-handling-ann", in, interaction.StateHandling, func(it *interaction.Interaction) { it.Queue, it.Owner = "sales", "ann" }, "t4", "c2"},
		{"in-parked-bob", in, interaction.StateParked, func(it *interaction.Interaction) {
			it.Queue, it.Owner, it.Workbin = "support", "bob", "in-progress"
		}, "t5", "c3"},
		{"in-transferred-bob", in, interaction.StateTransferred, func(it *interaction.Interaction) {
			it.Queue, it.Owner, it.OfferedTo, it.TransferFrom = "support", "carol", "bob", "carol"
		}, "t6", "c3"},
		{"in-done-ann", in, interaction.StateDone, func(it *interaction.Interaction) { it.Queue, it.Owner = "sales", "ann" }, "t1", "c1"},
		{"out-draft-ann", out, interaction.StateDraft, func(it *interaction.Interaction) {
			it.Owner, it.ParentID, it.Purpose = "ann", "in-queued-sales", interaction.PurposeReply
		}, "t1", "c1"},
		{"out-parked-ann", out, interaction.StateParked, func(it *interaction.Interaction) {
			it.Owner, it.Workbin, it.Purpose = "ann", "drafts", interaction.PurposeNew
		}, "t4", ""},
		{"out-sent-ann", out, interaction.StateSent, func(it *interaction.Interaction) {
			it.Owner, it.Purpose = "ann", interaction.PurposeReplyAll
		}, "t4", "c2"},
		{"consult-bob", consult, interaction.StateOffered, func(it *interaction.Interaction) {
			it.OfferedTo, it.ParentID = "bob", "in-handling-ann"
		}, "t4", ""},
		{"in-deleted", in, interaction.StateDeleted, func(it *interaction.Interaction) { it.Queue = "support" }, "t2", "c2"},
	}
	its := make([]*interaction.Interaction, 0, len(specs))
	for i, sp := range specs {
		it := plain(sp.id, sp.kind, sp.state)
		it.ThreadID, it.ContactID = sp.thread, sp.contact
		it.CreatedAt, it.UpdatedAt = at(i), at(i)
		sp.set(it)
		its = append(its, it)
	}
	return its
}

func testFind(t *testing.T, newStore newFunc) {
	t.Run("Filters", func(t *testing.T) {
		s := fresh(t, newStore)
		// Created in reverse, so the order found is not the order written.
		pop := population()
		for i := len(pop) - 1; i >= 0; i-- {
			create(t, s, pop[i])
		}
		all := ids(population())
		for _, tc := range []struct {
			name string
			q    emailflow.Query
			want []string
		}{
			{"Everything", emailflow.Query{}, all},
			{"KindInbound", emailflow.Query{Kind: interaction.KindInbound},
				[]string{"in-queued-sales", "in-queued-support", "in-offered-ann", "in-handling-ann", "in-parked-bob", "in-transferred-bob", "in-done-ann", "in-deleted"}},
			{"KindOutbound", emailflow.Query{Kind: interaction.KindOutbound}, []string{"out-draft-ann", "out-parked-ann", "out-sent-ann"}},
			{"KindConsult", emailflow.Query{Kind: interaction.KindConsult}, []string{"consult-bob"}},
			{"StateQueued", emailflow.Query{States: states(interaction.StateQueued)}, []string{"in-queued-sales", "in-queued-support"}},
			{"StatesOfferedTransferred", emailflow.Query{States: states(interaction.StateOffered, interaction.StateTransferred)},
				[]string{"in-offered-ann", "in-transferred-bob", "consult-bob"}},
			{"StateParked", emailflow.Query{States: states(interaction.StateParked)}, []string{"in-parked-bob", "out-parked-ann"}},
			{"StateDone", emailflow.Query{States: states(interaction.StateDone)}, []string{"in-done-ann"}},
			{"StateSent", emailflow.Query{States: states(interaction.StateSent)}, []string{"out-sent-ann"}},
			{"StatesClosed", emailflow.Query{States: states(interaction.StateDone, interaction.StateSent, interaction.StateDeleted)},
				[]string{"in-done-ann", "out-sent-ann", "in-deleted"}},
			{"StatesOpenAndClosed", emailflow.Query{States: states(interaction.StateDone, interaction.StateQueued)},
				[]string{"in-queued-sales", "in-queued-support", "in-done-ann"}},
			{"StateNobodyIsIn", emailflow.Query{States: states(interaction.StateInReview)}, nil},
			{"Owner", emailflow.Query{Owner: "ann"}, []string{"in-handling-ann", "in-done-ann", "out-draft-ann", "out-parked-ann", "out-sent-ann"}},
			{"OwnerOpenStates", emailflow.Query{Owner: "ann", States: states(interaction.StateHandling, interaction.StateParked, interaction.StateDraft)},
				[]string{"in-handling-ann", "out-draft-ann", "out-parked-ann"}},
			{"OwnerClosedState", emailflow.Query{Owner: "ann", States: states(interaction.StateDone)}, []string{"in-done-ann"}},
			{"OwnerDuringTransfer", emailflow.Query{Owner: "carol"}, []string{"in-transferred-bob"}},
			{"OwnerUnknown", emailflow.Query{Owner: "zoe"}, nil},
			{"OfferedTo", emailflow.Query{OfferedTo: "bob"}, []string{"in-transferred-bob", "consult-bob"}},
			{"OfferedToAnn", emailflow.Query{OfferedTo: "ann"}, []string{"in-offered-ann"}},
			{"OfferedToAndKind", emailflow.Query{OfferedTo: "bob", Kind: interaction.KindConsult}, []string{"consult-bob"}},
			{"OfferedToAndState", emailflow.Query{OfferedTo: "bob", States: states(interaction.StateTransferred)}, []string{"in-transferred-bob"}},
			{"Queue", emailflow.Query{Queue: "sales"}, []string{"in-queued-sales", "in-offered-ann", "in-handling-ann", "in-done-ann"}},
			{"QueueSupport", emailflow.Query{Queue: "support"}, []string{"in-queued-support", "in-parked-bob", "in-transferred-bob", "in-deleted"}},
			{"QueueAndState", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued)}, []string{"in-queued-sales"}},
			{"Workbin", emailflow.Query{Workbin: "drafts"}, []string{"out-parked-ann"}},
			{"WorkbinInProgress", emailflow.Query{Workbin: "in-progress"}, []string{"in-parked-bob"}},
			{"WorkbinOwnerParked", emailflow.Query{Owner: "bob", Workbin: "in-progress", States: states(interaction.StateParked)}, []string{"in-parked-bob"}},
			{"Thread", emailflow.Query{ThreadID: "t1"}, []string{"in-queued-sales", "in-done-ann", "out-draft-ann"}},
			{"ThreadMixed", emailflow.Query{ThreadID: "t4"}, []string{"in-handling-ann", "out-parked-ann", "out-sent-ann", "consult-bob"}},
			{"ThreadAndKind", emailflow.Query{ThreadID: "t4", Kind: interaction.KindInbound}, []string{"in-handling-ann"}},
			{"ThreadWithDeleted", emailflow.Query{ThreadID: "t2"}, []string{"in-queued-support", "in-deleted"}},
			{"ThreadUnknown", emailflow.Query{ThreadID: "t9"}, nil},
			{"Contact", emailflow.Query{ContactID: "c1"}, []string{"in-queued-sales", "in-offered-ann", "in-done-ann", "out-draft-ann"}},
			{"ContactAndKind", emailflow.Query{ContactID: "c2", Kind: interaction.KindInbound}, []string{"in-queued-support", "in-handling-ann", "in-deleted"}},
			{"Limit", emailflow.Query{Limit: 3}, all[:3]},
			{"LimitAndOwner", emailflow.Query{Owner: "ann", Limit: 2}, []string{"in-handling-ann", "in-done-ann"}},
			{"LimitOverCount", emailflow.Query{Kind: interaction.KindConsult, Limit: 100}, []string{"consult-bob"}},
			{"LimitOne", emailflow.Query{ThreadID: "t4", Limit: 1}, []string{"in-handling-ann"}},
			{"Offset", emailflow.Query{Offset: 10}, all[10:]},
			{"OffsetAndLimit", emailflow.Query{Offset: 2, Limit: 3}, all[2:5]},
			{"OffsetPastEnd", emailflow.Query{Offset: len(all)}, nil},
			{"OffsetAndOwner", emailflow.Query{Owner: "ann", Offset: 1, Limit: 2}, []string{"in-done-ann", "out-draft-ann"}},
			{"WaitingInQueue", emailflow.Query{Queue: "support", States: states(interaction.StateQueued)}, []string{"in-queued-support"}},
			{"WaitingInQueueAndContact", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued), ContactID: "c2"}, nil},
			{"WaitingInQueueAndKind", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued), Kind: interaction.KindOutbound}, nil},
			{"WaitingInQueueAndThread", emailflow.Query{Queue: "support", States: states(interaction.StateQueued), ThreadID: "t2"}, []string{"in-queued-support"}},
			{"WaitingInQueueAndOwner", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued), Owner: "ann"}, nil},
			{"WaitingInUnknownQueue", emailflow.Query{Queue: "billing", States: states(interaction.StateQueued)}, nil},
			{"WaitingInQueueOffsetPastEnd", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued), Offset: 1}, nil},
			{"AllFields", emailflow.Query{
				Kind: interaction.KindInbound, States: states(interaction.StateQueued, interaction.StateOffered, interaction.StateHandling),
				Queue: "sales", ContactID: "c1", ThreadID: "t3", OfferedTo: "ann", Limit: 5,
			}, []string{"in-offered-ann"}},
			{"Contradiction", emailflow.Query{Kind: interaction.KindOutbound, States: states(interaction.StateQueued)}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := find(t, s, tc.q)
				if len(tc.want) == 0 {
					assert.Empty(t, got)
					return
				}
				assert.Equal(t, tc.want, got)
			})
		}
	})

	t.Run("Order", func(t *testing.T) {
		mk := func(id string, priority int, queued, created int) *interaction.Interaction {
			it := plain(id, interaction.KindInbound, interaction.StateQueued)
			it.Queue, it.Priority, it.QueuedAt, it.CreatedAt = "sales", priority, at(queued), at(created)
			return it
		}
		want := []*interaction.Interaction{
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
		s := fresh(t, newStore)
		for _, i := range []int{6, 2, 8, 0, 4, 7, 1, 5, 3} {
			create(t, s, want[i].Clone())
		}
		for _, tc := range []struct {
			name string
			q    emailflow.Query
			want []string
		}{
			{"All", emailflow.Query{}, ids(want)},
			{"Filtered", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued)}, ids(want)},
			{"LimitAfterOrder", emailflow.Query{Limit: 4}, ids(want[:4])},
			{"OffsetAfterOrder", emailflow.Query{Offset: 3, Limit: 2}, ids(want[3:5])},
			{"WaitingPage", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued), Offset: 2, Limit: 3}, ids(want[2:5])},
			{"WaitingLastPage", emailflow.Query{Queue: "sales", States: states(interaction.StateQueued), Offset: 7, Limit: 3}, ids(want[7:])},
		} {
			t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, find(t, s, tc.q)) })
		}
		t.Run("PagingWaiting", func(t *testing.T) {
			for _, limit := range []int{1, 2, 4} {
				var got []string
				for offset := 0; offset <= len(want); offset += limit {
					got = append(got, find(t, s, emailflow.Query{
						Queue: "sales", States: states(interaction.StateQueued), Offset: offset, Limit: limit,
					})...)
				}
				assert.Equal(t, ids(want), got, "pages of %d", limit)
			}
		})
		t.Run("FollowsUpdates", func(t *testing.T) {
			change(t, s, "p-negative", func(it *interaction.Interaction) { it.Priority = 10 })
			change(t, s, "p9", func(it *interaction.Interaction) { it.State = interaction.StateOffered })
			assert.Equal(t, []string{"p-negative", "p5-queued-first"},
				find(t, s, emailflow.Query{States: states(interaction.StateQueued), Limit: 2}))
		})
	})

	t.Run("FollowsStateChanges", func(t *testing.T) {
		// One inbound interaction through its life: each query finds it
		// exactly when its current values match.
		type step struct {
			name string
			set  func(*interaction.Interaction)
		}
		steps := []step{
			{"Queued", func(it *interaction.Interaction) {
				it.State, it.Queue, it.QueuedAt = interaction.StateQueued, "sales", at(1)
			}},
			{"OfferedToAnn", func(it *interaction.Interaction) { it.State, it.OfferedTo = interaction.StateOffered, "ann" }},
			{"AcceptedByAnn", func(it *interaction.Interaction) {
				it.State, it.Owner, it.OfferedTo = interaction.StateHandling, "ann", ""
			}},
			{"Parked", func(it *interaction.Interaction) { it.State, it.Workbin = interaction.StateParked, "in-progress" }},
			{"Resumed", func(it *interaction.Interaction) { it.State, it.Workbin = interaction.StateHandling, "" }},
			{"TransferredToBob", func(it *interaction.Interaction) {
				it.State, it.OfferedTo, it.TransferFrom = interaction.StateTransferred, "bob", "ann"
			}},
			{"AcceptedByBob", func(it *interaction.Interaction) {
				it.State, it.Owner, it.OfferedTo, it.TransferFrom = interaction.StateHandling, "bob", "", ""
			}},
			{"TransferredToQueue", func(it *interaction.Interaction) {
				it.State, it.Owner, it.Queue = interaction.StateQueued, "", "support"
			}},
			{"PulledByAnn", func(it *interaction.Interaction) { it.State, it.Owner = interaction.StateHandling, "ann" }},
			{"ContactIdentified", func(it *interaction.Interaction) { it.ContactID = "c2" }},
			{"ContactCleared", func(it *interaction.Interaction) { it.ContactID = "" }},
			{"ContactSet", func(it *interaction.Interaction) { it.ContactID = "c1" }},
			{"Done", func(it *interaction.Interaction) { it.State = interaction.StateDone }},
		}
		queries := []emailflow.Query{
			{}, {ThreadID: "life"}, {Kind: interaction.KindInbound}, {ContactID: "c1"}, {ContactID: "c2"},
			{ContactID: "c2", States: states(interaction.StateHandling)},
			{States: states(interaction.StateNew)},
			{States: states(interaction.StateQueued)},
			{States: states(interaction.StateOffered, interaction.StateTransferred)},
			{States: states(interaction.StateHandling)},
			{States: states(interaction.StateParked)},
			{States: states(interaction.StateDone)},
			{States: states(interaction.StateDone, interaction.StateHandling)},
			{Owner: "ann"}, {Owner: "bob"},
			{Owner: "ann", States: states(interaction.StateHandling)},
			{Owner: "ann", States: states(interaction.StateHandling, interaction.StateParked)},
			{Owner: "bob", States: states(interaction.StateHandling)},
			{Owner: "ann", States: states(interaction.StateDone)},
			{OfferedTo: "ann"}, {OfferedTo: "bob"},
			{OfferedTo: "bob", States: states(interaction.StateTransferred)},
			{Queue: "sales"}, {Queue: "support"},
			{Queue: "sales", States: states(interaction.StateQueued)},
			{Queue: "support", States: states(interaction.StateQueued), Limit: 1},
			{Workbin: "in-progress"},
			{Owner: "ann", Workbin: "in-progress", States: states(interaction.StateParked)},
		}
		s := fresh(t, newStore)
		it := plain("life", interaction.KindInbound, interaction.StateNew)
		it.ContactID = "c1"
		create(t, s, it)
		// A bystander in every query's way.
		other := plain("other", interaction.KindInbound, interaction.StateHandling)
		other.Owner, other.Queue, other.ContactID = "ann", "sales", "c1"
		create(t, s, other)

		current := it.Clone()
		check := func(t *testing.T) {
			for _, q := range queries {
				inQuery := slices.Contains(find(t, s, q), "life")
				assert.Equal(t, matches(current, q), inQuery, "query %+v with the interaction in state %s", q, current.State)
			}
		}
		t.Run("New", check)
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				current = change(t, s, "life", st.set)
				check(t)
			})
		}
	})
}

// matches is the reference meaning of a Query, for one interaction.
func matches(it *interaction.Interaction, q emailflow.Query) bool {
	if q.Kind != "" && it.Kind != q.Kind ||
		q.Owner != "" && it.Owner != q.Owner ||
		q.OfferedTo != "" && it.OfferedTo != q.OfferedTo ||
		q.Queue != "" && it.Queue != q.Queue ||
		q.Workbin != "" && it.Workbin != q.Workbin ||
		q.ThreadID != "" && it.ThreadID != q.ThreadID ||
		q.ContactID != "" && it.ContactID != q.ContactID {
		return false
	}
	if len(q.States) == 0 {
		return true
	}
	for _, st := range q.States {
		if it.State == st {
			return true
		}
	}
	return false
}
