package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// offeredTo is a new inbound interaction offered to agent.
func offeredTo(id, agent string) *interaction.Interaction {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return &interaction.Interaction{
		ID: id, Kind: interaction.KindInbound, State: interaction.StateOffered, ThreadID: id,
		Queue: "q", OfferedTo: agent, OfferedAt: now, QueuedAt: now, CreatedAt: now, UpdatedAt: now,
	}
}

// TestStaleLoadRefusesTheCreate: a transaction that read an agent's load,
// then offers the agent a new interaction after another transaction
// filled the agent, is refused with ErrConflict; the insert, sent with
// the guard's lock and count in one round trip, is not committed, even
// when the transaction's function ignores the refusal.
func TestStaleLoadRefusesTheCreate(t *testing.T) {
	tests := []struct {
		name   string
		ignore bool // fn returns nil after the refusal
	}{
		{"refusal returned", false},
		{"refusal ignored", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := freshStore(t)
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
				return tx.PutAgent(ctx, &emailflow.Agent{ID: "ann", Status: emailflow.StatusReady, Queues: []string{"q"}, Capacity: 1})
			}))
			var createErr error
			err := s.Update(ctx, func(tx emailflow.Tx) error {
				n, err := tx.Load(ctx, "ann")
				require.NoError(t, err)
				require.Zero(t, n, "ann has room as read")
				// Meanwhile another transaction fills ann.
				require.NoError(t, s.Update(ctx, func(other emailflow.Tx) error {
					return other.CreateInteraction(ctx, offeredTo("other", "ann"))
				}))
				createErr = tx.CreateInteraction(ctx, offeredTo("mine", "ann"))
				if tc.ignore {
					return nil
				}
				return createErr
			})
			require.ErrorIs(t, createErr, emailflow.ErrConflict)
			assert.ErrorIs(t, err, emailflow.ErrConflict, "the transaction does not commit")
			require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
				_, err := tx.Interaction(ctx, "mine")
				assert.ErrorIs(t, err, emailflow.ErrNotFound, "the refused interaction is not stored")
				n, err := tx.Load(ctx, "ann")
				require.NoError(t, err)
				assert.Equal(t, 1, n, "ann's capacity holds")
				return nil
			}))
		})
	}
}

// TestEmailOfAnotherInteractionRefusesTheTransaction: an email whose id
// another interaction's email has is refused, and the transaction that
// put it commits nothing, whether its write rode with a later read or
// with COMMIT, and even when the transaction's function ignores the
// refusal.
func TestEmailOfAnotherInteractionRefusesTheTransaction(t *testing.T) {
	tests := []struct {
		name     string
		thenRead bool // a read follows the write
	}{
		{"then COMMIT", false},
		{"then a read", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := freshStore(t)
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
				if err := tx.CreateInteraction(ctx, offeredTo("a", "")); err != nil {
					return err
				}
				return tx.PutEmail(ctx, &emailflow.Email{ID: "mail-1", InteractionID: "a", Subject: "first"})
			}))
			var readErr error
			err := s.Update(ctx, func(tx emailflow.Tx) error {
				if err := tx.CreateInteraction(ctx, offeredTo("b", "")); err != nil {
					return err
				}
				if err := tx.PutEmail(ctx, &emailflow.Email{ID: "mail-1", InteractionID: "b", Subject: "taken"}); err != nil {
					return err
				}
				if tc.thenRead {
					_, readErr = tx.Interaction(ctx, "a")
				}
				return nil // the refusal, if seen, is ignored
			})
			assert.ErrorIs(t, err, emailflow.ErrConflict, "the transaction does not commit")
			if tc.thenRead {
				assert.ErrorIs(t, readErr, emailflow.ErrConflict, "the read the write rode with is refused")
			}
			require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
				e, err := tx.Email(ctx, "mail-1")
				require.NoError(t, err)
				assert.Equal(t, "a", e.InteractionID)
				assert.Equal(t, "first", e.Subject)
				_, err = tx.Interaction(ctx, "b")
				assert.ErrorIs(t, err, emailflow.ErrNotFound, "nothing of the transaction is stored")
				return nil
			}))
		})
	}
}
