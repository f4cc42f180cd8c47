package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/postgres"
)

// TestAcceptAndReplyDoNotWaitForTheAgent: accepting an offer and starting
// a reply neither read nor change the agent's load, so they do not wait
// for another instance's transaction holding the agent's row (an offer
// to her, her Send of another email); Send, which frees her capacity,
// does wait, and afterwards her routing row is exact.
func TestAcceptAndReplyDoNotWaitForTheAgent(t *testing.T) {
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, dsn())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: freshSchema(t)})
	require.NoError(t, err)
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 3}))
	require.NoError(t, ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	it, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(benchMail(benchOrder(t), 1)))
	require.NoError(t, err)
	require.Equal(t, "alice", it.OfferedTo)

	// Another instance's transaction holds alice's row.
	other, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = other.Rollback(context.Background()) }()
	_, err = other.Exec(ctx, "SELECT 1 FROM "+pgx.Identifier{s.Schema(), "agents"}.Sanitize()+" WHERE id = 'alice' FOR UPDATE")
	require.NoError(t, err)

	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	accepted, err := ws.As("alice").Accept(quick, it.ID)
	require.NoError(t, err, "Accept waited for the agent's row")
	assert.Equal(t, interaction.StateHandling, accepted.State)
	assert.Equal(t, "alice", accepted.Owner)
	draft, err := ws.As("alice").Reply(quick, it.ID)
	require.NoError(t, err, "Reply waited for the agent's row")
	assert.Equal(t, it.ID, draft.ParentID)
	assert.Equal(t, "alice", draft.Owner)

	// Send frees capacity: it takes the row, so it waits for the other
	// transaction, and goes on once that ends.
	sent := make(chan error, 1)
	go func() {
		_, err := ws.As("alice").Send(ctx, draft.ID, nil)
		sent <- err
	}()
	select {
	case err := <-sent:
		t.Fatalf("Send did not wait for the agent's row: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, other.Rollback(ctx))
	require.NoError(t, <-sent)
	assertRoomExact(t, s, "alice")
	in, err := ws.As("alice").Interaction(ctx, it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDone, in.State, "the reply completed the inbound")
}
