package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/sla"
)

// events returns Events(after, limit).
func events(t *testing.T, s emailflow.Store, after int64, limit int) []emailflow.Event {
	t.Helper()
	var evs []emailflow.Event
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		evs, err = tx.Events(ctx, after, limit)
		require.NoError(t, err)
	})
	return evs
}

// appendEvents appends n events about itID-0 … itID-(n-1), in one
// transaction, and returns them with their Seq set.
func appendEvents(t *testing.T, s emailflow.Store, itID string, n int) []emailflow.Event {
	t.Helper()
	out := make([]emailflow.Event, 0, n)
	update(t, s, func(ctx context.Context, tx emailflow.Tx) {
		for i := range n {
			e := event(emailflow.EventUpdated, fmt.Sprintf("%s-%d", itID, i), i)
			require.NoError(t, tx.AppendEvent(ctx, e))
			out = append(out, *e)
		}
	})
	return out
}

func testEvent(t *testing.T, newStore newFunc) {
	t.Run("EmptyLog", func(t *testing.T) {
		s := fresh(t, newStore)
		assert.Empty(t, events(t, s, 0, 10))
	})

	t.Run("TypedParts", func(t *testing.T) {
		s := fresh(t, newStore)
		answered := event(emailflow.EventAnswered, "parent", 1)
		answered.Answer = &interaction.Answer{ConsultID: "consult", Colleague: "bob", Text: "Oui, sous 30 jours.", At: at(1)}
		rejected := event(emailflow.EventRejected, "outbound", 2)
		rejected.Review = &interaction.Round{Number: 1, ReviewID: "review", Author: "ann", Reviewer: "rita",
			Decision: interaction.DecisionRejected, Reason: "ton", Remarks: "Plus aimable.", SubmittedAt: at(0), DecidedAt: at(2), Hash: "sha256:ab"}
		plain := event(emailflow.EventUpdated, "other", 3)
		breached := event(emailflow.EventSLABreached, "late", 4)
		breached.Deadline = &interaction.Firing{Deadline: sla.NextResponse, Seq: 3, Trigger: sla.Breach, At: at(4), Policy: "standard"}
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			for _, e := range []*emailflow.Event{answered, rejected, plain, breached} {
				require.NoError(t, tx.AppendEvent(ctx, e))
			}
		})
		got := events(t, s, 0, 10)
		require.Len(t, got, 4)
		same(t, []emailflow.Event{*answered, *rejected, *plain, *breached}, got, "a consultation's answer, a review's outcome and a deadline come back whole")
		assert.Nil(t, got[2].Answer)
		assert.Nil(t, got[2].Review)
		assert.Nil(t, got[2].Deadline)
	})

	t.Run("SeqIncreases", func(t *testing.T) {
		s := fresh(t, newStore)
		var all []emailflow.Event
		all = append(all, appendEvents(t, s, "one-tx", 3)...)
		for i := range 3 {
			all = append(all, appendEvents(t, s, fmt.Sprintf("tx%d", i), 1)...)
		}
		for i, e := range all {
			assert.Positive(t, e.Seq, "event %d", i)
			if i > 0 {
				assert.Greater(t, e.Seq, all[i-1].Seq, "event %d", i)
			}
		}
		same(t, all, events(t, s, 0, 100), "Events gives the events appended, in order, with their Seq")
	})

	t.Run("SeqIgnoresCallerValue", func(t *testing.T) {
		s := fresh(t, newStore)
		first := appendEvents(t, s, "a", 1)
		e := event(emailflow.EventDone, "b", 1)
		e.Seq = first[0].Seq // a caller must not be able to pick an old number
		update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.AppendEvent(ctx, e)) })
		assert.Greater(t, e.Seq, first[0].Seq)
		evs := events(t, s, 0, 100)
		require.Len(t, evs, 2)
		assert.Equal(t, e.Seq, evs[1].Seq)
	})

	t.Run("Paging", func(t *testing.T) {
		s := fresh(t, newStore)
		all := appendEvents(t, s, "a", 4)
		all = append(all, appendEvents(t, s, "b", 3)...)
		for _, limit := range []int{1, 2, 3, 7, 50} {
			t.Run(fmt.Sprintf("Limit%d", limit), func(t *testing.T) {
				var got []emailflow.Event
				after := int64(0)
				for range len(all) + 1 {
					page := events(t, s, after, limit)
					assert.LessOrEqual(t, len(page), limit)
					if len(page) == 0 {
						break
					}
					got = append(got, page...)
					after = page[len(page)-1].Seq
				}
				same(t, all, got)
			})
		}
		t.Run("After", func(t *testing.T) {
			same(t, all[4:], events(t, s, all[3].Seq, 100), "after the 4th")
			same(t, all[4:6], events(t, s, all[3].Seq, 2), "2 after the 4th")
			assert.Empty(t, events(t, s, all[6].Seq, 100), "after the last")
			same(t, all, events(t, s, -1, 100), "after a negative Seq")
		})
	})

	t.Run("Copies", func(t *testing.T) {
		s := fresh(t, newStore)
		appendEvents(t, s, "a", 2)
		want := events(t, s, 0, 100)
		got := events(t, s, 0, 100)
		got[0].Detail, got[1].Type = "changed", emailflow.EventDeleted
		same(t, want, events(t, s, 0, 100))
	})
}
