package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
)

// TestFailedViewIsNotParked: a View whose read fails on the server leaves
// its transaction aborted; were it parked, the next Update on that
// connection would prepare its statements inside the aborted transaction,
// before the ROLLBACK riding in its batch, and fail.
func TestFailedViewIsNotParked(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	pool, err := connect(ctx, 1) // one connection: the Update gets the parked one
	require.NoError(t, err)
	defer pool.Close()
	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	defer s.Close()

	viewErr := s.View(ctx, func(tx emailflow.Tx) error {
		_, err := tx.Interaction(ctx, "bad\xff") // invalid UTF-8: a server error
		return err
	})
	require.Error(t, viewErr)
	err = s.Update(ctx, func(tx emailflow.Tx) error {
		return tx.PutAgent(ctx, &emailflow.Agent{ID: "ann", Status: emailflow.StatusReady, Queues: []string{"q"}, Capacity: 1})
	})
	require.NoError(t, err, "an Update after a failed View")
}

// TestParkedViewsLeakNoConnection: Views and Updates side by side on a
// pool of two, some Views failing, some panicking, some Updates cancelled
// after taking a parked connection; afterwards no connection stays
// acquired and no Update failed.
func TestParkedViewsLeakNoConnection(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	pool, err := connect(ctx, 2)
	require.NoError(t, err)
	defer pool.Close()
	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				switch (g + i) % 4 {
				case 0:
					_ = s.View(ctx, func(tx emailflow.Tx) error {
						_, err := tx.Interaction(ctx, "x")
						return err
					})
				case 1:
					func() {
						defer func() { _ = recover() }()
						_ = s.View(ctx, func(tx emailflow.Tx) error {
							_, _ = tx.Interaction(ctx, "x")
							panic("boom")
						})
					}()
				case 2:
					cctx, cancel := context.WithCancel(ctx)
					_ = s.Update(cctx, func(tx emailflow.Tx) error {
						cancel() // after begin took the parked connection, before its first batch
						_, err := tx.Interaction(cctx, "x")
						return err
					})
				case 3:
					if err := s.Update(ctx, func(tx emailflow.Tx) error {
						return tx.PutAgent(ctx, &emailflow.Agent{ID: fmt.Sprint("a", g), Status: emailflow.StatusReady, Queues: []string{"q"}, Capacity: 1})
					}); err != nil {
						failed.Add(1)
						t.Log(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	s.Close()
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, pool.Stat().AcquiredConns(), "connections still acquired")
	assert.Zero(t, failed.Load())
}

// TestUnreadCheckRefusesTheCommit: a read sent ahead fails on the client
// (an email that does not decode) in the batch that also carries
// PutEmail's row-count check, whose answer is then never read: the
// transaction must not commit, even when the function ignores the error.
func TestUnreadCheckRefusesTheCommit(t *testing.T) {
	ctx := t.Context()
	s := freshStore(t)
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
		for _, id := range []string{"a", "c"} {
			if err := tx.CreateInteraction(ctx, offeredTo(id, "")); err != nil {
				return err
			}
		}
		if err := tx.PutEmail(ctx, &emailflow.Email{ID: "mail-1", InteractionID: "a", Subject: "first"}); err != nil {
			return err
		}
		return tx.PutEmail(ctx, &emailflow.Email{ID: "mail-c", InteractionID: "c", Subject: "c"})
	}))
	// An email of c that this version cannot decode.
	_, err := s.Pool().Exec(ctx, `UPDATE `+pgx.Identifier{s.Schema()}.Sanitize()+`.emails SET data = '"not an email"' WHERE id = 'mail-c'`)
	require.NoError(t, err)
	var readErr error
	err = s.Update(ctx, func(tx emailflow.Tx) error {
		if err := tx.CreateInteraction(ctx, offeredTo("b", "")); err != nil {
			return err
		}
		tx.(interface{ PrefetchEmails(context.Context, string) }).PrefetchEmails(ctx, "c")
		if err := tx.PutEmail(ctx, &emailflow.Email{ID: "mail-1", InteractionID: "b", Subject: "taken"}); err != nil {
			return err
		}
		_, readErr = tx.Interaction(ctx, "a")
		return nil // the failed read ignored
	})
	require.Error(t, readErr)
	assert.Error(t, err, "PutEmail's check was not read: the transaction must not commit")
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		_, err := tx.Interaction(ctx, "b")
		assert.ErrorIs(t, err, emailflow.ErrNotFound, "b was not committed")
		e, err := tx.Email(ctx, "mail-1")
		require.NoError(t, err)
		assert.Equal(t, "a", e.InteractionID, "mail-1 still belongs to a")
		return nil
	}))
}
