package emailflow

import (
	"context"
	"errors"
	"fmt"
	"path"
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
	// Role, when set, is required of the agents offered its interactions
	// (RoleReviewer for a review queue).
	Role Role
}

// Route sends inbound mail to a queue. Pattern is matched (path.Match
// syntax, case-insensitive) against the mailbox the mail came to and its
// To and Cc addresses: "sales@shop.example", "*@billing.shop.example".
type Route struct {
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

func (w *Workspace) queue(name string) Queue {
	for _, q := range w.opts.Queues {
		if q.Name == name {
			return q
		}
	}
	return Queue{Name: name}
}

// routingPage is how many candidates a routing decision reads at a time.
const routingPage = 32

func routingItem(it *interaction.Interaction, q Queue) routing.Item {
	skills := it.Skills
	if len(q.Skills) > 0 {
		skills = make(map[string]int, len(q.Skills)+len(it.Skills))
		for k, v := range q.Skills {
			skills[k] = v
		}
		for k, v := range it.Skills {
			skills[k] = max(skills[k], v)
		}
	}
	return routing.Item{
		ID: it.ID, Queue: it.Queue, Priority: it.Priority, QueuedAt: it.QueuedAt,
		Skills: skills, Language: it.Language, Declined: it.Declined,
		Preferred: it.PreferredAgent, PreferUntil: it.PreferUntil,
	}
}

func (w *Workspace) routingAgent(t *tx, a *Agent, q Queue) (routing.Agent, error) {
	load, err := t.Load(t.ctx, a.ID)
	if err != nil {
		return routing.Agent{}, err
	}
	ready := a.Status == StatusReady && (q.Role == "" || a.HasRole(q.Role))
	return routing.Agent{
		ID: a.ID, Ready: ready, Skills: a.Skills, Languages: a.Languages,
		Capacity: a.capacity(), Load: load, IdleSince: a.IdleSince,
	}, nil
}

// pickAgent chooses the agent a queued interaction goes to: it reads the
// queue's ready agents longest idle first, a page at a time, and stops at
// the first page holding an eligible one. Nil when there is none.
func (w *Workspace) pickAgent(t *tx, it *interaction.Interaction) (*Agent, error) {
	q := w.queue(it.Queue)
	item := routingItem(it, q)
	if item.Preferred != "" && t.now.Before(item.PreferUntil) {
		a, err := t.Agent(t.ctx, item.Preferred)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		ra, err := w.routingAgent(t, a, q)
		if err != nil || routing.Check(&ra, &item, t.now) != routing.Eligible {
			return nil, err
		}
		return a, nil
	}
	cands := make([]routing.Agent, 0, routingPage)
	for offset := 0; ; offset += routingPage {
		page, err := t.ReadyAgents(t.ctx, it.Queue, offset, routingPage)
		if err != nil {
			return nil, err
		}
		cands = cands[:0]
		for _, a := range page {
			ra, err := w.routingAgent(t, a, q)
			if err != nil {
				return nil, err
			}
			cands = append(cands, ra)
		}
		if i := routing.PickAgent(&item, cands, t.now); i >= 0 {
			return page[i], nil
		}
		if len(page) < routingPage {
			return nil, nil
		}
	}
}

// route offers a queued interaction to the best eligible agent, if any;
// otherwise it stays queued until an agent frees up.
func (w *Workspace) route(t *tx, it *interaction.Interaction) error {
	if it.State != interaction.StateQueued {
		return nil
	}
	a, err := w.pickAgent(t, it)
	if err != nil || a == nil {
		return err
	}
	return w.offer(t, it, a)
}

func (w *Workspace) offer(t *tx, it *interaction.Interaction, a *Agent) error {
	if err := it.Fire(t.ctx, interaction.EventOffer, "system", t.now, a.ID); err != nil {
		return err
	}
	it.OfferedTo, it.OfferedAt = a.ID, t.now
	if err := t.UpdateInteraction(t.ctx, it); err != nil {
		return err
	}
	return t.emit(EventOffered, it, a.ID, "system", "")
}

// nextFor returns the first waiting interaction of queue that agent a is
// eligible for, reading the queue in routing order a page at a time; nil
// when there is none.
func (w *Workspace) nextFor(t *tx, a *Agent, queue string) (*interaction.Interaction, error) {
	q := w.queue(queue)
	ra, err := w.routingAgent(t, a, q)
	if err != nil {
		return nil, err
	}
	items := make([]routing.Item, 0, routingPage)
	for offset := 0; ; offset += routingPage {
		page, err := t.FindInteractions(t.ctx, Query{Queue: queue, States: []interaction.State{interaction.StateQueued}, Offset: offset, Limit: routingPage})
		if err != nil {
			return nil, err
		}
		items = items[:0]
		for _, it := range page {
			items = append(items, routingItem(it, q))
		}
		if i := routing.PickItem(&ra, items, t.now); i >= 0 {
			return page[i], nil
		}
		if len(page) < routingPage {
			return nil, nil
		}
	}
}

// fill offers waiting interactions of a's queues to a until a is at
// capacity: across queues, the highest priority then oldest first.
func (w *Workspace) fill(t *tx, a *Agent) error {
	if a.Status != StatusReady {
		return nil
	}
	for {
		load, err := t.Load(t.ctx, a.ID)
		if err != nil {
			return err
		}
		if load >= a.capacity() {
			return nil
		}
		var best *interaction.Interaction
		for _, q := range a.Queues {
			it, err := w.nextFor(t, a, q)
			if err != nil {
				return err
			}
			if it != nil && (best == nil || byPriorityThenAge(it, best) < 0) {
				best = it
			}
		}
		if best == nil {
			return nil
		}
		if err := w.offer(t, best, a); err != nil {
			return err
		}
	}
}

func byPriorityThenAge(a, b *interaction.Interaction) int {
	if a.Priority != b.Priority {
		return b.Priority - a.Priority
	}
	return a.QueuedAt.Compare(b.QueuedAt)
}

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
// when queue is empty. Errors: ErrForbidden (no pull privilege, or a queue
// the agent does not serve); ErrNotFound when nothing is waiting for them.
func (w *Workspace) Pull(ctx context.Context, agentID, queue string) (*interaction.Interaction, error) {
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
		// Pulling ignores the agent's status and capacity: the agent asks.
		probe := a.Clone()
		probe.Status, probe.Capacity = StatusReady, 1<<30
		var best *interaction.Interaction
		for _, q := range queues {
			it, err := w.nextFor(t, probe, q)
			if err != nil {
				return err
			}
			if it != nil && (best == nil || byPriorityThenAge(it, best) < 0) {
				best = it
			}
		}
		if best == nil {
			return fmt.Errorf("%w: nothing waiting for %s", ErrNotFound, agentID)
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
	return out, err
}
