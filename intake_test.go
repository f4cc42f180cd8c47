package emailflow_test

import (
	"bytes"
	"context"
	"encoding/base32"
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
)

func TestTransferToUnknownQueueRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sam", Queues: []string{"support-fr", "billing"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"billing"}}))
	id := f.handled(t, "alice")
	before, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)

	err = f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Queue: "nowhere", Note: "?"})
	require.ErrorIs(t, err, emailflow.ErrNotFound)
	assert.ErrorContains(t, err, `"nowhere"`)
	after, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, before, after, "a refusal changes nothing")

	// A queue an agent serves (or an option names) is known.
	require.NoError(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Queue: "billing"}))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "billing", it.Queue)

	// A supervisor's Assign refuses it too.
	require.NoError(t, f.ws.As("sam").Assign(ctx, id, emailflow.TransferTarget{Agent: "alice"}))
	assert.ErrorIs(t, f.ws.As("sam").Assign(ctx, id, emailflow.TransferTarget{Queue: "nowhere"}), emailflow.ErrNotFound)
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateParked, it.State)
	assert.Equal(t, "alice", it.Owner)
}

func TestBadAttachmentTypeRefusedAtTheEdit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, f.handled(t, "alice"))
	require.NoError(t, err)
	for _, ct := range []string{"garbage", "text/", "/plain", "application/pdf; name=\"x", "a/b\r\nBcc: x@y.z"} {
		_, err := f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "bon.pdf", ContentType: ct, Body: strings.NewReader("%PDF")})
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "content type %q", ct)
	}
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.Empty(t, d.Attachments, "nothing attached")
	_, err = f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "bon.pdf", ContentType: "application/pdf", Body: strings.NewReader("%PDF")})
	require.NoError(t, err)
	out, err := f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err, "what the edit accepted, Send sends")
	assert.Equal(t, interaction.StateSent, out.State)
}

func TestAgentNameWithLineBreakRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for _, name := range []string{"Eve\r\nBcc: all@boutique.example", "Eve\nX", "Eve\u0085"} {
		err := f.ws.PutAgent(ctx, emailflow.Agent{ID: "eve", Name: name, Queues: []string{"support-fr"}})
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "name %q", name)
	}
	_, err := f.ws.Agent(ctx, "eve")
	assert.ErrorIs(t, err, emailflow.ErrNotFound, "nothing stored")
	f.agent(t, "alice")
	assert.ErrorIs(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Name: "Alice\r\nX: y"}), emailflow.ErrInvalidInput)
	a, err := f.ws.Agent(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "Alice", a.Name)
}

func TestOurMessageIDsAreRandom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 50 {
		r, err := f.ws.As("alice").Reply(ctx, id)
		require.NoError(t, err)
		d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
		require.NoError(t, err)
		mid := d.MessageID
		assert.False(t, seen[mid], "unique")
		seen[mid] = true
		rest, ok := strings.CutPrefix(mid, "ef."+it.ThreadID+".")
		require.True(t, ok, "the thread token first: %s", mid)
		random, ok := strings.CutSuffix(rest, "@desk.boutique.example")
		require.True(t, ok, mid)
		b, err := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).DecodeString(random)
		require.NoError(t, err, mid)
		assert.Len(t, b, 12, "96 random bits")
		assert.NotContains(t, mid, r.ID, "nothing derived from our sequential ids")
		_, err = mail.ParseAddress("<" + mid + ">")
		assert.NoError(t, err, "a valid id: %s", mid)
	}
	// And it is the one the email goes out with.
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	sent := f.sender.Sent()
	m, err := compose.Parse(bytes.NewReader(sent[len(sent)-1].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, d.MessageID, m.MessageID)
}

// slowSender holds every delivery until released.
type slowSender struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	sent    [][]byte
}

func (s *slowSender) Send(_ context.Context, _ string, _ []string, msg []byte) error {
	s.entered <- struct{}{}
	<-s.release
	s.mu.Lock()
	s.sent = append(s.sent, msg)
	s.mu.Unlock()
	return nil
}

func TestDeliveryLeaseRenewedDuringALongSend(t *testing.T) {
	ctx := context.Background()
	store := memory.New(nil)
	clk := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	sender := &slowSender{entered: make(chan struct{}, 4), release: make(chan struct{})}
	opts := &emailflow.Options{
		Hostname:      "desk.boutique.example",
		Mailboxes:     []emailflow.Mailbox{{Address: support, Queue: "support-fr"}},
		DeliveryLease: 90 * time.Millisecond,
	}
	// Two processes on one store: the second dispatches what it finds due.
	ws1, err := emailflow.New(emailflow.Ports{Store: store, Sender: sender, Clock: clk}, opts)
	require.NoError(t, err)
	ws2, err := emailflow.New(emailflow.Ports{Store: store, Sender: sender, Clock: clk}, opts)
	require.NoError(t, err)
	require.NoError(t, ws1.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 5}))
	require.NoError(t, ws1.As("alice").SetStatus(ctx, emailflow.StatusReady))
	require.NoError(t, ws1.PutAgent(ctx, emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	it, err := ws1.Ingest(ctx, support, bytes.NewReader(readFile(t, "testdata/french-order.eml")))
	require.NoError(t, err)
	_, err = ws1.As("alice").Accept(ctx, it.ID)
	require.NoError(t, err)
	r, err := ws1.As("alice").Reply(ctx, it.ID)
	require.NoError(t, err)

	sent := make(chan error, 1)
	go func() {
		_, err := ws1.As("alice").Send(ctx, r.ID, nil)
		sent <- err
	}()
	<-sender.entered // the Sender has it, and takes its time

	leasedUntil := func() time.Time {
		var until time.Time
		require.NoError(t, store.View(ctx, func(tx emailflow.Tx) error {
			due, err := tx.DueOutbox(ctx, clk.Now().Add(24*time.Hour), 10)
			if len(due) == 1 {
				until = due[0].NextAttempt
			}
			return err
		}))
		return until
	}
	// Long past the first lease: the lease was renewed meanwhile.
	clk.Advance(10 * time.Minute)
	require.Eventually(t, func() bool { return leasedUntil().After(clk.Now()) }, 20*time.Second, 5*time.Millisecond,
		"the lease is renewed while the Sender works")
	n, err := ws2.Runner(nil).Dispatch(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "no other dispatcher takes a delivery under way")

	close(sender.release)
	require.NoError(t, <-sent)
	assert.Len(t, sender.sent, 1, "sent once")
	out, err := ws1.As(admin).Interaction(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, out.State)
}
