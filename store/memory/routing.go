package memory

import (
	"cmp"
	"context"
	"time"

	"github.com/google/btree"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// The routing indexes keep each queue's waiting interactions and ready
// agents in routing order, so a routing decision reads a few entries
// instead of sorting the whole queue.

type waitKey struct {
	priority int
	queued   time.Time
	created  time.Time
	id       string
}

func waitLess(a, b waitKey) bool {
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	if c := a.queued.Compare(b.queued); c != 0 {
		return c < 0
	}
	if c := a.created.Compare(b.created); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

func waitKeyOf(it *interaction.Interaction) waitKey {
	return waitKey{priority: it.Priority, queued: it.QueuedAt, created: it.CreatedAt, id: it.ID}
}

type readyKey struct {
	idle time.Time
	id   string
}

func readyLess(a, b readyKey) bool {
	if c := a.idle.Compare(b.idle); c != 0 {
		return c < 0
	}
	return cmp.Less(a.id, b.id)
}

const btreeDegree = 32

func (s *Store) waitingTree(queue string) *btree.BTreeG[waitKey] {
	t, ok := s.waiting[queue]
	if !ok {
		t = btree.NewG(btreeDegree, waitLess)
		s.waiting[queue] = t
	}
	return t
}

func (s *Store) readyTree(queue string) *btree.BTreeG[readyKey] {
	t, ok := s.ready[queue]
	if !ok {
		t = btree.NewG(btreeDegree, readyLess)
		s.ready[queue] = t
	}
	return t
}

// indexWaiting moves an interaction's waiting entry from old to c.
func (s *Store) indexWaiting(old, c *interaction.Interaction) {
	if old != nil && old.State == interaction.StateQueued {
		s.waitingTree(old.Queue).Delete(waitKeyOf(old))
	}
	if c != nil && c.State == interaction.StateQueued {
		s.waitingTree(c.Queue).ReplaceOrInsert(waitKeyOf(c))
	}
}

// indexReady moves an agent's ready entries from old to a.
func (s *Store) indexReady(old, a *emailflow.Agent) {
	if old != nil && old.Status == emailflow.StatusReady {
		for _, q := range old.Queues {
			s.readyTree(q).Delete(readyKey{old.IdleSince, old.ID})
		}
	}
	if a != nil && a.Status == emailflow.StatusReady {
		for _, q := range a.Queues {
			s.readyTree(q).ReplaceOrInsert(readyKey{a.IdleSince, a.ID})
		}
	}
}

// waitingPage answers Query{Queue, States: [queued]} from the index.
func (s *Store) waitingPage(q *emailflow.Query) []*interaction.Interaction {
	var out []*interaction.Interaction
	skip := q.Offset
	s.waitingTree(q.Queue).Ascend(func(k waitKey) bool {
		it := s.interactions[k.id]
		if !matches(it, q) {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, it.Clone())
		return q.Limit <= 0 || len(out) < q.Limit
	})
	return out
}

// ReadyAgents implements emailflow.Tx.
func (t *txn) ReadyAgents(_ context.Context, queue string, offset, limit int) ([]*emailflow.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var out []*emailflow.Agent
	t.s.readyTree(queue).Ascend(func(k readyKey) bool {
		if offset > 0 {
			offset--
			return true
		}
		out = append(out, t.s.agents[k.id].Clone())
		return limit <= 0 || len(out) < limit
	})
	return out, nil
}
