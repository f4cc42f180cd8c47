package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// enqueue adds outbox items, each in its own transaction.
func enqueue(t *testing.T, s emailflow.Store, os ...*emailflow.OutboxItem) {
	t.Helper()
	for _, o := range os {
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.Enqueue(ctx, o), "enqueue %s", o.ID)
		})
	}
}

// getOutbox returns the outbox item with id, which must exist.
func getOutbox(t *testing.T, s emailflow.Store, id string) *emailflow.OutboxItem {
	t.Helper()
	var o *emailflow.OutboxItem
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		o, err = tx.OutboxItem(ctx, id)
		require.NoError(t, err)
	})
	return o
}

// due returns the ids DueOutbox gives.
func due(t *testing.T, s emailflow.Store, now time.Time, limit int) []string {
	t.Helper()
	var os []*emailflow.OutboxItem
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		os, err = tx.DueOutbox(ctx, now, limit)
		require.NoError(t, err)
	})
	return outboxIDs(os)
}

// newOutboxStore returns a store holding the interaction "out" the outbox
// items belong to.
func newOutboxStore(t *testing.T, newStore newFunc) emailflow.Store {
	s := fresh(t, newStore)
	it := plain("out", interaction.KindOutbound, interaction.StateOutbox)
	create(t, s, it)
	return s
}

func testOutbox(t *testing.T, newStore newFunc) {
	t.Run("NotFound", func(t *testing.T) {
		s := newOutboxStore(t, newStore)
		enqueue(t, s, outboxItem("o1", 0))
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			o, err := tx.OutboxItem(ctx, "unknown")
			assert.ErrorIs(t, err, emailflow.ErrNotFound)
			assert.Nil(t, o)
		})
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := newOutboxStore(t, newStore)
		o := outboxItem("o1", 0)
		o.Attempts, o.LastError = 2, "421 try later"
		enqueue(t, s, o.Clone())
		same(t, o, getOutbox(t, s, "o1"))
	})

	t.Run("EnqueueDuplicate", func(t *testing.T) {
		s := newOutboxStore(t, newStore)
		enqueue(t, s, outboxItem("o1", 0))
		dup := outboxItem("o1", -10)
		dup.To = []string{"someone@else.example"}
		err := s.Update(t.Context(), func(tx emailflow.Tx) error { return tx.Enqueue(t.Context(), dup) })
		assert.ErrorIs(t, err, emailflow.ErrConflict)
		same(t, outboxItem("o1", 0), getOutbox(t, s, "o1"), "the first item stays")
	})

	t.Run("Due", func(t *testing.T) {
		s := newOutboxStore(t, newStore)
		delivered, failed := outboxItem("delivered", -30), outboxItem("failed", -30)
		delivered.State, failed.State = emailflow.OutboxDelivered, emailflow.OutboxFailed
		// Ids in another order than their times, written in yet another.
		enqueue(t, s,
			outboxItem("b-now", 0),
			outboxItem("c-past", -20),
			delivered,
			outboxItem("a-future", 1),
			outboxItem("e-past", -5),
			failed,
			outboxItem("d-past", -10),
			outboxItem("f-second-later", 0))
		// f-second-later is due one second after now.
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			o, err := tx.OutboxItem(ctx, "f-second-later")
			require.NoError(t, err)
			o.NextAttempt = at(0).Add(time.Second)
			require.NoError(t, tx.UpdateOutbox(ctx, o))
		})
		for _, tc := range []struct {
			name  string
			now   time.Time
			limit int
			want  []string
		}{
			{"NotAfterNow", at(0), 100, []string{"c-past", "d-past", "e-past", "b-now"}},
			{"Limit", at(0), 2, []string{"c-past", "d-past"}},
			{"LimitOne", at(0), 1, []string{"c-past"}},
			{"Earlier", at(-10), 100, []string{"c-past", "d-past"}},
			{"Later", at(5), 100, []string{"c-past", "d-past", "e-past", "b-now", "f-second-later", "a-future"}},
			{"NothingDue", at(-60), 100, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := due(t, s, tc.now, tc.limit)
				if len(tc.want) == 0 {
					assert.Empty(t, got)
					return
				}
				assert.Equal(t, tc.want, got)
			})
		}
	})

	t.Run("DueInAnotherTimeZone", func(t *testing.T) {
		s := newOutboxStore(t, newStore)
		enqueue(t, s, outboxItem("o1", 0), outboxItem("o2", 60))
		paris := time.FixedZone("CET", 3600)
		assert.Equal(t, []string{"o1"}, due(t, s, at(30).In(paris), 10))
	})

	t.Run("Update", func(t *testing.T) {
		s := newOutboxStore(t, newStore)
		enqueue(t, s, outboxItem("o1", -2), outboxItem("o2", -1))
		require.Equal(t, []string{"o1", "o2"}, due(t, s, at(0), 10))

		// A failed attempt: retried later.
		retry := getOutbox(t, s, "o1")
		retry.Attempts, retry.LastError, retry.NextAttempt, retry.UpdatedAt = 1, "421 try later", at(5), at(0)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.UpdateOutbox(ctx, retry)) })
		same(t, retry, getOutbox(t, s, "o1"))
		assert.Equal(t, []string{"o2"}, due(t, s, at(0), 10))
		assert.Equal(t, []string{"o2", "o1"}, due(t, s, at(5), 10))

		// Delivered: never due again.
		sent := getOutbox(t, s, "o2")
		sent.State, sent.Attempts, sent.UpdatedAt = emailflow.OutboxDelivered, 1, at(1)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.UpdateOutbox(ctx, sent)) })
		same(t, sent, getOutbox(t, s, "o2"))
		assert.Equal(t, []string{"o1"}, due(t, s, at(100), 10))

		// Failed for good: not due either.
		gaveUp := getOutbox(t, s, "o1")
		gaveUp.State, gaveUp.LastError = emailflow.OutboxFailed, "550 no such user"
		update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.UpdateOutbox(ctx, gaveUp)) })
		assert.Empty(t, due(t, s, at(100), 10))

		// Pending again (a manual retry): due again.
		again := getOutbox(t, s, "o1")
		again.State, again.NextAttempt = emailflow.OutboxPending, at(50)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.UpdateOutbox(ctx, again)) })
		assert.Equal(t, []string{"o1"}, due(t, s, at(100), 10))
	})

	t.Run("Copies", func(t *testing.T) {
		mutate := func(o *emailflow.OutboxItem) {
			o.To[0], o.State, o.Attempts = "mallory@evil.example", emailflow.OutboxDelivered, 9
		}
		sources := []struct {
			name string
			get  func(t *testing.T, s emailflow.Store) *emailflow.OutboxItem
		}{
			{"AfterEnqueue", func(t *testing.T, s emailflow.Store) *emailflow.OutboxItem {
				o := outboxItem("o1", 0)
				enqueue(t, s, o)
				return o
			}},
			{"AfterUpdate", func(t *testing.T, s emailflow.Store) *emailflow.OutboxItem {
				enqueue(t, s, outboxItem("o1", 0))
				o := getOutbox(t, s, "o1")
				o.Attempts = 1
				update(t, s, func(ctx context.Context, tx emailflow.Tx) { require.NoError(t, tx.UpdateOutbox(ctx, o)) })
				return o
			}},
			{"FromOutboxItem", func(t *testing.T, s emailflow.Store) *emailflow.OutboxItem {
				enqueue(t, s, outboxItem("o1", 0))
				return getOutbox(t, s, "o1")
			}},
			{"FromDueOutbox", func(t *testing.T, s emailflow.Store) *emailflow.OutboxItem {
				enqueue(t, s, outboxItem("o1", 0))
				var os []*emailflow.OutboxItem
				view(t, s, func(ctx context.Context, tx emailflow.Tx) {
					var err error
					os, err = tx.DueOutbox(ctx, at(0), 10)
					require.NoError(t, err)
				})
				require.Len(t, os, 1)
				return os[0]
			}},
		}
		for _, src := range sources {
			t.Run(src.name, func(t *testing.T) {
				s := newOutboxStore(t, newStore)
				o := src.get(t, s)
				want := o.Clone()
				mutate(o)
				same(t, want, getOutbox(t, s, "o1"))
				assert.Equal(t, []string{"o1"}, due(t, s, at(0), 10))
			})
		}
	})
}
