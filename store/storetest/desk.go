package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// The desk group reads what an agent's desk shows through a Workspace on
// the store under test: the inbox in one read transaction, and the review
// queue as a reviewer may list it.

func testDesk(t *testing.T, newStore newFunc) {
	t.Run("Inbox", func(t *testing.T) { testInbox(t, newStore) })
	t.Run("ReviewQueue", func(t *testing.T) { testReviewQueue(t, newStore) })
	t.Run("PendingWithoutPolicies", func(t *testing.T) { testPendingWithoutPolicies(t, newStore) })
}

// deskMail is customer mail id to the desk, from its own sender.
func deskMail(id string) string {
	return customerMail(id, "Client <client-"+id+"@exemple.fr>")
}

// handledBy takes in mail id and has agent accept it.
func (d *desk) handledBy(t *testing.T, agent, id string) *interaction.Interaction {
	t.Helper()
	it := d.ingest(t, deskMail(id))
	it, err := d.ws.As(agent).Accept(t.Context(), it.ID)
	require.NoError(t, err)
	return it
}

func testInbox(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	d := newDesk(t, newStore, &emailflow.Options{TeamWorkbins: []string{"litiges"}})
	ann := d.ws.As("ann")
	handled := d.handledBy(t, "ann", "inbox-handled")
	parked := d.handledBy(t, "ann", "inbox-parked")
	require.NoError(t, ann.SaveToWorkbin(ctx, parked.ID, emailflow.WorkbinRef{}))
	team := d.handledBy(t, "ann", "inbox-team")
	require.NoError(t, ann.SaveToWorkbin(ctx, team.ID, emailflow.WorkbinRef{Bin: "litiges"}))
	done := d.handledBy(t, "ann", "inbox-done")
	require.NoError(t, ann.MarkDone(ctx, done.ID))
	draft, err := ann.Reply(ctx, handled.ID)
	require.NoError(t, err)
	offered := d.ingest(t, deskMail("inbox-offered"))
	require.Equal(t, "ann", offered.OfferedTo)

	d.store.reset()
	in, err := ann.Inbox(ctx)
	require.NoError(t, err)
	views, updates := d.store.transactions()
	assert.Equal(t, 1, views, "one read transaction")
	assert.Zero(t, updates)
	assert.Equal(t, []string{offered.ID}, ids(in.Offered))
	assert.ElementsMatch(t, []string{handled.ID, draft.ID}, ids(in.Owned))
	for _, tc := range []struct {
		bin  string
		want []string
	}{
		{emailflow.WorkbinInProgress, []string{parked.ID}},
		{emailflow.WorkbinDrafts, []string{}},
		{emailflow.WorkbinPending, []string{}},
		{"litiges", []string{team.ID}},
	} {
		assert.Equal(t, tc.want, ids(in.Workbin(tc.bin)), tc.bin)
	}
}

func testReviewQueue(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	d := newDesk(t, newStore, &emailflow.Options{ReviewPolicy: qa.All()})
	// ann reviews too; rita reviews but is not ready, so reviews wait.
	require.NoError(t, d.ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Name: "Ann", Address: "ann@shop.example", Queues: []string{"support", emailflow.DefaultReviewQueue}, Capacity: 50,
		Roles: []emailflow.Role{emailflow.RoleAgent, emailflow.RoleReviewer}}))
	require.NoError(t, d.ws.As("ann").SetStatus(ctx, emailflow.StatusReady))
	require.NoError(t, d.ws.PutAgent(ctx, emailflow.Agent{ID: "rita", Name: "Rita", Queues: []string{emailflow.DefaultReviewQueue}, Capacity: 5, Roles: []emailflow.Role{emailflow.RoleReviewer}}))
	in := d.handledBy(t, "ann", "review-queue")
	r, err := d.ws.As("ann").Reply(ctx, in.ID)
	require.NoError(t, err)
	sent, err := d.ws.As("ann").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	require.Equal(t, interaction.StateInReview, sent.State)

	waiting, err := d.ws.As("rita").Queue(ctx, emailflow.DefaultReviewQueue)
	require.NoError(t, err)
	require.Len(t, waiting, 1)
	assert.Equal(t, interaction.KindReview, waiting[0].Kind)
	assert.Equal(t, r.ID, waiting[0].ParentID)
	own, err := d.ws.As("ann").Queue(ctx, emailflow.DefaultReviewQueue)
	require.NoError(t, err)
	assert.Empty(t, own, "never the review of one's own email")

	pulled, err := d.ws.As("rita").Pull(ctx, emailflow.DefaultReviewQueue)
	require.NoError(t, err)
	assert.Equal(t, waiting[0].ID, pulled.ID)
	waiting, err = d.ws.As("rita").Queue(ctx, emailflow.DefaultReviewQueue)
	require.NoError(t, err)
	assert.Empty(t, waiting)
	// Taken, it is in rita's inbox.
	box, err := d.ws.As("rita").Inbox(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{pulled.ID}, ids(box.Owned))
}

// testPendingWithoutPolicies: with no service-level policy configured, an
// interaction set pending still wakes at its time, back to its owner,
// from the store's deadline index, and not a moment before.
func testPendingWithoutPolicies(t *testing.T, newStore newFunc) {
	ctx := t.Context()
	d := newDesk(t, newStore, nil)
	ann := d.ws.As("ann")
	it := d.handledBy(t, "ann", "pending-no-policy")
	until := d.clock.Now().Add(2 * time.Hour)
	parked, err := ann.SetPending(ctx, it.ID, emailflow.Pending{Until: until})
	require.NoError(t, err)
	assert.Equal(t, interaction.StateParked, parked.State)
	assert.Equal(t, emailflow.WorkbinPending, parked.Workbin)
	assert.Equal(t, until, parked.SLA.Next, "the wake-up is scheduled")
	assert.Empty(t, parked.SLA.Policy)

	woken := func() int {
		t.Helper()
		n := 0
		view(t, d.store, func(ctx context.Context, tx emailflow.Tx) {
			evs, err := tx.Events(ctx, 0, 1000)
			require.NoError(t, err)
			for _, e := range evs {
				if e.Type == emailflow.EventWoken && e.InteractionID == it.ID {
					n++
				}
			}
		})
		return n
	}
	d.clock.Advance(2*time.Hour - time.Second)
	_, err = d.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Zero(t, woken(), "not before its time")
	assert.Equal(t, interaction.StateParked, read(t, d.store, it.ID).State)

	d.clock.Advance(time.Second)
	_, err = d.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, woken())
	got := read(t, d.store, it.ID)
	assert.Equal(t, interaction.StateHandling, got.State, "back to its owner")
	assert.Equal(t, "ann", got.Owner)
	assert.Empty(t, got.Workbin)
	assert.True(t, got.SLA.Next.IsZero(), "nothing left to wake")

	_, err = d.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, woken(), "woken once")
}
