package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/store/postgres"
)

// prefetcher is the read sent ahead of a Tx of store/postgres.
type prefetcher interface {
	PrefetchInteraction(ctx context.Context, id string)
}

// lastAt is when the tests of the checked write happen.
var lastAt = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// sameSchema returns a second Store on s's schema with a pool of its own:
// another instance of the application.
func sameSchema(t *testing.T, s *postgres.Store) *postgres.Store {
	t.Helper()
	pool, err := connect(t.Context(), 4)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	o, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: s.Schema()})
	require.NoError(t, err)
	return o
}

// queued stores a queued inbound interaction id.
func queued(t *testing.T, s *postgres.Store, id string) {
	t.Helper()
	it, err := interaction.New(id, interaction.KindInbound, "system", lastAt)
	require.NoError(t, err)
	it.State, it.Queue = interaction.StateQueued, "q"
	require.NoError(t, s.Update(t.Context(), func(tx emailflow.Tx) error { return tx.CreateInteraction(t.Context(), it) }))
}

// readAhead reads interaction id as an action does: sent ahead, then read.
func readAhead(ctx context.Context, tx emailflow.Tx, id string) (*interaction.Interaction, error) {
	tx.(prefetcher).PrefetchInteraction(ctx, id)
	return tx.Interaction(ctx, id)
}

// bump writes interaction id once more from s, as another instance's
// action would, with an event.
func bump(ctx context.Context, s *postgres.Store, id, note string) error {
	return s.Update(ctx, func(tx emailflow.Tx) error {
		it, err := tx.Interaction(ctx, id)
		if err != nil {
			return err
		}
		it.CaseData.Put("note", note, false)
		if err := tx.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: id, Actor: "other", At: lastAt, Detail: note})
	})
}

// eventsOf returns the details of the events of interaction id, by Seq.
func eventsOf(t *testing.T, s *postgres.Store, id string) []string {
	t.Helper()
	var out []string
	require.NoError(t, s.View(t.Context(), func(tx emailflow.Tx) error {
		evs, err := tx.Events(t.Context(), 0, 0)
		for _, e := range evs {
			if e.InteractionID == id {
				out = append(out, e.Detail)
			}
		}
		return err
	}))
	return out
}

// TestLastWriteRefusedAsUpdate: a write checked at the commit
// (UpdateInteractionLast, riding with the events and COMMIT) that the
// server refuses fails the transaction with the error UpdateInteraction
// gives in the same case, word for word (a stale version after another
// instance's write, an interaction gone, a changed thread), and nothing
// of the transaction is committed: not its event, not the interaction it
// created, not the write.
func TestLastWriteRefusedAsUpdate(t *testing.T) {
	cases := []struct {
		name string
		want error
		// meanwhile runs between the transaction's read and its write.
		meanwhile func(ctx context.Context, other *postgres.Store) error
		// change is the transaction's change of what it read.
		change func(it *interaction.Interaction)
	}{
		{"StaleVersion", emailflow.ErrStaleVersion, func(ctx context.Context, other *postgres.Store) error {
			return bump(ctx, other, "x", "meanwhile")
		}, nil},
		{"Gone", emailflow.ErrNotFound, func(ctx context.Context, other *postgres.Store) error {
			_, err := other.Pool().Exec(ctx, "DELETE FROM "+pgx.Identifier{other.Schema()}.Sanitize()+".interactions WHERE id = 'x'")
			return err
		}, nil},
		{"OtherThread", emailflow.ErrInvalidInput, nil, func(it *interaction.Interaction) { it.ThreadID = "elsewhere" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := map[bool]error{}
			for _, last := range []bool{false, true} {
				s := freshStore(t)
				other := sameSchema(t, s)
				ctx := t.Context()
				queued(t, s, "x")
				err := s.Update(ctx, func(tx emailflow.Tx) error {
					it, err := readAhead(ctx, tx, "x")
					if err != nil {
						return err
					}
					if tc.meanwhile != nil {
						require.NoError(t, tc.meanwhile(ctx, other))
					}
					created, err := interaction.New("created", interaction.KindOutbound, "ann", lastAt)
					require.NoError(t, err)
					if err := tx.CreateInteraction(ctx, created); err != nil {
						return err
					}
					it.Subject = "written"
					if tc.change != nil {
						tc.change(it)
					}
					if last {
						err = tx.(port.LastWriteTx).UpdateInteractionLast(ctx, it)
					} else {
						err = tx.UpdateInteraction(ctx, it)
					}
					if err != nil {
						return err
					}
					return tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "x", Actor: "ann", At: lastAt, Detail: "written"})
				})
				require.Error(t, err, "last %v", last)
				assert.ErrorIs(t, err, tc.want, "last %v", last)
				errs[last] = err
				assert.NotContains(t, eventsOf(t, s, "x"), "written", "last %v: the event is not committed", last)
				require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
					_, err := tx.Interaction(ctx, "created")
					assert.ErrorIs(t, err, emailflow.ErrNotFound, "last %v: the interaction created is not committed", last)
					it, err := tx.Interaction(ctx, "x")
					if errors.Is(err, emailflow.ErrNotFound) && tc.want == emailflow.ErrNotFound {
						return nil
					}
					require.NoError(t, err)
					assert.NotEqual(t, "written", it.Subject, "last %v: the write is not committed", last)
					return nil
				}))
			}
			assert.Equal(t, errs[false].Error(), errs[true].Error(), "the same error, checked at the commit or at once")
		})
	}
}

// TestLastWriteWaitsForTheRowLock: a checked write riding with COMMIT
// that waits for another instance's transaction holding the interaction's
// row, which then commits a new version, is refused with
// ErrStaleVersion; the other's write and event are kept, nothing of this
// transaction.
func TestLastWriteWaitsForTheRowLock(t *testing.T) {
	s := freshStore(t)
	other := sameSchema(t, s)
	ctx := t.Context()
	queued(t, s, "x")

	locked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open() // a failure below lets both transactions end
	otherDone := make(chan error, 1)
	go func() {
		otherDone <- other.Update(ctx, func(tx emailflow.Tx) error {
			it, err := tx.Interaction(ctx, "x")
			if err != nil {
				return err
			}
			it.Subject = "other"
			if err := tx.UpdateInteraction(ctx, it); err != nil { // holds the row
				return err
			}
			if err := tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "x", Actor: "bob", At: lastAt, Detail: "other"}); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()

	mine := make(chan error, 1)
	go func() {
		mine <- s.Update(ctx, func(tx emailflow.Tx) error {
			it, err := readAhead(ctx, tx, "x") // version 1, the other's not committed
			if err != nil {
				return err
			}
			<-locked
			it.Subject = "mine"
			if err := tx.(port.LastWriteTx).UpdateInteractionLast(ctx, it); err != nil {
				return err
			}
			return tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "x", Actor: "ann", At: lastAt, Detail: "mine"})
		})
	}()
	<-locked
	waitForLock(t, s, "refuse_interaction_write")
	open()
	require.NoError(t, <-otherDone)
	err := <-mine
	assert.ErrorIs(t, err, emailflow.ErrStaleVersion)
	assert.ErrorIs(t, err, emailflow.ErrConflict)
	assert.Equal(t, []string{"other"}, eventsOf(t, s, "x"))
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		it, err := tx.Interaction(ctx, "x")
		require.NoError(t, err)
		assert.Equal(t, "other", it.Subject)
		assert.Equal(t, int64(2), it.Version)
		return nil
	}))
}

// waitForLock waits until a statement of s's schema containing part
// waits for a lock.
func waitForLock(t *testing.T, s *postgres.Store, part string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := sharedPool(t).QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND position($1 in query) > 0 AND position($2 in query) > 0`, s.Schema(), part).Scan(&n)
		return err == nil && n > 0
	}, 10*time.Second, 5*time.Millisecond, "a statement with %q waits for a lock", part)
}

// TestLastWriteKeepsSeqOrder: the events' numbers taken with a read ahead
// serve a checked write only when they keep Seq increasing within the
// transaction (interaction b read first, so with lower numbers, and
// written after a: its write asks for new numbers); and across two
// instances writing one interaction at once, its events are in Seq order
// as their writes were committed.
func TestLastWriteKeepsSeqOrder(t *testing.T) {
	s := freshStore(t)
	ctx := t.Context()
	queued(t, s, "a")
	queued(t, s, "b")
	var seqs []int64
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		tx.(prefetcher).PrefetchInteraction(ctx, "b")
		tx.(prefetcher).PrefetchInteraction(ctx, "a")
		for _, id := range []string{"a", "b"} {
			it, err := tx.Interaction(ctx, id)
			if err != nil {
				return err
			}
			it.Subject = "written"
			if err := tx.(port.LastWriteTx).UpdateInteractionLast(ctx, it); err != nil {
				return err
			}
			e := &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: id, Actor: "ann", At: lastAt}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
			seqs = append(seqs, e.Seq)
		}
		return nil
	}))
	require.Len(t, seqs, 2)
	assert.Less(t, seqs[0], seqs[1], "Seq increases within the transaction")

	// Two instances, three workers each, write x with checked writes.
	queued(t, s, "x")
	stores := []*postgres.Store{s, sameSchema(t, s)}
	var wg sync.WaitGroup
	const writes = 8
	for w := range 6 {
		st := stores[w%2]
		wg.Go(func() {
			for range writes {
				for {
					err := st.Update(ctx, func(tx emailflow.Tx) error {
						it, err := readAhead(ctx, tx, "x")
						if err != nil {
							return err
						}
						it.Subject = "worker " + strconv.Itoa(w)
						if err := tx.(port.LastWriteTx).UpdateInteractionLast(ctx, it); err != nil {
							return err
						}
						// The version written, which the commit order follows.
						return tx.AppendEvent(ctx, &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "x", Actor: "ann", At: lastAt, Detail: strconv.FormatInt(it.Version, 10)})
					})
					if !errors.Is(err, emailflow.ErrConflict) {
						assert.NoError(t, err)
						break
					}
				}
			}
		})
	}
	wg.Wait()
	got := eventsOf(t, s, "x")
	want := make([]string, 6*writes)
	for i := range want {
		want[i] = strconv.Itoa(i + 2)
	}
	assert.Equal(t, want, got, "the versions written, in Seq order")
}

// TestCreateRefusedWithTheNextStatement: a new interaction's insert
// rides with the transaction's next statement; an id taken fails that
// statement with ErrConflict and the transaction commits nothing, even
// when the action went on.
func TestCreateRefusedWithTheNextStatement(t *testing.T) {
	s := freshStore(t)
	ctx := t.Context()
	queued(t, s, "x")
	queued(t, s, "y")
	var writeErr error
	err := s.Update(ctx, func(tx emailflow.Tx) error {
		dup, err := interaction.New("x", interaction.KindOutbound, "ann", lastAt)
		require.NoError(t, err)
		if err := tx.CreateInteraction(ctx, dup); err != nil {
			return err
		}
		y, err := tx.Interaction(ctx, "y")
		writeErr = err
		if err != nil {
			return nil // the action goes on, and the commit refuses
		}
		y.Subject = "written"
		return tx.UpdateInteraction(ctx, y)
	})
	assert.ErrorIs(t, writeErr, emailflow.ErrConflict, "the statement the insert rode with")
	assert.ErrorIs(t, err, emailflow.ErrConflict)
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		x, err := tx.Interaction(ctx, "x")
		require.NoError(t, err)
		assert.Equal(t, interaction.KindInbound, x.Kind, "the first x stays")
		y, err := tx.Interaction(ctx, "y")
		require.NoError(t, err)
		assert.Equal(t, int64(1), y.Version)
		return nil
	}))
}

// tracedInstances starts n Workspaces on one fresh schema, each on a pool
// of its own traced by c, with agent ann (queue support-fr) ready.
func tracedInstances(t *testing.T, c *tripCounter, n int, sender emailflow.Sender) ([]*emailflow.Workspace, *postgres.Store) {
	t.Helper()
	schema := freshSchema(t)
	var out []*emailflow.Workspace
	var first *postgres.Store
	for range n {
		cfg, err := pgxpool.ParseConfig(dsn())
		require.NoError(t, err)
		cfg.MaxConns = 4
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
		cfg.ConnConfig.Tracer = c
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		s, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: sender}, benchOptions())
		require.NoError(t, err)
		if first == nil {
			first = s
			require.NoError(t, ws.PutAgent(t.Context(), emailflow.Agent{ID: "ann", Queues: []string{"support-fr"}, Capacity: 10}))
			require.NoError(t, ws.As("ann").SetStatus(t.Context(), emailflow.StatusReady))
		}
		out = append(out, ws)
	}
	c.mu.Lock()
	c.on = true
	c.mu.Unlock()
	return out, first
}

// TestAcceptRaceCheckedAtTheCommit: ann accepts one offer from two
// instances at once, both having read it at the same version (its row,
// held elsewhere, keeps both writes waiting after the reads): both writes
// ride with COMMIT, the server refuses the second, and its instance
// answers ErrInvalidTransition as before (the retry sees the offer gone).
// One accept in the history, one accepted event.
func TestAcceptRaceCheckedAtTheCommit(t *testing.T) {
	c := &tripCounter{}
	ws, s := tracedInstances(t, c, 2, &countSender{})
	ctx := context.WithValue(t.Context(), counting{}, true)
	it, err := ws[0].Ingest(t.Context(), benchMailbox, bytes.NewReader(benchMail(benchOrder(t), 1)))
	require.NoError(t, err)
	require.Equal(t, "ann", it.OfferedTo)

	// Hold the interaction's row, so that both accepts read the offer,
	// then wait with their writes.
	hold, err := sharedPool(t).Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = hold.Rollback(context.Background()) }()
	_, err = hold.Exec(t.Context(), "SELECT 1 FROM "+pgx.Identifier{s.Schema()}.Sanitize()+".interactions WHERE id = $1 FOR UPDATE", it.ID)
	require.NoError(t, err)

	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() { _, errs[i] = w.As("ann").Accept(ctx, it.ID) })
	}
	require.Eventually(t, func() bool {
		var n int
		err := sharedPool(t).QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND position($1 in query) > 0 AND position('refuse_interaction_write' in query) > 0`, s.Schema()).Scan(&n)
		return err == nil && n == 2
	}, 10*time.Second, 5*time.Millisecond, "both accepts' writes wait for the row")
	require.NoError(t, hold.Rollback(t.Context()))
	wg.Wait()

	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, emailflow.ErrInvalidTransition, "instance %d", i)
	}
	assert.Equal(t, 1, won, "one accept wins: %v", errs)
	assert.Equal(t, 2, c.logged("refuse_interaction_write"), "both writes were checked by the server")
	got, err := ws[1].As("ann").Interaction(t.Context(), it.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, got.State)
	assert.Equal(t, "ann", got.Owner)
	accepts := 0
	for _, e := range got.History {
		if e.Action == string(interaction.EventAccept) {
			accepts++
		}
	}
	assert.Equal(t, 1, accepts, "one accept in the history")
	assert.Equal(t, 1, countEvents(t, s, it.ID, emailflow.EventAccepted))
}

// countEvents counts the events of type typ of interaction id.
func countEvents(t *testing.T, s *postgres.Store, id string, typ emailflow.EventType) int {
	t.Helper()
	n := 0
	require.NoError(t, s.View(t.Context(), func(tx emailflow.Tx) error {
		evs, err := tx.Events(t.Context(), 0, 0)
		for _, e := range evs {
			if e.InteractionID == id && e.Type == typ {
				n++
			}
		}
		return err
	}))
	return n
}

// gateSender lets a delivery through once the test opens the gate.
type gateSender struct {
	started chan struct{}
	open    chan struct{}
}

func (g *gateSender) Send(ctx context.Context, _ string, _ []string, _ []byte) error {
	close(g.started)
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestDeliveryOutcomeRacesAConcurrentChange: while the Sender has a
// reply, another transaction changes the outbound and holds its row; the
// outcome's write, checked with its COMMIT, waits, is refused once the
// change commits (a stale version), and the outcome is recorded again on
// the new version, as before: the reply is sent, once, with one sent
// event and the change kept.
func TestDeliveryOutcomeRacesAConcurrentChange(t *testing.T) {
	c := &tripCounter{}
	gate := &gateSender{started: make(chan struct{}), open: make(chan struct{})}
	ws, s := tracedInstances(t, c, 1, gate)
	ctx := context.WithValue(t.Context(), counting{}, true)
	ann := ws[0].As("ann")
	it, err := ws[0].Ingest(ctx, benchMailbox, bytes.NewReader(benchMail(benchOrder(t), 2)))
	require.NoError(t, err)
	_, err = ann.Accept(ctx, it.ID)
	require.NoError(t, err)
	d, err := ann.Reply(ctx, it.ID)
	require.NoError(t, err)

	type result struct {
		sent *emailflow.Sent
		err  error
	}
	done := make(chan result, 1)
	go func() {
		sent, err := ann.Send(ctx, d.ID, nil)
		done <- result{sent, err}
	}()
	<-gate.started
	before, err := ann.Interaction(t.Context(), d.ID)
	require.NoError(t, err)
	change, err := sharedPool(t).Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = change.Rollback(context.Background()) }()
	tag, err := change.Exec(t.Context(), "UPDATE "+pgx.Identifier{s.Schema()}.Sanitize()+".interactions SET version = version + 1 WHERE id = $1", d.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected())
	close(gate.open)
	waitForLock(t, s, "refuse_interaction_write")
	require.NoError(t, change.Commit(t.Context()))
	r := <-done
	require.NoError(t, r.err)

	got, err := ann.Interaction(t.Context(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, got.State)
	assert.Equal(t, before.Version+2, got.Version, "the change, then the outcome")
	delivers := 0
	for _, e := range got.History {
		if e.Action == string(interaction.EventDeliver) {
			delivers++
		}
	}
	assert.Equal(t, 1, delivers, "one delivery in the history")
	assert.Equal(t, 1, countEvents(t, s, d.ID, emailflow.EventSent))
	assert.GreaterOrEqual(t, c.logged("refuse_interaction_write"), 2, "the outcome was checked by the server, then written again")
	require.NotNil(t, r.sent)
}

// TestEventNumbersServeTheirInteraction: numbers taken ahead with the
// read or write of one interaction do not number an event of another.
// A transaction writes a (taking numbers); another instance then commits
// an event of b; the first reads b and appends an event of b: its number
// must come after the committed one, or a reader following Seq would
// have passed it. An event of an interaction the transaction creates
// takes them (nothing of it was committed before).
func TestEventNumbersServeTheirInteraction(t *testing.T) {
	s := freshStore(t)
	other := sameSchema(t, s)
	ctx := t.Context()
	queued(t, s, "a")
	queued(t, s, "b")
	var committed, mine, created, ofA int64
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		a, err := readAhead(ctx, tx, "a")
		if err != nil {
			return err
		}
		a.Subject = "written"
		if err := tx.UpdateInteraction(ctx, a); err != nil {
			return err
		}
		ea := &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "a", Actor: "ann", At: lastAt}
		if err := tx.AppendEvent(ctx, ea); err != nil {
			return err
		}
		ofA = ea.Seq
		// Another instance's action on b commits meanwhile.
		require.NoError(t, other.Update(ctx, func(tx emailflow.Tx) error {
			e := &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "b", Actor: "bob", At: lastAt}
			err := tx.AppendEvent(ctx, e)
			committed = e.Seq
			return err
		}))
		if _, err := tx.Interaction(ctx, "b"); err != nil {
			return err
		}
		eb := &emailflow.Event{Type: emailflow.EventUpdated, InteractionID: "b", Actor: "ann", At: lastAt}
		if err := tx.AppendEvent(ctx, eb); err != nil {
			return err
		}
		mine = eb.Seq
		n, err := interaction.New("n", interaction.KindOutbound, "ann", lastAt)
		if err != nil {
			return err
		}
		if err := tx.CreateInteraction(ctx, n); err != nil {
			return err
		}
		en := &emailflow.Event{Type: emailflow.EventDraft, InteractionID: "n", Actor: "ann", At: lastAt}
		err = tx.AppendEvent(ctx, en)
		created = en.Seq
		return err
	}))
	assert.Greater(t, mine, committed, "b's event after b's event committed before it")
	assert.Greater(t, mine, ofA, "Seq increases within the transaction")
	assert.Greater(t, created, mine, "Seq increases within the transaction")

	// Read in Seq order, b's events are in commit order.
	var got []string
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		evs, err := tx.Events(ctx, 0, 100)
		for _, e := range evs {
			if e.InteractionID == "b" {
				got = append(got, e.Actor)
			}
		}
		return err
	}))
	assert.Equal(t, []string{"bob", "ann"}, got)
}
