package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
// wrote events, the store runs the sequencer in the background. The
// sequencer gives the committed events without a pos the next positions,
// in seq order, under a transaction-level advisory lock, in a transaction
// that takes its snapshot after the lock: the positions it gives follow
// all those given before, and it commits them at once, so a reader of
// pos > cursor sees a prefix of the feed and never a gap. Two events of
// one interaction are written by transactions that took turns on its row,
// so the second became visible after the first and gets the higher pos.
// Any process following the feed runs the sequencer when woken (the one
// that gets the lock does the work, then NOTIFYs again); none has to be
// elected.

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

// sequenceBatch bounds the events one sequencer run numbers.
const sequenceBatch = 10000

// sequence numbers the committed events that have no pos yet: when no
// other process is doing it, or, with wait, after the run under way. It
// is one round trip.
func (s *Store) sequence(ctx context.Context, wait bool) error {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	// The lock is tried in a statement of its own, so that the next
	// statement's snapshot is taken under it; a setting remembers whether
	// it was got.
	lock := `SELECT set_config('emailflow.sequencer', pg_try_advisory_xact_lock(hashtextextended($1, 0))::text, true)`
	if wait {
		lock = `SELECT set_config('emailflow.sequencer', 'true', true) FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) l`
	}
	b.Queue(lock, "emailflow sequencer "+s.schema)
	b.Queue(s.sql(`WITH next AS (
			SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM {s}.events
			WHERE pos IS NULL AND current_setting('emailflow.sequencer') = 'true'
			ORDER BY seq LIMIT `+fmt.Sprint(sequenceBatch)+`),
		top AS (SELECT coalesce(max(pos), 0) AS top FROM {s}.events),
		done AS (UPDATE {s}.events e SET pos = top.top + next.n FROM next, top WHERE e.seq = next.seq RETURNING e.pos)
		SELECT CASE WHEN count(*) > 0 THEN pg_notify($1, 's') END FROM done`), s.channel())
	b.Queue("COMMIT")
	err := s.pool.SendBatch(ctx, b).Close()
	if err != nil {
		return mapErr("sequence events", err)
	}
	return nil
}

// sequenceDelay is how long the background sequencer waits after a
// commit before it runs, gathering the commits that follow.
const sequenceDelay = 5 * time.Millisecond

// nudgeSequencer numbers, in the background, the events of a transaction
// that just committed, and so wakes the followers of every process (the
// sequencer notifies). Nudges that come while it runs are folded into one
// more run; no goroutine is left once it is done.
func (s *Store) nudgeSequencer() {
	s.again.Store(true)
	if !s.sequencing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			// Commits of other workers coming meanwhile are numbered by
			// the same run: under load, a run every sequenceDelay rather
			// than one per commit.
			time.Sleep(sequenceDelay)
			for s.again.Swap(false) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = s.sequence(ctx, false) // a follower runs it again when it reads
				cancel()
			}
			s.sequencing.Store(false)
			// A nudge between the last Swap and the Store above would be
			// lost: look once more.
			if !s.again.Load() || !s.sequencing.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// feedSQL reads a page of the feed, a range of the index events_pos.
const feedSQL = `SELECT pos, seq, type, interaction_id, agent, actor, state, at, detail, payload
	FROM {s}.events WHERE pos > $1 ORDER BY pos LIMIT $2`

// FeedAfter implements port.EventFeed: up to limit events after
// cursor, in feed order, with Cursor set. It first numbers the events
// committed since the last run (see sequence).
func (s *Store) FeedAfter(ctx context.Context, cursor int64, limit int) ([]port.Event, error) {
	if err := s.sequence(ctx, false); err != nil {
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
	if err := s.sequence(ctx, true); err != nil {
		return 0, err
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
