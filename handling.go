package emailflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
)

// SetCaseData edits one case data key of interaction id, owned by the actor.
// Errors: ErrNotFound; ErrForbidden (not the owner, or a read-only key);
// ErrInvalidInput (empty key); ErrInvalidTransition when it is closed;
// ErrTooLarge (a key or value over Limits.CaseDataBytes).
func (ac *Actor) SetCaseData(ctx context.Context, id, key, value string) error {
	w, agentID := ac.w, ac.id
	if err := w.checkCaseData(key, value); err != nil {
		return err
	}
	return w.change(ctx, agentID, id, func(t *tx, it *interaction.Interaction) error {
		return it.SetCaseData(agentID, key, value, t.now)
	})
}

// AddNote adds a note to interaction id, owned by the actor: an inbound
// email, or an outbound one being written (a draft). Its history refers to
// the note rather than copying it. Errors as for SetCaseData;
// ErrInvalidInput for an empty note; ErrTooLarge over Limits.NoteBytes.
func (ac *Actor) AddNote(ctx context.Context, id, text string) error {
	w, agentID := ac.w, ac.id
	if err := w.checkNote("note", text); err != nil {
		return err
	}
	return w.change(ctx, agentID, id, func(t *tx, it *interaction.Interaction) error {
		return it.AddNote(agentID, text, t.now)
	})
}

// SetDisposition sets the disposition code of interaction id, one of
// Options.Dispositions when that list is set. On an outbound email being
// written, the code goes with it: when it is sent (Send, or Approve after
// a review) it becomes the disposition of the inbound it answers, if that
// one has none yet and is still open, so that the reply's window can
// settle it (and CompleteOnReply close it, DispositionRequired included).
// Errors as for SetCaseData; ErrInvalidInput for a code not in the list;
// ErrTooLarge for a code over Limits.CaseDataBytes.
func (ac *Actor) SetDisposition(ctx context.Context, id, code string) error {
	w, agentID := ac.w, ac.id
	if err := tooLarge("disposition code", code, w.opts.Limits.CaseDataBytes); err != nil {
		return err
	}
	return w.change(ctx, agentID, id, func(t *tx, it *interaction.Interaction) error {
		return it.SetDisposition(agentID, code, w.opts.Dispositions, t.now)
	})
}

// change applies a non-transition change to an open interaction the agent
// owns, in one transaction.
func (w *Workspace) change(ctx context.Context, agentID, id string, fn func(*tx, *interaction.Interaction) error) error {
	return w.update(ctx, func(t *tx) error {
		it, err := w.acting(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		if !it.State.Open() {
			return fmt.Errorf("%w: %s is %s and can no longer change", ErrInvalidTransition, id, it.State)
		}
		if err := it.CheckOwner(agentID); err != nil {
			return err
		}
		if err := fn(t, it); err != nil {
			return err
		}
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		last := it.History[len(it.History)-1]
		return t.emit(EventUpdated, it, agentID, agentID, last.Action)
	})
}

// MarkDone closes inbound interaction id. Errors: ErrNotFound; ErrForbidden
// (not the owner); ErrInvalidTransition (not being handled: already done,
// parked...); ErrInvalidInput when a disposition is required and missing.
func (ac *Actor) MarkDone(ctx context.Context, id string) error {
	w, agentID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		it, err := w.acting(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		if !it.Can(interaction.EventComplete) {
			return it.Fire(ctx, interaction.EventComplete, agentID, t.now, "")
		}
		if err := it.CheckOwner(agentID); err != nil {
			return err
		}
		if w.opts.DispositionRequired && it.Disposition == "" {
			return fmt.Errorf("%w: %s needs a disposition before it is marked done", ErrInvalidInput, id)
		}
		if err := it.Fire(ctx, interaction.EventComplete, agentID, t.now, it.Disposition); err != nil {
			return err
		}
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventDone, it, agentID, agentID, it.Disposition); err != nil {
			return err
		}
		return w.freed(t, agentID)
	})
}

// Delete deletes interaction id. The actor needs the delete privilege
// (supervisors by default) and, for an interaction someone handles, must be
// that owner or a supervisor, and may see it (a supervisor: of its queue).
// Errors: ErrNotFound; ErrForbidden;
// ErrInvalidTransition (a state that cannot be deleted: offered, sent...).
func (ac *Actor) Delete(ctx context.Context, id string) error {
	w, agentID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegeDelete)
		if err != nil {
			return err
		}
		it, err := t.Interaction(ctx, id)
		if err != nil {
			return err
		}
		if err := w.checkSee(t, a, it); err != nil {
			return err
		}
		if it.Owner != "" && it.Owner != agentID && !a.HasRole(RoleSupervisor) {
			return fmt.Errorf("%w: %s is owned by %s", ErrForbidden, id, it.Owner)
		}
		owner := it.Owner
		if err := it.Fire(ctx, interaction.EventDelete, agentID, t.now, ""); err != nil {
			return err
		}
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventDeleted, it, owner, agentID, ""); err != nil {
			return err
		}
		if owner != "" {
			return w.freed(t, owner)
		}
		return nil
	})
}

// TransferTarget is where a transfer goes: an agent or a queue (exactly
// one), with a note the target sees.
type TransferTarget struct {
	Agent string
	Queue string
	Note  string
}

// check refuses a target that is not exactly one agent or one queue.
func (to TransferTarget) check(action string) error {
	if (to.Agent == "") == (to.Queue == "") {
		return fmt.Errorf("%w: %s needs exactly one target, an agent or a queue", ErrInvalidInput, action)
	}
	return nil
}

// toQueue puts it, just moved by a transfer or an assignment, at the back
// of queue as if new there: no owner, workbin, declines or sticky agent.
func toQueue(it *interaction.Interaction, queue string, now time.Time) {
	it.Owner, it.Workbin, it.Queue, it.QueuedAt, it.Declined = "", "", queue, now, nil
	it.PreferredAgent, it.PreferUntil = "", time.Time{}
}

// Transfer hands inbound interaction id over in one step. To an agent, it
// is offered to them (state "transferred") and stays with the sender, on
// the sender's load, until they accept; a decline or an accept timeout
// returns it to the sender. Accepting is the target's own choice and may
// take them above their capacity, as Pull may. To
// a queue, it is queued there and routed like new mail. The note is added
// to the interaction's notes.
//
// Errors: ErrNotFound (interaction, target agent, or a queue no option
// names and no agent serves); ErrForbidden (not the owner, or no transfer
// privilege); ErrInvalidTransition (not handling);
// ErrInvalidInput (no target, both targets, or the sender as target);
// ErrUnavailable (the target agent is not ready or at capacity);
// ErrTooLarge (a note over Limits.NoteBytes).
func (ac *Actor) Transfer(ctx context.Context, id string, to TransferTarget) error {
	w, agentID := ac.w, ac.id
	if err := to.check("transfer"); err != nil {
		return err
	}
	if err := w.checkNote("transfer note", to.Note); err != nil {
		return err
	}
	if to.Agent == agentID {
		return fmt.Errorf("%w: cannot transfer to oneself", ErrInvalidInput)
	}
	return w.update(ctx, func(t *tx) error {
		it, err := w.acting(t, agentID, PrivilegeTransfer, id)
		if err != nil {
			return err
		}
		ev := interaction.EventTransferQueue
		if to.Agent != "" {
			ev = interaction.EventTransfer
		}
		if !it.Can(ev) {
			return it.Fire(ctx, ev, agentID, t.now, "")
		}
		if err := it.CheckOwner(agentID); err != nil {
			return err
		}
		if strings.TrimSpace(to.Note) != "" {
			if err := it.AddNote(agentID, to.Note, t.now); err != nil {
				return err
			}
		}
		if to.Agent != "" {
			if err := w.available(t, to.Agent, "transfer to"); err != nil {
				return err
			}
			if err := it.Fire(ctx, ev, agentID, t.now, "to agent "+to.Agent); err != nil {
				return err
			}
			it.OfferedTo, it.OfferedAt, it.TransferFrom = to.Agent, t.now, agentID
			if err := t.UpdateInteraction(ctx, it); err != nil {
				return err
			}
			// A pending transfer stays on its sender's load (see Tx.Load):
			// it comes back to them unless the target accepts, so routing
			// must not fill its place meanwhile.
			return t.emit(EventTransferred, it, to.Agent, agentID, to.Note)
		}
		if err := w.knownQueue(t, to.Queue); err != nil {
			return err
		}
		if err := it.Fire(ctx, ev, agentID, t.now, "to queue "+to.Queue); err != nil {
			return err
		}
		toQueue(it, to.Queue, t.now)
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventTransferred, it, "", agentID, to.Note); err != nil {
			return err
		}
		if err := w.route(t, it); err != nil {
			return err
		}
		return w.freed(t, agentID)
	})
}

// Personal workbins.
const (
	WorkbinInProgress = "in-progress" // inbound email put aside by its agent
	WorkbinDrafts     = "drafts"      // outbound drafts put aside
)

// SaveToWorkbin parks interaction id, which the actor handles (or an
// outbound draft they write), in workbin to. The zero WorkbinRef is the
// actor's own personal workbin for its kind: an inbound in "in-progress",
// an outbound draft in "drafts"; it stays theirs but no longer counts
// against their capacity. A team workbin (WorkbinRef{Bin: name}, one of
// Options.TeamWorkbins) takes an inbound away from the agent: any agent
// may take it from there (TakeFromWorkbin). Errors: ErrNotFound;
// ErrForbidden (not the owner); ErrInvalidTransition (not handling / not
// a draft); ErrInvalidInput (another agent's workbin: a supervisor uses
// Assign; a personal workbin that is not the one for its kind).
func (ac *Actor) SaveToWorkbin(ctx context.Context, id string, to WorkbinRef) error {
	if to.team(ac.w) {
		return ac.w.parkTeam(ctx, ac.id, id, to.Bin)
	}
	if to.Owner != "" && to.Owner != ac.id {
		return fmt.Errorf("%w: an agent parks in their own workbins; moving to %s's is Assign", ErrInvalidInput, to.Owner)
	}
	return ac.w.park(ctx, ac.id, id, to.Bin)
}

// park parks id in its owner's personal workbin for its kind.
func (w *Workspace) park(ctx context.Context, agentID, id, want string) error {
	return w.update(ctx, func(t *tx) error {
		it, err := w.actingOwner(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		bin := WorkbinInProgress
		if it.Kind == interaction.KindOutbound {
			bin = WorkbinDrafts
		}
		if want != "" && want != bin {
			return fmt.Errorf("%w: a %s interaction is parked in %q, not %q", ErrInvalidInput, it.Kind, bin, want)
		}
		if err := it.Fire(ctx, interaction.EventPark, agentID, t.now, bin); err != nil {
			return err
		}
		it.Workbin = bin
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventParked, it, agentID, agentID, bin); err != nil {
			return err
		}
		return w.freed(t, agentID)
	})
}

// TakeFromWorkbin takes interaction id out of a workbin to work on it
// again: the owner from their personal workbin, or any agent from a team
// workbin (who then owns it). Errors: ErrNotFound; ErrForbidden (another
// agent's workbin); ErrInvalidTransition (not parked).
func (ac *Actor) TakeFromWorkbin(ctx context.Context, id string) error {
	w, agentID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		it, err := w.acting(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		team := it.State == interaction.StateParked && it.Owner == "" && w.isTeamWorkbin(it.Workbin)
		if !team {
			if err := it.CheckOwner(agentID); err != nil {
				return err
			}
		}
		bin := it.Workbin
		if err := it.Fire(ctx, interaction.EventResume, agentID, t.now, bin); err != nil {
			return err
		}
		it.Workbin, it.Owner, it.LastAgent = "", agentID, agentID
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		return t.emit(EventResumed, it, agentID, agentID, bin)
	})
}

// available checks that agent id exists, is ready and below capacity, so it
// may be handed work directly (a transfer, a consultation).
func (w *Workspace) available(t *tx, id, what string) error {
	a, err := t.Agent(t.ctx, id)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: no agent %q to %s", ErrNotFound, id, what)
	}
	if err != nil {
		return err
	}
	ra, err := w.routingAgent(t, a)
	if err != nil {
		return err
	}
	if !ra.Ready || !ra.Free() {
		return fmt.Errorf("%w: agent %s is %s with %d of %d interactions", ErrUnavailable, id, a.Status, ra.Load, ra.Capacity)
	}
	return nil
}

func (w *Workspace) isTeamWorkbin(bin string) bool {
	return bin != "" && slices.Contains(w.opts.TeamWorkbins, bin)
}

// parkTeam parks inbound id, which the agent handles, in team workbin
// bin: it leaves the agent.
func (w *Workspace) parkTeam(ctx context.Context, agentID, id, bin string) error {
	if !w.isTeamWorkbin(bin) {
		return fmt.Errorf("%w: %q is not a team workbin", ErrInvalidInput, bin)
	}
	return w.update(ctx, func(t *tx) error {
		it, err := w.actingOwner(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		if err := it.Fire(ctx, interaction.EventPark, agentID, t.now, bin); err != nil {
			return err
		}
		it.Workbin, it.Owner = bin, ""
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventParked, it, agentID, agentID, bin); err != nil {
			return err
		}
		return w.freed(t, agentID)
	})
}

// WorkbinRef names a workbin: Owner's personal workbin Bin
// (WorkbinInProgress, WorkbinDrafts), or the team workbin Bin (one of
// Options.TeamWorkbins), which has no owner. An empty Owner means the
// acting agent's own personal workbin, unless Bin is a team workbin.
type WorkbinRef struct {
	Owner string
	Bin   string
}

// team reports whether r names a team workbin of w.
func (r WorkbinRef) team(w *Workspace) bool { return r.Owner == "" && w.isTeamWorkbin(r.Bin) }

// Workbin lists the interactions parked in workbin bin: the actor's own
// personal workbin, a team workbin, or another agent's personal workbin,
// which needs the assign privilege (supervisors). It lists only what the
// actor may see. Errors: ErrForbidden; ErrInvalidInput (no Bin).
func (ac *Actor) Workbin(ctx context.Context, bin WorkbinRef) ([]*interaction.Interaction, error) {
	w, actorID := ac.w, ac.id
	if bin.Bin == "" {
		return nil, fmt.Errorf("%w: a workbin needs a name", ErrInvalidInput)
	}
	owner := bin.Owner
	if owner == "" && !bin.team(w) {
		owner = actorID
	}
	var out []*interaction.Interaction
	err := w.view(ctx, func(t *tx) error {
		p := PrivilegeHandle
		if owner != "" && owner != actorID {
			p = PrivilegeAssign
		}
		a, err := w.agent(t, actorID, p)
		if err != nil {
			return err
		}
		found, err := t.FindInteractions(ctx, Query{Owner: owner, Workbin: bin.Bin, States: []interaction.State{interaction.StateParked}})
		if err != nil {
			return err
		}
		if owner == "" { // a team workbin: only what nobody owns
			kept := found[:0]
			for _, it := range found {
				if it.Owner == "" {
					kept = append(kept, it)
				}
			}
			found = kept
		}
		out, err = w.visibleOnly(t, a, found)
		return err
	})
	return out, err
}

// Queue lists the interactions waiting in queue, in routing order. A
// supervisor (the assign privilege) lists what they may see: the queues
// they serve. A reviewer (the review privilege) lists the review queue,
// if they serve it: the reviews they may take, as Pull would give them
// (with the role, skills and language they need), never the review of
// their own email. Errors: ErrForbidden.
func (ac *Actor) Queue(ctx context.Context, queue string) ([]*interaction.Interaction, error) {
	w, actorID := ac.w, ac.id
	var out []*interaction.Interaction
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, actorID, "")
		if err != nil {
			return err
		}
		supervisor := w.may(a, PrivilegeAssign)
		if !supervisor {
			if queue != w.reviewQueue() || !w.may(a, PrivilegeReview) {
				return fmt.Errorf("%w: agent %s may not list queue %q (the assign privilege, or the review privilege for the review queue)", ErrForbidden, actorID, queue)
			}
			if !a.Serves(queue) {
				return fmt.Errorf("%w: agent %s does not serve queue %q", ErrForbidden, actorID, queue)
			}
		}
		found, err := t.FindInteractions(ctx, Query{Queue: queue, States: []interaction.State{interaction.StateQueued}})
		if err != nil {
			return err
		}
		if out, err = w.visibleOnly(t, a, found); err != nil || supervisor {
			return err
		}
		ra, err := w.routingAgent(t, a)
		if err != nil {
			return err
		}
		q := w.routingQueue(queue)
		out = slices.DeleteFunc(out, func(it *interaction.Interaction) bool {
			item := routingItem(it)
			return routing.CheckPull(&q, &ra, &item, t.now) != routing.Eligible
		})
		return nil
	})
	return out, err
}

// Assign moves a waiting or parked inbound interaction, as a supervisor:
// to an agent (into their in-progress workbin, owned by them) or to a queue
// (queued there and routed), with a note. Errors: ErrNotFound; ErrForbidden
// (no assign privilege, or an interaction the supervisor may not see: not
// of a queue they serve); ErrInvalidTransition (offered or handled by
// someone: transfer it instead); ErrInvalidInput (no or two targets);
// ErrTooLarge (a note over Limits.NoteBytes); ErrNotFound also for a queue
// no option names and no agent serves.
func (ac *Actor) Assign(ctx context.Context, id string, to TransferTarget) error {
	w, supervisorID := ac.w, ac.id
	if err := to.check("assign"); err != nil {
		return err
	}
	if err := w.checkNote("assignment note", to.Note); err != nil {
		return err
	}
	return w.update(ctx, func(t *tx) error {
		a, err := w.agent(t, supervisorID, PrivilegeAssign)
		if err != nil {
			return err
		}
		it, err := w.seen(t, a, id)
		if err != nil {
			return err
		}
		ev := interaction.EventAssign
		if to.Queue != "" {
			ev = interaction.EventRequeue
		}
		if strings.TrimSpace(to.Note) != "" {
			if err := it.AddNote(supervisorID, to.Note, t.now); err != nil {
				return err
			}
		}
		previous := it.Owner
		if to.Agent != "" {
			if _, err := t.Agent(ctx, to.Agent); err != nil {
				if errors.Is(err, ErrNotFound) {
					return fmt.Errorf("%w: no agent %q", ErrNotFound, to.Agent)
				}
				return err
			}
			if err := it.Fire(ctx, ev, supervisorID, t.now, "to agent "+to.Agent); err != nil {
				return err
			}
			it.Owner, it.Workbin = to.Agent, WorkbinInProgress
		} else {
			if err := it.Fire(ctx, ev, supervisorID, t.now, "to queue "+to.Queue); err != nil {
				return err
			}
			if err := w.knownQueue(t, to.Queue); err != nil {
				return err
			}
			toQueue(it, to.Queue, t.now)
		}
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventAssigned, it, to.Agent, supervisorID, to.Note); err != nil {
			return err
		}
		if previous != "" && previous != to.Agent {
			if err := t.emit(EventAssigned, it, previous, supervisorID, to.Note); err != nil {
				return err
			}
		}
		return w.route(t, it)
	})
}
