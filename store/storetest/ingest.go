package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// claim claims key for itID in its own transaction.
func claim(t *testing.T, s emailflow.Store, key, itID string) (owner string, claimed bool) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		owner, claimed, err = tx.ClaimIngest(ctx, key, itID)
		require.NoError(t, err)
	})
	return owner, claimed
}

func testClaimIngest(t *testing.T, newStore newFunc) {
	// The keys look like the Workspace's: mailbox and Message-ID, or
	// mailbox and content hash.
	const key = "support@shop.example|<m1@exemple.fr>"

	newStoreWithInteractions := func(t *testing.T) emailflow.Store {
		s := fresh(t, newStore)
		create(t, s,
			plain("first", interaction.KindInbound, interaction.StateNew),
			plain("second", interaction.KindInbound, interaction.StateNew))
		return s
	}

	t.Run("FirstClaim", func(t *testing.T) {
		s := newStoreWithInteractions(t)
		owner, claimed := claim(t, s, key, "first")
		assert.True(t, claimed)
		assert.Equal(t, "first", owner)
	})

	t.Run("SecondClaim", func(t *testing.T) {
		s := newStoreWithInteractions(t)
		claim(t, s, key, "first")
		for range 2 {
			owner, claimed := claim(t, s, key, "second")
			assert.False(t, claimed)
			assert.Equal(t, "first", owner, "the first owner keeps the key")
		}
	})

	t.Run("SecondClaimInSameTransaction", func(t *testing.T) {
		s := newStoreWithInteractions(t)
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			_, claimed, err := tx.ClaimIngest(ctx, key, "first")
			require.NoError(t, err)
			require.True(t, claimed)
			owner, claimed, err := tx.ClaimIngest(ctx, key, "second")
			require.NoError(t, err)
			assert.False(t, claimed)
			assert.Equal(t, "first", owner)
		})
		owner, claimed := claim(t, s, key, "second")
		assert.False(t, claimed)
		assert.Equal(t, "first", owner)
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		s := newStoreWithInteractions(t)
		claim(t, s, key, "first")
		for _, k := range []string{
			"support@shop.example|<m2@exemple.fr>",
			"sales@shop.example|<m1@exemple.fr>",
			"support@shop.example|<M1@exemple.fr>",
			"support@shop.example|sha256:9f86d081884c7d659a2feaa0c55ad015",
		} {
			owner, claimed := claim(t, s, k, "second")
			assert.True(t, claimed, "key %q", k)
			assert.Equal(t, "second", owner, "key %q", k)
		}
	})

	t.Run("RolledBack", func(t *testing.T) {
		s := newStoreWithInteractions(t)
		ctx := t.Context()
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			_, claimed, err := tx.ClaimIngest(ctx, key, "first")
			require.NoError(t, err)
			require.True(t, claimed)
			return errFail
		})
		require.ErrorIs(t, err, errFail)
		owner, claimed := claim(t, s, key, "second")
		assert.True(t, claimed, "the rolled back claim is gone")
		assert.Equal(t, "second", owner)
	})
}
