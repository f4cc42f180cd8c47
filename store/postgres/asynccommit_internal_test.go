package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/port"
)

// TestAsyncCommit: a transaction that asks for an asynchronous commit
// runs with synchronous_commit off, and only it: the next transaction on
// the same connection, and a read-only one that asks, have the server's
// setting; one that asks and does nothing else sends nothing.
func TestAsyncCommit(t *testing.T) {
	dsn := os.Getenv("EMAILFLOW_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.MaxConns = 1 // every transaction on the same connection
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "eftest_async_" + hex.EncodeToString(b[:])
	s, err := New(ctx, pool, &Options{Schema: schema})
	require.NoError(t, err)
	defer func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	}()
	var server string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&server))
	require.NotEqual(t, "off", server, "the test needs a server that commits durably")

	setting := func(tx port.Tx) string {
		var v string
		require.NoError(t, tx.(*txn).tx.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&v))
		return v
	}
	tests := []struct {
		name  string
		run   func(context.Context, func(port.Tx) error) error
		async bool
		want  string
	}{
		{"update asking", s.Update, true, "off"},
		{"update after it", s.Update, false, server},
		{"view asking", s.View, true, server},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			err := tc.run(ctx, func(tx port.Tx) error {
				if tc.async {
					tx.(port.AsyncCommitTx).AsyncCommit()
				}
				got = setting(tx)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	t.Run("asking alone", func(t *testing.T) {
		// A View's connection waits parked for the next transaction to
		// send its ROLLBACK: end it first.
		require.NoError(t, s.Update(ctx, func(tx port.Tx) error { setting(tx); return nil }))
		var p *pipe
		require.NoError(t, s.Update(ctx, func(tx port.Tx) error {
			tx.(port.AsyncCommitTx).AsyncCommit()
			p = tx.(*txn).tx
			return nil
		}))
		assert.False(t, p.begun, "a transaction that only asked must not reach the server")
	})
}
