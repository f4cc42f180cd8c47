package emailflow

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
)

// Queue configures one queue.
type Queue struct {
	Name string
	// Skills are required of its agents, with minimum levels; a route may
	// add more for the interactions it sends here.
	Skills map[string]int
	// Priority is given to interactions that arrive without one.
	Priority int
	// ServiceLevel is the target time to answer (reported, not enforced).
	ServiceLevel time.Duration
	// Role, when set, is required of the agents offered its interactions.
	// The review queue without one requires a role holding the review
	// privilege (reviewers and supervisors by default).
	Role Role
	// OrderByDue routes its interactions by service-level due time, the
	// earliest first (those without a running deadline last), instead of
	// by priority and arrival; ties keep that order. It needs a Store
	// whose Tx is a ServiceLevelTx; across several queues an agent still
	// gets the highest priority, then oldest, of each queue's first.
	OrderByDue bool
}

// Route sends inbound mail to a queue. Pattern is matched (path.Match
// syntax, case-insensitive) against the mailbox the mail came to and its
// To and Cc addresses: "sales@shop.example", "*@billing.shop.example".
type Route struct {
	// Name names the route for service-level rules (sla.Rule.Route);
	// empty: rules cannot single it out.
	Name     string
	Pattern  string
	Queue    string
	Priority int
	Skills   map[string]int
	Language string
}

// routeFor returns the first route matching the mailbox, then any of the
// addresses; with no match, the mailbox's queue (Options.Mailboxes) or the
// default queue.
func (w *Workspace) routeFor(mailbox string, addrs []string) Route {
	for _, r := range w.opts.Routes {
		if ok, _ := path.Match(strings.ToLower(r.Pattern), mailbox); ok {
			return r
		}
	}
	for _, r := range w.opts.Routes {
		for _, a := range addrs {
			if ok, _ := path.Match(strings.ToLower(r.Pattern), strings.ToLower(a)); ok {
				return r
			}
		}
	}
	return Route{Queue: w.queueFor(mailbox)}
}

// knownQueue refuses a queue mail would be stranded in: one that no
// option names (Queues, Mailboxes, Routes, DefaultQueue) and no agent
// serves.
func (w *Workspace) knownQueue(t *tx, name string) error {
	o := &w.opts
	if name == o.DefaultQueue ||
		slices.ContainsFunc(o.Queues, func(q Queue) bool { return q.Name == name }) ||
		slices.ContainsFunc(o.Mailboxes, func(m Mailbox) bool { return m.Queue == name }) ||
		slices.ContainsFunc(o.Routes, func(r Route) bool { return r.Queue == name }) {
		return nil
	}
	agents, err := t.Agents(t.ctx, name)
	if err != nil {
		return err
	}
	if len(agents) == 0 {
		return fmt.Errorf("%w: no queue %q (no option names it, no agent serves it)", ErrNotFound, name)
	}
	return nil
}

func (w *Workspace) queue(name string) Queue {
	for _, q := range w.opts.Queues {
		if q.Name == name {
			return q
		}
	}
	return Queue{Name: name}
}

// routingQueue is what routing requires of the agents of queue name: its
// skills, and its role (for the review queue without one, any role that
// holds the review privilege).
func (w *Workspace) routingQueue(name string) routing.Queue {
	q := w.queue(name)
	rq := routing.Queue{Skills: q.Skills}
	switch {
	case q.Role != "":
		rq.Roles = []string{string(q.Role)}
	case name == w.reviewQueue():
		rq.Roles = w.reviewRoles
	}
	return rq
}

func routingItem(it *interaction.Interaction) routing.Item {
	return routing.Item{
		ID: it.ID, Queue: it.Queue, Priority: it.Priority, QueuedAt: it.QueuedAt,
		Skills: it.Skills, Language: it.Language, Declined: it.Declined, Excluded: it.Excluded,
		Preferred: it.PreferredAgent, PreferUntil: it.PreferUntil,
	}
}

func (w *Workspace) routingAgent(t *tx, a *Agent) (routing.Agent, error) {
	load, err := t.Load(t.ctx, a.ID)
	if err != nil {
		return routing.Agent{}, err
	}
	return routing.Agent{
		ID: a.ID, Ready: a.Status == StatusReady, Skills: a.Skills, Languages: a.Languages, Roles: a.RoleNames(),
		Capacity: a.MaxLoad(), Load: load, IdleSince: a.IdleSince,
	}, nil
}

// Routing reads candidates a page at a time, growing the page while it
// finds nobody eligible.
const (
	firstPage = 8
	maxPage   = 256
)

// pickAgent chooses the agent a queued interaction goes to: it reads the
// queue's available agents longest idle first, page by page, and stops at
// the first page holding an eligible one. Empty when there is none.
func (w *Workspace) pickAgent(t *tx, it *interaction.Interaction) (string, error) {
	q := w.routingQueue(it.Queue)
	item := routingItem(it)
	if item.Preferred != "" && t.now.Before(item.PreferUntil) {
		a, err := t.Agent(t.ctx, item.Preferred)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		ra, err := w.routingAgent(t, a)
		if err != nil || routing.Check(&q, &ra, &item, t.now) != routing.Eligible {
			return "", err
		}
		return a.ID, nil
	}
	for offset, size := 0, firstPage; ; offset, size = offset+size, min(size*2, maxPage) {
		page, err := t.AvailableAgents(t.ctx, it.Queue, offset, size)
		if err != nil {
			return "", err
		}
		if i := routing.PickAgent(&q, &item, page, t.now); i >= 0 {
			return page[i].ID, nil
		}
		if len(page) < size {
			return "", nil
		}
	}
}

// route offers a queued interaction, already written in t, to the best
// eligible agent, if any; otherwise it stays queued until an agent frees
// up. When every agent who could take it has declined it, the oldest
// decline is lifted first (see lift).
func (w *Workspace) route(t *tx, it *interaction.Interaction) error {
	if it.State != interaction.StateQueued {
		return nil
	}
	a, err := w.pickAgent(t, it)
	if err == nil && a == "" && len(it.Declined) > 0 {
		if it, err = w.lift(t, it); it == nil || err != nil {
			return err
		}
		a, err = w.pickAgent(t, it)
	}
	if err != nil || a == "" {
		return err
	}
	// it was written in this transaction, so it is the store's now: the
	// offer changes a fresh read of it (see Tx).
	cur, err := t.Interaction(t.ctx, it.ID)
	if err != nil {
		return err
	}
	return w.offer(t, cur, a)
}

// lift handles a queued interaction that agents declined and nobody
// available may be offered. While an agent of its queue who could take it
// (logged in, with the role, skills and language it needs) has not
// declined it, it waits for them. Once all of them have, the oldest
// decline is lifted (routing.Lift): the one who declined it the longest
// ago may be offered it again, now if available, else when ready. It
// returns the interaction as written, or nil when nothing changed.
func (w *Workspace) lift(t *tx, it *interaction.Interaction) (*interaction.Interaction, error) {
	agents, err := t.Agents(t.ctx, it.Queue)
	if err != nil {
		return nil, err
	}
	logged := make([]routing.Agent, 0, len(agents))
	for _, a := range agents {
		if a.Status != StatusLoggedOut {
			logged = append(logged, routing.Agent{ID: a.ID, Skills: a.Skills, Languages: a.Languages, Roles: a.RoleNames()})
		}
	}
	q, item := w.routingQueue(it.Queue), routingItem(it)
	agent := routing.Lift(&q, &item, logged, t.now)
	if agent == "" {
		return nil, nil
	}
	cur, err := t.Interaction(t.ctx, it.ID)
	if err != nil {
		return nil, err
	}
	cur.Declined = without(cur.Declined, agent)
	cur.Record("system", "decline-lifted", t.now, agent)
	if err := t.UpdateInteraction(t.ctx, cur); err != nil {
		return nil, err
	}
	return cur, nil
}

func (w *Workspace) offer(t *tx, it *interaction.Interaction, agentID string) error {
	if err := it.Fire(t.ctx, interaction.EventOffer, "system", t.now, agentID); err != nil {
		return err
	}
	it.OfferedTo, it.OfferedAt = agentID, t.now
	if err := t.UpdateInteraction(t.ctx, it); err != nil {
		return err
	}
	return t.emit(EventOffered, it, agentID, "system", "")
}

// nextFor returns the first waiting interaction of queue that agent a is
// eligible for, to be offered or, with pull, pulled (routing.PickPull),
// reading the queue in routing order page by page; nil when there is none.
func (w *Workspace) nextFor(t *tx, a *routing.Agent, queue string, pull bool) (*routing.Item, error) {
	q := w.routingQueue(queue)
	for offset, size := 0, firstPage; ; offset, size = offset+size, min(size*2, maxPage) {
		page, err := w.waiting(t, queue, offset, size)
		if err != nil {
			return nil, err
		}
		// Direct calls, not a function value: that would make q and a
		// escape to the heap on every routing decision.
		i := -1
		if pull {
			i = routing.PickPull(&q, a, page, t.now)
		} else {
			i = routing.PickItem(&q, a, page, t.now)
		}
		if i >= 0 {
			return &page[i], nil
		}
		if len(page) < size {
			return nil, nil
		}
	}
}

// waiting returns a page of queue's waiting interactions in the queue's
// routing order.
func (w *Workspace) waiting(t *tx, queue string, offset, limit int) ([]routing.Item, error) {
	if w.queue(queue).OrderByDue {
		if s, ok := t.Tx.(ServiceLevelTx); ok {
			return s.WaitingByDue(t.ctx, queue, offset, limit)
		}
	}
	return t.Waiting(t.ctx, queue, offset, limit)
}

// nextAcross returns the best waiting interaction for a across its
// queues: highest priority, then oldest.
func (w *Workspace) nextAcross(t *tx, a *routing.Agent, queues []string, pull bool) (*routing.Item, error) {
	var best *routing.Item
	for _, q := range queues {
		it, err := w.nextFor(t, a, q, pull)
		if err != nil {
			return nil, err
		}
		if it != nil && (best == nil || routing.CompareItems(it, best) < 0) {
			best = it
		}
	}
	return best, nil
}

// fill offers waiting interactions of a's queues to a until a is at
// capacity: across queues, the highest priority then oldest first. An item
// another process took, seen by its read or by the write's version check
// (ErrStaleVersion: nothing written, the transaction goes on), is skipped,
// a few times at most: the agent's own action must not fail because others
// route from the same queue. Any other conflict goes up, and the action is
// retried: a SQL store's transaction may be over by then.
func (w *Workspace) fill(t *tx, a *Agent) error {
	if a.Status != StatusReady {
		return nil
	}
	for skips := 0; skips < maxFillSkips; {
		ra, err := w.routingAgent(t, a)
		if err != nil || !ra.Free() {
			return err
		}
		next, err := w.nextAcross(t, &ra, a.Queues, false)
		if err != nil || next == nil {
			return err
		}
		it, err := t.Interaction(t.ctx, next.ID)
		if err != nil {
			return err
		}
		if it.State != interaction.StateQueued {
			skips++ // taken meanwhile: the next queue read no longer lists it
			continue
		}
		err = w.offer(t, it, a.ID)
		if errors.Is(err, ErrStaleVersion) {
			skips++ // taken between the read and the write; nothing was written
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// maxFillSkips bounds how many taken items one fill steps over; past it the
// agent waits for the next routing event.
const maxFillSkips = 8

// freed is called when an agent's load dropped: it is offered more work.
func (w *Workspace) freed(t *tx, agentID string) error {
	a, err := t.Agent(t.ctx, agentID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	load, err := t.Load(t.ctx, agentID)
	if err != nil {
		return err
	}
	if load == 0 && a.Status == StatusReady {
		// Idle again: to the back of the longest-idle order.
		a.IdleSince = t.now
		if err := t.PutAgent(t.ctx, a); err != nil {
			return err
		}
	}
	return w.fill(t, a)
}

// Pull takes the next waiting interaction the agent is eligible for
// straight into handling, from queue, or from any of the agent's queues
// when queue is empty. Pulling is the agent's own choice: their status,
// capacity and earlier declines do not count (an author never pulls the
// review of their own email). Errors: ErrForbidden (no pull privilege, or
// a queue the agent does not serve); ErrNotFound when nothing is waiting
// for them.
func (ac *Actor) Pull(ctx context.Context, queue string) (*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	var out *interaction.Interaction
	err := w.update(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegePull)
		if err != nil {
			return err
		}
		queues := a.Queues
		if queue != "" {
			if !a.Serves(queue) {
				return fmt.Errorf("%w: agent %s does not serve queue %q", ErrForbidden, agentID, queue)
			}
			queues = []string{queue}
		}
		ra, err := w.routingAgent(t, a)
		if err != nil {
			return err
		}
		next, err := w.nextAcross(t, &ra, queues, true)
		if err != nil {
			return err
		}
		if next == nil {
			return fmt.Errorf("%w: nothing waiting for %s", ErrNotFound, agentID)
		}
		best, err := t.Interaction(ctx, next.ID)
		if err != nil {
			return err
		}
		if err := best.Fire(ctx, interaction.EventPull, agentID, t.now, ""); err != nil {
			return err
		}
		best.Owner, best.LastAgent = agentID, agentID
		if err := t.UpdateInteraction(ctx, best); err != nil {
			return err
		}
		out = best
		return t.emit(EventAccepted, best, agentID, agentID, "pulled")
	})
	return out.Clone(), err
}
