package emailflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

func TestOfferGoesToReadyAgentOfTheQueue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "billing-only", Queues: []string{"billing"}}))
	require.NoError(t, f.ws.As("billing-only").SetStatus(ctx, emailflow.StatusReady))

	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "nobody ready serves support-fr")

	// An agent becoming ready is offered the waiting mail.
	f.agent(t, "alice")
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State)
	assert.Equal(t, "alice", it.OfferedTo)
}

func TestDeclineRequeuesAndSkipsTheAgent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "bob", Queues: []string{"support-fr"}, Capacity: 5}))
	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusNotReady))
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	require.NoError(t, f.ws.As("alice").Decline(ctx, id, "not my language"))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateQueued, it.State, "back in the queue: bob, logged in, has not declined it")
	assert.Equal(t, []string{"alice"}, it.Declined)

	require.NoError(t, f.ws.As("bob").SetStatus(ctx, emailflow.StatusReady))
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "bob", it.OfferedTo)
	assert.ErrorIs(t, f.ws.As("alice").Decline(ctx, id, ""), emailflow.ErrForbidden)
}

func TestAcceptTimeout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AcceptTimeout: 10 * time.Second})
	f.agent(t, "alice")
	f.agent(t, "bob")
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	first := it.OfferedTo
	require.NotEmpty(t, first)

	f.clock.Advance(9 * time.Second)
	n, err := f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not yet")

	f.clock.Advance(time.Second)
	n, err = f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State, "offered again, to the other agent")
	assert.NotEqual(t, first, it.OfferedTo)
	a, err := f.ws.Agent(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, emailflow.StatusNotResponding, a.Status)

	_, err = f.ws.As(first).Accept(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "the timed-out agent lost the offer")

	_, err = emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender}, &emailflow.Options{AcceptTimeout: 5 * time.Second})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "under the 7 s minimum")
}

func TestCapacityLimitsOffers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 2}))
	require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusReady))
	var ids []string
	for _, m := range []string{"m1", "m2", "m3"} {
		ids = append(ids, f.ingest(t, newMail(m)))
	}
	offered, err := f.ws.As(admin).Interactions(ctx, emailflow.Query{OfferedTo: "alice"})
	require.NoError(t, err)
	assert.Len(t, offered, 2)

	// Finishing one frees capacity: the oldest waiting mail is offered.
	_, err = f.ws.As("alice").Accept(ctx, ids[0])
	require.NoError(t, err)
	require.NoError(t, f.ws.As("alice").MarkDone(ctx, ids[0]))
	it, err := f.ws.As(admin).Interaction(ctx, ids[2])
	require.NoError(t, err)
	assert.Equal(t, "alice", it.OfferedTo)
}

func newMail(id string) []byte {
	return []byte("From: Client <client-" + id + "@exemple.fr>\r\nTo: support@boutique.example\r\nSubject: Question " + id +
		"\r\nMessage-ID: <" + id + "@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour " + id + "\r\n")
}

func TestTransferToAgent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	sub := f.ws.Subscribe(ctx, &emailflow.SubscribeOptions{Agent: "bob"})
	defer sub.Close()

	require.NoError(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "bob", Note: "Client VIP, voir commande FR-2291"}))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateTransferred, it.State)
	assert.Equal(t, "bob", it.OfferedTo)
	assert.Equal(t, "alice", it.Owner, "the sender keeps it until bob accepts")
	e := <-sub.C
	assert.Equal(t, emailflow.EventTransferred, e.Type)
	assert.Equal(t, "Client VIP, voir commande FR-2291", e.Detail)

	it, err = f.ws.As("bob").Accept(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State)
	assert.Equal(t, "bob", it.Owner)
	require.Len(t, it.Notes, 1)
	assert.Equal(t, interaction.Note{Author: "alice", At: f.clock.Now(), Text: "Client VIP, voir commande FR-2291"}, it.Notes[0])
	_, err = f.ws.As("alice").Reply(ctx, id)
	assert.ErrorIs(t, err, emailflow.ErrForbidden, "alice no longer owns it")
}

func TestTransferDeclinedReturnsToSender(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{AcceptTimeout: 10 * time.Second})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	f.agent(t, "bob")
	require.NoError(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "bob"}))
	require.NoError(t, f.ws.As("bob").Decline(ctx, id, "busy"))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State)
	assert.Equal(t, "alice", it.Owner)

	require.NoError(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Agent: "bob"}))
	f.clock.Advance(10 * time.Second)
	_, err = f.ws.Runner(nil).Tick(ctx)
	require.NoError(t, err)
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State, "a timed-out transfer returns too")
	assert.Equal(t, "alice", it.Owner)
}

func TestTransferToQueue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "carol", Queues: []string{"billing"}}))
	require.NoError(t, f.ws.As("carol").SetStatus(ctx, emailflow.StatusReady))

	require.NoError(t, f.ws.As("alice").Transfer(ctx, id, emailflow.TransferTarget{Queue: "billing", Note: "Question de facturation"}))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State)
	assert.Equal(t, "billing", it.Queue)
	assert.Equal(t, "carol", it.OfferedTo)
	assert.Empty(t, it.Owner)
	assert.Equal(t, "Question de facturation", it.Notes[0].Text)
}

func TestWorkbins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)

	require.NoError(t, f.ws.As("alice").SaveToWorkbin(ctx, id, emailflow.WorkbinRef{}))
	require.NoError(t, f.ws.As("alice").SaveToWorkbin(ctx, r.ID, emailflow.WorkbinRef{}))
	inProgress, err := f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinInProgress})
	require.NoError(t, err)
	require.Len(t, inProgress, 1)
	assert.Equal(t, id, inProgress[0].ID)
	drafts, err := f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinDrafts})
	require.NoError(t, err)
	require.Len(t, drafts, 1)
	assert.Equal(t, r.ID, drafts[0].ID)

	assert.ErrorIs(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, r.ID, emailflow.DraftContent{Subject: "x"})), emailflow.ErrInvalidTransition, "take it back first")
	assert.ErrorIs(t, f.ws.As("bob").TakeFromWorkbin(ctx, id), emailflow.ErrForbidden)

	require.NoError(t, f.ws.As("alice").TakeFromWorkbin(ctx, id))
	require.NoError(t, f.ws.As("alice").TakeFromWorkbin(ctx, r.ID))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State)
	assert.Empty(t, it.Workbin)
	o, err := f.ws.As(admin).Interaction(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDraft, o.State)
	inProgress, err = f.ws.As("alice").Workbin(ctx, emailflow.WorkbinRef{Bin: emailflow.WorkbinInProgress})
	require.NoError(t, err)
	assert.Empty(t, inProgress)
}

func TestDeleteBySupervisor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	f.agent(t, "sue", emailflow.RoleSupervisor)
	require.NoError(t, f.ws.As("sue").SetStatus(ctx, emailflow.StatusNotReady))
	id := f.handled(t, "alice")
	require.NoError(t, f.ws.As("sue").Delete(ctx, id))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateDeleted, it.State)
	assert.ErrorIs(t, f.ws.As("sue").Delete(ctx, id), emailflow.ErrInvalidTransition)

	// With the privilege granted to agents, an agent deletes their own.
	g := newFixture(t, &emailflow.Options{Privileges: map[emailflow.Role][]emailflow.Privilege{
		emailflow.RoleAgent: {emailflow.PrivilegeHandle, emailflow.PrivilegeDelete},
	}})
	g.agent(t, "alice")
	id = g.handled(t, "alice")
	require.NoError(t, g.ws.As("alice").Delete(ctx, id))
}

func TestDeliveryRetriesThenFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{MaxAttempts: 3, RetryBackoff: time.Minute})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)

	f.sender.Fail(errors.New("421 try again later"))
	o, err := f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err, "a failed delivery is not a failed send: it waits in the outbox")
	assert.Equal(t, interaction.StateOutbox, o.State)

	n, err := f.ws.Runner(nil).Dispatch(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, len(f.sender.Attempts()), "backoff: the retry is not due yet")

	f.clock.Advance(time.Minute)
	f.sender.Fail(nil)
	n, err = f.ws.Runner(nil).Dispatch(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 2, len(f.sender.Attempts()))
	o.Interaction, err = f.ws.As(admin).Interaction(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, o.State)
	require.Len(t, f.sender.Sent(), 1)

	// Another reply whose every attempt fails goes back to the agent.
	r2, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	f.sender.Fail(errors.New("550 mailbox unavailable"))
	_, err = f.ws.As("alice").Send(ctx, r2.ID, nil)
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		f.clock.Advance(10 * time.Minute)
		_, err = f.ws.Runner(nil).Dispatch(ctx)
		require.NoError(t, err)
	}
	o.Interaction, err = f.ws.As(admin).Interaction(ctx, r2.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateFailed, o.State)
	assert.Equal(t, "550 mailbox unavailable", o.History[len(o.History)-1].Detail)
	assert.Equal(t, 2+3, len(f.sender.Attempts()), "MaxAttempts tries of the second reply, no more")
}

func TestSameMessageIDOnRetry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ManualDispatch: true})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, f.sender.Sent(), "manual dispatch waits for the dispatcher")
	emails, err := f.ws.As(admin).Emails(ctx, r.ID)
	require.NoError(t, err)
	stored := emails[0].Raw

	n, err := f.ws.Runner(nil).Dispatch(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, f.sender.Sent(), 1)
	assert.Equal(t, stored, f.sender.Sent()[0].Raw, "exactly the bytes written to the outbox in the send transaction")
}

func TestSubscribeDropsForSlowSubscribers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFixture(t, nil)
	sub := f.ws.Subscribe(ctx, &emailflow.SubscribeOptions{Buffer: 1})
	f.ingest(t, newMail("a"))
	assert.Len(t, sub.C, 1)
	assert.Equal(t, int64(1), sub.Dropped(), "ingested and queued: one fits, one is dropped")
	all, err := f.ws.As(admin).Events(ctx, 0, 0)
	require.NoError(t, err)
	assert.Len(t, all, 2, "the store's log has them all")
	cancel()
	require.Eventually(t, func() bool {
		select {
		case _, ok := <-sub.C:
			return !ok
		default:
			return false
		}
	}, 5*time.Second, time.Millisecond, "the channel closes with the context")
}

func TestRunDrivesTimersAndOutbox(t *testing.T) {
	f := newFixture(t, &emailflow.Options{AcceptTimeout: 10 * time.Second, RetryBackoff: time.Second})
	f.agent(t, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	id := f.ingest(t, newMail("run"))
	r := func() string {
		f.agent(t, "bob")
		_, err := f.ws.As("alice").Accept(ctx, id)
		require.NoError(t, err)
		r, err := f.ws.As("alice").Reply(ctx, id)
		require.NoError(t, err)
		f.sender.Fail(errors.New("421 later"))
		_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
		require.NoError(t, err)
		return r.ID
	}()
	other := f.ingest(t, newMail("run2")) // offered to bob, who will not answer
	done := make(chan error, 1)
	go func() { done <- f.ws.Runner(nil).Run(ctx) }()

	// Run follows the Workspace's clock: once it waits on the fake
	// clock, advancing it wakes Run, with no interval to shrink.
	require.NoError(t, f.clock.BlockUntilContext(ctx, 1))
	f.sender.Fail(nil)
	f.clock.Advance(10 * time.Second)
	require.Eventually(t, func() bool {
		o, err := f.ws.As(admin).Interaction(ctx, r)
		return err == nil && o.State == interaction.StateSent
	}, 5*time.Second, time.Millisecond, "the outbox retry was delivered")
	require.Eventually(t, func() bool {
		a, err := f.ws.Agent(ctx, "bob")
		return err == nil && a.Status == emailflow.StatusNotResponding
	}, 5*time.Second, time.Millisecond, "the accept timeout ran")
	it, err := f.ws.As(admin).Interaction(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "alice", it.OfferedTo, "requeued and offered to alice")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}
