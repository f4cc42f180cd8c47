package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
)

// checkpoints returns the store's checkpoint ability, skipping the test
// when its Tx has none (the ability is optional).
func checkpoints(t *testing.T, s emailflow.Store) {
	t.Helper()
	var ok bool
	view(t, s, func(_ context.Context, tx emailflow.Tx) {
		_, ok = tx.(emailflow.CheckpointTx)
	})
	if !ok {
		t.Skip("storetest: the store's Tx is no emailflow.CheckpointTx: checkpoints not checked")
	}
}

// readCheckpoint reads source's checkpoint in its own transaction.
func readCheckpoint(t *testing.T, s emailflow.Store, source string) (emailflow.Checkpoint, error) {
	t.Helper()
	var c emailflow.Checkpoint
	var err error
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		c, err = tx.(emailflow.CheckpointTx).Checkpoint(ctx, source)
	})
	return c, err
}

// putCheckpoint writes c in its own transaction, which must succeed.
func putCheckpoint(t *testing.T, s emailflow.Store, c emailflow.Checkpoint) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx emailflow.Tx) {
		require.NoError(t, tx.(emailflow.CheckpointTx).PutCheckpoint(ctx, c))
	})
}

func testCheckpoint(t *testing.T, newStore newFunc) {
	const inbox = "imap://support@imap.shop.example:993/INBOX"
	first := emailflow.Checkpoint{Source: inbox, Validity: 1700000000, Last: 41, UpdatedAt: at(1)}

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		got, err := readCheckpoint(t, s, inbox)
		assert.ErrorIs(t, err, emailflow.ErrNotFound, "read %+v", got)
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		putCheckpoint(t, s, first)
		got, err := readCheckpoint(t, s, inbox)
		require.NoError(t, err)
		same(t, first, got)
	})

	t.Run("LargestNumbers", func(t *testing.T) {
		// UIDVALIDITY and UIDs are unsigned 32-bit numbers: the largest
		// must come back as written, not negative or cut.
		s := fresh(t, newStore)
		checkpoints(t, s)
		c := emailflow.Checkpoint{Source: inbox, Validity: 1<<32 - 1, Last: 1<<32 - 2, UpdatedAt: at(2)}
		putCheckpoint(t, s, c)
		got, err := readCheckpoint(t, s, inbox)
		require.NoError(t, err)
		same(t, c, got)
	})

	t.Run("Replace", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		putCheckpoint(t, s, first)
		// A new numbering (UIDVALIDITY changed) starts lower: the store
		// replaces, whatever the numbers.
		next := emailflow.Checkpoint{Source: inbox, Validity: 1700000500, Last: 3, UpdatedAt: at(5)}
		putCheckpoint(t, s, next)
		got, err := readCheckpoint(t, s, inbox)
		require.NoError(t, err)
		same(t, next, got)
	})

	t.Run("SourcesAreIndependent", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		putCheckpoint(t, s, first)
		other := emailflow.Checkpoint{Source: "imap://ventes@imap.shop.example:993/INBOX", Validity: 7, Last: 900, UpdatedAt: at(3)}
		putCheckpoint(t, s, other)
		got, err := readCheckpoint(t, s, inbox)
		require.NoError(t, err)
		same(t, first, got)
		got, err = readCheckpoint(t, s, other.Source)
		require.NoError(t, err)
		same(t, other, got)
		_, err = readCheckpoint(t, s, "imap://support@imap.shop.example:993/Archive")
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
	})

	t.Run("RolledBack", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		putCheckpoint(t, s, first)
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			ct := tx.(emailflow.CheckpointTx)
			require.NoError(t, ct.PutCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: first.Validity, Last: 99, UpdatedAt: at(9)}))
			require.NoError(t, ct.PutCheckpoint(ctx, emailflow.Checkpoint{Source: "new-source", Validity: 1, Last: 1, UpdatedAt: at(9)}))
			// The transaction sees its own writes.
			got, err := ct.Checkpoint(ctx, inbox)
			require.NoError(t, err)
			assert.EqualValues(t, 99, got.Last)
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		got, err := readCheckpoint(t, s, inbox)
		require.NoError(t, err)
		same(t, first, got, "the rolled back write is gone")
		_, err = readCheckpoint(t, s, "new-source")
		assert.ErrorIs(t, err, emailflow.ErrNotFound, "the rolled back insert is gone")
	})

	t.Run("EmptySource", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			return tx.(emailflow.CheckpointTx).PutCheckpoint(ctx, emailflow.Checkpoint{Validity: 1, Last: 1})
		})
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	})

	t.Run("ReadOnly", func(t *testing.T) {
		s := fresh(t, newStore)
		checkpoints(t, s)
		ctx := t.Context()
		err := s.View(ctx, func(tx emailflow.Tx) error {
			return tx.(emailflow.CheckpointTx).PutCheckpoint(ctx, first)
		})
		require.Error(t, err, "a write in a read-only transaction")
		_, err = readCheckpoint(t, s, inbox)
		assert.ErrorIs(t, err, emailflow.ErrNotFound, "nothing was written")
	})
}
