package emailflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/emailflow/emailflow/interaction"
)

// Consult asks colleagues about interaction id, which the agent owns and
// keeps throughout. Each colleague gets a consult interaction, offered to
// them, linked to id (ParentID) and holding the question as a note; they
// Accept it, then Answer. Errors: ErrNotFound (interaction or colleague);
// ErrForbidden (not the owner, no consult privilege); ErrInvalidTransition
// (the interaction is closed); ErrInvalidInput (no colleague, oneself, or
// an empty question); ErrUnavailable (a colleague not ready or at
// capacity); ErrTooLarge (a question over Limits.NoteBytes).
//
// The colleague may read the interaction consulted about while the
// consultation is open; nobody else but the two of them (and supervisors
// of its queue, the admin) may read the consultation.
func (ac *Actor) Consult(ctx context.Context, id string, colleagues []string, question string) ([]*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	if len(colleagues) == 0 {
		return nil, fmt.Errorf("%w: consult needs at least one colleague", ErrInvalidInput)
	}
	if strings.TrimSpace(question) == "" {
		return nil, fmt.Errorf("%w: consult needs a question", ErrInvalidInput)
	}
	if err := w.checkNote("question", question); err != nil {
		return nil, err
	}
	if slices.Contains(colleagues, agentID) {
		return nil, fmt.Errorf("%w: cannot consult oneself", ErrInvalidInput)
	}
	var out []*interaction.Interaction
	err := w.update(ctx, func(t *tx) error {
		out = out[:0]
		parent, err := w.actingOwner(t, agentID, PrivilegeConsult, id)
		if err != nil {
			return err
		}
		if parent.State != interaction.StateHandling && parent.State != interaction.StateParked {
			return fmt.Errorf("%w: %s is %s; consult about an interaction being handled", ErrInvalidTransition, id, parent.State)
		}
		for _, c := range colleagues {
			if err := w.available(t, c, "consult"); err != nil {
				return err
			}
			ci, err := interaction.New(w.ids.NewID(), interaction.KindConsult, agentID, t.now)
			if err != nil {
				return err
			}
			ci.ParentID, ci.ThreadID, ci.ContactID = parent.ID, parent.ThreadID, parent.ContactID
			ci.Mailbox, ci.Subject, ci.Queue = parent.Mailbox, parent.Subject, parent.Queue
			ci.OfferedTo, ci.OfferedAt = c, t.now
			if err := ci.AddNote(agentID, question, t.now); err != nil {
				return err
			}
			if err := t.CreateInteraction(ctx, ci); err != nil {
				return err
			}
			if err := t.emit(EventConsult, ci, c, agentID, question); err != nil {
				return err
			}
			if err := t.emit(EventOffered, ci, c, agentID, ""); err != nil {
				return err
			}
			parent.Record(agentID, "consult", t.now, c+": "+ci.ID)
			out = append(out, ci)
		}
		return t.UpdateInteraction(ctx, parent)
	})
	return copies(out), err
}

// Answer sends a colleague's answer to a consultation they accepted: it is
// added to the interaction consulted about (which stays with its owner),
// in Interaction.Answers and as a note, the owner gets an EventAnswered
// carrying it (Event.Answer), and the consultation is done. Errors: ErrNotFound; ErrForbidden
// (not the colleague handling it); ErrInvalidTransition (not accepted, or
// cancelled); ErrInvalidInput (empty answer); ErrTooLarge (an answer over
// Limits.NoteBytes).
func (ac *Actor) Answer(ctx context.Context, consultID, answer string) error {
	w, colleagueID := ac.w, ac.id
	if strings.TrimSpace(answer) == "" {
		return fmt.Errorf("%w: the answer is empty", ErrInvalidInput)
	}
	if err := w.checkNote("answer", answer); err != nil {
		return err
	}
	return w.update(ctx, func(t *tx) error {
		ci, err := w.acting(t, colleagueID, PrivilegeHandle, consultID)
		if err != nil {
			return err
		}
		if ci.Kind != interaction.KindConsult {
			return fmt.Errorf("%w: %s is not a consultation", ErrInvalidInput, consultID)
		}
		if !ci.Can(interaction.EventAnswer) {
			return ci.Fire(ctx, interaction.EventAnswer, colleagueID, t.now, "")
		}
		if err := ci.CheckOwner(colleagueID); err != nil {
			return err
		}
		parent, err := t.Interaction(ctx, ci.ParentID)
		if err != nil {
			return err
		}
		if err := ci.AddNote(colleagueID, answer, t.now); err != nil {
			return err
		}
		if err := ci.Fire(ctx, interaction.EventAnswer, colleagueID, t.now, ""); err != nil {
			return err
		}
		if err := ci.Fire(ctx, interaction.EventComplete, colleagueID, t.now, ""); err != nil {
			return err
		}
		if err := parent.AddNote(colleagueID, answer, t.now); err != nil {
			return err
		}
		ans := interaction.Answer{ConsultID: ci.ID, Colleague: colleagueID, Text: answer, At: t.now}
		parent.AddAnswer(ans)
		if err := t.UpdateInteraction(ctx, ci); err != nil {
			return err
		}
		if err := t.UpdateInteraction(ctx, parent); err != nil {
			return err
		}
		if err := t.appendEvent(Event{Type: EventAnswered, InteractionID: parent.ID, Agent: parent.Owner, Actor: colleagueID,
			State: parent.State, At: t.now, Detail: answer, Answer: &ans}); err != nil {
			return err
		}
		return w.freed(t, colleagueID)
	})
}

// CancelConsult withdraws a consultation; only the owner of the
// interaction consulted about may. Errors: ErrNotFound; ErrForbidden;
// ErrInvalidTransition (already answered or cancelled).
func (ac *Actor) CancelConsult(ctx context.Context, consultID string) error {
	w, agentID := ac.w, ac.id
	return w.update(ctx, func(t *tx) error {
		ci, err := w.acting(t, agentID, PrivilegeConsult, consultID)
		if err != nil {
			return err
		}
		if ci.Kind != interaction.KindConsult {
			return fmt.Errorf("%w: %s is not a consultation", ErrInvalidInput, consultID)
		}
		parent, err := t.Interaction(ctx, ci.ParentID)
		if err != nil {
			return err
		}
		if err := parent.CheckOwner(agentID); err != nil {
			return err
		}
		colleague := ci.Owner
		if colleague == "" {
			colleague = ci.OfferedTo
		}
		if err := ci.Fire(ctx, interaction.EventCancel, agentID, t.now, ""); err != nil {
			return err
		}
		ci.OfferedTo = ""
		if err := t.UpdateInteraction(ctx, ci); err != nil {
			return err
		}
		if err := t.emit(EventCancelled, ci, colleague, agentID, ""); err != nil {
			return err
		}
		return w.freed(t, colleague)
	})
}
