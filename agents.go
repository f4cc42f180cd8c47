package emailflow

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
)

// PutAgent registers an agent or replaces its identity, queues, capacity
// and roles (its status is kept when it exists). A bad address, a name
// with CR, LF or another control character, or an empty id is refused
// with ErrInvalidInput.
func (w *Workspace) PutAgent(ctx context.Context, a Agent) error {
	if a.ID == "" {
		return fmt.Errorf("%w: agent id is empty", ErrInvalidInput)
	}
	if a.Address != "" {
		if _, err := mail.ParseAddress(a.Address); err != nil {
			return fmt.Errorf("%w: agent %s address %q: %v", ErrInvalidInput, a.ID, a.Address, err)
		}
	}
	// The name goes into headers (a colleague's address, signatures'
	// field codes): refused here rather than at Send.
	if err := checkHeaderText("agent name", a.Name); err != nil {
		return err
	}
	switch a.Status {
	case "", StatusReady, StatusNotReady, StatusLoggedOut, StatusNotResponding:
	default:
		return fmt.Errorf("%w: agent %s has unknown status %q", ErrInvalidInput, a.ID, a.Status)
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
func (ac *Actor) SetStatus(ctx context.Context, s AgentStatus) error {
	w, agentID := ac.w, ac.id
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
		if err := t.emitAgent(a.ID, a.ID, s); err != nil {
			return err
		}
		if s == StatusReady {
			return w.fill(t, a)
		}
		return nil
	})
}
