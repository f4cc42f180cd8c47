package memory

import (
	"cmp"
	"context"
	"time"

	"github.com/google/btree"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/routing"
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
	return treeOf(s.waiting, queue, waitLess)
}

func (s *Store) readyTree(queue string) *btree.BTreeG[readyKey] {
	return treeOf(s.ready, queue, readyLess)
}

// treeOf returns queue's tree in trees, made when missing.
func treeOf[K any](trees map[string]*btree.BTreeG[K], queue string, less btree.LessFunc[K]) *btree.BTreeG[K] {
	t, ok := trees[queue]
	if !ok {
		t = btree.NewG(btreeDegree, less)
		trees[queue] = t
	}
	return t
}

// indexWaiting moves an interaction's waiting entry from old to c.
func (s *Store) indexWaiting(old, c *interaction.Interaction) {
	if old != nil && c != nil && old.State == c.State && old.Queue == c.Queue && waitKeyOf(old) == waitKeyOf(c) {
		return // still waiting where it was, or still not waiting
	}
	if old != nil && old.State == interaction.StateQueued {
		s.waitingTree(old.Queue).Delete(waitKeyOf(old))
	}
	if c != nil && c.State == interaction.StateQueued {
		s.waitingTree(c.Queue).ReplaceOrInsert(waitKeyOf(c))
	}
}

// indexReady moves an agent's availability entries from old to a: an agent
// is listed in each of its queues while ready and below capacity.
func (s *Store) indexReady(old, a *port.Agent) {
	if old != nil {
		for _, q := range old.Queues {
			s.readyTree(q).Delete(readyKey{old.IdleSince, old.ID})
		}
	}
	if a != nil {
		s.roles[a.ID] = a.RoleNames()
	}
	if a != nil && s.listed(a) {
		for _, q := range a.Queues {
			s.readyTree(q).ReplaceOrInsert(readyKey{a.IdleSince, a.ID})
		}
	}
}

// listed reports whether agent a belongs in its queues' ready trees: ready
// and below capacity.
func (s *Store) listed(a *port.Agent) bool {
	return a.Status == port.StatusReady && s.load[a.ID] < a.MaxLoad()
}

// loadChanged lists or unlists an agent whose load changed, in each of
// its queues. The roles and idle time are unchanged, so this touches only
// the ready trees: a replace where the agent stays listed.
func (s *Store) loadChanged(id string) {
	a := s.agents[id]
	if a == nil {
		return
	}
	k := readyKey{a.IdleSince, a.ID}
	listed := s.listed(a)
	for _, q := range a.Queues {
		if listed {
			s.readyTree(q).ReplaceOrInsert(k)
		} else if t, ok := s.ready[q]; ok {
			t.Delete(k)
		}
	}
}

// Waiting implements port.Tx.
func (t *txn) Waiting(_ context.Context, queue string, offset, limit int) ([]routing.Item, error) {
	return queuePage(t, t.s.waiting, queue, func(k waitKey) string { return k.id }, offset, limit)
}

// queuePage returns a page of queue's interactions in the order of its
// tree among trees (one per queue), as routing sees them.
func queuePage[K any](t *txn, trees map[string]*btree.BTreeG[K], queue string, id func(K) string, offset, limit int) ([]routing.Item, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	tree, ok := trees[queue]
	if !ok {
		return nil, nil
	}
	return itemsOf(t.s, tree, id, offset, limit), nil
}

// itemsOf returns a page of the interactions of tree, in its order, as
// routing sees them.
func itemsOf[K any](s *Store, tree *btree.BTreeG[K], id func(K) string, offset, limit int) []routing.Item {
	out := make([]routing.Item, 0, pageSize(tree.Len(), offset, limit))
	tree.Ascend(func(k K) bool {
		if offset > 0 {
			offset--
			return true
		}
		out = append(out, itemOf(s.interactions[id(k)]))
		return limit <= 0 || len(out) < limit
	})
	return out
}

// itemOf returns a stored interaction as routing sees it. Skills,
// Declined and Excluded are shared, read-only, with the stored value: a
// stored interaction is replaced on update, never changed.
func itemOf(it *interaction.Interaction) routing.Item {
	return routing.Item{
		ID: it.ID, Queue: it.Queue, Priority: it.Priority, QueuedAt: it.QueuedAt,
		Skills: it.Skills, Language: it.Language, Declined: it.Declined, Excluded: it.Excluded,
		Preferred: it.PreferredAgent, PreferUntil: it.PreferUntil,
	}
}

// AvailableAgents implements port.Tx.
func (t *txn) AvailableAgents(_ context.Context, queue string, offset, limit int) ([]routing.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	tree, ok := t.s.ready[queue]
	if !ok {
		return nil, nil
	}
	out := make([]routing.Agent, 0, pageSize(tree.Len(), offset, limit))
	tree.Ascend(func(k readyKey) bool {
		if offset > 0 {
			offset--
			return true
		}
		a := t.s.agents[k.id]
		out = append(out, routing.Agent{
			ID: a.ID, Ready: true, Skills: a.Skills, Languages: a.Languages, Roles: t.s.roles[a.ID],
			Capacity: a.MaxLoad(), Load: t.s.load[a.ID], IdleSince: a.IdleSince,
		})
		return limit <= 0 || len(out) < limit
	})
	return out, nil
}

// pageSize is how many of n entries a page from offset holds, at most
// limit (none: all).
func pageSize(n, offset, limit int) int {
	n = max(n-max(offset, 0), 0)
	if limit > 0 {
		n = min(n, limit)
	}
	return n
}
