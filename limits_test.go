package emailflow_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// replyToMany is a customer's email whose Reply-To lists n addresses.
func replyToMany(n int) []byte {
	var rt strings.Builder
	for i := range n {
		if i > 0 {
			rt.WriteString(",\r\n ")
		}
		fmt.Fprintf(&rt, "victim%d@target.example", i)
	}
	return []byte("From: Mallory <mallory@exemple.fr>\r\nTo: support@boutique.example\r\nReply-To: " + rt.String() +
		"\r\nSubject: Question\r\nMessage-ID: <many-" + fmt.Sprint(n) + "@exemple.fr>\r\n\r\nBonjour\r\n")
}

// One click must not reach thousands: a reply (all) to a customer's email
// with 5,000 Reply-To addresses is created with the first 50, and says so.
func TestReplyToAThousandsOfAddressesIsCut(t *testing.T) {
	ctx := context.Background()
	for _, reply := range []struct {
		name  string
		start func(a *emailflow.Actor, ctx context.Context, id string) (*emailflow.Draft, error)
	}{
		{"Reply", (*emailflow.Actor).Reply},
		{"ReplyAll", (*emailflow.Actor).ReplyAll},
	} {
		t.Run(reply.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.agent(t, "alice")
			id := f.ingest(t, replyToMany(5000))
			_, err := f.ws.As("alice").Accept(ctx, id)
			require.NoError(t, err)
			o, err := reply.start(f.ws.As("alice"), ctx, id)
			require.NoError(t, err)

			d, err := draftEmail(f.ws.As("alice").Draft(ctx, o.ID))
			require.NoError(t, err)
			assert.Len(t, append(append(d.To, d.Cc...), d.Bcc...), compose.DefaultMaxRecipients)
			assert.Equal(t, "victim0@target.example", d.To[0].Address)
			require.Len(t, d.Warnings, 1, "the agent sees the list was cut")
			assert.Contains(t, d.Warnings[0], "5000 addresses")
			it, err := f.ws.As("alice").Interaction(ctx, o.ID)
			require.NoError(t, err)
			assert.Equal(t, "recipients-cut", it.History[len(it.History)-1].Action)

			// The agent cannot put them back.
			more := append(d.To, mail.Address{Address: "one-more@target.example"})
			_, err = f.ws.As("alice").ReplaceDraft(ctx, o.ID, emailflow.DraftContent{To: more, Subject: d.Subject, Text: "x"})
			assert.ErrorIs(t, err, emailflow.ErrTooLarge)

			_, err = f.ws.As("alice").Send(ctx, o.ID, nil)
			require.NoError(t, err)
			sent := f.sender.Sent()
			require.Len(t, sent, 1)
			assert.Len(t, sent[0].To, compose.DefaultMaxRecipients)
		})
	}
}

// The limit holds at Send too, whatever wrote the draft: here a Workspace
// with a higher limit, sharing the store.
func TestSendRefusesTooManyRecipients(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	lax, err := emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender, Clock: f.clock}, &emailflow.Options{Limits: emailflow.Limits{Recipients: 100}})
	require.NoError(t, err)
	o, err := lax.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	var to []mail.Address
	for i := range 60 {
		to = append(to, mail.Address{Address: fmt.Sprintf("c%d@exemple.fr", i)})
	}
	require.NoError(t, errOf(lax.As("alice").ReplaceDraft(ctx, o.ID, emailflow.DraftContent{To: to, Subject: "Re", Text: "x"})))

	_, err = f.ws.As("alice").Send(ctx, o.ID, nil)
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	_, err = f.ws.As("alice").Send(ctx, o.ID, &emailflow.SendOptions{RequestReview: true})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge, "nor into review")
	it, err := f.ws.As("alice").Interaction(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDraft, it.State)
	assert.Empty(t, f.sender.Sent())

	_, err = f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{To: to, Subject: "Info"})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	_, err = f.ws.As("alice").Forward(ctx, id, emailflow.ForwardRequest{To: to})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
}

// An automatic acknowledgement goes to one address only, however long the
// Reply-To: nobody asked for it.
func TestAcknowledgementGoesToOneAddress(t *testing.T) {
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Nous avons bien reçu votre message.\n"}})
	f.ingest(t, replyToMany(300))
	sent := f.sender.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, []string{"victim0@target.example"}, sent[0].To)
}

// Text agents write is bounded (Options.Limits): beyond a limit the action
// fails with ErrTooLarge and changes nothing.
func TestTextLimits(t *testing.T) {
	ctx := context.Background()
	limits := emailflow.Limits{NoteBytes: 10, CaseDataBytes: 8, InstructionsBytes: 12, DraftBytes: 20}
	big := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		act  func(f *fixture, inbound, draft string) error
	}{
		{"AddNote", func(f *fixture, in, _ string) error { return f.ws.As("alice").AddNote(ctx, in, big(11)) }},
		{"AddNote on a draft", func(f *fixture, _, d string) error { return f.ws.As("alice").AddNote(ctx, d, big(11)) }},
		{"SetCaseData value", func(f *fixture, in, _ string) error { return f.ws.As("alice").SetCaseData(ctx, in, "k", big(9)) }},
		{"SetCaseData key", func(f *fixture, in, _ string) error { return f.ws.As("alice").SetCaseData(ctx, in, big(9), "v") }},
		{"SetDisposition", func(f *fixture, in, _ string) error { return f.ws.As("alice").SetDisposition(ctx, in, big(9)) }},
		{"Transfer note", func(f *fixture, in, _ string) error {
			return f.ws.As("alice").Transfer(ctx, in, emailflow.TransferTarget{Queue: "billing", Note: big(11)})
		}},
		{"Consult question", func(f *fixture, in, _ string) error {
			_, err := f.ws.As("alice").Consult(ctx, in, []string{"bob"}, big(11))
			return err
		}},
		{"Forward instructions", func(f *fixture, in, _ string) error {
			_, err := f.ws.As("alice").Forward(ctx, in, emailflow.ForwardRequest{To: []mail.Address{{Address: "a@b.example"}}, Instructions: big(13)})
			return err
		}},
		{"EditDraft", func(f *fixture, _, d string) error {
			return errOf(f.ws.As("alice").ReplaceDraft(ctx, d, emailflow.DraftContent{To: []mail.Address{{Address: "a@b.example"}}, Subject: big(5), Text: big(10), HTML: big(6)}))
		}},
		{"NewEmail", func(f *fixture, _, _ string) error {
			_, err := f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{To: []mail.Address{{Address: "a@b.example"}}, Text: big(21)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &emailflow.Options{Limits: limits})
			f.agent(t, "alice")
			in := f.handled(t, "alice")
			f.agent(t, "bob")
			d, err := f.ws.As("alice").Reply(ctx, in)
			require.NoError(t, err)
			before, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{})
			require.NoError(t, err)
			draftBefore, err := draftEmail(f.ws.As("alice").Draft(ctx, d.ID))
			require.NoError(t, err)

			assert.ErrorIs(t, tt.act(f, in, d.ID), emailflow.ErrTooLarge)

			after, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{})
			require.NoError(t, err)
			assert.Equal(t, before, after, "nothing changed")
			draftAfter, err := draftEmail(f.ws.As("alice").Draft(ctx, d.ID))
			require.NoError(t, err)
			assert.Equal(t, draftBefore, draftAfter)
		})
	}
}

// The defaults hold without Options.Limits, and a note is stored once: its
// history entry refers to it.
func TestDefaultLimitsAndNotesStoredOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	assert.ErrorIs(t, f.ws.As("alice").AddNote(ctx, id, strings.Repeat("é", emailflow.DefaultNoteBytes/2+1)), emailflow.ErrTooLarge)
	assert.ErrorIs(t, f.ws.As("alice").SetCaseData(ctx, id, "k", strings.Repeat("x", emailflow.DefaultCaseDataBytes+1)), emailflow.ErrTooLarge)

	note := strings.Repeat("n", emailflow.DefaultNoteBytes)
	require.NoError(t, f.ws.As("alice").AddNote(ctx, id, note), "a note at the limit is taken")
	it, err := f.ws.As("alice").Interaction(ctx, id)
	require.NoError(t, err)
	require.Len(t, it.Notes, 1)
	last := it.History[len(it.History)-1]
	assert.Equal(t, "note", last.Action)
	assert.Equal(t, 1, last.Note, "the entry refers to the first note")
	assert.Empty(t, last.Detail, "and does not copy it")
	assert.Equal(t, note, it.Notes[last.Note-1].Text)

	_, err = emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, &emailflow.Options{Limits: emailflow.Limits{NoteBytes: -1}})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

// A reviewer's remarks and a consultation's answer are notes too.
func TestReviewAndConsultTextLimits(t *testing.T) {
	ctx := context.Background()
	opts := reviewAll()
	opts.Limits = emailflow.Limits{NoteBytes: 10}
	f := newFixture(t, opts)
	f.agent(t, "alice")
	in, _, review := f.submitted(t, "Bonjour")
	f.reviewer(t, "rita")
	_, err := f.ws.As("rita").Accept(ctx, review)
	require.NoError(t, err)
	_, err = f.ws.As("rita").Reject(ctx, review, "tone", strings.Repeat("r", 11))
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	rv, err := f.ws.As("rita").Interaction(ctx, review)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, rv.State, "not decided")

	f.agent(t, "bob")
	cs, err := f.ws.As("alice").Consult(ctx, in, []string{"bob"}, "Question ?")
	require.NoError(t, err)
	_, err = f.ws.As("bob").Accept(ctx, cs[0].ID)
	require.NoError(t, err)
	assert.ErrorIs(t, f.ws.As("bob").Answer(ctx, cs[0].ID, strings.Repeat("a", 11)), emailflow.ErrTooLarge)
	c, err := f.ws.As("bob").Interaction(ctx, cs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, c.State, "not answered")
}
