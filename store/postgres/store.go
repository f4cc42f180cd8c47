package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailflow/emailflow/port"
)

var (
	_ port.Store          = (*Store)(nil)
	_ port.Directory      = (*Store)(nil)
	_ port.ContactEnsurer = (*Store)(nil)
	_ port.SenderListTx   = (*txn)(nil)
	_ port.RateTx         = (*txn)(nil)
	_ port.LastWriteTx    = (*txn)(nil)
)

// errReadOnly is returned by writes in a View transaction.
var errReadOnly = errors.New("postgres: write in a read-only transaction")

// errTxDone is returned when a Tx is used after its function returned.
var errTxDone = errors.New("postgres: transaction used after it ended")

// Options configure a Store. Nil means the defaults.
type Options struct {
	// Schema is the PostgreSQL schema holding the store's tables. Default
	// "public". Migrate creates it when it does not exist. Several
	// Workspaces share data by using the same database and schema; tests
	// isolate themselves with a schema of their own.
	Schema string
	// NoMigrate makes New skip Migrate: the host runs it (or its own
	// migration tooling) once before starting.
	NoMigrate bool
	// OrderedEvents makes every Update take a lock shared by all the
	// processes using the schema before it runs fn, so read-write
	// transactions run one at a time, as on store/memory. Events then
	// become visible in Seq order: a process polling Events(after) never
	// misses an event whose transaction committed after a later one's. It
	// costs all write concurrency between processes; reads are not
	// affected. By default transactions run side by side and Seq order may
	// differ from commit order (see docs/postgres.md).
	OrderedEvents bool
	// SequenceInterval is the least time between two runs of the store's
	// event sequencer, which numbers committed events for the feed that
	// Subscribe follows across instances (see docs/postgres.md). The
	// commits of all workers within one interval are numbered by one run,
	// so a shorter interval delivers events sooner at the cost of more
	// runs under load. Zero means DefaultSequenceInterval; a negative
	// value is refused.
	SequenceInterval time.Duration
}

// Store is an emailflow Store and Directory kept in PostgreSQL, shared by
// every process that uses the same database and schema. It is safe for
// concurrent use. The zero value is not usable: create one with New or
// Open.
type Store struct {
	pool   *pgxpool.Pool
	schema string // quoted identifier
	name   string // Options.Schema as given
	owned  bool   // Close closes the pool
	serial bool   // Options.OrderedEvents
	notify string // the feed's LISTEN/NOTIFY channel

	mu      sync.RWMutex
	queries map[string]string // template → SQL with the schema filled in

	// parked holds the connection of a View whose ROLLBACK waits for the
	// next transaction (see park); reaping tells a timer will end it.
	parked  chan *pgxpool.Conn
	reaping atomic.Bool

	// seq is the events' sequence by name, once known (see eventsSeq).
	seq atomic.Pointer[string]

	// seqr paces the sequencer's runs (see nudgeSequencer).
	seqr sequencer

	// migrateAttempts counts the migrations this store began to run,
	// those rolled back for a lock timeout included, for the tests.
	migrateAttempts atomic.Int64
}

// New returns a Store on pool and, unless opts.NoMigrate, runs Migrate.
// The pool stays the caller's: Close does not close it.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: postgres: nil pool", port.ErrInvalidInput)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if o.SequenceInterval < 0 {
		return nil, fmt.Errorf("%w: postgres: negative SequenceInterval %v", port.ErrInvalidInput, o.SequenceInterval)
	}
	if o.SequenceInterval == 0 {
		o.SequenceInterval = DefaultSequenceInterval
	}
	s := &Store{pool: pool, schema: pgx.Identifier{o.Schema}.Sanitize(), name: o.Schema, serial: o.OrderedEvents, notify: channelOf(o.Schema), queries: map[string]string{}, parked: make(chan *pgxpool.Conn, 1)}
	s.seqr.interval = o.SequenceInterval
	s.seqr.stop = make(chan struct{})
	if !o.NoMigrate {
		if err := s.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	// The events' sequence, named once here rather than by every write of
	// an interaction; a schema not migrated yet leaves it to the first
	// transaction that writes one.
	var seq string
	if err := pool.QueryRow(ctx, seqQuery, s.schema+".events").Scan(&seq); err == nil && seq != "" {
		s.seq.Store(&seq)
	}
	return s, nil
}

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// string, see pgxpool.ParseConfig) and returns a Store on a pool of its
// own, which Close closes.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close ends the store's background work (the feed's sequencer makes
// one last run of what is due; see stopSequencer) and the read a View
// left parked (see park) and, when Open made the pool, closes it. No
// goroutine of the store's runs once it returns, except the wake-ups of
// FeedWake, which end with their context.
func (s *Store) Close() {
	s.stopSequencer()
	s.unpark()
	if s.owned {
		s.pool.Close()
	}
}

// Schema returns the PostgreSQL schema holding the store's tables.
func (s *Store) Schema() string { return s.name }

// Pool returns the connection pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// render returns the query template q with the schema in place of {s},
// for queries built on the fly, whose shapes are too many to cache.
func (s *Store) render(q string) string { return strings.ReplaceAll(q, "{s}", s.schema) }

// sql returns the query template q with the schema in place of {s}, from
// a cache: q must be one of a bounded set of templates.
func (s *Store) sql(q string) string {
	s.mu.RLock()
	out, ok := s.queries[q]
	s.mu.RUnlock()
	if ok {
		return out
	}
	out = strings.ReplaceAll(q, "{s}", s.schema)
	s.mu.Lock()
	s.queries[q] = out
	s.mu.Unlock()
	return out
}

// Update runs fn in a read-write transaction (READ COMMITTED); see
// port.Store. The transaction is rolled back when fn returns an error
// or panics (the panic goes on). It returns fn's error unchanged, or the
// database's: a serialization failure or deadlock PostgreSQL reports at
// commit wraps port.ErrConflict, so the Workspace retries the action.
func (s *Store) Update(ctx context.Context, fn func(port.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	ptx, err := s.begin(ctx, "BEGIN ISOLATION LEVEL READ COMMITTED")
	if err != nil {
		return mapErr("begin", err)
	}
	defer ptx.release()
	t := &txn{s: s, tx: ptx, ctx: ctx}
	committed := false
	defer func() {
		t.done = true
		if !committed {
			// Also when fn panics: the connection goes back to the pool
			// clean.
			ptx.rollback(context.WithoutCancel(ctx))
		}
	}()
	if s.serial {
		ptx.later("lock the store", `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "emailflow writes "+s.schema)
	}
	err = fn(t)
	if ptx.refused != nil {
		// A write the server refused (see laterRefusing) failed the
		// statement it rode with: the action's error, whatever the action
		// made of that statement's.
		return ptx.refused
	}
	if err != nil {
		return err
	}
	if ptx.broken != nil {
		return ptx.broken // before refreshing anything: it cannot commit
	}
	if len(t.dirty) > 0 {
		if err := t.refreshDirty(ctx); err != nil {
			return err
		}
	}
	t.flushRoom()
	t.done = true
	committed = true
	if err := ptx.commit(ctx); err != nil {
		committed = false // roll back whatever is left
		if ptx.refused != nil {
			return ptx.refused
		}
		return mapErr("commit", err)
	}
	if t.appended {
		s.nudgeSequencer()
	}
	return nil
}

// View runs fn in a read-only transaction (REPEATABLE READ, READ ONLY), so
// every read of fn sees the same snapshot; see port.Store.
func (s *Store) View(ctx context.Context, fn func(port.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ptx, err := s.begin(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	if err != nil {
		return mapErr("begin", err)
	}
	t := &txn{s: s, tx: ptx, ctx: ctx, readOnly: true}
	defer func() {
		t.done = true
		// Its ROLLBACK rides with the next transaction's first batch.
		s.park(context.WithoutCancel(ctx), ptx)
	}()
	return fn(t)
}

// txn is one transaction.
type txn struct {
	s        *Store
	tx       *pipe
	ctx      context.Context
	readOnly bool
	done     bool

	// The capacity guard (see guardLoad): the load of each agent as this
	// transaction last read it, plus its own changes since; the agents it
	// holds a row lock on, with their capacity (0 when the agent has no
	// record); and the load agent of each interaction it read.
	seen   map[string]int
	exact  map[string]bool // seen counted under the agent's lock
	locked map[string]int
	readLA map[string]string
	// queues are the queues whose routing lock it holds (see lockQueue).
	queues map[string]bool
	// dirty are the agents whose has_room flag is refreshed at commit
	// (see moved).
	dirty map[string]bool
	// room are the agents it holds locked, whose load it knows exactly
	// and changed, and whose has_room flag is written before the commit
	// or the next read of it (see refreshRoom).
	room map[string]bool
	// held are the agents' rows as it last read or wrote them under their
	// lock (see Agent and PutAgent).
	held map[string]*heldAgent
	// seqs are event numbers taken ahead (see takeSeqs); seqsDue tells
	// that the last write's are on their way (see createLater). writes
	// counts the writes of interactions, so that numbers arriving late
	// are not taken for a later write's. lastSeq is the highest number
	// given to an event of the transaction.
	seqs    []int64
	seqsDue bool
	// seqsFor is the interaction whose read or write took seqs: only its
	// events take them (see AppendEvent).
	seqsFor string
	// created are the interactions this transaction creates.
	created map[string]bool
	writes  int
	lastSeq int64
	// numbered are the interactions read ahead with event numbers (see
	// prefetchNumbered), by id.
	numbered map[string]numberedRead
	// outboxHeld are the outbox items whose rows it holds (holdOutbox).
	outboxHeld map[string]*heldOutbox
	// ahead are the reads sent ahead, by what they read (see ahead.go).
	ahead map[string]*aheadRead
	// emailsRead are the emails it read or wrote, by id (see noteEmails).
	emailsRead map[string]storedEmail
	// appended tells that it wrote events (see nudgeSequencer).
	appended bool
	// async tells that it commits asynchronously (see AsyncCommit).
	async bool
}

func (t *txn) readable() error {
	if t.done {
		return errTxDone
	}
	return nil
}

func (t *txn) writable() error {
	if t.done {
		return errTxDone
	}
	if t.readOnly {
		return errReadOnly
	}
	return nil
}

func notFound(what, id string) error {
	return fmt.Errorf("%w: no %s %q", port.ErrNotFound, what, id)
}

// mapErr wraps a database error: serialization failures, deadlocks and
// unique violations become port.ErrConflict, a write refused in a
// read-only transaction errReadOnly; the original error stays wrapped.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if r := refusedWrite(pe); r != nil {
			return r
		}
		switch pe.Code {
		case "40001", "40P01", "23505":
			return fmt.Errorf("%w: postgres: %s: %w", port.ErrConflict, op, err)
		case "25006":
			return fmt.Errorf("%w: postgres: %s: %w", errReadOnly, op, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// refusedWrite is the typed error of a write of an interaction the server
// refused (the function refuse_interaction_write, migration 11), as
// whyNotUpdated tells it; nil for any other error.
func refusedWrite(pe *pgconn.PgError) error {
	var kind error
	switch pe.Code {
	case "EF001":
		kind = port.ErrStaleVersion
	case "EF002":
		kind = port.ErrNotFound
	case "EF003":
		kind = port.ErrInvalidInput
	case "EF004":
		kind = port.ErrConflict
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", kind, pe.Message)
}
