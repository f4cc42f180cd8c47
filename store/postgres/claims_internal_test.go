package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClaimsReadIndexes: every claim of a due timer, and the feed's
// read, is a range of its index on the due time (or position), not a
// scan of the table: with sequential scans priced out, the plan names
// the index.
func TestClaimsReadIndexes(t *testing.T) {
	dsn := os.Getenv("EMAILFLOW_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "eftest_plans_" + hex.EncodeToString(b[:])
	s, err := New(ctx, pool, &Options{Schema: schema})
	require.NoError(t, err)
	defer func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	}()
	now := time.Now()
	for _, c := range []struct {
		name, sql, index string
		args             []any
	}{
		{"due offers", claimOfferSQL, "interactions_offer_due", []any{now, []string{}}},
		{"expired preferences", claimPreferenceSQL, "interactions_prefer_due", []any{now, []string{}}},
		{"declined", claimDeclinedSQL, "interactions_declined", []any{[]string{}}},
		{"outbox", claimOutboxSQL, "outbox_due", []any{now}},
		{"feed", feedSQL, "events_pos", []any{int64(0), 100}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = tx.Exec(ctx, "SET LOCAL enable_seqscan = off")
			require.NoError(t, err)
			rows, err := tx.Query(ctx, "EXPLAIN "+s.sql(c.sql), c.args...)
			require.NoError(t, err)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err)
			plan := strings.Join(lines, "\n")
			assert.Contains(t, plan, c.index, plan)
			assert.NotContains(t, plan, "Seq Scan", plan)
		})
	}
}
