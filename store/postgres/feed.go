package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

var _ port.EventFeed = (*Store)(nil)

// The event feed: every committed event, in the order events became
// visible, to every process. Writers only insert (seq, pos NULL); they
// never wait for each other, and do not NOTIFY (a notifying transaction
// holds a database-wide lock through its commit). After a commit that
// wrote events, the store runs the sequencer in the background, at most
// once per interval (see DefaultSequenceInterval). The sequencer gives
// the committed events without a pos the next positions, in seq order,
// under a transaction-level advisory lock, in a statement whose snapshot
// is taken after the lock: the positions it gives follow all those given
// before, and it commits them at once, so a reader of pos > cursor sees a
// prefix of the feed and never a gap. Two events of one interaction are
// written by transactions that took turns on its row, so the second
// became visible after the first and gets the higher pos. Any process
// following the feed runs the sequencer before it reads, paced by the
// same interval (the one that gets the lock does the work, then NOTIFYs
// again); none has to be elected.

// feedPollEvery is how often a follower looks at the feed without being
// woken, in case a notification was lost with its connection.
const feedPollEvery = time.Second

// channel returns the LISTEN/NOTIFY channel of the store's schema: a
// fixed-length identifier, whatever the schema's name.
func (s *Store) channel() string { return s.notify }

func channelOf(schema string) string {
	h := sha256.Sum256([]byte(schema))
	return "emailflow_" + hex.EncodeToString(h[:12])
}

// DefaultSequenceInterval is the least time between two runs of a
// Store's sequencer when Options.SequenceInterval is zero. Under load the
// commits of every worker within one interval are numbered by one run
// (one statement, one disk flush, one notification) instead of a run for
// every few commits; an event reaches the followers of every process
// about one interval after its commit at most, plus the run.
const DefaultSequenceInterval = 20 * time.Millisecond

// sequencer paces a Store's runs of the sequencer: the background runs
// after commits and the runs before a read share one minimum interval.
type sequencer struct {
	interval time.Duration

	mu        sync.Mutex
	notBefore time.Time // no paced run starts before
	running   bool      // the background goroutine is on it
	again     bool      // a run is due: a commit, a read or a missed lock since the last run began

	runs atomic.Int64 // runs started, for the package's tests

	closed bool           // Close was called: no background run starts
	stop   chan struct{}  // closed by Close: the background run's wait ends
	idle   sync.WaitGroup // the background goroutine, for Close to wait on
}

// claim takes the next run when the interval since the last one has
// passed. A run that starts now numbers whatever committed before it, so
// the runs asked for until now are done by it. The caller holds mu.
func (q *sequencer) claim(now time.Time) bool {
	if now.Before(q.notBefore) {
		return false
	}
	q.notBefore, q.again = now.Add(q.interval), false
	return true
}

// sequenceBatch is the most events one run of the sequencer numbers (the
// LIMIT in migration 9's function): a run that numbered this many leaves
// others, and another run follows.
const sequenceBatch = 10000

// sequence runs the sequencer once: it numbers the committed events that
// have no pos yet (up to sequenceBatch), when no other run holds the lock
// or, with wait, after the run under way. It reports whether it got the
// lock and whether it numbered a full batch (more may be waiting). It is
// one round trip: the function (see migration 9) in a transaction of its
// own that says READ COMMITTED, which the function needs (its statement
// after the lock must take a snapshot of its own), whatever isolation
// the pool's sessions default to.
func (s *Store) sequence(ctx context.Context, wait bool) (got, full bool, err error) {
	s.seqr.runs.Add(1)
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	var n int
	b.Queue(s.sql(`SELECT {s}.sequence_events(hashtextextended($1, 0), $2, $3)`),
		"emailflow sequencer "+s.schema, s.channel(), wait).QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
	b.Queue("COMMIT")
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return false, false, mapErr("sequence events", err)
	}
	return n >= 0, n >= sequenceBatch, nil
}

// nudgeSequencer asks for a run of the sequencer in the background, after
// a commit that wrote events: it numbers them and so wakes the followers
// of every process (the sequencer notifies). The run starts at once when
// the interval since the last one has passed, else when it has: commits
// meanwhile are numbered by that one run. No goroutine is left once it is
// done.
func (s *Store) nudgeSequencer() {
	q := &s.seqr
	q.mu.Lock()
	q.again = true
	start := !q.running && !q.closed
	if start {
		q.running = true
		q.idle.Add(1)
	}
	q.mu.Unlock()
	if start {
		go s.sequenceLater()
	}
}

// stopSequencer ends the background runs, for Close: a run under way
// finishes, a wait for the next interval ends with one last run of what
// is due (this process's commits, numbered for the followers of every
// process), and nothing of the sequencer runs once it returns. Events
// left unnumbered by a failure are numbered by the next run of any
// process, or by its FeedHead: they are in the table.
func (s *Store) stopSequencer() {
	q := &s.seqr
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.stop)
	}
	q.mu.Unlock()
	q.idle.Wait()
}

// sequenceLater runs the sequencer while runs are due, one per interval
// at most.
func (s *Store) sequenceLater() {
	q := &s.seqr
	defer q.idle.Done()
	for {
		q.mu.Lock()
		if !q.again {
			q.running = false
			q.mu.Unlock()
			return
		}
		now := time.Now()
		closing := q.closed
		if !closing && !q.claim(now) {
			wait := time.NewTimer(q.notBefore.Sub(now))
			q.mu.Unlock()
			select {
			case <-wait.C:
			case <-q.stop:
				wait.Stop()
			}
			continue
		}
		if closing {
			// Close: one last run of what is due, now, and no more.
			q.again, q.running = false, false
		}
		q.mu.Unlock()
		timeout := 10 * time.Second
		if closing {
			timeout = 2 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		got, full, err := s.sequence(ctx, false)
		cancel()
		if closing {
			return
		}
		if err == nil && (!got || full) {
			// Another run held the lock (its snapshot may predate the
			// commits this one was for), or this one left events for the
			// next: run again an interval later.
			// (After an error, a follower's next read runs it, at least
			// every feedPollEvery.)
			q.mu.Lock()
			q.again = true
			q.mu.Unlock()
		}
	}
}

// sequenceBeforeRead numbers, before a read of the feed, the events
// committed since the last run, when the interval since then has passed;
// else it leaves them to a background run at the end of the interval,
// whose notification wakes the followers again (this process's too).
func (s *Store) sequenceBeforeRead(ctx context.Context) error {
	q := &s.seqr
	q.mu.Lock()
	ok := q.claim(time.Now())
	q.mu.Unlock()
	if ok {
		got, full, err := s.sequence(ctx, false)
		if got && !full {
			return nil
		}
		if err != nil {
			// The claim took the runs asked for until now: leave them to
			// the background (which tries once), not to this reader alone.
			s.nudgeSequencer()
			return err
		}
	}
	s.nudgeSequencer()
	return nil
}

// feedSQL reads a page of the feed, a range of the index events_pos.
const feedSQL = `SELECT pos, seq, type, interaction_id, agent, actor, state, at, detail, payload
	FROM {s}.events WHERE pos > $1 ORDER BY pos LIMIT $2`

// FeedAfter implements port.EventFeed: up to limit events after
// cursor, in feed order, with Cursor set. It first numbers the events
// committed since the last run, or has them numbered within an interval
// (see sequenceBeforeRead).
func (s *Store) FeedAfter(ctx context.Context, cursor int64, limit int) ([]port.Event, error) {
	if err := s.sequenceBeforeRead(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, s.sql(feedSQL), cursor, limit)
	if err != nil {
		return nil, mapErr("feed", err)
	}
	var out []port.Event
	var e port.Event
	var typ, state string
	var payload []byte
	_, err = pgx.ForEachRow(rows, []any{&e.Cursor, &e.Seq, &typ, &e.InteractionID, &e.Agent, &e.Actor, &state, &e.At, &e.Detail, &payload}, func() error {
		e.Type, e.State = port.EventType(typ), interaction.State(state)
		e.At = e.At.UTC()
		e.Answer, e.Review = nil, nil
		if len(payload) > 0 {
			var v eventPayload
			if err := json.Unmarshal(payload, &v); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			e.Answer, e.Review = v.Answer, v.Review
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, mapErr("feed", err)
	}
	return out, nil
}

// FeedHead implements port.EventFeed: the cursor of the newest event
// in the feed. It waits for a sequencer run under way and numbers what
// is left, so that every event committed before the call is at or before
// the cursor it returns (a subscription from now does not get them).
func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	for {
		// A run numbers at most sequenceBatch: the head must follow every
		// event committed before the call, however many wait.
		_, full, err := s.sequence(ctx, true)
		if err != nil {
			return 0, err
		}
		if !full {
			break
		}
	}
	var head int64
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT coalesce(max(pos), 0) FROM {s}.events`)).Scan(&head); err != nil {
		return 0, mapErr("feed head", err)
	}
	return head, nil
}

// FeedWake implements port.EventFeed. It listens on a connection of
// its own (not one of the pool's), opened again after an error, and also
// wakes every second in case a notification was lost.
func (s *Store) FeedWake(ctx context.Context) <-chan struct{} {
	wake := make(chan struct{}, 1)
	ping := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go func() {
		tick := time.NewTicker(feedPollEvery)
		defer tick.Stop()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					ping()
				}
			}
		}()
		for ctx.Err() == nil {
			err := s.listen(ctx, ping)
			if ctx.Err() != nil {
				return
			}
			_ = err // the connection broke: listen again, and look meanwhile
			ping()
			select {
			case <-ctx.Done():
			case <-time.After(feedPollEvery):
			}
		}
	}()
	return wake
}

// listen LISTENs on the schema's channel and calls ping on every
// notification, until ctx ends or the connection fails.
func (s *Store) listen(ctx context.Context, ping func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel()}.Sanitize()); err != nil {
		return err
	}
	ping() // events may have come while nobody listened
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		ping()
	}
}
