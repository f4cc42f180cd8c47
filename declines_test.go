package emailflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// offeredTo returns who interaction id is offered to ("" when nobody) and
// its declined list.
func (f *fixture) offeredTo(t testing.TB, id string) (string, []string) {
	t.Helper()
	it, err := f.ws.As(admin).Interaction(context.Background(), id)
	require.NoError(t, err)
	if it.State != interaction.StateOffered {
		return "", it.Declined
	}
	return it.OfferedTo, it.Declined
}

// An offer that times out does not exclude the agent: once ready again
// she is offered it again, and another eligible agent comes first.
func TestTimeoutDoesNotExcludeTheAgent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AcceptTimeout: 10 * time.Second})
	f.agent(t, "alice")
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	to, _ := f.offeredTo(t, id)
	require.Equal(t, "alice", to)

	f.clock.Advance(10 * time.Second)
	n, err := f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	to, declined := f.offeredTo(t, id)
	assert.Empty(t, to, "queued: alice is not responding")
	assert.Empty(t, declined, "a timeout is not a decline")
	a, err := f.ws.Agent(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, emailflow.StatusNotResponding, a.Status)

	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	to, _ = f.offeredTo(t, id)
	assert.Equal(t, "alice", to, "ready again: offered to her again")
	_, err = f.ws.As("alice").Accept(ctx, id)
	require.NoError(t, err)

	// With a colleague ready, the mail goes to the colleague first.
	f2 := newFixture(t, &emailflow.Options{AcceptTimeout: 10 * time.Second})
	f2.agent(t, "alice")
	id = f2.ingest(t, readFile(t, "testdata/french-order.eml"))
	f2.agent(t, "bob")
	f2.clock.Advance(10 * time.Second)
	_, err = f2.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	to, _ = f2.offeredTo(t, id)
	assert.Equal(t, "bob", to)
	require.NoError(t, f2.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	to, _ = f2.offeredTo(t, id)
	assert.Equal(t, "bob", to, "alice, ready again, comes after bob")
}

// When every agent who could take it has declined it, the mail is offered
// again, to the one who declined it the longest ago (her decline lifted).
func TestEveryAgentDeclined(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	f.agent(t, "bob")
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	first, _ := f.offeredTo(t, id)
	second := map[string]string{"alice": "bob", "bob": "alice"}[first]

	require.NoError(t, f.ws.As(first).Decline(ctx, id, "pas le temps"))
	to, declined := f.offeredTo(t, id)
	assert.Equal(t, second, to, "to the one who has not declined it")
	assert.Equal(t, []string{first}, declined)

	require.NoError(t, f.ws.As(second).Decline(ctx, id, "non plus"))
	to, declined = f.offeredTo(t, id)
	assert.Equal(t, first, to, "both declined: offered again, oldest decline first")
	assert.Equal(t, []string{second}, declined, "her decline was lifted")
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	lifted := it.History[len(it.History)-2]
	assert.Equal(t, "decline-lifted", lifted.Action)
	assert.Equal(t, first, lifted.Detail)

	require.NoError(t, f.ws.As(first).Decline(ctx, id, "toujours pas"))
	to, declined = f.offeredTo(t, id)
	assert.Equal(t, second, to, "now the other one's decline is the oldest")
	assert.Equal(t, []string{first}, declined)

	// The oldest decliner is not ready: the mail waits for her, not for the
	// one who just declined it.
	require.NoError(t, f.ws.As(first).SetStatus(ctx, emailflow.StatusNotReady))
	require.NoError(t, f.ws.As(second).Decline(ctx, id, ""))
	to, declined = f.offeredTo(t, id)
	assert.Empty(t, to)
	assert.Equal(t, []string{second}, declined)
	require.NoError(t, f.ws.As(first).SetStatus(ctx, emailflow.StatusReady))
	to, _ = f.offeredTo(t, id)
	assert.Equal(t, first, to)
}

// declinedByAlice: alice, ready, declined the French email; bob, logged in
// but not ready, has not: it waits for him.
func declinedByAlice(t *testing.T) (*fixture, string) {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"support-fr"}}))
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusNotReady))
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	require.NoError(t, f.ws.As("alice").Decline(ctx, id, "plus tard"))
	to, declined := f.offeredTo(t, id)
	require.Empty(t, to, "waiting for bob, who has not declined it")
	require.Equal(t, []string{"alice"}, declined)
	return f, id
}

// The agents who had not declined a mail log out: the next tick lifts the
// decline of one who did.
func TestDeclinedMailDoesNotWaitForAgentsWhoLeft(t *testing.T) {
	ctx := context.Background()
	f, id := declinedByAlice(t)

	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusLoggedOut))
	_, err := f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	to, declined := f.offeredTo(t, id)
	assert.Equal(t, "alice", to, "bob left: alice is offered it again")
	assert.Empty(t, declined)
}

// Pulling is the agent's own choice: an agent who declined a mail may pull
// it.
func TestPullAfterDecline(t *testing.T) {
	ctx := context.Background()
	f, id := declinedByAlice(t)

	got, err := f.ws.As("alice").Pull(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	assert.Equal(t, "alice", got.Owner)
	assert.Equal(t, interaction.StateHandling, got.State)
}
