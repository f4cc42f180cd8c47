package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
)

// errFail is what transaction functions return to make a store roll back.
var errFail = errors.New("storetest: transaction function failed on purpose")

// seed fills s with one of everything: interaction "seed" (handling, owned
// by ann), agent ann, email "seed-mail", outbox item "seed-out" (pending,
// due at base), the ingest claim "seed-key" and one event.
func seed(t *testing.T, s emailflow.Store) {
	t.Helper()
	it := full("seed")
	it.Workbin = ""
	create(t, s, it)
	update(t, s, func(ctx context.Context, tx emailflow.Tx) {
		require.NoError(t, tx.PutAgent(ctx, agent("ann", "sales")))
		require.NoError(t, tx.PutEmail(ctx, message("seed-mail", "seed", "seed@shop.example", 0)))
		require.NoError(t, tx.Enqueue(ctx, outboxItem("seed-out", 0)))
		owner, claimed, err := tx.ClaimIngest(ctx, "seed-key", "seed")
		require.NoError(t, err)
		require.True(t, claimed)
		require.Equal(t, "seed", owner)
		require.NoError(t, tx.AppendEvent(ctx, event(emailflow.EventIngested, "seed", 0)))
	})
}

// snapshot is everything the suite's transaction tests can observe of a
// seeded store.
type snapshot struct {
	Interactions []*interaction.Interaction
	Loads        map[string]int
	Emails       map[string][]*emailflow.Email
	ByMessageID  map[string]*emailflow.Email
	Outbox       map[string]*emailflow.OutboxItem
	Due          []*emailflow.OutboxItem
	Events       []emailflow.Event
	Agents       []*emailflow.Agent
	Available    map[string][]routing.Agent            // AvailableAgents by queue
	Waiting      map[string][]routing.Item             // Waiting by queue
	Queued       map[string][]*interaction.Interaction // queued interactions by queue
	Claims       map[string]string                     // key → earlier owner; "" when the key was free
}

// Ids the transaction tests write, so snapshots look them up.
var (
	snapInteractions = []string{"seed", "new-1", "new-2", "new-3", "new-4", "new-5"}
	snapAgents       = []string{"ann", "bob", "carol", "dave"}
	snapMessageIDs   = []string{"seed@shop.example", "new@shop.example"}
	snapOutbox       = []string{"seed-out", "new-out"}
	snapClaims       = []string{"seed-key", "new-key"}
	snapQueues       = []string{"sales", "support"}
)

// probe runs fn in a read-write transaction and rolls it back, so it can
// observe what only writes show (ingest claims).
func probe(t *testing.T, s emailflow.Store, fn func(ctx context.Context, tx emailflow.Tx)) {
	t.Helper()
	ctx := t.Context()
	err := s.Update(ctx, func(tx emailflow.Tx) error {
		fn(ctx, tx)
		return errFail
	})
	require.ErrorIs(t, err, errFail)
}

// snap observes s.
func snap(t *testing.T, s emailflow.Store) snapshot {
	t.Helper()
	sn := snapshot{
		Loads:       map[string]int{},
		Emails:      map[string][]*emailflow.Email{},
		ByMessageID: map[string]*emailflow.Email{},
		Outbox:      map[string]*emailflow.OutboxItem{},
		Claims:      map[string]string{},
		Available:   map[string][]routing.Agent{},
		Waiting:     map[string][]routing.Item{},
		Queued:      map[string][]*interaction.Interaction{},
	}
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		sn.Interactions, err = tx.FindInteractions(ctx, emailflow.Query{})
		require.NoError(t, err)
		for _, a := range snapAgents {
			sn.Loads[a], err = tx.Load(ctx, a)
			require.NoError(t, err)
		}
		for _, id := range snapInteractions {
			sn.Emails[id], err = tx.EmailsOf(ctx, id)
			require.NoError(t, err)
		}
		for _, m := range snapMessageIDs {
			e, err := tx.EmailByMessageID(ctx, m)
			if !errors.Is(err, emailflow.ErrNotFound) {
				require.NoError(t, err)
				sn.ByMessageID[m] = e
			}
		}
		for _, id := range snapOutbox {
			o, err := tx.OutboxItem(ctx, id)
			if !errors.Is(err, emailflow.ErrNotFound) {
				require.NoError(t, err)
				sn.Outbox[id] = o
			}
		}
		sn.Due, err = tx.DueOutbox(ctx, at(100_000), 1000)
		require.NoError(t, err)
		sn.Events, err = tx.Events(ctx, 0, 1000)
		require.NoError(t, err)
		sn.Agents, err = tx.Agents(ctx, "")
		require.NoError(t, err)
		for _, q := range snapQueues {
			sn.Available[q], err = tx.AvailableAgents(ctx, q, 0, 100)
			require.NoError(t, err)
			sn.Waiting[q], err = tx.Waiting(ctx, q, 0, 100)
			require.NoError(t, err)
			sn.Queued[q], err = tx.FindInteractions(ctx, emailflow.Query{Queue: q, States: []interaction.State{interaction.StateQueued}})
			require.NoError(t, err)
		}
	})
	probe(t, s, func(ctx context.Context, tx emailflow.Tx) {
		for _, k := range snapClaims {
			owner, claimed, err := tx.ClaimIngest(ctx, k, "probe")
			require.NoError(t, err)
			if !claimed {
				sn.Claims[k] = owner
			}
		}
	})
	return canon(sn)
}

// txCase is one kind of write a transaction can make on a seeded store.
type txCase struct {
	name string
	// write makes the writes, returning the first error.
	write func(ctx context.Context, tx emailflow.Tx) error
	// committed checks, in a transaction that is rolled back afterwards,
	// that the writes are visible; nil for no check.
	committed func(t *testing.T, ctx context.Context, tx emailflow.Tx)
}

// loadAnd loads interaction id, applies fn and updates it.
func loadAnd(ctx context.Context, tx emailflow.Tx, id string, fn func(*interaction.Interaction)) error {
	it, err := tx.Interaction(ctx, id)
	if err != nil {
		return err
	}
	fn(it)
	return tx.UpdateInteraction(ctx, it)
}

func txCases() []txCase {
	cases := []txCase{
		{
			name: "CreateInteraction",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				it := plain("new-1", interaction.KindInbound, interaction.StateOffered)
				it.ThreadID, it.OfferedTo = "thread-seed", "bob"
				return tx.CreateInteraction(ctx, it)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				it, err := tx.Interaction(ctx, "new-1")
				require.NoError(t, err)
				assert.Equal(t, int64(1), it.Version)
				found, err := tx.FindInteractions(ctx, emailflow.Query{ThreadID: "thread-seed"})
				require.NoError(t, err)
				assert.ElementsMatch(t, []string{"seed", "new-1"}, ids(found))
				assertLoad(t, ctx, tx, "bob", 1)
			},
		},
		{
			name: "CreateAndUpdateInteraction",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				it := plain("new-2", interaction.KindInbound, interaction.StateOffered)
				it.OfferedTo = "bob"
				if err := tx.CreateInteraction(ctx, it); err != nil {
					return err
				}
				// Written, it is the store's: change a fresh read (see Tx).
				it, err := tx.Interaction(ctx, "new-2")
				if err != nil {
					return err
				}
				it.State, it.Owner, it.OfferedTo = interaction.StateHandling, "bob", ""
				if err := tx.UpdateInteraction(ctx, it); err != nil {
					return err
				}
				return loadAnd(ctx, tx, "new-2", func(it *interaction.Interaction) { it.Notes = []interaction.Note{{Author: "bob", Text: "hi"}} })
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				it, err := tx.Interaction(ctx, "new-2")
				require.NoError(t, err)
				assert.Equal(t, int64(3), it.Version)
				assert.Equal(t, "bob", it.Owner)
				assert.Len(t, it.Notes, 1)
				assertLoad(t, ctx, tx, "bob", 1)
			},
		},
		{
			// A written value is the store's (see emailflow.Tx): the
			// second interaction starts from a copy of the first.
			name: "CreateInteractionFromACopy",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				it := plain("new-3", interaction.KindOutbound, interaction.StateDraft)
				it.Owner = "carol"
				second := it.Clone()
				if err := tx.CreateInteraction(ctx, it); err != nil {
					return err
				}
				second.ID, second.ThreadID, second.Subject = "new-4", "new-4", "second"
				return tx.CreateInteraction(ctx, second)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				found, err := tx.FindInteractions(ctx, emailflow.Query{Owner: "carol"})
				require.NoError(t, err)
				assert.Equal(t, []string{"new-3", "new-4"}, ids(found))
				require.Len(t, found, 2)
				assert.Empty(t, found[0].Subject)
				assert.Equal(t, "second", found[1].Subject)
			},
		},
		{
			name: "UpdateInteraction",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				return loadAnd(ctx, tx, "seed", func(it *interaction.Interaction) {
					it.State, it.OfferedTo, it.TransferFrom = interaction.StateTransferred, "bob", "ann"
				})
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				it, err := tx.Interaction(ctx, "seed")
				require.NoError(t, err)
				assert.Equal(t, int64(2), it.Version)
				assert.Equal(t, interaction.StateTransferred, it.State)
				// A pending transfer stays on its sender's load.
				assertLoad(t, ctx, tx, "ann", 1)
				assertLoad(t, ctx, tx, "bob", 0)
			},
		},
		{
			name: "RequeueInteraction",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				if err := loadAnd(ctx, tx, "seed", func(it *interaction.Interaction) {
					it.State, it.Owner, it.Queue, it.QueuedAt = interaction.StateQueued, "", "support", at(7)
				}); err != nil {
					return err
				}
				it := plain("new-5", interaction.KindInbound, interaction.StateQueued)
				it.Queue, it.QueuedAt, it.Priority = "support", at(8), 1
				return tx.CreateInteraction(ctx, it)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				found, err := tx.FindInteractions(ctx, emailflow.Query{Queue: "support", States: []interaction.State{interaction.StateQueued}})
				require.NoError(t, err)
				assert.Equal(t, []string{"seed", "new-5"}, ids(found), "seed has priority 3")
				assertLoad(t, ctx, tx, "ann", 0)
			},
		},
		{
			name: "UpdateInteractionTwice",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				if err := loadAnd(ctx, tx, "seed", func(it *interaction.Interaction) { it.State = interaction.StateDone }); err != nil {
					return err
				}
				return loadAnd(ctx, tx, "seed", func(it *interaction.Interaction) {
					it.Disposition = "spam"
					it.CaseData.Put("reason", "changed", false)
				})
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				it, err := tx.Interaction(ctx, "seed")
				require.NoError(t, err)
				assert.Equal(t, int64(3), it.Version)
				assert.Equal(t, interaction.StateDone, it.State)
				assert.Equal(t, "spam", it.Disposition)
				assertLoad(t, ctx, tx, "ann", 0)
			},
		},
		{
			name: "PutEmail",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				return tx.PutEmail(ctx, message("new-mail", "seed", "new@shop.example", 5))
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				es, err := tx.EmailsOf(ctx, "seed")
				require.NoError(t, err)
				assert.Equal(t, []string{"seed-mail", "new-mail"}, emailIDs(es))
				e, err := tx.EmailByMessageID(ctx, "new@shop.example")
				require.NoError(t, err)
				assert.Equal(t, "new-mail", e.ID)
			},
		},
		{
			name: "PutEmailReplace",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				e, err := tx.Email(ctx, "seed-mail")
				if err != nil {
					return err
				}
				e.Text, e.Attachments = "replaced", nil
				return tx.PutEmail(ctx, e)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				e, err := tx.Email(ctx, "seed-mail")
				require.NoError(t, err)
				assert.Equal(t, "replaced", e.Text)
				assert.Empty(t, e.Attachments)
			},
		},
		{
			name: "ClaimIngest",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				owner, claimed, err := tx.ClaimIngest(ctx, "new-key", "seed")
				if err == nil && (!claimed || owner != "seed") {
					err = fmt.Errorf("storetest: ClaimIngest of a free key = %q, %v; want %q, true", owner, claimed, "seed")
				}
				return err
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				owner, claimed, err := tx.ClaimIngest(ctx, "new-key", "other")
				require.NoError(t, err)
				assert.False(t, claimed)
				assert.Equal(t, "seed", owner)
			},
		},
		{
			name: "Enqueue",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				return tx.Enqueue(ctx, outboxItem("new-out", -5))
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				due, err := tx.DueOutbox(ctx, at(0), 10)
				require.NoError(t, err)
				assert.Equal(t, []string{"new-out", "seed-out"}, outboxIDs(due))
			},
		},
		{
			name: "UpdateOutbox",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				o, err := tx.OutboxItem(ctx, "seed-out")
				if err != nil {
					return err
				}
				o.State, o.Attempts, o.UpdatedAt = emailflow.OutboxDelivered, 1, at(1)
				return tx.UpdateOutbox(ctx, o)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				o, err := tx.OutboxItem(ctx, "seed-out")
				require.NoError(t, err)
				assert.Equal(t, emailflow.OutboxDelivered, o.State)
				due, err := tx.DueOutbox(ctx, at(10), 10)
				require.NoError(t, err)
				assert.Empty(t, due)
			},
		},
		{
			name: "AppendEvent",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				return tx.AppendEvent(ctx, event(emailflow.EventOffered, "seed", 1))
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				evs, err := tx.Events(ctx, 0, 100)
				require.NoError(t, err)
				assert.Equal(t, []emailflow.EventType{emailflow.EventIngested, emailflow.EventOffered}, eventTypes(evs))
			},
		},
		{
			name: "AppendEventReusingValue",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				ev := event(emailflow.EventAccepted, "seed", 2)
				if err := tx.AppendEvent(ctx, ev); err != nil {
					return err
				}
				ev.Type = emailflow.EventDone
				return tx.AppendEvent(ctx, ev)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				evs, err := tx.Events(ctx, 0, 100)
				require.NoError(t, err)
				assert.Equal(t, []emailflow.EventType{emailflow.EventIngested, emailflow.EventAccepted, emailflow.EventDone}, eventTypes(evs))
			},
		},
		{
			name: "PutAgent",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				return tx.PutAgent(ctx, agent("bob", "support", "sales"))
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				as, err := tx.Agents(ctx, "")
				require.NoError(t, err)
				assert.Equal(t, []string{"ann", "bob"}, agentIDs(as))
				assert.Equal(t, []string{"bob"}, availableIDs(t, ctx, tx, "support"))
			},
		},
		{
			name: "PutAgentReplace",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				a, err := tx.Agent(ctx, "ann")
				if err != nil {
					return err
				}
				a.Status, a.Queues = emailflow.StatusNotReady, []string{"support"}
				return tx.PutAgent(ctx, a)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				a, err := tx.Agent(ctx, "ann")
				require.NoError(t, err)
				assert.Equal(t, emailflow.StatusNotReady, a.Status)
				as, err := tx.Agents(ctx, "sales")
				require.NoError(t, err)
				assert.Empty(t, as)
				assert.Empty(t, availableIDs(t, ctx, tx, "sales"))
			},
		},
		{
			name: "PutAgentReusingValue",
			write: func(ctx context.Context, tx emailflow.Tx) error {
				a := agent("carol", "sales")
				a.IdleSince = at(-40)
				if err := tx.PutAgent(ctx, a); err != nil {
					return err
				}
				a.ID, a.Name, a.IdleSince = "dave", "Dave", at(-50)
				return tx.PutAgent(ctx, a)
			},
			committed: func(t *testing.T, ctx context.Context, tx emailflow.Tx) {
				as, err := tx.Agents(ctx, "sales")
				require.NoError(t, err)
				assert.Equal(t, []string{"ann", "carol", "dave"}, agentIDs(as))
				c, err := tx.Agent(ctx, "carol")
				require.NoError(t, err)
				assert.Equal(t, "Agent carol", c.Name)
				assert.Equal(t, []string{"dave", "carol", "ann"}, availableIDs(t, ctx, tx, "sales"))
			},
		},
	}
	all := slices.Clone(cases)
	cases = append(cases, txCase{
		name: "Everything",
		write: func(ctx context.Context, tx emailflow.Tx) error {
			for _, c := range all {
				if err := c.write(ctx, tx); err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
			}
			return nil
		},
	})
	return cases
}

func assertLoad(t *testing.T, ctx context.Context, tx emailflow.Tx, agent string, want int) {
	t.Helper()
	n, err := tx.Load(ctx, agent)
	require.NoError(t, err)
	assert.Equal(t, want, n, "load of %s", agent)
}

func emailIDs(es []*emailflow.Email) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func outboxIDs(os []*emailflow.OutboxItem) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

func agentIDs(as []*emailflow.Agent) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func eventTypes(evs []emailflow.Event) []emailflow.EventType {
	out := make([]emailflow.EventType, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// customError is an error type fn returns, to check that Update hands it
// back unchanged.
type customError struct{ code int }

func (e *customError) Error() string { return fmt.Sprintf("storetest: custom error %d", e.code) }

func testTransaction(t *testing.T, newStore newFunc) {
	t.Run("Commit", func(t *testing.T) {
		for _, c := range txCases() {
			t.Run(c.name, func(t *testing.T) {
				s := fresh(t, newStore)
				seed(t, s)
				ctx := t.Context()
				require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return c.write(ctx, tx) }))
				if c.committed != nil {
					probe(t, s, func(ctx context.Context, tx emailflow.Tx) { c.committed(t, ctx, tx) })
				}
			})
		}
	})

	t.Run("Rollback", func(t *testing.T) {
		for _, c := range txCases() {
			t.Run(c.name, func(t *testing.T) {
				s := fresh(t, newStore)
				seed(t, s)
				before := snap(t, s)
				ctx := t.Context()
				err := s.Update(ctx, func(tx emailflow.Tx) error {
					require.NoError(t, c.write(ctx, tx))
					return errFail
				})
				assert.ErrorIs(t, err, errFail, "Update returns fn's error")
				assert.Equal(t, before, snap(t, s), "a failed transaction leaves no trace")

				// The store is still usable, and the same writes succeed.
				require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return c.write(ctx, tx) }))
				if c.committed != nil {
					probe(t, s, func(ctx context.Context, tx emailflow.Tx) { c.committed(t, ctx, tx) })
				}
			})
		}
	})

	t.Run("RollbackKeepsSequence", func(t *testing.T) {
		s := fresh(t, newStore)
		seed(t, s)
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			for i := range 3 {
				require.NoError(t, tx.AppendEvent(ctx, event(emailflow.EventUpdated, "seed", i)))
			}
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		ev := event(emailflow.EventDone, "seed", 9)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.AppendEvent(ctx, ev)) })
		evs := snap(t, s).Events
		require.Len(t, evs, 2)
		assert.Equal(t, ev.Seq, evs[1].Seq)
		assert.Greater(t, evs[1].Seq, evs[0].Seq, "a sequence number after a rollback is still greater than every visible one")
	})

	t.Run("ReturnsFnError", func(t *testing.T) {
		custom := &customError{code: 7}
		wrapped := fmt.Errorf("action refused: %w", emailflow.ErrForbidden)
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"Sentinel", errFail},
			{"Wrapped", wrapped},
			{"CustomType", custom},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := fresh(t, newStore)
				seed(t, s)
				ctx := t.Context()
				err := s.Update(ctx, func(tx emailflow.Tx) error {
					require.NoError(t, tx.PutAgent(ctx, agent("bob")))
					return tc.err
				})
				assert.ErrorIs(t, err, tc.err)
				err = s.View(ctx, func(emailflow.Tx) error { return tc.err })
				assert.ErrorIs(t, err, tc.err, "View returns fn's error")
			})
		}
		t.Run("StoreError", func(t *testing.T) {
			// fn returns the error of a refused write: callers match it.
			s := fresh(t, newStore)
			seed(t, s)
			ctx := t.Context()
			err := s.Update(ctx, func(tx emailflow.Tx) error {
				return loadAnd(ctx, tx, "seed", func(it *interaction.Interaction) { it.Version-- })
			})
			assert.ErrorIs(t, err, emailflow.ErrConflict)
			var ce *customError
			err = s.Update(ctx, func(emailflow.Tx) error { return custom })
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, 7, ce.code)
		})
	})

	t.Run("ViewCannotWrite", func(t *testing.T) {
		for _, c := range txCases() {
			if c.name == "Everything" {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				s := fresh(t, newStore)
				seed(t, s)
				before := snap(t, s)
				ctx := t.Context()
				var werr error
				require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
					werr = c.write(ctx, tx)
					return nil
				}))
				assert.Error(t, werr, "a write in a View")
				assert.Equal(t, before, snap(t, s), "a View changes nothing")
			})
		}
	})

	t.Run("ReadOwnWrites", func(t *testing.T) {
		// Subtests would run on other goroutines: the transaction is used
		// from this one only.
		s := fresh(t, newStore)
		seed(t, s)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			{ // Interaction
				it := plain("new-1", interaction.KindInbound, interaction.StateOffered)
				it.OfferedTo, it.ThreadID = "bob", "thread-seed"
				require.NoError(t, tx.CreateInteraction(ctx, it))
				got, err := tx.Interaction(ctx, "new-1")
				require.NoError(t, err)
				same(t, it, got)
				found, err := tx.FindInteractions(ctx, emailflow.Query{OfferedTo: "bob"})
				require.NoError(t, err)
				assert.Equal(t, []string{"new-1"}, ids(found))
				assertLoad(t, ctx, tx, "bob", 1)

				// it is the store's now: the update changes the copy read.
				got.State, got.Owner, got.OfferedTo = interaction.StateHandling, "bob", ""
				require.NoError(t, tx.UpdateInteraction(ctx, got))
				got, err = tx.Interaction(ctx, "new-1")
				require.NoError(t, err)
				assert.Equal(t, int64(2), got.Version)
				found, err = tx.FindInteractions(ctx, emailflow.Query{OfferedTo: "bob"})
				require.NoError(t, err)
				assert.Empty(t, found)
				found, err = tx.FindInteractions(ctx, emailflow.Query{Owner: "bob", States: []interaction.State{interaction.StateHandling}})
				require.NoError(t, err)
				assert.Equal(t, []string{"new-1"}, ids(found))
				assertLoad(t, ctx, tx, "bob", 1)
			}
			{ // Email
				e := message("new-mail", "new-1", "new@shop.example", 3)
				require.NoError(t, tx.PutEmail(ctx, e))
				got, err := tx.Email(ctx, "new-mail")
				require.NoError(t, err)
				same(t, e, got)
				got, err = tx.EmailByMessageID(ctx, "new@shop.example")
				require.NoError(t, err)
				assert.Equal(t, "new-mail", got.ID)
				es, err := tx.EmailsOf(ctx, "new-1")
				require.NoError(t, err)
				assert.Equal(t, []string{"new-mail"}, emailIDs(es))
			}
			{ // ClaimIngest
				owner, claimed, err := tx.ClaimIngest(ctx, "new-key", "new-1")
				require.NoError(t, err)
				assert.True(t, claimed)
				assert.Equal(t, "new-1", owner)
				owner, claimed, err = tx.ClaimIngest(ctx, "new-key", "seed")
				require.NoError(t, err)
				assert.False(t, claimed)
				assert.Equal(t, "new-1", owner)
			}
			{ // Outbox
				o := outboxItem("new-out", -1)
				require.NoError(t, tx.Enqueue(ctx, o))
				got, err := tx.OutboxItem(ctx, "new-out")
				require.NoError(t, err)
				same(t, o, got)
				due, err := tx.DueOutbox(ctx, at(0), 10)
				require.NoError(t, err)
				assert.Equal(t, []string{"new-out", "seed-out"}, outboxIDs(due))
				o.State = emailflow.OutboxFailed
				require.NoError(t, tx.UpdateOutbox(ctx, o))
				due, err = tx.DueOutbox(ctx, at(0), 10)
				require.NoError(t, err)
				assert.Equal(t, []string{"seed-out"}, outboxIDs(due))
			}
			{ // Event
				before, err := tx.Events(ctx, 0, 100)
				require.NoError(t, err)
				require.Len(t, before, 1)
				ev := event(emailflow.EventAccepted, "new-1", 2)
				require.NoError(t, tx.AppendEvent(ctx, ev))
				evs, err := tx.Events(ctx, before[0].Seq, 100)
				require.NoError(t, err)
				require.Len(t, evs, 1)
				same(t, *ev, evs[0])
			}
			{ // Agent
				a := agent("bob", "sales")
				require.NoError(t, tx.PutAgent(ctx, a))
				got, err := tx.Agent(ctx, "bob")
				require.NoError(t, err)
				same(t, a, got)
				as, err := tx.Agents(ctx, "sales")
				require.NoError(t, err)
				assert.Equal(t, []string{"ann", "bob"}, agentIDs(as))
			}
		})
		// And all of it is there after the commit.
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			it, err := tx.Interaction(ctx, "new-1")
			require.NoError(t, err)
			assert.Equal(t, int64(2), it.Version)
			_, err = tx.Email(ctx, "new-mail")
			require.NoError(t, err)
			o, err := tx.OutboxItem(ctx, "new-out")
			require.NoError(t, err)
			assert.Equal(t, emailflow.OutboxFailed, o.State)
			evs, err := tx.Events(ctx, 0, 100)
			require.NoError(t, err)
			assert.Len(t, evs, 2)
			_, err = tx.Agent(ctx, "bob")
			require.NoError(t, err)
		})
	})
}
