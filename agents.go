package emailflow

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"

	"github.com/emailflow/emailflow/interaction"
)

// PutAgent registers an agent or replaces its identity, queues, capacity
// and roles (its status is kept when it exists). A bad address or an empty
// id is refused with ErrInvalidInput.
func (w *Workspace) PutAgent(ctx context.Context, a Agent) error {
	if a.ID == "" {
		return fmt.Errorf("%w: agent id is empty", ErrInvalidInput)
	}
	if a.Address != "" {
		if _, err := mail.ParseAddress(a.Address); err != nil {
			return fmt.Errorf("%w: agent %s address %q: %v", ErrInvalidInput, a.ID, a.Address, err)
		}
	}
	if a.Capacity < 0 {
		return fmt.Errorf("%w: agent %s capacity %d is negative", ErrInvalidInput, a.ID, a.Capacity)
	}
	return w.update(ctx, func(t *tx) error {
		old, err := t.Agent(ctx, a.ID)
		switch {
		case err == nil:
			a.Status, a.IdleSince = old.Status, old.IdleSince
		case errors.Is(err, ErrNotFound):
			if a.Status == "" {
				a.Status = StatusLoggedOut
			}
			a.IdleSince = t.now
		default:
			return err
		}
		a.UpdatedAt = t.now
		if err := t.PutAgent(ctx, &a); err != nil {
			return err
		}
		if a.Status == StatusReady {
			return w.fill(t, &a)
		}
		return nil
	})
}

// Agent returns the agent with id, or ErrNotFound.
func (w *Workspace) Agent(ctx context.Context, id string) (*Agent, error) {
	var a *Agent
	err := w.view(ctx, func(t *tx) error {
		var err error
		a, err = t.Agent(ctx, id)
		return err
	})
	return a, err
}

// SetStatus changes an agent's status. An agent set to ready is offered the
// waiting interactions of its queues at once, up to its capacity.
func (w *Workspace) SetStatus(ctx context.Context, agentID string, s AgentStatus) error {
	switch s {
	case StatusReady, StatusNotReady, StatusLoggedOut, StatusNotResponding:
	default:
		return fmt.Errorf("%w: unknown agent status %q", ErrInvalidInput, s)
	}
	return w.update(ctx, func(t *tx) error {
		a, err := t.Agent(ctx, agentID)
		if err != nil {
			return err
		}
		a.Status = s
		a.UpdatedAt = t.now
		if err := t.PutAgent(ctx, a); err != nil {
			return err
		}
		e := Event{Type: EventAgentStatus, Agent: a.ID, Actor: a.ID, At: t.now, Detail: string(s)}
		if err := t.AppendEvent(ctx, &e); err != nil {
			return err
		}
		t.events = append(t.events, e)
		if s == StatusReady {
			return w.fill(t, a)
		}
		return nil
	})
}

// route offers a queued interaction to the best ready agent of its queue:
// below capacity, not among those who declined it, the least loaded, then
// the longest idle. With no such agent it stays queued.
func (w *Workspace) route(t *tx, it *interaction.Interaction) error {
	if it.State != interaction.StateQueued {
		return nil
	}
	agents, err := t.Agents(t.ctx, it.Queue)
	if err != nil {
		return err
	}
	var best *Agent
	bestLoad := 0
	for _, a := range agents {
		if a.Status != StatusReady || it.HasDeclined(a.ID) {
			continue
		}
		load, err := t.Load(t.ctx, a.ID)
		if err != nil {
			return err
		}
		if load >= a.capacity() {
			continue
		}
		if best == nil || load < bestLoad || (load == bestLoad && a.IdleSince.Before(best.IdleSince)) {
			best, bestLoad = a, load
		}
	}
	if best == nil {
		return nil
	}
	return w.offer(t, it, best)
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

// fill offers waiting interactions of a's queues to a, oldest of the
// highest priority first, until a is at capacity.
func (w *Workspace) fill(t *tx, a *Agent) error {
	if a.Status != StatusReady {
		return nil
	}
	load, err := t.Load(t.ctx, a.ID)
	if err != nil {
		return err
	}
	if load >= a.capacity() {
		return nil
	}
	var waiting []*interaction.Interaction
	for _, q := range a.Queues {
		found, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, States: []interaction.State{interaction.StateQueued}, Queue: q})
		if err != nil {
			return err
		}
		waiting = append(waiting, found...)
	}
	slices.SortStableFunc(waiting, byPriorityThenAge)
	for _, it := range waiting {
		if load >= a.capacity() {
			break
		}
		if it.HasDeclined(a.ID) {
			continue
		}
		if err := w.offer(t, it, a); err != nil {
			return err
		}
		load++
	}
	return nil
}

func byPriorityThenAge(a, b *interaction.Interaction) int {
	if a.Priority != b.Priority {
		return b.Priority - a.Priority
	}
	return a.QueuedAt.Compare(b.QueuedAt)
}

// freed is called when agent's load dropped: it is offered more work.
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
	if load == 0 {
		a.IdleSince = t.now
		if err := t.PutAgent(t.ctx, a); err != nil {
			return err
		}
	}
	return w.fill(t, a)
}
