package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/routing"
)

// agentRowSQL reads an agent without locking it (a View, AgentOnly).
const agentRowSQL = `SELECT data, max_load FROM {s}.agents WHERE id = $1`

func decodeAgent(data []byte) (*port.Agent, error) {
	a := new(port.Agent)
	if err := json.Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("postgres: decode agent: %w", err)
	}
	return a, nil
}

// Agent implements port.Tx. In a read-write transaction it locks the
// agent's row (SELECT … FOR UPDATE) until the transaction ends: actions on
// one agent, and routing decisions that read the agent's load after
// loading it, take turns across processes.
func (t *txn) Agent(ctx context.Context, id string) (*port.Agent, error) {
	return t.agent(ctx, id, true)
}

// AgentOnly implements port.AgentOnlyTx: the agent for an action that
// neither reads its load nor writes it (Accept, a draft), read without
// the row lock Agent takes and without the count. Such an action decides
// nothing on the agent's load, so it need not wait for another
// transaction of the agent (an offer to it, its Send) to commit: under
// several instances, agents' row locks were the longest waits. What it
// writes is still guarded: a write that moves load to an agent takes the
// lock and counts first (guardLoad), and a Load after it counts as for an
// agent not locked. An agent this transaction holds locked already is
// returned as held.
func (t *txn) AgentOnly(ctx context.Context, id string) (*port.Agent, error) {
	return t.agent(ctx, id, false)
}

func (t *txn) agent(ctx context.Context, id string, count bool) (*port.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var data []byte
	var capacity int
	if t.readOnly || (!count && t.held[id] == nil) {
		err := t.tx.QueryRow(ctx, t.s.sql(agentRowSQL), id).Scan(&data, &capacity)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, notFound("agent", id)
		}
		if err != nil {
			return nil, mapErr("agent", err)
		}
		return decodeAgent(data)
	}
	if h, ok := t.held[id]; ok {
		// This transaction holds the row lock and read or wrote the row
		// last: no other can have changed it. Nor, while the lock is
		// held, can another commit a change of the agent's load (see
		// guardLoad and moved), so a load counted under it, adjusted for
		// this transaction's own writes (moved), is still exact.
		if count && !t.exact[id] {
			n, err := t.count(ctx, id)
			if err != nil {
				return nil, err
			}
			t.counted(id, n)
		}
		return decodeAgent(h.data)
	}
	// Locked, and its load counted in the same round trip by a statement
	// after the lock: while this transaction holds the lock, no other can
	// commit a change of the agent's load (see guardLoad and moved), so
	// Load and guardLoad need not count again, nor count when it was
	// counted under the lock already (guardLoad).
	found := false
	var n int
	// An agent counted under its lock already is not counted again.
	skip := t.exact[id]
	b := &pgx.Batch{}
	b.Queue(t.s.sql(`SELECT data, max_load FROM {s}.agents WHERE id = $1 FOR UPDATE`), id).QueryRow(func(r pgx.Row) error {
		err := r.Scan(&data, &capacity)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if !skip {
		b.Queue(t.s.sql(`SELECT count(*) FROM {s}.interactions WHERE load_agent = $1`), id).QueryRow(func(r pgx.Row) error {
			return r.Scan(&n)
		})
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, mapErr("agent", err)
	}
	if !found {
		return nil, notFound("agent", id)
	}
	a, err := decodeAgent(data)
	if err != nil {
		return nil, err
	}
	t.setLocked(id, capacity)
	if !skip {
		t.counted(id, n)
	}
	t.hold(id, data, routingQueues(a.Queues), capacity, a.Status == port.StatusReady)
	return a, nil
}

// heldAgent is an agent's row as this transaction, which holds its row
// lock, last read or wrote it: what PutAgent compares with to write only
// what changed, and what Agent returns without reading again.
type heldAgent struct {
	data     []byte
	queues   []string // sorted, without duplicates: its rows in agent_queues
	capacity int
	ready    bool
}

// hold records agent's row as read or written under its lock.
func (t *txn) hold(agent string, data []byte, queues []string, capacity int, ready bool) {
	if t.held == nil {
		t.held = map[string]*heldAgent{}
	}
	t.held[agent] = &heldAgent{data: data, queues: queues, capacity: capacity, ready: ready}
}

// routingQueues returns queues sorted and without duplicates, as an
// agent's rows in agent_queues hold them.
func routingQueues(queues []string) []string {
	q := slices.Clone(queues)
	slices.Sort(q)
	return slices.Compact(q)
}

// roleNames lists an agent's roles as routing compares them: no role set
// means RoleAgent.
func roleNames(roles []port.Role) []string {
	if len(roles) == 0 {
		return []string{string(port.RoleAgent)}
	}
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// PutAgent implements port.Tx. It also rewrites the agent's rows in
// agent_queues, the routing index of ready agents per queue.
func (t *txn) PutAgent(ctx context.Context, a *port.Agent) error {
	if err := t.writable(); err != nil {
		return err
	}
	if a.ID == "" {
		return fmt.Errorf("%w: agent without id", port.ErrInvalidInput)
	}
	c := a.Clone()
	normTimes(c)
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("postgres: encode agent %s: %w", a.ID, err)
	}
	var skills []byte
	if len(c.Skills) > 0 {
		if skills, err = json.Marshal(c.Skills); err != nil {
			return fmt.Errorf("postgres: encode agent %s: %w", a.ID, err)
		}
	}
	queues := routingQueues(c.Queues)
	ready := c.Status == port.StatusReady
	capacity := c.MaxLoad()
	// Nothing is read back: the statements wait for the transaction's
	// next round trip (see pipe), which runs them first, in this order.
	if h := t.held[c.ID]; h != nil && h.capacity == capacity && h.ready == ready && slices.Equal(h.queues, queues) {
		// Its routing rows stay as they are but for idle_since and
		// has_room (the common case: an agent idle again). The row is
		// locked by this transaction, which read or wrote it last.
		t.tx.later("put agent", t.s.sql(`UPDATE {s}.agents SET status = $2, max_load = $3, idle_since = $4,
			skills = $5, languages = $6, roles = $7, data = $8 WHERE id = $1`),
			c.ID, string(c.Status), capacity, c.IdleSince, skills, c.Languages, roleNames(c.Roles), data)
		if len(queues) > 0 {
			t.roomWith(c.ID, c.IdleSince)
		}
	} else {
		t.tx.later("put agent", t.s.sql(`INSERT INTO {s}.agents (id, status, max_load, idle_since, skills, languages, roles, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, max_load = excluded.max_load,
			idle_since = excluded.idle_since, skills = excluded.skills, languages = excluded.languages,
			roles = excluded.roles, data = excluded.data`),
			c.ID, string(c.Status), capacity, c.IdleSince, skills, c.Languages, roleNames(c.Roles), data)
		t.tx.later("put agent", t.s.sql(`DELETE FROM {s}.agent_queues WHERE agent_id = $1 AND NOT (queue = ANY($2))`), c.ID, queues)
		// A statement after the upsert, which locked the agent's row: the
		// count sees every committed change of the agent's load.
		t.tx.later("put agent", t.s.sql(`INSERT INTO {s}.agent_queues (queue, agent_id, ready, idle_since, max_load, has_room)
		SELECT q, $2, $3, $4, $5::integer, (SELECT count(*) FROM {s}.interactions WHERE load_agent = $2) < $5::integer
		FROM unnest($1::text[]) AS q
		ON CONFLICT (queue, agent_id) DO UPDATE SET ready = excluded.ready,
			idle_since = excluded.idle_since, max_load = excluded.max_load, has_room = excluded.has_room`),
			queues, c.ID, ready, c.IdleSince, capacity)
	}
	// Either way has_room is written now, from the load as it is.
	delete(t.room, c.ID)
	t.setLocked(c.ID, capacity)
	t.hold(c.ID, data, queues, capacity, ready)
	return nil
}

// Agents implements port.Tx.
func (t *txn) Agents(ctx context.Context, queue string) ([]*port.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	q := `SELECT data FROM {s}.agents ORDER BY id`
	var args []any
	if queue != "" {
		q = `SELECT a.data FROM {s}.agent_queues q JOIN {s}.agents a ON a.id = q.agent_id
			WHERE q.queue = $1 ORDER BY a.id`
		args = append(args, queue)
	}
	rows, err := t.tx.Query(ctx, t.s.sql(q), args...)
	if err != nil {
		return nil, mapErr("agents", err)
	}
	var out []*port.Agent
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		a, err := decodeAgent(data)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, mapErr("agents", err)
	}
	return out, nil
}

// availableAgents reads agent_queues in (idle_since, agent_id) order by
// the partial index of ready agents with room, and the load of each agent
// it returns by the partial index of interactions.load_agent (checked
// again against max_load: has_room is kept exact, see refreshRoom, but the
// count is what routing is given).
const availableAgents = `SELECT a.id, a.skills, a.languages, a.roles, q.max_load, q.idle_since, l.n
FROM {s}.agent_queues q
CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM {s}.interactions i WHERE i.load_agent = q.agent_id) l
JOIN {s}.agents a ON a.id = q.agent_id
WHERE q.queue = $1 AND q.ready AND q.has_room AND l.n < q.max_load
ORDER BY q.idle_since, q.agent_id`

// page appends OFFSET and LIMIT clauses to q.
func page(q string, args []any, offset, limit int) (string, []any) {
	if offset > 0 {
		args = append(args, offset)
		q += fmt.Sprintf(" OFFSET $%d", len(args))
	}
	if limit > 0 {
		args = append(args, limit)
		q += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	return q, args
}

// AvailableAgents implements port.Tx.
func (t *txn) AvailableAgents(ctx context.Context, queue string, offset, limit int) ([]routing.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	// has_room is read: the refreshes left for the commit go first.
	t.flushRoom()
	if err := t.lockQueue(ctx, queue); err != nil {
		return nil, err
	}
	q, args := page(availableAgents, []any{queue}, offset, limit)
	rows, err := t.tx.Query(ctx, t.s.sql(q), args...)
	if err != nil {
		return nil, mapErr("available agents", err)
	}
	out := make([]routing.Agent, 0, max(limit, 0))
	var (
		id       string
		skills   []byte
		langs    []string
		roles    []string
		capacity int
		idle     time.Time
		load     int
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &skills, &langs, &roles, &capacity, &idle, &load}, func() error {
		a := routing.Agent{ID: id, Ready: true, Languages: langs, Roles: roles, Capacity: capacity, Load: load, IdleSince: idle.UTC()}
		if len(skills) > 0 {
			if err := json.Unmarshal(skills, &a.Skills); err != nil {
				return fmt.Errorf("postgres: decode agent %s skills: %w", id, err)
			}
		}
		langs, roles = nil, nil
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, mapErr("available agents", err)
	}
	for _, a := range out {
		t.saw(a.ID, a.Load)
	}
	return out, nil
}

// lockQueue makes the routing decisions of a queue take turns across
// processes: in a read-write transaction, the first AvailableAgents of a
// queue takes a transaction-level advisory lock named after the schema
// and the queue, held until the transaction ends. Without it, instances
// routing mail of one queue at once all pick the same longest-idle agent,
// and all but one have their offer refused by guardLoad and start over.
func (t *txn) lockQueue(ctx context.Context, queue string) error {
	if t.readOnly || t.queues[queue] {
		return nil
	}
	// Taken with the query that follows (see pipe), which runs after it.
	t.tx.later("lock queue", `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "emailflow routing "+t.s.schema+" "+queue)
	if t.queues == nil {
		t.queues = map[string]bool{}
	}
	t.queues[queue] = true
	return nil
}

// Waiting implements port.Tx: a range of the partial index
// interactions_waiting.
func (t *txn) Waiting(ctx context.Context, queue string, offset, limit int) ([]routing.Item, error) {
	return t.waiting(ctx, queue, "", offset, limit)
}

// waiting reads a page of queue's waiting interactions ordered by first,
// then in routing order.
func (t *txn) waiting(ctx context.Context, queue, first string, offset, limit int) ([]routing.Item, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	q, args := page(`SELECT id, priority, queued_at, skills, language, declined, data->'Excluded', preferred, prefer_until
		FROM {s}.interactions WHERE queue = $1 AND state = 'queued'
		ORDER BY `+first+`priority DESC, queued_at, created_at, id`, []any{queue}, offset, limit)
	rows, err := t.tx.Query(ctx, t.s.sql(q), args...)
	if err != nil {
		return nil, mapErr("waiting", err)
	}
	out := make([]routing.Item, 0, max(limit, 0))
	var (
		it       routing.Item
		skills   []byte
		declined []string
		excluded []byte // rarely set (a review's author): read from the document
	)
	_, err = pgx.ForEachRow(rows, []any{&it.ID, &it.Priority, &it.QueuedAt, &skills, &it.Language, &declined, &excluded, &it.Preferred, &it.PreferUntil}, func() error {
		item := it
		item.Queue, item.Declined = queue, declined
		item.QueuedAt, item.PreferUntil = it.QueuedAt.UTC(), it.PreferUntil.UTC()
		if len(skills) > 0 {
			if err := json.Unmarshal(skills, &item.Skills); err != nil {
				return fmt.Errorf("postgres: decode interaction %s skills: %w", it.ID, err)
			}
		}
		if len(excluded) > 0 {
			if err := json.Unmarshal(excluded, &item.Excluded); err != nil {
				return fmt.Errorf("postgres: decode interaction %s exclusions: %w", it.ID, err)
			}
		}
		declined, excluded = nil, nil
		out = append(out, item)
		return nil
	})
	if err != nil {
		return nil, mapErr("waiting", err)
	}
	return out, nil
}
