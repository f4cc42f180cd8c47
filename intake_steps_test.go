package emailflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/storetest"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// Ingest runs its steps in order: receive, lookup, classify (with
// thread), limit, identify, then claim, store and route in one
// transaction, and acknowledge after it. These tests take each step in
// turn; the kinds of mail have their own tests (classify_test.go), as do
// threading, deduplication and hostile mail (store/storetest's Intake
// group) and the contact rules (TestContactRules).

// TestIntakeReceive: a mailbox that is no address is refused and nothing
// is stored; the envelope is kept; a null reverse path alone makes mail
// automated (no acknowledgement), and classified as such.
func TestIntakeReceive(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoAcknowledge: &compose.Template{Text: "Bien reçu."}})
	_, err := f.ws.Ingest(ctx, "not an address", bytes.NewReader(mailTo("r0", support)))
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	assert.Empty(t, f.interactions(t))

	raw := mailTo("r1", support)
	it, err := f.ws.Ingest(ctx, support, &envelopeReader{Reader: bytes.NewReader(raw), env: emailflow.Envelope{From: "", To: []string{support}}})
	require.NoError(t, err)
	e := f.findable(t, it.ID, raw)
	require.NotNil(t, e.Envelope)
	assert.Equal(t, []string{support}, e.Envelope.To)
	assert.Equal(t, string(compose.AutoBulk), e.Auto)
	class, _ := it.CaseData.Get(emailflow.CaseAutomated)
	assert.Equal(t, "bulk", class)
	assert.Empty(t, f.sender.Sent(), "no acknowledgement to a null sender")

	raw = mailTo("r2", support)
	it, err = f.ws.Ingest(ctx, support, &envelopeReader{Reader: bytes.NewReader(raw), env: emailflow.Envelope{From: "client-r2@exemple.fr", To: []string{support}}})
	require.NoError(t, err)
	assert.Equal(t, "", f.findable(t, it.ID, raw).Auto)
	assert.Len(t, f.sender.Sent(), 1, "a person's mail is acknowledged")
}

// lookups is a Store that records the Message-ID look-ups of Ingest.
type lookups struct {
	emailflow.Store
	mu  sync.Mutex
	ids [][]string
}

func (l *lookups) View(ctx context.Context, fn func(emailflow.Tx) error) error {
	return l.Store.View(ctx, func(tx emailflow.Tx) error { return fn(lookupTx{tx, l}) })
}

func (l *lookups) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	return l.Store.Update(ctx, func(tx emailflow.Tx) error { return fn(lookupTx{tx, l}) })
}

func (l *lookups) seen() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

type lookupTx struct {
	emailflow.Tx
	l *lookups
}

func (t lookupTx) EmailsByMessageIDs(ctx context.Context, ids []string) ([]*emailflow.Email, error) {
	t.l.mu.Lock()
	t.l.ids = append(t.l.ids, slices.Clone(ids))
	t.l.mu.Unlock()
	return t.Tx.EmailsByMessageIDs(ctx, ids)
}

// TestIntakeLookup: a bounce costs one look-up of the ids it carries,
// its own, the ones it answers and the one its report names, whatever it
// turns out to be.
func TestIntakeLookup(t *testing.T) {
	ctx := context.Background()
	st := &lookups{Store: memory.New(nil)}
	ws, err := emailflow.New(emailflow.Ports{Store: st, Sender: &transport.Sender{}, Directory: st.Store.(emailflow.Directory)}, &emailflow.Options{Hostname: "desk.boutique.example"})
	require.NoError(t, err)
	raw := sample(t, "gmail-bounce.eml", "")
	_, err = ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"6745a1b2.050a0220.3c1d2e.f00dAAAA@mx.google.com", sampleID}}, st.seen(),
		"its own id, then In-Reply-To, which is also the id the report names: once")

	st.ids = nil
	raw = sample(t, "postfix-headers.eml", "")
	_, err = ws.Ingest(ctx, support, bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"20261126090511.4Cq1Zt3Hk8z9vQ@mail.boutique.example", sampleID}}, st.seen())
}

// TestIntakeClassifyOrder: the order in which the intake asks what a
// message is — ours? a bounce? automated mail joining a conversation? the
// filters' verdict? — decides between signals that disagree.
func TestIntakeClassifyOrder(t *testing.T) {
	ctx := context.Background()
	f := spamFixture(t)
	f.agent(t, "bruno")
	_, err := f.ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "exemple.fr", Action: emailflow.ListReject})
	require.NoError(t, err)
	_, err = f.ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "boutique.example", Action: emailflow.ListQuarantine})
	require.NoError(t, err)
	require.NoError(t, f.ws.As("sophie").DeleteSenderRule(ctx, "exemple.fr"))
	inbound, outbound, msgID := f.sentReply(t, "alice")
	_, err = f.ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "exemple.fr", Action: emailflow.ListReject})
	require.NoError(t, err)
	sent, err := f.ws.As(admin).Emails(ctx, outbound)
	require.NoError(t, err)

	tests := []struct {
		name  string
		raw   []byte
		want  string // the interaction it goes to
		state interaction.State
	}{
		{"our own email, come back whole, even with a rejected sender's domain in it", sent[0].Raw, outbound, interaction.StateSent},
		{"a bounce of ours from a quarantined domain: linked first", sample(t, "postfix-headers.eml", msgID), outbound, interaction.StateFailed},
		{"an out-of-office of the customer, whose domain is rejected: kept on the conversation", sample(t, "gmail-vacation.eml", msgID), inbound, interaction.StateHandling},
		{"the customer's own follow-up: the lists decide", followUpFrom("fu1", "helene.dupre@exemple.fr", support, "In-Reply-To: <"+msgID+">\r\n"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(tt.raw))
			if tt.want == "" {
				assert.ErrorIs(t, err, emailflow.ErrRejected)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, it.ID)
			assert.Equal(t, tt.state, it.State)
			f.findable(t, it.ID, tt.raw)
		})
	}
	assert.Len(t, f.eventsOf(t, emailflow.EventOffered), 1, "nothing but the customer's first email was offered")
}

// TestIntakeLimitCounts: the rate limit counts automated mail on its way
// to agents or a conversation, and nothing else: a person's mail, bounces
// of our emails and mail from an allowed sender pass however many.
func TestIntakeLimitCounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AutoMailLimit: emailflow.RateLimit{Max: 2}})
	f.agent(t, "alice")
	f.agent(t, "sophie", emailflow.RoleSupervisor)
	_, err := f.ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "partner.example", Action: emailflow.ListAllow})
	require.NoError(t, err)
	_, outbound, msgID := f.sentReply(t, "alice")
	for i := range 5 {
		// Each relay on the way reports it: five reports, all linked.
		raw := bytes.Replace(sample(t, "exim-bounce.eml", msgID), []byte("E1tFq7x-000Abc-Q9"), []byte(fmt.Sprint("b", i)), 1)
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, outbound, it.ID, "bounce %d of ours is linked, not counted", i)
		assert.Equal(t, interaction.StateFailed, it.State)
	}
	assert.Len(t, f.eventsOf(t, emailflow.EventBounced), 5, "each report is news")
	for i := range 5 {
		raw := followUpFrom(fmt.Sprintf("p%d", i), "jean@exemple.fr", support)
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.NotEqual(t, interaction.StateQuarantined, it.State, "a person's mail is not counted")
		raw = followUpFrom(fmt.Sprintf("n%d", i), "notify@partner.example", support, "Auto-Submitted: auto-generated\r\n")
		it, err = f.ws.Ingest(ctx, support, bytes.NewReader(raw))
		require.NoError(t, err)
		assert.NotEqual(t, interaction.StateQuarantined, it.State, "an allowed sender is not counted")
	}
	var states []interaction.State
	for i := range 3 {
		it, err := f.ws.Ingest(ctx, support, bytes.NewReader(followUpFrom(fmt.Sprintf("a%d", i), "robot@auto.example", support, "Precedence: bulk\r\n")))
		require.NoError(t, err)
		states = append(states, it.State)
	}
	assert.Equal(t, interaction.StateQuarantined, states[2])
	assert.NotEqual(t, interaction.StateQuarantined, states[1])
}

// TestIntakeClaimOnce: the same bounce taken in twice at once is stored
// once, on the reply, and fails it once.
func TestIntakeClaimOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	_, outbound, msgID := f.sentReply(t, "alice")
	raw := sample(t, "exchange-ndr.eml", msgID)
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() {
			it, err := f.ws.Ingest(ctx, support, bytes.NewReader(raw))
			if assert.NoError(t, err) {
				ids[i] = it.ID
			}
		})
	}
	wg.Wait()
	assert.Equal(t, []string{outbound, outbound, outbound, outbound}, ids)
	emails, err := f.ws.As(admin).Emails(ctx, outbound)
	require.NoError(t, err)
	n := 0
	for _, e := range emails {
		if e.IsBounce() {
			n++
		}
	}
	assert.Equal(t, 1, n)
	assert.Len(t, f.eventsOf(t, emailflow.EventBounced), 1)
}

// TestIntakeOnAPlainStore: on a Store whose transactions keep no sender
// lists nor rate counters (optional abilities), the lists are refused as
// unsupported, mail is taken in all the same, and the rate limit holds in
// the Workspace's own memory.
func TestIntakeOnAPlainStore(t *testing.T) {
	ctx := context.Background()
	st := memory.New(nil)
	ws, err := emailflow.New(emailflow.Ports{Store: storetest.Plain(st), Sender: &transport.Sender{}, Directory: st},
		&emailflow.Options{AutoMailLimit: emailflow.RateLimit{Max: 2}})
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "sup", Queues: []string{"default"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	_, err = ws.As("sup").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "x.example", Action: emailflow.ListReject})
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	_, err = ws.As("sup").SenderRules(ctx, 0, 0)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.ErrorIs(t, ws.As("sup").DeleteSenderRule(ctx, "x.example"), errors.ErrUnsupported)

	var states []interaction.State
	for i := range 3 {
		it, err := ws.Ingest(ctx, support, bytes.NewReader(followUpFrom(fmt.Sprintf("plain%d", i), "robot@x.example", support, "Precedence: bulk\r\n")))
		require.NoError(t, err)
		states = append(states, it.State)
	}
	assert.Equal(t, []interaction.State{interaction.StateQueued, interaction.StateQueued, interaction.StateQuarantined}, states)
}
