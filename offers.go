package emailflow

import (
	"context"
	"errors"
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// Accept makes the actor the owner of an interaction offered or transferred
// to them. Errors: ErrNotFound; ErrForbidden when it is not offered to this
// agent; ErrInvalidTransition when it is no longer on offer (another accept
// won, or the offer timed out).
func (ac *Actor) Accept(ctx context.Context, id string) (*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	var out *interaction.Interaction
	err := w.update(ctx, func(t *tx) error {
		// Accepting does not read the agent's load: the offer (or the
		// transfer) was made within its capacity.
		it, err := w.actingOnly(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		if !it.Can(interaction.EventAccept) {
			// Check the state first: a loser of an accept race learns the
			// offer is gone, not that it is someone else's.
			return it.Fire(ctx, interaction.EventAccept, agentID, t.now, "")
		}
		if err := it.CheckOffered(agentID); err != nil {
			return err
		}
		from := it.TransferFrom
		if err := it.Fire(ctx, interaction.EventAccept, agentID, t.now, ""); err != nil {
			return err
		}
		it.Owner, it.LastAgent, it.OfferedTo, it.TransferFrom, it.Declined = agentID, agentID, "", "", nil
		it.OfferedAt = time.Time{}
		// Any error of the write fails the action: the store may check
		// it with the commit.
		if err := t.updateLast(it); err != nil {
			return err
		}
		if err := t.emit(EventAccepted, it, agentID, agentID, ""); err != nil {
			return err
		}
		out = it
		if from != "" {
			return w.freed(t, from)
		}
		return nil
	})
	if err != nil {
		// Also when the write was refused at the commit, after out was set.
		return nil, err
	}
	return out.Clone(), nil
}

// Decline refuses an offer. An interaction offered from a queue goes back
// to it and is offered to another agent: not again to this one while
// another agent who could take it has not declined it too; once every
// agent of the queue who could has, it is offered again, to the one who
// declined it the longest ago. The agent may still Pull it: that is their
// own choice. A transfer goes back to the agent who made it. Errors as for
// Accept.
func (ac *Actor) Decline(ctx context.Context, id, reason string) error {
	w, agentID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		it, err := t.Interaction(ctx, id)
		if err != nil {
			return err
		}
		if !it.Can(interaction.EventDecline) {
			return it.Fire(ctx, interaction.EventDecline, agentID, t.now, reason)
		}
		if err := it.CheckOffered(agentID); err != nil {
			return err
		}
		if err := w.withdrawOffer(t, it, interaction.EventDecline, agentID, reason); err != nil {
			return err
		}
		if err := t.emit(EventDeclined, it, agentID, agentID, reason); err != nil {
			return err
		}
		return w.afterWithdraw(t, it, agentID)
	})
}

// withdrawOffer ends the offer of it to its agent with event e (decline or
// timeout) and saves it. A decline puts the agent last on the declined list
// (the newest decline); a timeout does not: the agent, set not responding,
// is offered it again once ready, if nobody took it meanwhile.
func (w *Workspace) withdrawOffer(t *tx, it *interaction.Interaction, e interaction.Event, actor, reason string) error {
	agent := it.OfferedTo
	if err := it.Fire(t.ctx, e, actor, t.now, reason); err != nil {
		return err
	}
	it.OfferedTo, it.OfferedAt = "", time.Time{}
	if it.PreferredAgent == agent {
		// The agent a follow-up was kept for let it go: anyone may take it.
		it.PreferredAgent, it.PreferUntil = "", time.Time{}
	}
	switch {
	case it.State == interaction.StateHandling:
		// A transfer that was not taken returns to its sender.
		it.Owner, it.TransferFrom = it.TransferFrom, ""
	case it.State == interaction.StateQueued && e == interaction.EventDecline:
		it.Declined = append(without(it.Declined, agent), agent)
	}
	return t.UpdateInteraction(t.ctx, it)
}

// afterWithdraw routes an interaction back to its queue and offers the
// agent who let it go other work.
func (w *Workspace) afterWithdraw(t *tx, it *interaction.Interaction, agent string) error {
	if it.State == interaction.StateQueued {
		if err := w.route(t, it); err != nil {
			return err
		}
	}
	return w.freed(t, agent)
}

// tick runs the timers due at the clock's now (see Runner.Tick).
func (w *Workspace) tick(ctx context.Context) (int, error) {
	var due []*interaction.Interaction
	now := w.clock.Now()
	claims := false
	err := w.view(ctx, func(t *tx) error {
		if _, claims = t.Tx.(TimerTx); claims {
			return nil // claimed one by one below
		}
		found, err := t.FindInteractions(ctx, Query{States: []interaction.State{interaction.StateOffered, interaction.StateTransferred}})
		for _, it := range found {
			if !it.OfferedAt.IsZero() && !now.Before(it.OfferedAt.Add(w.opts.AcceptTimeout)) {
				due = append(due, it)
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	if claims {
		n, err := w.tickClaiming(ctx, now)
		if err != nil {
			return n, err
		}
		_, err = w.tickDeadlines(ctx, now)
		return n, err
	}
	if err := w.expirePreferences(ctx, now); err != nil {
		return 0, err
	}
	if err := w.pruneRates(ctx, now); err != nil {
		return 0, err
	}
	if _, err := w.tickDeadlines(ctx, now); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		err := w.update(ctx, func(t *tx) error {
			it, err := t.Interaction(ctx, d.ID)
			if err != nil {
				return err
			}
			// Re-check inside the transaction: the agent may have accepted.
			if it.OfferedTo != d.OfferedTo || !it.OfferedAt.Equal(d.OfferedAt) || !it.Can(interaction.EventTimeout) {
				return errSkip
			}
			return w.timeOut(t, it)
		})
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// timeOut withdraws the offer of it, whose accept timeout ran out, sets
// the agent not responding and routes it again.
func (w *Workspace) timeOut(t *tx, it *interaction.Interaction) error {
	agent := it.OfferedTo
	if err := w.withdrawOffer(t, it, interaction.EventTimeout, "system", "accept timeout"); err != nil {
		return err
	}
	if err := t.emit(EventTimedOut, it, agent, "system", ""); err != nil {
		return err
	}
	if err := w.notResponding(t, agent); err != nil {
		return err
	}
	if it.State == interaction.StateQueued {
		return w.route(t, it)
	}
	return nil
}

var errSkip = errors.New("skip")

// without returns a new list of the agents of list but agent: the old one
// may be shared with a stored value.
func without(list []string, agent string) []string {
	out := make([]string, 0, len(list)+1)
	for _, a := range list {
		if a != agent {
			out = append(out, a)
		}
	}
	return out
}

// expirePreferences routes the queued follow-ups whose sticky preference
// ran out to anyone eligible, and routes again the queued interactions
// agents declined: when the agents who had not declined one log out, the
// decline of one who did must be lifted (see lift).
func (w *Workspace) expirePreferences(ctx context.Context, now time.Time) error {
	var expired, declined []string
	err := w.view(ctx, func(t *tx) error {
		found, err := t.FindInteractions(ctx, Query{States: []interaction.State{interaction.StateQueued}})
		for _, it := range found {
			switch {
			case it.PreferredAgent != "" && !now.Before(it.PreferUntil):
				expired = append(expired, it.ID)
			case len(it.Declined) > 0:
				declined = append(declined, it.ID)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range declined {
		err := w.update(ctx, func(t *tx) error {
			it, err := t.Interaction(ctx, id)
			if err != nil {
				return err
			}
			return w.route(t, it)
		})
		if err != nil {
			return err
		}
	}
	for _, id := range expired {
		err := w.update(ctx, func(t *tx) error {
			it, err := t.Interaction(ctx, id)
			if err != nil {
				return err
			}
			if it.State != interaction.StateQueued || it.PreferredAgent == "" {
				return errSkip
			}
			return w.expirePreference(t, it)
		})
		if err != nil && !errors.Is(err, errSkip) {
			return err
		}
	}
	return nil
}

// expirePreference ends the sticky preference of queued it, which ran
// out, and routes it to anyone eligible.
func (w *Workspace) expirePreference(t *tx, it *interaction.Interaction) error {
	it.Record("system", "sticky-expired", t.now, it.PreferredAgent)
	it.PreferredAgent, it.PreferUntil = "", time.Time{}
	if err := t.UpdateInteraction(t.ctx, it); err != nil {
		return err
	}
	return w.route(t, it)
}

func (w *Workspace) notResponding(t *tx, agentID string) error {
	a, err := t.Agent(t.ctx, agentID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status != StatusReady {
		return nil
	}
	a.Status, a.UpdatedAt = StatusNotResponding, t.now
	if err := t.PutAgent(t.ctx, a); err != nil {
		return err
	}
	return t.emitAgent(a.ID, "system", StatusNotResponding)
}
