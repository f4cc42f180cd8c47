package emailflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// fixtureWith builds a fixture on a Sender of the test's own.
func fixtureWith(t *testing.T, s emailflow.Sender, rec *transport.Sender) *fixture {
	t.Helper()
	st := memory.New(nil)
	c := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	ws, err := emailflow.New(emailflow.Ports{Store: st, Sender: s, Clock: c}, &emailflow.Options{
		Hostname: "desk.boutique.example", Mailboxes: []emailflow.Mailbox{{Address: support, Queue: "support-fr"}},
	})
	require.NoError(t, err)
	return &fixture{ws: ws, store: st, sender: rec, clock: c}
}

// hangUp ends the caller's context right after the transport took the
// message, as an HTTP request that times out would.
type hangUp struct {
	rec    *transport.Sender
	cancel func()
}

func (h *hangUp) Send(ctx context.Context, from string, to []string, msg []byte) error {
	err := h.rec.Send(ctx, from, to, msg)
	if h.cancel != nil {
		h.cancel()
	}
	return err
}

func TestDeliveryRecordedWhenTheCallerGivesUp(t *testing.T) {
	rec := &transport.Sender{}
	h := &hangUp{rec: rec}
	f := fixtureWith(t, h, rec)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	bg := context.Background()
	r, err := f.ws.As("alice").Reply(bg, id)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(bg)
	h.cancel = cancel
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	h.cancel = nil

	f.clock.Advance(time.Hour)
	_, err = f.ws.Runner(nil).Dispatch(bg)
	require.NoError(t, err)
	o, err := f.ws.As("alice").Interaction(bg, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	assert.Len(t, rec.Sent(), 1, "sent once, not again after the lease")
}

// slowThenOK holds its first delivery until released, then fails it.
type slowThenOK struct {
	mu       sync.Mutex
	calls    int
	started  chan struct{}
	release  chan struct{}
	accepted int
}

func (s *slowThenOK) Send(context.Context, string, []string, []byte) error {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if n == 1 {
		close(s.started)
		<-s.release
		return errors.New("421 timed out")
	}
	s.mu.Lock()
	s.accepted++
	s.mu.Unlock()
	return nil
}

func TestLostLeaseDoesNotOverwriteTheOutcome(t *testing.T) {
	s := &slowThenOK{started: make(chan struct{}), release: make(chan struct{})}
	f := fixtureWith(t, s, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	bg := context.Background()
	r, err := f.ws.As("alice").Reply(bg, id)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.ws.As("alice").Send(bg, r.ID, nil)
	}()
	<-s.started
	f.clock.Advance(3 * time.Minute) // the first session outlives its lease
	n, err := f.ws.Runner(nil).Dispatch(bg)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "another dispatcher delivers it")
	close(s.release)
	<-done
	for i := 0; i < 5; i++ {
		f.clock.Advance(10 * time.Minute)
		_, err = f.ws.Runner(nil).Dispatch(bg)
		require.NoError(t, err)
	}
	o, err := f.ws.As("alice").Interaction(bg, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	assert.Equal(t, 2, s.calls, "the late failure changed nothing: no more sends")
	assert.Equal(t, 1, s.accepted)
}

func TestFailedEmailIsEditedAndSentAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{MaxAttempts: 1})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	f.sender.Fail(errors.New("550 no such user"))
	o, err := f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateFailed, o.State)

	f.sender.Fail(nil)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, r.ID, emailflow.DraftContent{To: []mail.Address{{Address: "helene.dupre@exemple.fr"}}, Subject: d.Subject, Text: "Corrigé."})))
	o, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	require.Len(t, f.sender.Sent(), 1)
}

func TestAcknowledgementThatCannotBeMadeKeepsTheMail(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Bonjour {{contact.firstName}},\nbien reçu.\n"}})
	// No display name: {{contact.firstName}} has no value.
	it, err := f.ws.Ingest(ctx, support, strings.NewReader("From: anonyme@exemple.fr\r\nSubject: Aide\r\nMessage-ID: <anon@x>\r\n\r\nBonjour\r\n"))
	require.NoError(t, err, "the customer's mail is taken in all the same")
	assert.Empty(t, f.sender.Sent())
	got, err := f.ws.As(admin).Interaction(ctx, it.ID)
	require.NoError(t, err)
	last := got.History[len(got.History)-1]
	assert.Equal(t, "ack-skipped", last.Action)
	assert.Contains(t, last.Detail, "contact.firstName")
}

func TestForgedThreadTokenStartsANewThread(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	victim := f.handled(t, "alice")
	v, err := f.ws.As(admin).Interaction(ctx, victim)
	require.NoError(t, err)
	r, err := f.ws.As("alice").Reply(ctx, victim)
	require.NoError(t, err)

	// A stranger guesses the id in our Message-IDs.
	forged := mailFrom("intrus@ailleurs.example", "forged", "Re: Commande")
	forged = []byte(strings.Replace(string(forged), "Content-Type:", "In-Reply-To: <ef."+v.ThreadID+".guess@desk.boutique.example>\r\nContent-Type:", 1))
	it, err := f.ws.Ingest(ctx, support, strings.NewReader(string(forged)))
	require.NoError(t, err)
	assert.NotEqual(t, v.ThreadID, it.ThreadID)
	assert.NotEqual(t, victim, it.ID)

	// The customer herself, through a token naming the reply (not the
	// thread's first interaction), joins her thread.
	own := mailFrom("helene.dupre@exemple.fr", "own", "Re: Commande")
	own = []byte(strings.Replace(string(own), "Content-Type:", "In-Reply-To: <ef."+r.ID+".gone@desk.boutique.example>\r\nContent-Type:", 1))
	it, err = f.ws.Ingest(ctx, support, strings.NewReader(string(own)))
	require.NoError(t, err)
	assert.Equal(t, victim, it.ID, "joins her open interaction")
}

func TestTransferAndConsultNeedAnAvailableTarget(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"support-fr"}, Capacity: 1}))
	assert.ErrorIs(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "bob"}), emailflow.ErrUnavailable, "logged out")
	_, err := f.ws.As("alice").Consult(ctx, id, []string{"bob"}, "?")
	assert.ErrorIs(t, err, emailflow.ErrUnavailable)
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusReady))
	f.ingest(t, newMail("busy")) // offered to bob, who is then at capacity
	assert.ErrorIs(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "bob"}), emailflow.ErrUnavailable, "at capacity")
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State)
	assert.Equal(t, "alice", it.Owner)
}

func TestSubscribeWithAContextAlreadyDone(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 50; i++ {
		sub := f.ws.Subscribe(ctx, nil)
		_, open := <-sub.C
		assert.False(t, open)
	}
}

func TestPutAgentRefusesAnUnknownStatus(t *testing.T) {
	f := newFixture(t, nil)
	err := f.ws.PutAgent(context.Background(), emailflow.Agent{ID: "x", Status: "Ready"})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
}

func TestPendingTransferKeepsTheSendersPlace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 1}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusNotReady))
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusReady))
	require.NoError(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "bob"}))
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusNotReady))

	waiting := f.ingest(t, newMail("meanwhile"))
	it, err := f.ws.As(admin).Interaction(ctx, waiting)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "alice's place is kept for the transfer")

	require.NoError(t, f.ws.As("bob").Decline(ctx, id, "no"))
	back, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "alice", back.Owner)
	st, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{OfferedTo: "alice"})
	require.NoError(t, err)
	assert.Empty(t, st, "alice is at capacity, not above it")
}

func TestOurOwnEmailEchoedBackCreatesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, r.ID, emailflow.DraftContent{To: d.To, Bcc: []mail.Address{{Address: support}}, Subject: d.Subject, Text: "Bonjour"})))
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	before, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)

	echo, err := f.ws.Ingest(ctx, support, bytes.NewReader(f.sender.Sent()[0].Raw))
	require.NoError(t, err)
	assert.Equal(t, r.ID, echo.ID, "the Bcc copy is our own outbound")
	after, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	assert.Len(t, after, len(before))
}

// refusal is a Sender error that says whether retrying can help.
type refusal struct{ permanent bool }

func (r refusal) Error() string   { return "refused" }
func (r refusal) Permanent() bool { return r.permanent }

type refusingSender struct {
	err   error
	calls int
}

func (s *refusingSender) Send(context.Context, string, []string, []byte) error {
	s.calls++
	return s.err
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPermanentRefusalIsNotRetried(t *testing.T) {
	for _, tt := range []struct {
		name  string
		err   error
		state interaction.State
		log   string // what the log says of the attempt
	}{
		{"permanent", fmt.Errorf("wrapped: %w", refusal{permanent: true}), interaction.StateFailed, "delivery failed, back to the agent"},
		{"temporary", refusal{permanent: false}, interaction.StateOutbox, "delivery deferred to the outbox"},
		{"plain error", errors.New("connection reset"), interaction.StateOutbox, "delivery deferred to the outbox"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := &refusingSender{err: tt.err}
			logs := &lockedBuffer{}
			ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: s, Clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))}, &emailflow.Options{
				Hostname: "desk.boutique.example", Mailboxes: []emailflow.Mailbox{{Address: support, Queue: "support-fr"}},
				Logger: slog.New(slog.NewTextHandler(logs, nil)),
			})
			require.NoError(t, err)
			f := &fixture{ws: ws}
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			r, err := f.ws.As("alice").Reply(ctx, id)
			require.NoError(t, err)
			o, err := f.ws.As("alice").Send(ctx, r.ID, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.state, o.State)
			assert.Equal(t, 1, s.calls)
			assert.Contains(t, logs.String(), tt.log)
			if tt.state == interaction.StateFailed {
				assert.NotContains(t, logs.String(), "deferred")
			}
		})
	}
}

// A reply all carries the customer's inline images with the quoted HTML;
// once the agent removes the HTML, what is sent holds no image, and the
// text part stands alone.
func TestReplyAllWithoutHTMLSendsNoInlineImages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	raw := "From: Jo <jo@example.org>\r\nTo: support@boutique.example\r\nCc: marc@example.org\r\nSubject: Photo\r\n" +
		"Message-ID: <photo.1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Voici le colis : <img src=\"cid:colis@example.org\"></p>\r\n" +
		"--r\r\nContent-Type: image/png\r\nContent-ID: <colis@example.org>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n"
	id := f.ingest(t, []byte(raw))
	_, err := f.ws.As("alice").Accept(ctx, id)
	require.NoError(t, err)
	r, err := f.ws.As("alice").ReplyAll(ctx, id)
	require.NoError(t, err)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	require.NotEmpty(t, d.Attachments, "the image the quoted HTML shows is carried")
	require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, r.ID, emailflow.DraftContent{To: d.To, Cc: d.Cc, Subject: d.Subject, Text: "Merci, nous regardons."})))
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	sent := f.sender.Sent()
	require.Len(t, sent, 1)
	assert.NotContains(t, string(sent[0].Raw), "image/png")
	assert.NotContains(t, string(sent[0].Raw), "colis@example.org")
	assert.Contains(t, string(sent[0].Raw), "Content-Type: text/plain")
}
