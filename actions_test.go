package emailflow_test

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

func TestReplyAllRecipients(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.ingest(t, readFile(t, "testdata/reply-all.eml"))
	_, err := f.ws.As("alice").Accept(ctx, id)
	require.NoError(t, err)

	r, err := f.ws.As("alice").ReplyAll(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.PurposeReplyAll, r.Purpose)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.Equal(t, []string{"achats@client.example", "julie.roy@client.example"}, addrs(d.To), "Reply-To replaces From; our mailbox left out")
	assert.Equal(t, []string{"compta@client.example"}, addrs(d.Cc), "Cc kept, our mailbox and duplicates removed")
	assert.Equal(t, "Re: Facture 7781", d.Subject)

	simple, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	d, err = draftEmail(f.ws.As("alice").Draft(ctx, simple.ID))
	require.NoError(t, err)
	assert.Equal(t, []string{"achats@client.example"}, addrs(d.To))
	assert.Empty(t, d.Cc)
}

func addrs(l []mail.Address) []string {
	var out []string
	for _, a := range l {
		out = append(out, strings.ToLower(a.Address))
	}
	return out
}

func TestForward(t *testing.T) {
	for _, asAttachment := range []bool{false, true} {
		t.Run(fmt.Sprintf("attached=%v", asAttachment), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			to := []mail.Address{{Name: "Transporteur", Address: "litiges@transport.example"}}
			fw, err := f.ws.As("alice").Forward(ctx, id, emailflow.ForwardRequest{To: to, Instructions: "Merci de localiser ce colis.", AsAttachment: asAttachment})
			require.NoError(t, err)
			assert.Equal(t, interaction.PurposeForward, fw.Purpose)
			_, err = f.ws.As("alice").Send(ctx, fw.ID, nil)
			require.NoError(t, err)

			out := f.sender.Sent()
			require.Len(t, out, 1)
			assert.Equal(t, []string{"litiges@transport.example"}, out[0].To)
			msg, err := compose.Parse(bytes.NewReader(out[0].Raw), nil)
			require.NoError(t, err)
			assert.Equal(t, "Fwd: Commande FR-2291 : colis non reçu", msg.Subject)
			assert.Contains(t, msg.Text, "Merci de localiser ce colis.")
			if asAttachment {
				require.Len(t, msg.Attachments, 1)
				assert.Equal(t, "message/rfc822", msg.Attachments[0].ContentType)
				require.NotNil(t, msg.Attachments[0].Message)
				assert.Equal(t, "Commande FR-2291 : colis non reçu", msg.Attachments[0].Message.Subject)
			} else {
				assert.Contains(t, msg.Text, "Pouvez-vous vérifier où en est mon colis ?")
			}
			it, err := f.ws.As(admin).Interaction(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, interaction.StateHandling, it.State, "a forward leaves the inbound open")
		})
	}
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	_, err := f.ws.As("alice").Forward(context.Background(), id, emailflow.ForwardRequest{})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	_, err = f.ws.As("alice").Forward(context.Background(), id, emailflow.ForwardRequest{To: []mail.Address{{Address: "not an address"}}})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

func TestCompleteOnReply(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{CompleteOnReply: true, DispositionRequired: true})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "closing the inbound needs a disposition")
	assert.Empty(t, f.sender.Sent(), "a refused send sends nothing")
	o, err := f.ws.As(admin).Interaction(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDraft, o.State, "and changes nothing")

	require.NoError(t, f.ws.As("alice").SetDisposition(ctx, id, "answered"))
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, it.State)
	assert.Len(t, f.sender.Sent(), 1)
}

// TestRefusals checks that refused actions return the right sentinel and
// change nothing.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		opts *emailflow.Options
		// setup returns the interaction id the action targets.
		setup  func(t *testing.T, f *fixture) string
		action func(f *fixture, id string) error
		want   error
	}{
		{"reply to a done interaction", nil, doneInteraction,
			func(f *fixture, id string) error { _, err := f.ws.As("alice").Reply(ctx, id); return err }, emailflow.ErrInvalidTransition},
		{"mark done twice", nil, doneInteraction,
			func(f *fixture, id string) error { return f.ws.As("alice").MarkDone(ctx, id) }, emailflow.ErrInvalidTransition},
		{"reply to another agent's interaction", nil, handledByAlice,
			func(f *fixture, id string) error { _, err := f.ws.As("bob").Reply(ctx, id); return err }, emailflow.ErrForbidden},
		{"note on another agent's interaction", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("bob").AddNote(ctx, id, "mine now") }, emailflow.ErrForbidden},
		{"mark done another agent's interaction", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("bob").MarkDone(ctx, id) }, emailflow.ErrForbidden},
		{"edit a read-only case data key", nil, handledByAlice,
			func(f *fixture, id string) error {
				return f.ws.As("alice").SetCaseData(ctx, id, emailflow.CaseSubject, "x")
			}, emailflow.ErrForbidden},
		{"empty case data key", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("alice").SetCaseData(ctx, id, "", "x") }, emailflow.ErrInvalidInput},
		{"disposition not in the list", &emailflow.Options{Dispositions: []string{"resolved"}}, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("alice").SetDisposition(ctx, id, "lost") }, emailflow.ErrInvalidInput},
		{"mark done without mandatory disposition", &emailflow.Options{DispositionRequired: true}, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("alice").MarkDone(ctx, id) }, emailflow.ErrInvalidInput},
		{"delete without the privilege", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("alice").Delete(ctx, id) }, emailflow.ErrForbidden},
		{"accept an offer made to someone else", nil, offeredToAlice,
			func(f *fixture, id string) error { _, err := f.ws.As("bob").Accept(ctx, id); return err }, emailflow.ErrForbidden},
		{"accept twice", nil, handledByAlice,
			func(f *fixture, id string) error { _, err := f.ws.As("alice").Accept(ctx, id); return err }, emailflow.ErrInvalidTransition},
		{"unknown agent", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("mallory").AddNote(ctx, id, "x") }, emailflow.ErrForbidden},
		{"unknown interaction", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("alice").AddNote(ctx, "nope", "x") }, emailflow.ErrNotFound},
		{"park a done interaction", nil, doneInteraction,
			func(f *fixture, id string) error {
				return f.ws.As("alice").SaveToWorkbin(ctx, id, emailflow.WorkbinRef{})
			}, emailflow.ErrInvalidTransition},
		{"take back what is not parked", nil, handledByAlice,
			func(f *fixture, id string) error { return f.ws.As("alice").TakeFromWorkbin(ctx, id) }, emailflow.ErrInvalidTransition},
		{"transfer to nobody", nil, handledByAlice,
			func(f *fixture, id string) error {
				return f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{})
			}, emailflow.ErrInvalidInput},
		{"transfer to an unknown agent", nil, handledByAlice,
			func(f *fixture, id string) error {
				return f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "ghost"})
			}, emailflow.ErrNotFound},
		{"transfer someone else's interaction", nil, handledByAlice,
			func(f *fixture, id string) error {
				return f.ws.As("bob").Transfer(ctx, id, emailflow.TransferTarget{Queue: "billing"})
			}, emailflow.ErrForbidden},
		{"send a draft twice", nil, sentReply,
			func(f *fixture, id string) error { _, err := f.ws.As("alice").Send(ctx, id, nil); return err }, emailflow.ErrInvalidTransition},
		{"edit a sent email", nil, sentReply,
			func(f *fixture, id string) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "x", To: []mail.Address{{Address: "a@b.example"}}}))
			}, emailflow.ErrInvalidTransition},
		{"header injection in the subject", nil, draftReply,
			func(f *fixture, id string) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "Hi\r\nBcc: victim@x.example", To: []mail.Address{{Address: "a@b.example"}}}))
			}, emailflow.ErrInvalidInput},
		{"header injection in a name", nil, draftReply,
			func(f *fixture, id string) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "x", To: []mail.Address{{Name: "A\nBcc: v@x.example", Address: "a@b.example"}}}))
			}, emailflow.ErrInvalidInput},
		{"NUL in the text", nil, draftReply,
			func(f *fixture, id string) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "x", Text: "\x00000", To: []mail.Address{{Address: "a@b.example"}}}))
			}, emailflow.ErrInvalidInput},
		{"invalid UTF-8 in the HTML", nil, draftReply,
			func(f *fixture, id string) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "x", HTML: "<p>\xff</p>", To: []mail.Address{{Address: "a@b.example"}}}))
			}, emailflow.ErrInvalidInput},
		{"invalid address", nil, draftReply,
			func(f *fixture, id string) error {
				return errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "x", To: []mail.Address{{Address: "a@@b"}}}))
			}, emailflow.ErrInvalidInput},
		{"send without recipients", nil, func(t *testing.T, f *fixture) string {
			id := draftReply(t, f)
			require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, id, emailflow.DraftContent{Subject: "x"})))
			return id
		}, func(f *fixture, id string) error { _, err := f.ws.As("alice").Send(ctx, id, nil); return err }, emailflow.ErrInvalidInput},
		{"read another agent's draft", nil, draftReply,
			func(f *fixture, id string) error { _, err := draftEmail(f.ws.As("bob").Draft(ctx, id)); return err }, emailflow.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			f.agent(t, "alice")
			f.agent(t, "bob")
			id := tt.setup(t, f)
			before := snapshot(t, f, id)
			sentBefore := len(f.sender.Sent())
			err := tt.action(f, id)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.NotEmpty(t, err.Error())
			assert.Equal(t, before, snapshot(t, f, id), "a refused action changes nothing")
			assert.Equal(t, sentBefore, len(f.sender.Sent()))
		})
	}
}

// snapshot captures what a user could see of an interaction and its emails.
func snapshot(t *testing.T, f *fixture, id string) string {
	t.Helper()
	it, err := f.ws.As(admin).Interaction(context.Background(), id)
	require.NoError(t, err)
	emails, err := f.ws.As(admin).Emails(context.Background(), id)
	require.NoError(t, err)
	out := fmt.Sprintf("%+v", *it)
	for _, e := range emails {
		out += fmt.Sprintf("\n%+v", *e)
	}
	return out
}

func handledByAlice(t *testing.T, f *fixture) string { return f.handled(t, "alice") }

func offeredToAlice(t *testing.T, f *fixture) string {
	// Bob is not ready, so the offer goes to alice.
	require.NoError(t, f.ws.As("bob").SetStatus(context.Background(), emailflow.StatusNotReady))
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	it, err := f.ws.As(admin).Interaction(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, "alice", it.OfferedTo)
	return id
}

func doneInteraction(t *testing.T, f *fixture) string {
	id := f.handled(t, "alice")
	require.NoError(t, f.ws.As("alice").MarkDone(context.Background(), id))
	return id
}

func draftReply(t *testing.T, f *fixture) string {
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(context.Background(), id)
	require.NoError(t, err)
	return r.ID
}

func sentReply(t *testing.T, f *fixture) string {
	id := draftReply(t, f)
	_, err := f.ws.As("alice").Send(context.Background(), id, nil)
	require.NoError(t, err)
	return id
}

// TestAcceptRace: many rounds of two goroutines accepting the same offer:
// exactly one wins, the other gets a clear error.
func TestAcceptRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 1000}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	for round := 0; round < 200; round++ {
		raw := bytes.Replace(readFile(t, "testdata/french-order.eml"), []byte("CAF3x9-helene-2291"), []byte(fmt.Sprintf("race-%d", round)), 1)
		id := f.ingest(t, raw)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.ws.As("alice").Accept(ctx, id)
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
				continue
			}
			assert.ErrorIs(t, err, emailflow.ErrInvalidTransition)
			assert.Contains(t, err.Error(), "handling")
		}
		require.Equal(t, 1, wins, "round %d: exactly one accept wins", round)
		it, err := f.ws.As(admin).Interaction(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "alice", it.Owner)
		accepts := 0
		for _, h := range it.History {
			if h.Action == "accept" {
				accepts++
			}
		}
		assert.Equal(t, 1, accepts)
	}
}

// TestStaleVersion: a write based on an old version gets ErrConflict.
func TestStaleVersion(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	stale, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	require.NoError(t, f.ws.As("alice").AddNote(ctx, id, "a newer write"))

	stale.Disposition = "overwritten"
	err = f.store.Update(ctx, func(tx emailflow.Tx) error { return tx.UpdateInteraction(ctx, stale) })
	require.Error(t, err)
	assert.ErrorIs(t, err, emailflow.ErrConflict)
	now, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, now.Disposition)
	assert.Len(t, now.Notes, 1)
}

func TestIngestIdempotent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	raw := readFile(t, "testdata/french-order.eml")
	a := f.ingest(t, raw)
	b := f.ingest(t, raw)
	assert.Equal(t, a, b)

	// Without a Message-ID, the content hash decides.
	noID := bytes.Replace(raw, []byte("Message-ID: <CAF3x9-helene-2291@mail.exemple.fr>\n"), nil, 1)
	c := f.ingest(t, noID)
	d := f.ingest(t, noID)
	assert.Equal(t, c, d)
	assert.NotEqual(t, a, c)

	// Concurrent duplicates still make one interaction.
	dup := bytes.Replace(raw, []byte("CAF3x9-helene-2291"), []byte("concurrent"), 1)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(dup))
			if assert.NoError(t, err) {
				ids[i] = it.ID
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	all, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
	require.NoError(t, err)
	assert.Len(t, all, 3)
}

func TestIngestRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Parse: &compose.ParseOptions{MaxSize: 1024}})
	_, err := f.ws.Ingest(ctx, "not a mailbox", strings.NewReader("Subject: x\r\n\r\nhi"))
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	_, err = f.ws.Ingest(ctx, support, strings.NewReader("Subject: big\r\n\r\n"+strings.Repeat("x", 2048)))
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	all, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	assert.Empty(t, all, "refused mail creates nothing")
}

// shortLen is a reader whose Len understates what it holds, as a reader
// wrapping a stream that grew might.
type shortLen struct{ *strings.Reader }

func (r shortLen) Len() int { return r.Reader.Len() / 2 }

// Ingest reads the message to its end whatever the reader's Len says, and
// a sized reader beyond the limit is still refused.
func TestIngestReadsPastAShortLen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Parse: &compose.ParseOptions{MaxSize: 1024}})
	f.agent(t, "bob")
	body := strings.Repeat("ligne du message\r\n", 20)
	it, err := f.ws.Ingest(ctx, support, shortLen{strings.NewReader("From: Ana <ana@example.org>\r\nSubject: Long\r\nMessage-ID: <short-len@example.org>\r\n\r\n" + body)})
	require.NoError(t, err)
	_, emails, err := f.ws.As("bob").OpenInteraction(ctx, it.ID)
	require.NoError(t, err)
	require.Len(t, emails, 1)
	assert.Equal(t, strings.ReplaceAll(body, "\r\n", "\n"), emails[0].Text, "the whole body")

	_, err = f.ws.Ingest(ctx, support, shortLen{strings.NewReader("Subject: big\r\n\r\n" + strings.Repeat("x", 4096))})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)

	// A Len that says more than there is: what there is is the message.
	it, err = f.ws.Ingest(ctx, support, longLen{strings.NewReader("From: Ana <ana@example.org>\r\nSubject: Court\r\nMessage-ID: <long-len@example.org>\r\n\r\ncourt\r\n")})
	require.NoError(t, err)
	assert.Equal(t, "Court", it.Subject)
}

// longLen is a reader whose Len overstates what it holds.
type longLen struct{ *strings.Reader }

func (r longLen) Len() int { return r.Reader.Len() + 100 }

func TestIngestMalformedKeepsWhatCouldBeRead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	raw := "From: Client <client@exemple.fr>\r\nSubject: Pièce jointe\r\nMessage-ID: <broken@exemple.fr>\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\nBonjour, voici le fichier.\r\n--XX\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n"
	it, err := f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, "Pièce jointe", it.Subject)
	emails, err := f.ws.As(admin).Emails(ctx, it.ID)
	require.NoError(t, err)
	require.Len(t, emails, 1)
	assert.Contains(t, emails[0].Text, "Bonjour, voici le fichier.")
	assert.NotEmpty(t, emails[0].Warnings)
	assert.Equal(t, []byte(raw), emails[0].Raw, "the raw message is kept")
	warned := false
	for _, h := range it.History {
		warned = warned || h.Action == "parse-warning"
	}
	assert.True(t, warned, "the history shows the parse warning")
}

func TestCustomerReplyJoinsThread(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	sent, err := compose.Parse(bytes.NewReader(f.sender.Sent()[0].Raw), nil)
	require.NoError(t, err)
	first, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)

	followUp := func(msgID, inReplyTo, references, subject string) string {
		return "From: Hélène Dupré <helene.dupre@exemple.fr>\r\nTo: support@boutique.example\r\nSubject: " + subject +
			"\r\nMessage-ID: <" + msgID + ">\r\n" + inReplyTo + references + "Content-Type: text/plain; charset=utf-8\r\n\r\nMerci !\r\n"
	}

	// While the first is open, the follow-up joins it.
	raw := followUp("f1@exemple.fr", "In-Reply-To: <"+sent.MessageID+">\r\n", "", "Re: Commande")
	joined, err := f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, id, joined.ID)
	emails, err := f.ws.As(admin).Emails(ctx, id)
	require.NoError(t, err)
	assert.Len(t, emails, 2)

	// Once done, a follow-up starts a new interaction in the same thread.
	require.NoError(t, f.ws.As("alice").MarkDone(ctx, id))
	raw = followUp("f2@exemple.fr", "", "References: <CAF3x9-helene-2291@mail.exemple.fr> <"+sent.MessageID+">\r\n", "Re: Commande")
	next, err := f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.NotEqual(t, id, next.ID)
	assert.Equal(t, first.ThreadID, next.ThreadID)

	// Our token in a Message-ID we no longer store still threads: it joins
	// the thread's open interaction.
	raw = followUp("f3@exemple.fr", "In-Reply-To: <ef."+first.ThreadID+".gone@desk.boutique.example>\r\n", "", "Re: x")
	byToken, err := f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, next.ID, byToken.ID)

	// The same subject alone never threads.
	raw = followUp("f4@exemple.fr", "", "", "Re: Commande FR-2291 : colis non reçu")
	alone, err := f.ws.Ingest(ctx, support, strings.NewReader(raw))
	require.NoError(t, err)
	assert.NotEqual(t, first.ThreadID, alone.ThreadID)
	assert.Equal(t, alone.ID, alone.ThreadID)
}
