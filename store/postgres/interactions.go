package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// loadAgent returns the agent whose capacity it takes, or "": the owner
// while handling, the agent it is offered to, the agent who transferred it
// while the transfer is pending. It is the Go twin of the
// interactions.load_agent column.
func loadAgent(it *interaction.Interaction) string {
	switch it.State {
	case interaction.StateHandling:
		return it.Owner
	case interaction.StateOffered:
		return it.OfferedTo
	case interaction.StateTransferred:
		return it.TransferFrom
	}
	return ""
}

// interactionRow holds the column values of an interaction.
type interactionRow struct {
	skills []byte
	data   []byte
	it     *interaction.Interaction // normalized copy
}

func encodeInteraction(it *interaction.Interaction, version int64) (interactionRow, error) {
	c := it.Clone()
	c.Version = version
	normTimes(c)
	var r interactionRow
	var err error
	if len(c.Skills) > 0 {
		if r.skills, err = json.Marshal(c.Skills); err != nil {
			return r, fmt.Errorf("postgres: encode interaction %s: %w", it.ID, err)
		}
	}
	if r.data, err = json.Marshal(c); err != nil {
		return r, fmt.Errorf("postgres: encode interaction %s: %w", it.ID, err)
	}
	r.it = c
	return r, nil
}

func decodeInteraction(data []byte, version int64) (*interaction.Interaction, error) {
	it := new(interaction.Interaction)
	if err := json.Unmarshal(data, it); err != nil {
		return nil, fmt.Errorf("postgres: decode interaction: %w", err)
	}
	it.Version = version
	return it, nil
}

var insertInteraction = `INSERT INTO {s}.interactions (id, kind, state, owner, offered_to, queue,
	workbin, thread_id, contact_id, priority, queued_at, created_at, skills, language, declined,
	preferred, prefer_until, version, data, offered_at, sla_next, sla_due)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
ON CONFLICT (id) DO NOTHING
RETURNING ` + takeSeqs(23)

var updateInteraction = `UPDATE {s}.interactions i SET kind = $2, state = $3, owner = $4,
	offered_to = $5, queue = $6, workbin = $7, contact_id = $9, priority = $10, queued_at = $11,
	created_at = $12, skills = $13, language = $14, declined = $15, preferred = $16,
	prefer_until = $17, version = $18, data = $19, offered_at = $20, sla_next = $21, sla_due = $22
FROM (SELECT load_agent FROM {s}.interactions WHERE id = $1) o
WHERE i.id = $1 AND i.version = $23 AND i.thread_id = $8
RETURNING coalesce(o.load_agent, ''), ` + takeSeqs(24)

// updateChecked is updateInteraction for a write that rides with the
// statements after it, COMMIT included, when the transaction knows the
// old load agent and has the events' numbers (see UpdateInteractionLast):
// nothing is returned, and a write that changes no row raises the
// error that tells why (refuse_interaction_write, migration 11), which
// aborts the transaction.
const updateChecked = `WITH u AS (UPDATE {s}.interactions SET kind = $2, state = $3, owner = $4,
	offered_to = $5, queue = $6, workbin = $7, contact_id = $9, priority = $10, queued_at = $11,
	created_at = $12, skills = $13, language = $14, declined = $15, preferred = $16,
	prefer_until = $17, version = $18, data = $19, offered_at = $20, sla_next = $21, sla_due = $22
WHERE id = $1 AND version = $23 AND thread_id = $8 RETURNING 1)
SELECT {s}.refuse_interaction_write($1, $23, $8) WHERE NOT EXISTS (SELECT FROM u)`

// numberedRead is an interaction's row as a read sent ahead in a
// read-write transaction found it, with event numbers taken after the
// read (see prefetchNumbered).
type numberedRead struct {
	version int64
	la      string // its load agent at that version
	seqs    []int64
}

// prefetchNumbered queues the read sent ahead of interaction id in a
// read-write transaction (see PrefetchInteraction): the row, its load
// agent and seqsAhead numbers of the events' sequence, taken in the
// statement, after its snapshot. A write of the interaction at the
// version read then needs no answer of its own (UpdateInteractionLast):
// the load agent it replaces is the one read, and numbers taken after
// the read of version v come after those of any transaction that wrote
// v, which committed before the read; a transaction that writes v+1
// commits after this one, whose write succeeds only if v is still the
// version, and takes its numbers later. It reports whether it queued the
// read (not in a View, nor before the sequence is known).
func (t *txn) prefetchNumbered(id string, r *aheadRead) bool {
	seq := t.s.seq.Load()
	if t.readOnly || seq == nil {
		return false
	}
	t.tx.laterRead("read interaction "+id, t.s.sql(`SELECT data, version, coalesce(load_agent, ''), `+takeSeqs(2)+`
		FROM {s}.interactions WHERE id = $1`), []any{id, *seq},
		func(br pgx.BatchResults) error {
			var n numberedRead
			err := br.QueryRow().Scan(&r.data, &r.version, &n.la, &n.seqs)
			if errors.Is(err, pgx.ErrNoRows) {
				r.missing, err = true, nil
			} else if err == nil {
				n.version = r.version
				if t.numbered == nil {
					t.numbered = map[string]numberedRead{}
				}
				t.numbered[id] = n
			}
			r.sent = err == nil
			return err
		})
	return true
}

// takeSeqs is the expression of seqsAhead numbers of the events'
// sequence, the sequence being parameter $n (a regclass, given by name and
// looked up once per statement, see eventsSeq). A write of an
// interaction returns them, so that the events of the action, appended
// next, need not wait for their numbers (see AppendEvent). They are taken
// once the write holds the interaction's row: two transactions writing
// one interaction take them in the order they commit, and so an
// interaction's events are in Seq order as they were committed.
func takeSeqs(n int) string {
	return fmt.Sprintf(`ARRAY(SELECT nextval($%d::regclass) FROM generate_series(1, %d))`, n, seqsAhead)
}

func interactionArgs(r interactionRow) []any {
	c := r.it
	return []any{c.ID, string(c.Kind), string(c.State), c.Owner, c.OfferedTo, c.Queue,
		c.Workbin, c.ThreadID, c.ContactID, c.Priority, c.QueuedAt, c.CreatedAt, r.skills, c.Language,
		c.Declined, c.PreferredAgent, c.PreferUntil, c.Version, r.data, offeredAt(c), nullTime(c.SLA.Next), nullTime(c.SLA.Due)}
}

// offeredAt is the offered_at column of it: when it was offered, NULL when
// it is not on offer.
func offeredAt(it *interaction.Interaction) any {
	if it.OfferedAt.IsZero() {
		return nil
	}
	return it.OfferedAt
}

// nullTime is t, or SQL NULL for the zero time: the deadline indexes
// leave out the interactions without one.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Interaction implements port.Tx.
func (t *txn) Interaction(ctx context.Context, id string) (*interaction.Interaction, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	if it, ok, err := t.aheadInteraction(ctx, id); ok {
		return it, err
	}
	var data []byte
	var version int64
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT data, version FROM {s}.interactions WHERE id = $1`), id).Scan(&data, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("interaction", id)
	}
	if err != nil {
		return nil, mapErr("interaction", err)
	}
	it, err := decodeInteraction(data, version)
	if err != nil {
		return nil, err
	}
	t.noteRead(it)
	return it, nil
}

// noteRead remembers whose capacity a read interaction takes.
func (t *txn) noteRead(it *interaction.Interaction) {
	if t.readOnly {
		return
	}
	if t.readLA == nil {
		t.readLA = map[string]string{}
	}
	t.readLA[it.ID] = loadAgent(it)
}

// CreateInteraction implements port.Tx.
func (t *txn) CreateInteraction(ctx context.Context, it *interaction.Interaction) error {
	if err := t.writable(); err != nil {
		return err
	}
	t.forgetAhead("i " + it.ID)
	if it.ID == "" {
		return fmt.Errorf("%w: interaction without id", port.ErrInvalidInput)
	}
	r, err := encodeInteraction(it, 1)
	if err != nil {
		return err
	}
	// New here: no event of it can be committed before this transaction's
	// (see AppendEvent).
	if t.created == nil {
		t.created = map[string]bool{}
	}
	t.created[it.ID] = true
	seq, err := t.eventsSeq(ctx)
	if err != nil {
		return err
	}
	delete(t.numbered, it.ID)
	to := loadAgent(it)
	args := append(interactionArgs(r), seq)
	if !t.guardCounts(to) {
		if err := t.guardLoad(ctx, to); err != nil {
			return err
		}
		t.createLater(it.ID, args)
		it.Version = 1
		return t.moved(ctx, it.ID, "", to)
	}
	var seqs []int64
	t.writes++
	err = t.guardedInsert(ctx, to, args, &seqs)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: interaction %q exists", port.ErrConflict, it.ID)
	}
	if err != nil {
		return err
	}
	t.seqs, t.seqsDue, t.seqsFor = seqs, false, it.ID
	it.Version = 1
	return t.moved(ctx, it.ID, "", to)
}

// createLater queues the insert of a new interaction, whose answer (its
// event numbers, no row when the id exists) is read from the batch it
// rides in, with the transaction's next statement: an id taken breaks
// the transaction then (see pipe.broken), failing that statement and the
// commit with ErrConflict, as Enqueue's insert does. An event appended
// before that, which needs the numbers, sends it at once (see
// AppendEvent): no later than the insert went before.
func (t *txn) createLater(id string, args []any) {
	t.writes++
	w := t.writes
	t.seqs, t.seqsDue, t.seqsFor = nil, true, id
	t.tx.laterCheck("create interaction "+id, t.s.sql(insertInteraction), args,
		func(br pgx.BatchResults) error {
			var seqs []int64
			err := br.QueryRow().Scan(&seqs)
			if errors.Is(err, pgx.ErrNoRows) {
				t.tx.broken = fmt.Errorf("%w: interaction %q exists", port.ErrConflict, id)
				return t.tx.broken
			}
			if err == nil && t.writes == w {
				// No write since took numbers for the events.
				t.seqs, t.seqsDue, t.seqsFor = seqs, false, id
			}
			return err
		})
}

// UpdateInteraction implements port.Tx.
func (t *txn) UpdateInteraction(ctx context.Context, it *interaction.Interaction) error {
	return t.updateInteraction(ctx, it, false)
}

// UpdateInteractionLast implements port.LastWriteTx. When the
// transaction read the interaction ahead at the version written (see
// prefetchNumbered), and no event of the transaction has a higher number
// than those taken with that read (Seq increases within a transaction),
// the write waits for the next statement or COMMIT and rides with it
// (updateChecked): a refusal fails that statement or the commit, with
// the error UpdateInteraction gives, and nothing of the transaction is
// committed. Otherwise it is UpdateInteraction.
func (t *txn) UpdateInteractionLast(ctx context.Context, it *interaction.Interaction) error {
	return t.updateInteraction(ctx, it, true)
}

func (t *txn) updateInteraction(ctx context.Context, it *interaction.Interaction, last bool) error {
	if err := t.writable(); err != nil {
		return err
	}
	t.forgetAhead("i " + it.ID)
	r, err := encodeInteraction(it, it.Version+1)
	if err != nil {
		return err
	}
	to := loadAgent(it)
	if from, known := t.readLA[it.ID]; to != "" && (!known || from != to) {
		if err := t.guardLoad(ctx, to); err != nil {
			return err
		}
	}
	seq, err := t.eventsSeq(ctx)
	if err != nil {
		return err
	}
	if n, ok := t.numbered[it.ID]; last && ok && n.version == it.Version && len(n.seqs) > 0 && n.seqs[0] > t.lastSeq {
		t.tx.laterRefusing("update interaction", t.s.sql(updateChecked), append(interactionArgs(r), it.Version)...)
		delete(t.numbered, it.ID) // its numbers are this write's
		t.writes++
		t.seqs, t.seqsDue, t.seqsFor = n.seqs, false, it.ID
		it.Version++
		return t.moved(ctx, it.ID, n.la, to)
	}
	args := append(interactionArgs(r), it.Version, seq)
	var from string
	var seqs []int64
	t.writes++
	err = t.tx.QueryRow(ctx, t.s.sql(updateInteraction), args...).Scan(&from, &seqs)
	if errors.Is(err, pgx.ErrNoRows) {
		return t.whyNotUpdated(ctx, it)
	}
	if err != nil {
		return mapErr("update interaction", err)
	}
	it.Version++
	t.seqs, t.seqsDue, t.seqsFor = seqs, false, it.ID
	return t.moved(ctx, it.ID, from, to)
}

// whyNotUpdated tells why the update of it changed no row.
func (t *txn) whyNotUpdated(ctx context.Context, it *interaction.Interaction) error {
	var version int64
	var thread string
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT version, thread_id FROM {s}.interactions WHERE id = $1`), it.ID).Scan(&version, &thread)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return notFound("interaction", it.ID)
	case err != nil:
		return mapErr("update interaction", err)
	case version != it.Version:
		return fmt.Errorf("%w: interaction %s is at version %d, the write was based on %d", port.ErrStaleVersion, it.ID, version, it.Version)
	case thread != it.ThreadID:
		return fmt.Errorf("%w: interaction %s cannot change thread", port.ErrInvalidInput, it.ID)
	}
	// Changed and changed back between the two statements.
	return fmt.Errorf("%w: interaction %s changed concurrently", port.ErrConflict, it.ID)
}

// FindInteractions implements port.Tx.
func (t *txn) FindInteractions(ctx context.Context, q port.Query) ([]*interaction.Interaction, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var b strings.Builder
	var args []any
	b.WriteString(`SELECT data, version FROM {s}.interactions WHERE true`)
	eq := func(col, v string, partial bool) {
		if v != "" {
			args = append(args, v)
			b.WriteString(" AND " + col + " = $" + strconv.Itoa(len(args)))
			if partial {
				// The column's index holds only non-empty values: saying
				// so in the text lets the statement's cached (generic)
				// plan use it, which cannot know the value is not empty.
				b.WriteString(" AND " + col + " <> ''")
			}
		}
	}
	eq("kind", string(q.Kind), false)
	eq("owner", q.Owner, true)
	eq("offered_to", q.OfferedTo, true)
	eq("queue", q.Queue, false)
	eq("workbin", q.Workbin, true)
	if q.ThreadID != "" {
		// The thread's first interaction (thread_id = id) through the
		// primary key, the others through interactions_thread, which
		// holds only them (migration 10): a BitmapOr of the two. The
		// index's condition is in the text, so a generic plan uses it too.
		args = append(args, q.ThreadID)
		n := "$" + strconv.Itoa(len(args))
		b.WriteString(" AND ((id = " + n + " AND thread_id = " + n + ") OR (thread_id = " + n + " AND thread_id <> id))")
	}
	eq("contact_id", q.ContactID, true)
	if len(q.States) > 0 {
		b.WriteString(" AND state IN (")
		for i, s := range q.States {
			if i > 0 {
				b.WriteString(", ")
			}
			if stateLiteral(s) {
				// A literal, not a parameter: the statement's cached
				// (generic) plan can then use the partial indexes, whose
				// conditions are on state (interactions_open, the timers').
				b.WriteString("'" + string(s) + "'")
				continue
			}
			args = append(args, string(s))
			b.WriteString("$" + strconv.Itoa(len(args)))
		}
		b.WriteString(")")
	}
	b.WriteString(" ORDER BY priority DESC, queued_at, created_at, id")
	if q.Offset > 0 {
		args = append(args, q.Offset)
		b.WriteString(" OFFSET $" + strconv.Itoa(len(args)))
	}
	if q.Limit > 0 {
		args = append(args, q.Limit)
		b.WriteString(" LIMIT $" + strconv.Itoa(len(args)))
	}
	rows, err := t.tx.Query(ctx, t.s.sql(b.String()), args...)
	if err != nil {
		return nil, mapErr("find interactions", err)
	}
	var out []*interaction.Interaction
	var data []byte
	var version int64
	_, err = pgx.ForEachRow(rows, []any{&data, &version}, func() error {
		it, err := decodeInteraction(data, version)
		if err != nil {
			return err
		}
		t.noteRead(it)
		out = append(out, it)
		return nil
	})
	if err != nil {
		return nil, mapErr("find interactions", err)
	}
	return out, nil
}

// stateLiteral reports whether s can be written into SQL as a literal:
// one of the states the interaction package names (a fixed, small set of
// lower-case words), so that the statements a host's filters make stay
// few. Anything else is passed as a parameter (and matches nothing).
func stateLiteral(s interaction.State) bool {
	switch s {
	case interaction.StateNew, interaction.StateQueued, interaction.StateOffered, interaction.StateHandling,
		interaction.StateParked, interaction.StateTransferred, interaction.StateDone, interaction.StateDeleted,
		interaction.StateQuarantined, interaction.StateDraft, interaction.StateInReview, interaction.StateRejected,
		interaction.StateOutbox, interaction.StateSent, interaction.StateFailed, interaction.StateAnswered:
		return true
	}
	return false
}

// Load implements port.Tx.
func (t *txn) Load(ctx context.Context, agent string) (int, error) {
	if err := t.readable(); err != nil {
		return 0, err
	}
	if t.exact[agent] {
		return t.seen[agent], nil
	}
	n, err := t.count(ctx, agent)
	if err != nil {
		return 0, err
	}
	if _, locked := t.locked[agent]; locked {
		// Counted under the lock (after AgentOnly): exact from now on.
		t.counted(agent, n)
	} else {
		t.saw(agent, n)
	}
	return n, nil
}

// counted records agent's load as counted under its row lock, which this
// transaction holds: exact until it ends, with its own changes (moved).
func (t *txn) counted(agent string, n int) {
	t.saw(agent, n)
	if t.exact == nil {
		t.exact = map[string]bool{}
	}
	t.exact[agent] = true
}

func (t *txn) count(ctx context.Context, agent string) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT count(*) FROM {s}.interactions WHERE load_agent = $1`), agent).Scan(&n)
	if err != nil {
		return 0, mapErr("load", err)
	}
	return n, nil
}

// saw records that this read-write transaction read agent's load as n.
func (t *txn) saw(agent string, n int) {
	if t.readOnly {
		return
	}
	if t.seen == nil {
		t.seen = map[string]int{}
	}
	t.seen[agent] = n
}

// moved records that interaction id, which took from's capacity, now takes
// to's, and refreshes both agents' has_room flags: to's at once (guardLoad
// holds its lock already), from's at once when this transaction holds its
// lock, else just before the commit (see Update), so that taking the lock
// of an agent whose load went down does not come in the middle of an
// action, between the locks of a queue and of the agent offered to.
func (t *txn) moved(ctx context.Context, id, from, to string) error {
	if t.readLA == nil {
		t.readLA = map[string]string{}
	}
	t.readLA[id] = to
	if from == to {
		return nil
	}
	if n, ok := t.seen[from]; ok && from != "" {
		t.seen[from] = n - 1
	}
	if n, ok := t.seen[to]; ok && to != "" {
		t.seen[to] = n + 1
	}
	if _, locked := t.locked[from]; from != "" && !locked {
		if t.dirty == nil {
			t.dirty = map[string]bool{}
		}
		t.dirty[from] = true
	} else if from != "" {
		if err := t.refreshRoom(ctx, from); err != nil {
			return err
		}
	}
	if to != "" {
		return t.refreshRoom(ctx, to)
	}
	return nil
}

// refreshDirty refreshes, before the commit, the agents whose load went
// down in this transaction and whose lock it did not hold.
func (t *txn) refreshDirty(ctx context.Context) error {
	agents := make([]string, 0, len(t.dirty))
	for a := range t.dirty {
		agents = append(agents, a)
	}
	slices.Sort(agents) // one lock order for all transactions
	for _, a := range agents {
		if err := t.refreshRoom(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// refreshRoom sets agent_queues.has_room of agent, whose load this
// transaction changed. It holds the agent's row lock (taking it if
// needed): every transaction that changes an agent's load does the same,
// so they take turns on the lock and none commits a change of the load
// that another, holding the lock, does not know; the flag cannot drift
// from the load. When this transaction counted the load under the lock
// (exact), the flag is written from that count, adjusted for its own
// writes, once, before the commit or a read of the flag (flushRoom), or
// with a PutAgent of the agent; else from a count in the statement, after
// the lock.
func (t *txn) refreshRoom(ctx context.Context, agent string) error {
	delete(t.dirty, agent)
	if _, ok := t.locked[agent]; ok {
		if t.exact[agent] {
			if t.room == nil {
				t.room = map[string]bool{}
			}
			t.room[agent] = true
			return nil
		}
		// Nothing reads its result: it rides with the next statement or
		// the COMMIT (see pipe), still after the lock and before the end.
		t.tx.later("refresh agent", t.s.sql(refreshCounted), agent)
		return nil
	}
	b := &pgx.Batch{}
	var capacity int
	b.Queue(t.s.sql(`SELECT coalesce((SELECT max_load FROM {s}.agents WHERE id = $1 FOR UPDATE), 0)`), agent).QueryRow(func(r pgx.Row) error {
		return r.Scan(&capacity)
	})
	b.Queue(t.s.sql(refreshCounted), agent)
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return mapErr("refresh agent", err)
	}
	t.setLocked(agent, capacity)
	return nil
}

// refreshCounted sets has_room of agent $1 from a count of its load.
const refreshCounted = `UPDATE {s}.agent_queues SET has_room =
	(SELECT count(*) FROM {s}.interactions WHERE load_agent = $1) < max_load WHERE agent_id = $1`

// flushRoom queues the has_room refreshes left for later (see
// refreshRoom), from the loads known exactly; they run with the next
// statement or the COMMIT.
func (t *txn) flushRoom() {
	if len(t.room) == 0 {
		return
	}
	agents := make([]string, 0, len(t.room))
	for a := range t.room {
		agents = append(agents, a)
	}
	slices.Sort(agents)
	for _, a := range agents {
		t.tx.later("refresh agent", t.s.sql(`UPDATE {s}.agent_queues SET has_room = $2::integer < max_load WHERE agent_id = $1`), a, t.seen[a])
	}
	clear(t.room)
}

// roomWith writes agent's idle_since in agent_queues, whose other columns
// are unchanged (see PutAgent), and its has_room flag with it: from the
// load known exactly when there is one, else from a count after the lock
// (PutAgent's UPDATE of agents, just before, holds it).
func (t *txn) roomWith(agent string, idle time.Time) {
	if t.exact[agent] {
		t.tx.later("put agent", t.s.sql(`UPDATE {s}.agent_queues SET idle_since = $2, has_room = $3::integer < max_load WHERE agent_id = $1`),
			agent, idle, t.seen[agent])
		return
	}
	t.tx.later("put agent", t.s.sql(`UPDATE {s}.agent_queues SET idle_since = $2,
		has_room = (SELECT count(*) FROM {s}.interactions WHERE load_agent = $1) < max_load WHERE agent_id = $1`), agent, idle)
}

// guardLoad keeps an agent's capacity across processes. It is called
// before a write makes an interaction take agent's capacity. It locks the
// agent's row (SELECT … FOR UPDATE, held until the transaction ends), so
// that writes adding load to one agent take turns; then, when this
// transaction read the agent's load before (routing decides on it), it
// counts the load again: if another transaction changed it meanwhile and
// the agent has no room left, the decision was made on a stale load and
// the write is refused with ErrConflict, so the Workspace runs the action
// again and routes elsewhere. A write that adds load knowingly (a
// transfer to a busy colleague) reads no stale load and is not refused.
func (t *txn) guardLoad(ctx context.Context, agent string) error {
	if agent == "" {
		return nil
	}
	exp, seen := t.seen[agent]
	_, locked := t.locked[agent]
	if t.exact[agent] || !seen {
		// Counted under the lock already (nothing to compare), or never
		// read (nothing decided on a stale load).
		_, err := t.lockAgent(ctx, agent)
		return err
	}
	var capacity, n int
	if locked {
		capacity = t.locked[agent]
		var err error
		if n, err = t.count(ctx, agent); err != nil {
			return err
		}
	} else {
		// The lock and the count in one round trip, the count a
		// statement after the lock.
		b := &pgx.Batch{}
		b.Queue(t.s.sql(`SELECT coalesce((SELECT max_load FROM {s}.agents WHERE id = $1 FOR UPDATE), 0)`), agent).QueryRow(func(r pgx.Row) error {
			return r.Scan(&capacity)
		})
		b.Queue(t.s.sql(`SELECT count(*) FROM {s}.interactions WHERE load_agent = $1`), agent).QueryRow(func(r pgx.Row) error {
			return r.Scan(&n)
		})
		if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
			return mapErr("lock agent", err)
		}
		t.setLocked(agent, capacity)
	}
	if capacity == 0 {
		return nil
	}
	if n != exp && n >= capacity {
		return fmt.Errorf("%w: agent %s took other work meanwhile (load %d, read as %d, capacity %d)", port.ErrConflict, agent, n, exp, capacity)
	}
	t.counted(agent, n)
	return nil
}

// guardCounts reports whether guardLoad of agent would lock the agent and
// count its load again (see guardLoad).
func (t *txn) guardCounts(agent string) bool {
	_, seen := t.seen[agent]
	_, locked := t.locked[agent]
	return agent != "" && seen && !locked && !t.exact[agent]
}

// guardedInsert is guardLoad of agent and the insert of a new
// interaction in one round trip: the lock, the count, then the insert,
// whose event numbers go to seqs (pgx.ErrNoRows when the id exists). When
// the guard refuses, the row is written already: the refusal breaks the
// transaction, which can then only roll back (see pipe.broken), as the
// Workspace does with every ErrConflict.
func (t *txn) guardedInsert(ctx context.Context, agent string, args []any, seqs *[]int64) error {
	var capacity, n int
	exists := false
	b := &pgx.Batch{}
	b.Queue(t.s.sql(`SELECT coalesce((SELECT max_load FROM {s}.agents WHERE id = $1 FOR UPDATE), 0)`), agent).QueryRow(func(r pgx.Row) error {
		return r.Scan(&capacity)
	})
	b.Queue(t.s.sql(`SELECT count(*) FROM {s}.interactions WHERE load_agent = $1`), agent).QueryRow(func(r pgx.Row) error {
		return r.Scan(&n)
	})
	b.Queue(t.s.sql(insertInteraction), args...).QueryRow(func(r pgx.Row) error {
		err := r.Scan(seqs)
		if errors.Is(err, pgx.ErrNoRows) {
			exists, err = true, nil
		}
		return err
	})
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return mapErr("create interaction", err)
	}
	t.setLocked(agent, capacity)
	if exp := t.seen[agent]; capacity != 0 && n != exp && n >= capacity {
		t.tx.broken = fmt.Errorf("%w: agent %s took other work meanwhile (load %d, read as %d, capacity %d)", port.ErrConflict, agent, n, exp, capacity)
		return t.tx.broken
	}
	if capacity != 0 {
		t.counted(agent, n)
	}
	if exists {
		return pgx.ErrNoRows
	}
	return nil
}

// lockAgent takes the row lock of agent, once per transaction, and returns
// its capacity (0 when the agent has no record).
func (t *txn) lockAgent(ctx context.Context, agent string) (int, error) {
	if c, ok := t.locked[agent]; ok {
		return c, nil
	}
	var capacity int
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT max_load FROM {s}.agents WHERE id = $1 FOR UPDATE`), agent).Scan(&capacity)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, mapErr("lock agent", err)
	}
	t.setLocked(agent, capacity)
	return capacity, nil
}

func (t *txn) setLocked(agent string, capacity int) {
	if t.locked == nil {
		t.locked = map[string]int{}
	}
	t.locked[agent] = capacity
}

// eventsSeq returns the name of the events' sequence, which a write of an
// interaction takes numbers from (see takeSeqs). It is looked up once per
// Store, by New or else by the first transaction that needs it: asking
// the catalog for it in every write (pg_get_serial_sequence, a scan of
// pg_depend for each number) cost the server more than the numbers.
func (t *txn) eventsSeq(ctx context.Context) (string, error) {
	if p := t.s.seq.Load(); p != nil {
		return *p, nil
	}
	var name string
	if err := t.tx.QueryRow(ctx, seqQuery, t.s.schema+".events").Scan(&name); err != nil {
		return "", mapErr("events sequence", err)
	}
	t.s.seq.Store(&name)
	return name, nil
}

// seqQuery names the sequence of an events table's seq column.
const seqQuery = `SELECT pg_get_serial_sequence($1, 'seq')`
