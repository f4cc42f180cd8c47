package interaction_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/looplab/fsm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/interaction"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func TestFireTransitions(t *testing.T) {
	I, O, C := interaction.KindInbound, interaction.KindOutbound, interaction.KindConsult
	tests := []struct {
		kind  interaction.Kind
		from  interaction.State
		event interaction.Event
		to    interaction.State // empty: refused
	}{
		{I, interaction.StateNew, interaction.EventQueue, interaction.StateQueued},
		{I, interaction.StateQueued, interaction.EventOffer, interaction.StateOffered},
		{I, interaction.StateOffered, interaction.EventAccept, interaction.StateHandling},
		{I, interaction.StateOffered, interaction.EventDecline, interaction.StateQueued},
		{I, interaction.StateOffered, interaction.EventTimeout, interaction.StateQueued},
		{I, interaction.StateTransferred, interaction.EventDecline, interaction.StateHandling},
		{I, interaction.StateTransferred, interaction.EventAccept, interaction.StateHandling},
		{I, interaction.StateHandling, interaction.EventPark, interaction.StateParked},
		{I, interaction.StateParked, interaction.EventResume, interaction.StateHandling},
		{I, interaction.StateHandling, interaction.EventTransferQueue, interaction.StateQueued},
		{I, interaction.StateHandling, interaction.EventComplete, interaction.StateDone},
		{I, interaction.StateDone, interaction.EventComplete, ""},
		{I, interaction.StateDone, interaction.EventPark, ""},
		{I, interaction.StateQueued, interaction.EventAccept, ""},
		{I, interaction.StateHandling, interaction.EventSend, ""},
		{O, interaction.StateDraft, interaction.EventSend, interaction.StateOutbox},
		{O, interaction.StateDraft, interaction.EventSubmit, interaction.StateInReview},
		{O, interaction.StateInReview, interaction.EventReject, interaction.StateRejected},
		{O, interaction.StateRejected, interaction.EventSubmit, interaction.StateInReview},
		{O, interaction.StateInReview, interaction.EventApprove, interaction.StateOutbox},
		{O, interaction.StateInReview, interaction.EventSend, ""},
		{O, interaction.StateOutbox, interaction.EventDeliver, interaction.StateSent},
		{O, interaction.StateOutbox, interaction.EventFail, interaction.StateFailed},
		{O, interaction.StateFailed, interaction.EventRetry, interaction.StateOutbox},
		{O, interaction.StateSent, interaction.EventSend, ""},
		{O, interaction.StateSent, interaction.EventBounce, interaction.StateFailed},
		{O, interaction.StateOutbox, interaction.EventBounce, ""},
		{O, interaction.StateFailed, interaction.EventBounce, ""},
		{I, interaction.StateNew, interaction.EventQuarantine, interaction.StateQuarantined},
		{I, interaction.StateQueued, interaction.EventQuarantine, ""},
		{I, interaction.StateQuarantined, interaction.EventRelease, interaction.StateQueued},
		{I, interaction.StateQuarantined, interaction.EventDelete, interaction.StateDeleted},
		{I, interaction.StateQuarantined, interaction.EventOffer, ""},
		{I, interaction.StateQuarantined, interaction.EventPull, ""},
		{I, interaction.StateQueued, interaction.EventRelease, ""},
		{C, interaction.StateOffered, interaction.EventAccept, interaction.StateHandling},
		{C, interaction.StateHandling, interaction.EventAnswer, interaction.StateAnswered},
		{C, interaction.StateHandling, interaction.EventCancel, interaction.StateDone},
		{C, interaction.StateDone, interaction.EventAnswer, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+string(tt.from)+"/"+string(tt.event), func(t *testing.T) {
			it, err := interaction.New("i1", tt.kind, "system", t0)
			require.NoError(t, err)
			it.State = tt.from
			before := it.Clone()
			err = it.Fire(context.Background(), tt.event, "agent-1", t0.Add(time.Minute), "why")
			if tt.to == "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, interaction.ErrInvalidTransition)
				assert.Contains(t, err.Error(), string(tt.from))
				assert.Contains(t, err.Error(), string(tt.event))
				var inv fsm.InvalidEventError
				var unknown fsm.UnknownEventError
				assert.True(t, errors.As(err, &inv) || errors.As(err, &unknown), "the FSM's own error stays wrapped")
				assert.Equal(t, before, it, "a refused event changes nothing")
				assert.False(t, it.Can(tt.event))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.to, it.State)
			last := it.History[len(it.History)-1]
			assert.Equal(t, interaction.Entry{At: t0.Add(time.Minute), Actor: "agent-1", Action: string(tt.event), From: tt.from, To: tt.to, Detail: "why"}, last)
		})
	}
}

func TestFireCancelledContext(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, it.Fire(ctx, interaction.EventQueue, "system", t0, ""))
	assert.Equal(t, interaction.StateQueued, it.State)
}

func TestFireUnknownStoredState(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	it.State = "bogus"
	err = it.Fire(context.Background(), interaction.EventQueue, "system", t0, "")
	assert.ErrorIs(t, err, interaction.ErrInvalidTransition)
	assert.Equal(t, interaction.State("bogus"), it.State)
}

func TestNewRefusesBadInput(t *testing.T) {
	_, err := interaction.New("", interaction.KindInbound, "system", t0)
	assert.ErrorIs(t, err, interaction.ErrInvalidInput)
	_, err = interaction.New("x", "fax", "system", t0)
	assert.ErrorIs(t, err, interaction.ErrInvalidInput)
}

func TestCaseData(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	it.CaseData.Put("Subject", "Commande", true)
	it.CaseData.Put("Order", "", false)

	require.NoError(t, it.SetCaseData("a1", "Order", "FR-1234", t0))
	v, ok := it.CaseData.Get("Order")
	require.True(t, ok)
	assert.Equal(t, "FR-1234", v)

	require.NoError(t, it.SetCaseData("a1", "Priority", "high", t0))
	assert.Equal(t, []string{"Subject", "Order", "Priority"}, keys(it.CaseData), "order kept, new keys appended")

	before := it.Clone()
	assert.ErrorIs(t, it.SetCaseData("a1", "Subject", "x", t0), interaction.ErrForbidden)
	assert.ErrorIs(t, it.SetCaseData("a1", " ", "x", t0), interaction.ErrInvalidInput)
	assert.ErrorIs(t, it.SetCaseData("a1", "a\nb", "x", t0), interaction.ErrInvalidInput)
	assert.Equal(t, before, it)
}

func keys(c interaction.CaseData) []string {
	var out []string
	for _, f := range c {
		out = append(out, f.Key)
	}
	return out
}

func TestNotesAndDisposition(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	require.NoError(t, it.AddNote("a1", "  called back  ", t0))
	assert.Equal(t, []interaction.Note{{Author: "a1", At: t0, Text: "called back"}}, it.Notes)
	assert.ErrorIs(t, it.AddNote("a1", " ", t0), interaction.ErrInvalidInput)

	allowed := []string{"resolved", "escalated"}
	assert.ErrorIs(t, it.SetDisposition("a1", "lost", allowed, t0), interaction.ErrInvalidInput)
	assert.Empty(t, it.Disposition)
	require.NoError(t, it.SetDisposition("a1", "resolved", allowed, t0))
	assert.Equal(t, "resolved", it.Disposition)
}

func TestNoteHistoryRefersToTheNote(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	require.NoError(t, it.AddNote("a1", "first", t0))
	require.NoError(t, it.AddNote("a2", "second", t0))
	var refs []int
	for _, e := range it.History {
		if e.Action == "note" {
			assert.Empty(t, e.Detail, "the text is not copied")
			refs = append(refs, e.Note)
		}
	}
	assert.Equal(t, []int{1, 2}, refs)
	assert.Equal(t, "second", it.Notes[refs[1]-1].Text)
}

func TestOwnership(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	it.Owner = "a1"
	assert.NoError(t, it.CheckOwner("a1"))
	assert.ErrorIs(t, it.CheckOwner("a2"), interaction.ErrForbidden)
	assert.ErrorIs(t, it.CheckOwner(""), interaction.ErrForbidden)
	it.OfferedTo = "a2"
	assert.NoError(t, it.CheckOffered("a2"))
	assert.ErrorIs(t, it.CheckOffered("a1"), interaction.ErrForbidden)
}

func TestCloneIsDeep(t *testing.T) {
	it, err := interaction.New("i1", interaction.KindInbound, "system", t0)
	require.NoError(t, err)
	it.CaseData.Put("k", "v", false)
	c := it.Clone()
	c.CaseData[0].Value = "changed"
	c.History[0].Actor = "changed"
	assert.Equal(t, "v", it.CaseData[0].Value)
	assert.Equal(t, "system", it.History[0].Actor)
}
