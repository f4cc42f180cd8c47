package emailflow_test

import (
	"context"
	"net/mail"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// The agent adds notes and a disposition to the email being written, as
// in the reference desk's outbound window.
func TestNotesAndDispositionOnADraft(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Dispositions: []string{"résolu", "escaladé"}})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)

	require.NoError(t, f.ws.As("alice").AddNote(ctx, r.ID, "Geste commercial accordé par Marc."))
	require.NoError(t, f.ws.As("alice").SetDisposition(ctx, r.ID, "résolu"))
	assert.ErrorIs(t, f.ws.As("alice").SetDisposition(ctx, r.ID, "inconnu"), emailflow.ErrInvalidInput)
	assert.ErrorIs(t, f.ws.As("bob").AddNote(ctx, r.ID, "moi aussi"), emailflow.ErrForbidden, "only its author")
	o, err := f.ws.As("alice").Interaction(ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, o.Notes, 1)
	assert.Equal(t, interaction.Note{Author: "alice", At: f.clock.Now(), Text: "Geste commercial accordé par Marc."}, o.Notes[0])
	assert.Equal(t, "résolu", o.Disposition)

	setText(t, f, "alice", r.ID, "Bonjour, c'est réglé.")
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	in, err := f.ws.As("alice").Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "résolu", in.Disposition, "the reply's disposition settles the inbound")
	assert.Empty(t, in.Notes, "the draft's notes stay on the draft")
	o, err = f.ws.As("alice").Interaction(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	assert.ErrorIs(t, f.ws.As("alice").AddNote(ctx, r.ID, "trop tard"), emailflow.ErrInvalidTransition, "sent: closed")

	// An inbound with its own disposition keeps it.
	r2, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	require.NoError(t, f.ws.As("alice").SetDisposition(ctx, r2.ID, "escaladé"))
	setText(t, f, "alice", r2.ID, "Complément")
	_, err = f.ws.As("alice").Send(ctx, r2.ID, nil)
	require.NoError(t, err)
	in, err = f.ws.As("alice").Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "résolu", in.Disposition)
}

// With CompleteOnReply and a required disposition, the reply's disposition
// lets the reply close the inbound, reviewed or not.
func TestReplyDispositionClosesTheInbound(t *testing.T) {
	ctx := context.Background()
	for _, review := range []bool{false, true} {
		opts := &emailflow.Options{CompleteOnReply: true, DispositionRequired: true}
		if review {
			opts = reviewAll()
			opts.CompleteOnReply, opts.DispositionRequired = true, true
		}
		f := newFixture(t, opts)
		f.agent(t, "alice")
		id := f.handled(t, "alice")
		r, err := f.ws.As("alice").Reply(ctx, id)
		require.NoError(t, err)
		setText(t, f, "alice", r.ID, "Bonjour")
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.ErrorIs(t, err, emailflow.ErrInvalidInput, "no disposition anywhere")

		require.NoError(t, f.ws.As("alice").SetDisposition(ctx, r.ID, "résolu"))
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.NoError(t, err)
		if review {
			f.reviewer(t, "rita")
			rv := f.reviewOf(t, r.ID)
			_, err = f.ws.As("rita").Accept(ctx, rv)
			require.NoError(t, err)
			_, err = f.ws.As("rita").Approve(ctx, rv)
			require.NoError(t, err)
		}
		in, err := f.ws.As("alice").Interaction(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, interaction.StateDone, in.State, "review %v", review)
		assert.Equal(t, "résolu", in.Disposition)
	}
}

// A new email has no inbound to settle: its disposition stays its own.
func TestNewEmailKeepsItsDisposition(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	o, err := f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{To: []mail.Address{{Address: "client@exemple.fr"}}, Subject: "Votre commande", Text: "Bonjour"})
	require.NoError(t, err)
	require.NoError(t, f.ws.As("alice").SetDisposition(ctx, o.ID, "information"))
	_, err = f.ws.As("alice").Send(ctx, o.ID, nil)
	require.NoError(t, err)
	o.Interaction, err = f.ws.As("alice").Interaction(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	assert.Equal(t, "information", o.Disposition)
}
