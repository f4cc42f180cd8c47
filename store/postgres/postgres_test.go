package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
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
		t.Fatal(unreachable(poolErr))
	}
	return testPool
}

// unreachable says the database could not be reached, and how to point the
// tests at one.
func unreachable(err error) string {
	return fmt.Sprintf("store/postgres tests need a PostgreSQL database: %v\n"+
		"Point them at one with EMAILFLOW_POSTGRES_DSN (default %q), e.g.\n"+
		"  EMAILFLOW_POSTGRES_DSN='postgres://user@host:5432/db?sslmode=disable' go test ./store/postgres/\n"+
		"The tests create and drop schemas of their own there.", err, defaultDSN)
}

// connect opens a pool of at most conns connections and checks the
// database answers.
func connect(ctx context.Context, conns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn())
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = conns
	// The tests create and drop many schemas: waiting for each commit to
	// reach the disk would only slow them down.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
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

// Creating a schema with its tables and indexes takes tens of
// milliseconds, and the conformance suite asks for hundreds of empty
// stores: a schema a test is done with is emptied and handed to the next
// one. TestMain drops them all at the end.
var (
	schemaN    atomic.Int64
	schemasMu  sync.Mutex
	freeSchema []string
	allSchemas []string
)

// tables lists the store's tables, to empty a schema for reuse.
const tables = "interactions, emails, blobs, uploads, message_ids, ingest_keys, outbox, events, agents, agent_queues, contacts, contact_addresses, contact_keys, checkpoints, sender_rules, rate_counters"

// freshSchema returns the name of an empty schema with the store's tables,
// which t must not use after it ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	pool := sharedPool(t)
	schemasMu.Lock()
	var name string
	if n := len(freeSchema); n > 0 {
		name, freeSchema = freeSchema[n-1], freeSchema[:n-1]
	} else {
		name = fmt.Sprintf("eftest_%s_%d", runID, schemaN.Add(1))
		allSchemas = append(allSchemas, name)
	}
	schemasMu.Unlock()
	if err := createTestSchema(pool, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := empty(pool, name); err != nil {
			t.Logf("empty schema %s: %v", name, err)
			return // not reused; TestMain drops it
		}
		schemasMu.Lock()
		freeSchema = append(freeSchema, name)
		schemasMu.Unlock()
	})
	return name
}

// newSchema returns the name of a schema never used before, dropped when
// t ends: for a benchmark, which must not start on tables that an earlier
// test filled and emptied (their dead rows and grown indexes slow it
// until a vacuum, the more the later it runs).
func newSchema(t testing.TB) string {
	t.Helper()
	pool := sharedPool(t)
	name := fmt.Sprintf("eftest_%s_%d", runID, schemaN.Add(1))
	if err := createTestSchema(pool, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// empty deletes every row of the store's tables in schema, if it has them.
func empty(pool *pgxpool.Pool, schema string) error {
	ctx := context.Background()
	var exists bool
	err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", schema+".contact_keys").Scan(&exists)
	if err != nil || !exists {
		return fmt.Errorf("not migrated (%v)", err)
	}
	b := &pgx.Batch{}
	for _, table := range strings.Split(tables, ", ") {
		b.Queue("DELETE FROM " + pgx.Identifier{schema, table}.Sanitize())
	}
	return pool.SendBatch(ctx, b).Close()
}

// testSchemaNote is the comment of the schemas the tests create, with
// the time they were created.
const testSchemaNote = "emailflow store/postgres test schema, created "

// createTestSchema creates schema, unless it exists, with a comment
// saying when, so that a later run can drop it if this run dies.
func createTestSchema(pool *pgxpool.Pool, schema string) error {
	id := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	b.Queue("CREATE SCHEMA IF NOT EXISTS " + id)
	b.Queue("COMMENT ON SCHEMA " + id + " IS '" + testSchemaNote + time.Now().UTC().Format(time.RFC3339) + "'")
	if err := pool.SendBatch(context.Background(), b).Close(); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// dropStaleSchemas drops the test schemas of runs that died more than an
// hour ago without dropping theirs.
func dropStaleSchemas(pool *pgxpool.Pool) error {
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT n.nspname, d.description FROM pg_namespace n
		JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
		WHERE d.description LIKE $1`, testSchemaNote+"%")
	if err != nil {
		return err
	}
	var stale []string
	var name, note string
	_, err = pgx.ForEachRow(rows, []any{&name, &note}, func() error {
		created, err := time.Parse(time.RFC3339, strings.TrimPrefix(note, testSchemaNote))
		if err == nil && time.Since(created) > time.Hour {
			stale = append(stale, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range stale {
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			return err
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	if os.Getenv(crashSchemaEnv) != "" {
		os.Exit(crashChild()) // a child of TestCrashIngestAndDispatch
	}
	// Fail at once, with one message, rather than in every test.
	poolOnce.Do(func() { testPool, poolErr = connect(context.Background(), 16) })
	if poolErr != nil {
		fmt.Fprintln(os.Stderr, unreachable(poolErr))
		fmt.Println("FAIL")
		os.Exit(1)
	}
	if err := dropStaleSchemas(testPool); err != nil {
		fmt.Fprintf(os.Stderr, "drop the schemas of dead test runs: %v\n", err)
	}
	// Example drops its schema itself; created here, it is known to be
	// a test schema should the example die.
	if err := createTestSchema(testPool, exampleSchema()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if testPool != nil {
		for _, name := range append(allSchemas, exampleSchema()) {
			_, err := testPool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
			if err != nil {
				fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", name, err)
				code = 1
			}
		}
		testPool.Close()
	}
	os.Exit(code)
}

// freshStore returns a Store in an empty schema of its own on the shared
// pool.
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

// TestConformanceOrderedEvents: the store keeps the contract with
// Options.OrderedEvents too.
func TestConformanceOrderedEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T) emailflow.Store {
		s, err := postgres.New(t.Context(), sharedPool(t), &postgres.Options{Schema: freshSchema(t), OrderedEvents: true})
		if err != nil {
			t.Fatalf("postgres.New: %v", err)
		}
		return s
	})
}

// TestMigrateConcurrently: instances starting together on an empty
// schema all migrate it without error, and migrating again changes
// nothing.
func TestMigrateConcurrently(t *testing.T) {
	schema := freshSchema(t)
	pool := sharedPool(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: schema})
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	s, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: schema, NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
}

// TestOpen: Open makes a pool of its own, which Close closes.
func TestOpen(t *testing.T) {
	s, err := postgres.Open(t.Context(), dsn(), &postgres.Options{Schema: freshSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.View(t.Context(), func(tx emailflow.Tx) error { _, err := tx.Load(t.Context(), "ann"); return err }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Pool().Ping(t.Context()); err == nil {
		t.Fatal("the pool Open made is still open after Close")
	}
	if _, err := postgres.Open(t.Context(), "postgres://%zz", nil); err == nil {
		t.Fatal("Open accepted a malformed DSN")
	}
}

// TestPanicRollsBack: a transaction function that panics leaves nothing
// behind, and the connection it used goes back to the pool clean.
func TestPanicRollsBack(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(dsn())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // so the next transaction gets the same connection
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: freshSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not go on")
			}
		}()
		_ = s.Update(ctx, func(tx emailflow.Tx) error {
			it, _ := interaction.New("doomed", interaction.KindInbound, "system", time.Now())
			if err := tx.CreateInteraction(ctx, it); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	err = s.Update(ctx, func(tx emailflow.Tx) error {
		_, err := tx.Interaction(ctx, "doomed")
		if !errors.Is(err, emailflow.ErrNotFound) {
			return fmt.Errorf("after the panic: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTimesUTCMicroseconds: times read back are in UTC at microsecond
// precision, whatever location and precision they were written in.
func TestTimesUTCMicroseconds(t *testing.T) {
	s := freshStore(t)
	ctx := t.Context()
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 2, 10, 0, 0, 123456789, paris)
	want := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
	it, _ := interaction.New("t1", interaction.KindInbound, "system", at)
	it.State, it.Queue, it.QueuedAt = interaction.StateQueued, "q", at
	it.Notes = []interaction.Note{{Author: "ann", At: at, Text: "x"}}
	err := s.Update(ctx, func(tx emailflow.Tx) error { return tx.CreateInteraction(ctx, it) })
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx emailflow.Tx) error {
		got, err := tx.Interaction(ctx, "t1")
		if err != nil {
			return err
		}
		for name, v := range map[string]time.Time{"CreatedAt": got.CreatedAt, "QueuedAt": got.QueuedAt, "History[0].At": got.History[0].At, "Notes[0].At": got.Notes[0].At} {
			if v != want {
				t.Errorf("%s = %v, want %v", name, v, want)
			}
		}
		items, err := tx.Waiting(ctx, "q", 0, 1)
		if err != nil || len(items) != 1 {
			return fmt.Errorf("waiting: %v %v", items, err)
		}
		if items[0].QueuedAt != want {
			t.Errorf("Waiting QueuedAt = %v, want %v", items[0].QueuedAt, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if it.QueuedAt != at {
		t.Error("CreateInteraction changed the caller's value")
	}
}
