package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
	"github.com/emailflow/emailflow/store/storetest"
)

// defaultDSN is the database the tests use when EMAILFLOW_POSTGRES_DSN is
// not set.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func dsn() string {
	if d := os.Getenv("EMAILFLOW_POSTGRES_DSN"); d != "" {
		return d
	}
	return defaultDSN
}

var (
	poolOnce sync.Once
	testPool *pgxpool.Pool
	poolErr  error
)

// sharedPool returns the pool every test of the package shares, failing
// the test with instructions when the database is unreachable.
func sharedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	poolOnce.Do(func() { testPool, poolErr = connect(context.Background(), 16) })
	if poolErr != nil {
		t.Fatalf("store/postgres tests need a PostgreSQL database: %v\n"+
			"Point them at one with EMAILFLOW_POSTGRES_DSN (default %q), e.g.\n"+
			"  EMAILFLOW_POSTGRES_DSN='postgres://user@host:5432/db?sslmode=disable' go test ./store/postgres/\n"+
			"The tests create and drop schemas of their own there.", poolErr, defaultDSN)
	}
	return testPool
}

// connect opens a pool of at most conns connections and checks the
// database answers.
func connect(ctx context.Context, conns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn())
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = conns
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// runID tells apart the schemas of test runs sharing a database.
var runID = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

var schemaN atomic.Int64

// freshSchema returns the name of a new schema, dropped when t ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	pool := sharedPool(t)
	name := fmt.Sprintf("eftest_%s_%d", runID, schemaN.Add(1))
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// freshStore returns a Store in a new schema on the shared pool.
func freshStore(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.New(t.Context(), sharedPool(t), &postgres.Options{Schema: freshSchema(t)})
	if err != nil {
		t.Fatalf("postgres.New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) emailflow.Store { return freshStore(t) })
}

func TestMigrateTwice(t *testing.T) {
	s := freshStore(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}
