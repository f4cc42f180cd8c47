package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// flaky wraps a Store: once armed, the next event of type on fails the
// transaction with ErrConflict, and between that failed try and the next
// one it runs between (another user's action landing then).
type flaky struct {
	emailflow.Store
	on      emailflow.EventType
	between func()
	failed  bool
}

func (s *flaky) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	err := s.Store.Update(ctx, func(tx emailflow.Tx) error { return fn(flakyTx{tx, s}) })
	if s.failed && s.between != nil {
		h := s.between
		s.between = nil
		h()
	}
	return err
}

type flakyTx struct {
	emailflow.Tx
	s *flaky
}

func (t flakyTx) AppendEvent(ctx context.Context, e *emailflow.Event) error {
	if t.s.on != "" && e.Type == t.s.on {
		t.s.on, t.s.failed = "", true
		return fmt.Errorf("%w: injected", emailflow.ErrConflict)
	}
	return t.Tx.AppendEvent(ctx, e)
}

// A Reply whose first try fails after the inbound was written (a SQL store
// has bumped the snapshot's version by then, and a rollback does not undo
// that) checks the inbound again: marked done in between, it refuses.
func TestReplyAfterAFailedTryReadsTheInboundAgain(t *testing.T) {
	ctx := context.Background()
	pg := freshStore(t)
	store := &flaky{Store: pg}
	ws, err := emailflow.New(emailflow.Ports{Store: store, Directory: pg, Sender: &transport.Sender{}}, &emailflow.Options{
		Hostname:  "desk.boutique.example",
		Mailboxes: []emailflow.Mailbox{{Address: "support@boutique.example", Queue: "support-fr"}},
	})
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"support-fr"}, Capacity: 5}))
	require.NoError(t, ws.As("bob").SetStatus(ctx, emailflow.StatusReady))
	it, err := ws.Ingest(ctx, "support@boutique.example", strings.NewReader("From: Ana <ana@example.org>\r\nTo: support@boutique.example\r\nSubject: Colis\r\nMessage-ID: <retry@example.org>\r\n\r\nOù est mon colis ?\r\n"))
	require.NoError(t, err)
	_, err = ws.As("bob").Accept(ctx, it.ID)
	require.NoError(t, err)

	store.on = emailflow.EventDraft // after the draft and the inbound were written
	store.between = func() { require.NoError(t, ws.As("bob").MarkDone(ctx, it.ID)) }
	_, err = ws.As("bob").Reply(ctx, it.ID)
	assert.ErrorIs(t, err, emailflow.ErrInvalidTransition, "the inbound is done now")

	inbound, err := ws.As("bob").Interaction(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, inbound.State)
	assert.Equal(t, "complete", inbound.History[len(inbound.History)-1].Action, "no reply recorded after done")
	drafts, err := ws.As("bob").Interactions(ctx, emailflow.Query{ThreadID: inbound.ThreadID, Kind: interaction.KindOutbound})
	require.NoError(t, err)
	assert.Empty(t, drafts)
}
