package emailflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/storetest"
	transport "github.com/emailflow/emailflow/transport/memory"
)

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	const inbox = "imap://support@imap.boutique.example:993/INBOX"

	t.Run("None", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.ws.Checkpoint(ctx, inbox)
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
	})

	t.Run("Saved", func(t *testing.T) {
		f := newFixture(t, nil)
		saved, err := f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 17, Last: 40})
		require.NoError(t, err)
		want := emailflow.Checkpoint{Source: inbox, Validity: 17, Last: 40, UpdatedAt: f.clock.Now()}
		assert.Equal(t, want, saved)
		got, err := f.ws.Checkpoint(ctx, inbox)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})

	t.Run("NeverBackWithinOneValidity", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 17, Last: 40})
		require.NoError(t, err)
		f.clock.Advance(time.Minute)
		saved, err := f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 17, Last: 12})
		require.NoError(t, err)
		assert.EqualValues(t, 40, saved.Last, "another reader got further")
		got, err := f.ws.Checkpoint(ctx, inbox)
		require.NoError(t, err)
		assert.EqualValues(t, 40, got.Last)
		assert.Equal(t, f.clock.Now().Add(-time.Minute), got.UpdatedAt, "unchanged")

		saved, err = f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 17, Last: 41})
		require.NoError(t, err)
		assert.EqualValues(t, 41, saved.Last)
		assert.Equal(t, f.clock.Now(), saved.UpdatedAt)
	})

	t.Run("NewValidityStartsOver", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 17, Last: 40})
		require.NoError(t, err)
		saved, err := f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 18, Last: 2})
		require.NoError(t, err)
		assert.Equal(t, emailflow.Checkpoint{Source: inbox, Validity: 18, Last: 2, UpdatedAt: f.clock.Now()}, saved)
	})

	t.Run("NoSource", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Validity: 1, Last: 1})
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	})

	t.Run("StoreWithout", func(t *testing.T) {
		s := memory.New(nil)
		ws, err := emailflow.New(emailflow.Ports{Store: storetest.Plain(s), Sender: &transport.Sender{}, Directory: s}, nil)
		require.NoError(t, err)
		_, err = ws.Checkpoint(ctx, inbox)
		assert.ErrorIs(t, err, errors.ErrUnsupported)
		_, err = ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: inbox, Validity: 1, Last: 1})
		assert.ErrorIs(t, err, errors.ErrUnsupported)
	})
}
