package memory

import (
	"context"
	"time"

	"github.com/google/btree"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/routing"
)

var _ port.ServiceLevelTx = (*txn)(nil)

// The deadline indexes: every interaction with a next service-level
// instant in one tree ordered by it, so a Tick reads the few that are due
// however many are open; and each queue's waiting interactions ordered by
// their earliest due time, for queues routed by deadline.

type dueKey struct {
	next time.Time
	id   string
}

func dueLess(a, b dueKey) bool {
	if c := a.next.Compare(b.next); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// dueWaitKey orders a queue by due time (none last), then as routing does.
type dueWaitKey struct {
	due time.Time
	waitKey
}

func dueWaitLess(a, b dueWaitKey) bool {
	switch az, bz := a.due.IsZero(), b.due.IsZero(); {
	case az != bz:
		return bz
	case !az:
		if c := a.due.Compare(b.due); c != 0 {
			return c < 0
		}
	}
	return waitLess(a.waitKey, b.waitKey)
}

func dueWaitKeyOf(it *interaction.Interaction) dueWaitKey {
	return dueWaitKey{due: it.SLA.Due, waitKey: waitKeyOf(it)}
}

func (s *Store) dueWaitingTree(queue string) *btree.BTreeG[dueWaitKey] {
	return treeOf(s.dueWaiting, queue, dueWaitLess)
}

// indexDeadlines moves an interaction's deadline entries from old to c
// (either may be nil).
func (s *Store) indexDeadlines(old, c *interaction.Interaction) {
	var was, is dueKey
	if old != nil {
		was = dueKey{old.SLA.Next, old.ID}
	}
	if c != nil {
		is = dueKey{c.SLA.Next, c.ID}
	}
	if was != is {
		if !was.next.IsZero() {
			s.due.Delete(was)
		}
		if !is.next.IsZero() {
			s.due.ReplaceOrInsert(is)
		}
	}
	queued := func(it *interaction.Interaction) bool { return it != nil && it.State == interaction.StateQueued }
	if queued(old) && queued(c) && old.Queue == c.Queue && dueWaitKeyOf(old) == dueWaitKeyOf(c) {
		return
	}
	if queued(old) {
		s.dueWaitingTree(old.Queue).Delete(dueWaitKeyOf(old))
	}
	if queued(c) {
		s.dueWaitingTree(c.Queue).ReplaceOrInsert(dueWaitKeyOf(c))
	}
}

// DueSLA implements port.ServiceLevelTx.
func (t *txn) DueSLA(_ context.Context, now time.Time, limit int) ([]string, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var out []string
	t.s.due.Ascend(func(k dueKey) bool {
		if k.next.After(now) {
			return false
		}
		out = append(out, k.id)
		return limit <= 0 || len(out) < limit
	})
	return out, nil
}

// WaitingByDue implements port.ServiceLevelTx.
func (t *txn) WaitingByDue(_ context.Context, queue string, offset, limit int) ([]routing.Item, error) {
	return queuePage(t, t.s.dueWaiting, queue, func(k dueWaitKey) string { return k.id }, offset, limit)
}
