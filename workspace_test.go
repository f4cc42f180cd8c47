package emailflow_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

func TestLifecycleEndToEnd(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Dispositions: []string{"resolved", "escalated"}, DispositionRequired: true})
	f.agent(t, "alice")
	sub := f.ws.Subscribe(ctx, nil)
	defer sub.Close()

	it, err := f.ws.Ingest(ctx, support, bytes.NewReader(readFile(t, "testdata/french-order.eml")))
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State)
	assert.Equal(t, "alice", it.OfferedTo)
	assert.Equal(t, "support-fr", it.Queue)
	assert.Equal(t, "Commande FR-2291 : colis non reçu", it.Subject)
	v, _ := it.CaseData.Get(emailflow.CaseFrom)
	assert.Equal(t, "Hélène Dupré <helene.dupre@exemple.fr>", v)
	require.NotEmpty(t, it.ContactID)
	c, err := f.store.Contact(ctx, it.ContactID)
	require.NoError(t, err)
	assert.Equal(t, "Hélène", c.FirstName)
	assert.Equal(t, "Dupré", c.LastName)

	it, err = f.ws.As("alice").Accept(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State)
	assert.Equal(t, "alice", it.Owner)

	require.NoError(t, f.ws.As("alice").SetCaseData(ctx, it.ID, "Order", "FR-2291"))
	require.NoError(t, f.ws.As("alice").AddNote(ctx, it.ID, "Colis bloqué au dépôt de Lyon."))

	reply, err := f.ws.As("alice").Reply(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.KindOutbound, reply.Kind)
	assert.Equal(t, interaction.PurposeReply, reply.Purpose)
	assert.Equal(t, it.ID, reply.ParentID)
	assert.Equal(t, it.ThreadID, reply.ThreadID)
	assert.Equal(t, interaction.StateDraft, reply.State)

	d, err := draftEmail(f.ws.As("alice").Draft(ctx, reply.ID))
	require.NoError(t, err)
	assert.Equal(t, []mail.Address{{Name: "Hélène Dupré", Address: "helene.dupre@exemple.fr"}}, d.To)
	assert.Equal(t, "Re: Commande FR-2291 : colis non reçu", d.Subject)
	assert.Contains(t, d.Text, "> Pouvez-vous vérifier où en est mon colis ?")
	assert.Equal(t, []string{"CAF3x9-helene-2291@mail.exemple.fr"}, d.InReplyTo)

	require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, reply.ID, emailflow.DraftContent{
		To: d.To, Subject: d.Subject,
		Text: "Bonjour Hélène,\n\nVotre colis part demain.\n\n" + d.Text,
	})))
	_, err = f.ws.As("alice").AddAttachment(ctx, reply.ID, emailflow.NewAttachment{Filename: "étiquette.pdf", ContentType: "application/pdf", Body: strings.NewReader("%PDF-1.4 fake")})
	require.NoError(t, err)

	sent, err := f.ws.As("alice").Send(ctx, reply.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, sent.State)

	out := f.sender.Sent()
	require.Len(t, out, 1)
	assert.Equal(t, support, out[0].From)
	assert.Equal(t, []string{"helene.dupre@exemple.fr"}, out[0].To)
	msg, err := compose.Parse(bytes.NewReader(out[0].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, "Re: Commande FR-2291 : colis non reçu", msg.Subject)
	assert.Equal(t, []string{"CAF3x9-helene-2291@mail.exemple.fr"}, msg.InReplyTo)
	assert.Contains(t, msg.References, "CAF3x9-helene-2291@mail.exemple.fr")
	assert.True(t, strings.HasPrefix(msg.MessageID, "ef."+it.ThreadID+"."), msg.MessageID)
	assert.Contains(t, msg.Text, "Votre colis part demain.")
	require.Len(t, msg.Attachments, 1)
	assert.Equal(t, "étiquette.pdf", msg.Attachments[0].Filename)

	assert.ErrorIs(t, f.ws.As("alice").MarkDone(ctx, it.ID), emailflow.ErrInvalidInput, "disposition is mandatory")
	require.NoError(t, f.ws.As("alice").SetDisposition(ctx, it.ID, "resolved"))
	require.NoError(t, f.ws.As("alice").MarkDone(ctx, it.ID))

	final, err := f.ws.As(admin).Interaction(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, final.State)
	assert.Equal(t, "resolved", final.Disposition)
	var actions []string
	for _, h := range final.History {
		actions = append(actions, h.Action)
	}
	assert.Equal(t, []string{"create", "queue", "offer", "accept", "case-data", "note", "reply", "sent", "disposition", "complete"}, actions)
	last := final.History[len(final.History)-1]
	assert.Equal(t, interaction.Entry{At: f.clock.Now(), Actor: "alice", Action: "complete", From: interaction.StateHandling, To: interaction.StateDone, Detail: "resolved"}, last)

	var types []emailflow.EventType
	for len(sub.C) > 0 {
		e := <-sub.C
		if e.InteractionID == it.ID || e.InteractionID == reply.ID {
			types = append(types, e.Type)
		}
	}
	assert.Equal(t, []emailflow.EventType{
		emailflow.EventIngested, emailflow.EventQueued, emailflow.EventOffered, emailflow.EventAccepted,
		emailflow.EventUpdated, emailflow.EventUpdated, emailflow.EventDraft, emailflow.EventDraft, emailflow.EventDraft,
		emailflow.EventOutbox, emailflow.EventSent, emailflow.EventUpdated, emailflow.EventDone,
	}, types)
}

// The interactions an action returns are the host's: changing them,
// history and case data included, changes nothing stored, although the
// store keeps the values the Workspace wrote.
func TestReturnedInteractionsAreTheHosts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{CompleteOnReply: true})
	f.agent(t, "bob")
	raw := readFile(t, "testdata/french-order.eml")
	var id, draft string
	steps := []struct {
		name string
		act  func() (*interaction.Interaction, error)
	}{
		{"Ingest", func() (*interaction.Interaction, error) { return f.ws.Ingest(ctx, support, bytes.NewReader(raw)) }},
		{"Accept", func() (*interaction.Interaction, error) { return f.ws.As("bob").Accept(ctx, id) }},
		{"Reply", func() (*interaction.Interaction, error) { return interactionOf(f.ws.As("bob").Reply(ctx, id)) }},
		{"Send", func() (*interaction.Interaction, error) { return interactionOf(f.ws.As("bob").Send(ctx, draft, nil)) }},
	}
	for _, s := range steps {
		got, err := s.act()
		require.NoError(t, err, s.name)
		switch s.name {
		case "Ingest":
			id = got.ID
		case "Reply":
			draft = got.ID
		}
		want := got.Clone()
		got.State, got.Owner, got.Version = "tampered", "mallory", 99
		got.History[0].Detail = "tampered"
		got.History = append(got.History, interaction.Entry{Action: "tampered"})
		if len(got.CaseData) > 0 {
			got.CaseData[0].Value = "tampered"
		}
		stored, err := f.ws.As(admin).Interaction(ctx, want.ID)
		require.NoError(t, err, s.name)
		assert.Equal(t, want, stored, "%s: the stored interaction is unchanged", s.name)
	}
}

// With an acknowledgement sent in the ingest transaction, Ingest returns
// the inbound as stored: the acknowledgement's history entry included.
func TestIngestReturnsTheAcknowledgedInbound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Bien reçu.\n"}})
	got, err := f.ws.Ingest(ctx, support, bytes.NewReader(readFile(t, "testdata/french-order.eml")))
	require.NoError(t, err)
	stored, err := f.ws.As(admin).Interaction(ctx, got.ID)
	require.NoError(t, err)
	assert.Equal(t, stored, got)
	assert.Equal(t, string(interaction.PurposeAutoReply), got.History[len(got.History)-1].Action)
}
