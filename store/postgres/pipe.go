package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipe is a transaction on a pooled connection that saves round trips:
// statements whose result nobody reads (BEGIN, a lock taken before a
// read, a cache refresh, the last writes before COMMIT) wait in pending
// and go to the server in one batch with the next statement that is
// read, or with COMMIT. PostgreSQL runs them in order, so the read sees
// them done. An error of a pending statement is returned by the
// statement it rode with (naming it), and the transaction is then
// aborted, as it would have been.
type pipe struct {
	c       *pgxpool.Conn
	pending []pendingStmt
	begun   bool // BEGIN has reached the server
	// broken is set when a write was refused after it reached the server
	// (a check's answer, see laterCheck), or when a batch failed before
	// such an answer was read: the server may hold a write it would
	// refuse, so the transaction must not commit (see commit).
	broken error
	// refused is the error of a write the server refused itself (see
	// laterRefusing): the transaction, aborted, cannot commit, and Update
	// returns this error whatever the action made of it.
	refused error
	// events are the events appended, written in one statement with
	// COMMIT, or before a read of the events (see laterEvent).
	events eventRows
}

// eventRows are events waiting to be inserted, column by column: one
// statement inserts them all from arrays (see eventsSQL), whatever their
// number.
type eventRows struct {
	sql     string // the insert, for the store's schema
	seq     []int64
	typ     []string
	iid     []string
	agent   []string
	actor   []string
	state   []string
	at      []time.Time
	detail  []string
	payload []*string // NULL for an event without payload
}

// eventsSQL inserts the events whose columns $1…$9 hold, numbered ahead:
// one prepared statement for any number of them.
const eventsSQL = `INSERT INTO {s}.events (seq, type, interaction_id, agent, actor, state, at, detail, payload)
	OVERRIDING SYSTEM VALUE SELECT u.seq, u.type, u.iid, u.agent, u.actor, u.state, u.at, u.detail, u.payload::jsonb
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[])
	AS u(seq, type, iid, agent, actor, state, at, detail, payload)`

// laterEvent queues an event numbered ahead. Nothing in the transaction
// reads the events but Events (which calls queueEvents first), and the
// feed sees them only once committed, all at once: so they wait for
// COMMIT and go in one statement with it, in the order appended.
func (p *pipe) laterEvent(sql string, seq int64, typ, iid, agent, actor, state string, at time.Time, detail string, payload *string) {
	r := &p.events
	r.sql = sql
	r.seq = append(r.seq, seq)
	r.typ = append(r.typ, typ)
	r.iid = append(r.iid, iid)
	r.agent = append(r.agent, agent)
	r.actor = append(r.actor, actor)
	r.state = append(r.state, state)
	r.at = append(r.at, at)
	r.detail = append(r.detail, detail)
	r.payload = append(r.payload, payload)
}

// queueEvents moves the events waiting into pending, as one statement:
// before COMMIT, or before a read that must see them.
func (p *pipe) queueEvents() {
	r := p.events
	if len(r.seq) == 0 {
		return
	}
	p.events = eventRows{}
	p.later("append event", r.sql, r.seq, r.typ, r.iid, r.agent, r.actor, r.state, r.at, r.detail, r.payload)
}

type pendingStmt struct {
	what string
	sql  string
	args []any
	// optional statements need not run when nothing else does (BEGIN).
	optional bool
	// read, when set, reads the statement's answer from the batch (a read
	// sent ahead, see txn.ahead) instead of discarding it.
	read func(pgx.BatchResults) error
	// check tells that read decides whether the transaction may commit:
	// it must not ride with COMMIT, which would run whatever it decides.
	check bool
	// refuses tells that the server itself raises an error when the
	// statement's write cannot be done (see laterRefusing).
	refuses bool
}

// begin opens a pipe whose BEGIN rides with the first statement. It takes
// the connection a View was parked on when there is one (see park), and
// then that View's ROLLBACK rides along too, before the BEGIN.
func (s *Store) begin(ctx context.Context, beginSQL string) (*pipe, error) {
	p := &pipe{}
	select {
	case c := <-s.parked:
		p.c = c
		p.pending = append(p.pending, pendingStmt{what: "end the read before", sql: "ROLLBACK"})
	default:
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		p.c = c
	}
	p.pending = append(p.pending, pendingStmt{what: "begin", sql: beginSQL, optional: true})
	return p, nil
}

// parkFor is how long a parked View's transaction may wait for the next
// transaction to end it before it is rolled back on its own: short, as it
// holds a snapshot and its tables' share locks meanwhile.
const parkFor = 10 * time.Millisecond

// park ends a View's pipe without a round trip of its own: the connection,
// still in the View's read-only transaction, waits for the next
// transaction of the Store, whose first batch sends the ROLLBACK (see
// begin), or for parkFor, after which it is rolled back and released. A
// read-only transaction holds no row lock and wrote nothing, so ending it
// later changes nothing anyone sees. One connection waits at most; a View
// that finds the place taken, or ends with its transaction failed (the
// next one's statements would be prepared inside it, before the
// ROLLBACK, and refused) or its connection unusable, rolls back as
// before.
func (s *Store) park(ctx context.Context, p *pipe) {
	p.pending = nil
	pc := p.c.Conn().PgConn()
	if pc.TxStatus() == 'T' && !pc.IsClosed() && !pc.IsBusy() {
		select {
		case s.parked <- p.c:
			if s.reaping.CompareAndSwap(false, true) {
				time.AfterFunc(parkFor, func() {
					s.reaping.Store(false)
					s.unpark()
				})
			}
			return
		default:
		}
	}
	p.rollback(ctx)
	p.release()
}

// unpark rolls back and releases the parked connection, if any.
func (s *Store) unpark() {
	select {
	case c := <-s.parked:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = c.Exec(ctx, "ROLLBACK")
		c.Release()
	default:
	}
}

// later queues a statement whose result is not read.
func (p *pipe) later(what, sql string, args ...any) {
	p.pending = append(p.pending, pendingStmt{what: what, sql: sql, args: args})
}

// send sends the pending statements and then b's in one batch, and reads
// the pending ones' results. On error the results are closed.
func (p *pipe) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if len(p.pending) == 0 {
		return p.c.SendBatch(ctx, b), nil
	}
	all := &pgx.Batch{}
	for _, s := range p.pending {
		all.Queue(s.sql, s.args...)
	}
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	pending := p.pending
	p.pending = nil
	br := p.c.SendBatch(ctx, all)
	for i, s := range pending {
		var err error
		if s.read != nil {
			err = s.read(br)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			if s.refuses && p.refused == nil {
				p.refused = mapErr(s.what, err) // typed when refused (see refusedWrite)
			}
			err = fmt.Errorf("%s: %w", s.what, err)
			// A write whose answer was not read, a check or one the server
			// may have refused, leaves the transaction unable to commit.
			if slices.ContainsFunc(pending[i+1:], func(s pendingStmt) bool { return s.check || s.refuses }) {
				p.broken = err
			}
			_ = br.Close()
			return nil, err
		}
		if s.what == "begin" {
			p.begun = true
		}
	}
	return br, nil
}

// laterRead queues a read whose answer read takes from the batch it
// rides in.
func (p *pipe) laterRead(what, sql string, args []any, read func(pgx.BatchResults) error) {
	p.pending = append(p.pending, pendingStmt{what: what, sql: sql, args: args, read: read})
}

// laterCheck is laterRead for a write whose answer read checks (a row
// count): an error it returns fails the statement it rides with, and
// COMMIT waits for it (see commit).
func (p *pipe) laterCheck(what, sql string, args []any, read func(pgx.BatchResults) error) {
	p.pending = append(p.pending, pendingStmt{what: what, sql: sql, args: args, read: read, check: true})
}

// laterRefusing queues a write whose failure the server raises itself
// (an error of the statement, which aborts the transaction): nothing in
// the transaction reads its answer, so it may ride with COMMIT, which then
// does not commit. Its error is returned by the statement it rode with
// and kept in refused.
func (p *pipe) laterRefusing(what, sql string, args ...any) {
	p.pending = append(p.pending, pendingStmt{what: what, sql: sql, args: args, refuses: true})
}

// flush sends the pending statements now, when one must run (a read
// sent ahead whose answer is wanted before anything else goes).
func (p *pipe) flush(ctx context.Context) error {
	if p.idle() {
		return nil
	}
	br, err := p.send(ctx, &pgx.Batch{})
	if err != nil {
		return err
	}
	return br.Close()
}

// Exec runs sql, with the pending statements.
func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(p.pending) == 0 {
		return p.c.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := p.send(ctx, b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryRow runs sql, with the pending statements.
func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(p.pending) == 0 {
		return p.c.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := p.send(ctx, b)
	if err != nil {
		return errRow{err}
	}
	return &batchRow{row: br.QueryRow(), br: br}
}

// Query runs sql, with the pending statements.
func (p *pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if len(p.pending) == 0 {
		return p.c.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br, err := p.send(ctx, b)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// SendBatch sends b after the pending statements; the caller reads b's
// results and closes them.
func (p *pipe) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br, err := p.send(ctx, b)
	if err != nil {
		return errBatch{err}
	}
	return br
}

// errTxRolledBack is COMMIT answered ROLLBACK: a statement had failed.
var errTxRolledBack = errors.New("the transaction was rolled back")

// commit sends COMMIT with the pending statements.
func (p *pipe) commit(ctx context.Context) error {
	if !p.begun && p.idle() && len(p.events.seq) == 0 {
		p.pending = nil // nothing was done: nothing to commit
		return nil
	}
	if p.broken != nil {
		return p.broken
	}
	if p.refused != nil {
		return p.refused
	}
	for _, s := range p.pending {
		if s.check {
			// Its answer may refuse the transaction: read it first.
			if err := p.flush(ctx); err != nil {
				return err
			}
			break
		}
	}
	p.queueEvents()
	b := &pgx.Batch{}
	b.Queue("COMMIT")
	br, err := p.send(ctx, b)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() == "ROLLBACK" {
		err = errTxRolledBack
	}
	return err
}

// idle reports whether the pending statements are all optional (the
// events waiting go with COMMIT: see laterEvent).
func (p *pipe) idle() bool {
	for _, s := range p.pending {
		if !s.optional {
			return false
		}
	}
	return true
}

// rollback ends the transaction, if one is open on the server.
func (p *pipe) rollback(ctx context.Context) {
	p.pending = nil
	p.events = eventRows{}
	// The server's state, not begun: a parked View's transaction may be
	// open though this pipe's BEGIN never left.
	if pc := p.c.Conn().PgConn(); p.begun || (pc.TxStatus() != 'I' && !pc.IsClosed() && !pc.IsBusy()) {
		_, _ = p.c.Exec(ctx, "ROLLBACK")
	}
}

// release gives the connection back (the pool closes it if it is still
// in a transaction).
func (p *pipe) release() { p.c.Release() }

// batchRow is a row read from a batch: Scan closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r *batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// batchRows are rows read from a batch: Close closes the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	cerr   error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.cerr = r.br.Close()
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.cerr
}

// errBatch is a batch that failed before its first statement.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
