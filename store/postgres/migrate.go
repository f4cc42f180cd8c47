package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrationFiles are the numbered migrations, NNNN_name.sql, each run once
// in its own transaction, {s} standing for the store's schema.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned by Migrate (and so by New and Open) when the
// database's schema has a version this package does not know: a newer
// release migrated it, and this one could misread what it stores. The
// error wraps it with both versions (see SchemaVersionError).
var ErrSchemaTooNew = errors.New("postgres: the database schema is newer than this release knows")

// SchemaVersionError tells the schema version found in the database and
// the newest one this package knows. It matches ErrSchemaTooNew.
type SchemaVersionError struct {
	Schema   string // the PostgreSQL schema
	Database int    // the version applied in the database
	Known    int    // the newest version this package has
}

// Error implements error.
func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("postgres: schema %s is at version %d, newer than %d, the newest this release knows: upgrade the application", e.Schema, e.Database, e.Known)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaVersionError) Is(target error) bool { return target == ErrSchemaTooNew }

// MigrationLockTimeout bounds how long a migration's statement waits for
// a table lock (lock_timeout, set in the migration's transaction). A
// statement queued for a table's ACCESS EXCLUSIVE lock behind another
// transaction makes every later statement on that table wait behind it,
// on every instance: the bound is how long live traffic may be held up by
// one attempt. Past it the attempt rolls back, traffic goes on, and
// Migrate tries again (see Migrate).
const MigrationLockTimeout = 2 * time.Second

// The backoff between two attempts of a migration that did not get its
// locks: it starts at migrationRetryMin and doubles up to
// migrationRetryMax, leaving room for the transactions in the way to end.
const (
	migrationRetryMin = 100 * time.Millisecond
	migrationRetryMax = 2 * time.Second
)

// ErrMigrationLocked is matched by the error Migrate returns when its
// context ended after an attempt of a migration had timed out waiting for
// a table lock (MigrationLockTimeout) and before one got them all: other
// transactions kept a table it changes. The error matches the context's
// error too (context.Canceled or context.DeadlineExceeded), and the
// schema stays at the version before that migration. A context that ends
// during a migration's first attempt gives an error matching the
// context's only: that attempt may have been waiting or working.
var ErrMigrationLocked = errors.New("postgres: migrate: a migration could not get its locks")

// lockNotAvailable is the SQLSTATE of a statement that gave up waiting for
// a lock (lock_timeout).
const lockNotAvailable = "55P03"

// deadlockDetected is the SQLSTATE of a transaction the server chose to
// end to break a deadlock: a migration that locks several tables, one
// after another, can close a cycle with a live transaction that wrote to
// a later one and then reads an earlier one. Rolled back, it is tried
// again as after a lock timeout, and the live transaction goes on.
const deadlockDetected = "40P01"

// migration is one numbered step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order, checking that they
// are numbered 1, 2, 3… without a gap.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: migration %s: not named NNNN_name.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migration %s: want number %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion returns the newest schema version this package knows:
// the number of its migrations.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // embedded files: a build that passes its tests has them right
	}
	return len(ms)
}

// Version returns the schema version applied in the database: 0 for an
// empty schema, 1 for a schema made before versions were recorded.
func (s *Store) Version(ctx context.Context) (int, error) {
	v, err := s.version(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// version reads the applied version. A schema with the store's tables but
// no schema_migrations table was made by the release before versions,
// whose statements are migration 1 (all idempotent): it counts as 0, so
// migration 1 runs again over it and records itself.
func (s *Store) version(ctx context.Context, q querier) (int, error) {
	var hasVersions bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.schema+".schema_migrations").Scan(&hasVersions); err != nil {
		return 0, err
	}
	if !hasVersions {
		return 0, nil
	}
	var v int
	err := q.QueryRow(ctx, s.sql("SELECT coalesce(max(version), 0) FROM {s}.schema_migrations")).Scan(&v)
	return v, err
}

// Migrate brings the schema up to SchemaVersion, running each migration
// the database has not had in a transaction of its own, and records it in
// the table schema_migrations. It is safe to run at every start, from
// several processes at once and while others serve traffic:
//
//   - when the schema is up to date it reads the version and returns: no
//     DDL, no table lock, so starting instances never wait for (or
//     deadlock with) the work of running ones;
//   - otherwise it takes a transaction-level advisory lock named after
//     the schema, reads the version again under it (another process may
//     have migrated meanwhile) and runs what is left, so every migration
//     runs once;
//   - a migration's statements wait at most MigrationLockTimeout for a
//     table lock, so that a transaction left open elsewhere does not
//     queue every statement on that table behind the migration. An
//     attempt that times out rolls back and is tried again after a pause
//     (100 ms, doubling up to 2 s) until it gets its locks or ctx ends;
//     the error then matches both ErrMigrationLocked and ctx.Err(). Live
//     traffic runs between attempts. An attempt the server ends to break
//     a deadlock with live traffic is tried again the same way. Other
//     errors are returned at once.
//
// When ctx ends before a migration is done, that migration rolls back
// whole, those before it stay, and the error matches ctx.Err().
//
// A database at a newer version than this release knows gives a
// *SchemaVersionError matching ErrSchemaTooNew, and nothing is changed.
// It needs the CREATE privilege on the schema (and on the database when
// the schema does not exist yet).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.migrateTo(ctx, ms, len(ms))
}

// migrateTo brings the schema up to version n of ms (n ≤ len(ms)), one
// migration at a time, trying again a migration whose attempt timed out
// waiting for a lock; the tests use it to make a schema of an older
// release.
func (s *Store) migrateTo(ctx context.Context, ms []migration, n int) error {
	v, err := s.version(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if v > len(ms) {
		return &SchemaVersionError{Schema: s.name, Database: v, Known: len(ms)}
	}
	pause, locked := migrationRetryMin, false
	lockedErr := func() error {
		return fmt.Errorf("%w: schema %s stays at version %d: %w", ErrMigrationLocked, s.name, v, ctx.Err())
	}
	for v < n {
		next, err := s.migrateOne(ctx, ms[:n], len(ms))
		var pg *pgconn.PgError
		switch {
		case err == nil:
			v, pause, locked = next, migrationRetryMin, false
			continue
		case ctx.Err() != nil && locked:
			return lockedErr()
		case ctx.Err() != nil:
			return fmt.Errorf("postgres: migrate: schema %s stays at version %d: %w (%w)", s.name, v, ctx.Err(), err)
		case !errors.As(err, &pg) || (pg.Code != lockNotAvailable && pg.Code != deadlockDetected):
			return err
		}
		// The attempt rolled back, releasing what it held: traffic
		// queued behind it goes on while this waits.
		locked = true
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return lockedErr()
		case <-t.C:
		}
		pause = min(2*pause, migrationRetryMax)
	}
	return nil
}

// migrateOne runs, under the schema's migration lock, the first of ms
// the database has not had, and returns the version it is at then; known
// is the newest version this release knows. Its statements wait for a
// table lock at most MigrationLockTimeout: past it the error has
// SQLSTATE 55P03 and the transaction is rolled back.
func (s *Store) migrateOne(ctx context.Context, ms []migration, known int) (int, error) {
	var at int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Waiting for another instance's migration holds up no traffic:
		// the bound starts after the advisory lock.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "emailflow migrate "+s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", MigrationLockTimeout.Milliseconds())); err != nil {
			return err
		}
		// CREATE SCHEMA checks the CREATE privilege on the database even
		// when the schema exists: look first, so that a role that owns
		// only its schema can migrate.
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", s.name).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+s.schema); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, s.sql(`CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`)); err != nil {
			return err
		}
		v, err := s.version(ctx, tx)
		if err != nil {
			return err
		}
		if v > known {
			return &SchemaVersionError{Schema: s.name, Database: v, Known: known}
		}
		at = v
		if v >= len(ms) {
			return nil // another process migrated meanwhile
		}
		m := ms[v]
		s.migrateAttempts.Add(1)
		if _, err := tx.Exec(ctx, s.render(m.sql)); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, s.sql("INSERT INTO {s}.schema_migrations (version, name) VALUES ($1, $2)"), m.version, m.name); err != nil {
			return err
		}
		at = m.version
		return nil
	})
	var sv *SchemaVersionError
	if errors.As(err, &sv) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	return at, nil
}
