package interaction_test

import (
	"context"
	"net/mail"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/interaction"
)

func TestCloneCopiesRounds(t *testing.T) {
	it, err := interaction.New("o1", interaction.KindOutbound, "alice", t0)
	require.NoError(t, err)
	it.Rounds = []interaction.Round{{Number: 1, Author: "alice", Decision: interaction.DecisionPending, Edits: []interaction.RoundEdit{{
		By:     "rita",
		Before: interaction.EmailContent{To: []mail.Address{{Address: "a@b.example"}}, Text: "v1", Attachments: []interaction.AttachmentDigest{{Filename: "a.pdf"}}},
		After:  interaction.EmailContent{To: []mail.Address{{Address: "a@b.example"}}, Text: "v2"},
	}}}}
	c := it.Clone()
	assert.Equal(t, it, c)
	c.Rounds[0].Decision = interaction.DecisionApproved
	c.Rounds[0].Edits[0].Before.To[0].Address = "x@y.example"
	c.Rounds[0].Edits[0].Before.Attachments[0].Filename = "b.pdf"
	c.Rounds[0].Edits[0].After.Text = "changed"
	assert.Equal(t, interaction.DecisionPending, it.Rounds[0].Decision)
	assert.Equal(t, "a@b.example", it.Rounds[0].Edits[0].Before.To[0].Address)
	assert.Equal(t, "a.pdf", it.Rounds[0].Edits[0].Before.Attachments[0].Filename)
	assert.Equal(t, "v2", it.Rounds[0].Edits[0].After.Text)
	assert.Nil(t, (&interaction.Interaction{ID: "x"}).Clone().Rounds)
	assert.Equal(t, "withdrawn", interaction.DecisionWithdrawn.String())
}

// TestReviewMachine: a review is queued and offered like inbound mail, and
// it ends only by a decision or a cancellation: Mark done (complete) does
// not apply to it.
func TestReviewMachine(t *testing.T) {
	R := interaction.KindReview
	tests := []struct {
		from  interaction.State
		event interaction.Event
		to    interaction.State // empty: refused
	}{
		{interaction.StateNew, interaction.EventQueue, interaction.StateQueued},
		{interaction.StateQueued, interaction.EventOffer, interaction.StateOffered},
		{interaction.StateOffered, interaction.EventAccept, interaction.StateHandling},
		{interaction.StateOffered, interaction.EventDecline, interaction.StateQueued},
		{interaction.StateOffered, interaction.EventTimeout, interaction.StateQueued},
		{interaction.StateQueued, interaction.EventPull, interaction.StateHandling},
		{interaction.StateHandling, interaction.EventDecide, interaction.StateDone},
		{interaction.StateQueued, interaction.EventCancel, interaction.StateDone},
		{interaction.StateOffered, interaction.EventCancel, interaction.StateDone},
		{interaction.StateHandling, interaction.EventCancel, interaction.StateDone},
		{interaction.StateHandling, interaction.EventComplete, ""},
		{interaction.StateQueued, interaction.EventDecide, ""},
		{interaction.StateOffered, interaction.EventDecide, ""},
		{interaction.StateDone, interaction.EventDecide, ""},
		{interaction.StateHandling, interaction.EventTransfer, ""},
		{interaction.StateHandling, interaction.EventPark, ""},
		{interaction.StateQueued, interaction.EventDelete, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"/"+string(tt.event), func(t *testing.T) {
			it, err := interaction.New("r1", R, "system", t0)
			require.NoError(t, err)
			it.State = tt.from
			err = it.Fire(context.Background(), tt.event, "rita", t0, "")
			if tt.to == "" {
				assert.ErrorIs(t, err, interaction.ErrInvalidTransition)
				assert.Equal(t, tt.from, it.State)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.to, it.State)
		})
	}
}
