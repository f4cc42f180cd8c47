package emailflow

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// Quarantined mail is an inbound interaction in StateQuarantined: stored
// whole like any mail, never offered, in Options.QuarantineQueue or, by
// default, in the queue it would have gone to, so that the supervisors of
// that queue review it. The case data says why (CaseQuarantine), the
// email carries the filter's Verdict. A supervisor lists it
// (ListQuarantine), releases it (Release: it is then routed as other
// mail) or deletes it (Delete). Nothing is dropped unseen.

// quarantine stores mail set aside as a new quarantined inbound
// interaction, in the ingest transaction, and tells the supervisors of
// its queue (EventQuarantined).
func (w *Workspace) quarantine(t *tx, in *intake, email *Email) (*interaction.Interaction, error) {
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, err
	}
	it, err := w.newInbound(t, in, email.InteractionID)
	if err != nil {
		return nil, err
	}
	w.applyRoute(it, in.mailbox, recipients(in.msg), in.msg.Auto, t.now)
	if w.opts.QuarantineQueue != "" {
		it.Queue = w.opts.QuarantineQueue
	}
	it.CaseData.Put(CaseQuarantine, in.reason, true)
	if err := it.Fire(t.ctx, interaction.EventQuarantine, "system", t.now, in.reason); err != nil {
		return nil, err
	}
	if err := t.CreateInteraction(t.ctx, it); err != nil {
		return nil, err
	}
	if err := t.emit(EventIngested, it, "", "system", email.ID); err != nil {
		return nil, err
	}
	sups, err := w.supervisors(t, it.Queue, PrivilegeFilter)
	if err != nil {
		return nil, err
	}
	if len(sups) == 0 {
		sups = []string{""} // the host's stream
	}
	for _, a := range sups {
		if err := t.emit(EventQuarantined, it, a, "system", in.reason); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// Quarantine returns, for the actor, the quarantined mail of queue they
// may see, in routing order. It needs PrivilegeFilter. Errors:
// ErrForbidden.
func (ac *Actor) Quarantine(ctx context.Context, queue string) ([]*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	var out []*interaction.Interaction
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegeFilter)
		if err != nil {
			return err
		}
		found, err := t.FindInteractions(ctx, Query{Queue: queue, States: []interaction.State{interaction.StateQuarantined}})
		if err != nil {
			return err
		}
		out, err = w.visibleOnly(t, a, found)
		return err
	})
	return out, err
}

// Release lets quarantined mail id through, as the actor: it is queued in
// the queue its mail routes to, offered like other mail, and its sender
// identified (a contact made as Options.ContactRules allow for mail that
// is not quarantined). It is not acknowledged. It needs PrivilegeFilter
// and that the agent may see it (a supervisor of its queue). Errors:
// ErrNotFound; ErrForbidden; ErrInvalidTransition (not quarantined).
func (ac *Actor) Release(ctx context.Context, id string) (*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	// The sender is identified before the write: the Directory may be a
	// remote CRM.
	var email *Email
	var contactID string
	err := w.view(ctx, func(t *tx) error {
		it, err := t.Interaction(ctx, id)
		if err != nil {
			return err
		}
		contactID = it.ContactID
		emails, err := t.EmailsOf(ctx, id)
		if err != nil {
			return err
		}
		for _, e := range emails {
			if e.Direction == Inbound {
				email = e
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if email == nil {
		return nil, fmt.Errorf("%w: interaction %s holds no received email", ErrNotFound, id)
	}
	var who contact.Contact
	var warnings []string
	if contactID == "" && compose.Auto(email.Auto) != compose.AutoBounce {
		who, warnings = w.findContact(ctx, email.From, w.mayCreateContact(email.From.Address, compose.Auto(email.Auto), false), nil)
	}
	var out *interaction.Interaction
	err = w.update(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegeFilter)
		if err != nil {
			return err
		}
		it, err := w.seen(t, a, id)
		if err != nil {
			return err
		}
		if err := it.Fire(ctx, interaction.EventRelease, agentID, t.now, ""); err != nil {
			return err
		}
		if it.ContactID == "" {
			it.ContactID = who.ID
		}
		recordWarnings(it, t.now, nil, warnings)
		addrs := make([]string, 0, len(email.To)+len(email.Cc))
		for _, l := range [][]mail.Address{email.To, email.Cc} {
			for _, a := range l {
				addrs = append(addrs, a.Address)
			}
		}
		w.applyRoute(it, it.Mailbox, addrs, compose.Auto(email.Auto), t.now)
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventReleased, it, "", agentID, ""); err != nil {
			return err
		}
		if err := t.emit(EventQueued, it, "", agentID, it.Queue); err != nil {
			return err
		}
		if err := w.route(t, it); err != nil {
			return err
		}
		out, err = t.Interaction(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: interaction %s gone while released", ErrConflict, id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
