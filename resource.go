package emailflow

import (
	"context"
	"fmt"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// An external resource is whoever an agent forwards a customer's email to
// for help (Forward). Its answer, a reply to the forward from one of the
// forward's recipients, comes back to the agent on the customer's inbound
// as a resource answer (Email.ForwardID), never as the customer's mail:
// Reply and Reply all still answer the customer, no contact is made for
// the resource, and QuoteResourceAnswer puts the answer into a draft on
// request.

// takeResourceAnswer stores an external resource's answer on the inbound
// p names, in the ingest transaction, with a history entry and an
// EventResourceAnswer for its owner. With Options.ReopenOnResourceAnswer a
// parked or done inbound goes back to handling with its owner.
func (w *Workspace) takeResourceAnswer(t *tx, p *placement, email *Email) (*interaction.Interaction, error) {
	parent, err := t.Interaction(t.ctx, p.inbound)
	if err != nil {
		return nil, err
	}
	email.ForwardID = p.forward
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, err
	}
	parent.Record("system", "resource-answer", t.now, email.ID)
	recordWarnings(parent, t.now, nil, p.warnings)
	owner := parent.Owner
	if owner == "" {
		owner = parent.LastAgent
	}
	if w.opts.ReopenOnResourceAnswer && owner != "" {
		switch parent.State {
		case interaction.StateParked:
			if err := parent.Fire(t.ctx, interaction.EventResume, "system", t.now, "resource answer"); err != nil {
				return nil, err
			}
			parent.Workbin, parent.Owner, parent.LastAgent = "", owner, owner
		case interaction.StateDone:
			if err := parent.Fire(t.ctx, interaction.EventReopen, "system", t.now, "resource answer"); err != nil {
				return nil, err
			}
			parent.Owner, parent.LastAgent = owner, owner
		}
	}
	if err := t.UpdateInteraction(t.ctx, parent); err != nil {
		return nil, err
	}
	return parent, t.emit(EventResourceAnswer, parent, owner, "system", email.ID)
}

// ResourceAnswerRef names an external resource's answer (an email with
// Email.ForwardID set) and the draft to quote it in.
type ResourceAnswerRef struct {
	Draft string // the outbound draft's interaction id
	Email string // the answer's email id
}

// QuoteResourceAnswer quotes the external resource's answer r.Email at the
// top of outbound draft r.Draft, which answers the inbound holding it: the
// agent writes above it, and the customer's quoted email stays below. It
// returns the draft as it now is. Errors: ErrNotFound (no such draft, or
// the email is not a resource answer on the inbound the draft answers);
// ErrForbidden (not the draft's owner); ErrInvalidTransition (not a
// draft).
func (ac *Actor) QuoteResourceAnswer(ctx context.Context, r ResourceAnswerRef) (*Draft, error) {
	w, agentID, id, emailID := ac.w, ac.id, r.Draft, r.Email
	var answer *Email
	err := w.view(ctx, func(t *tx) error {
		o, err := owned(t, agentID, id)
		if err != nil {
			return err
		}
		e, err := t.Email(ctx, emailID)
		if err != nil {
			return err
		}
		if !e.IsResourceAnswer() || o.ParentID == "" || e.InteractionID != o.ParentID {
			return fmt.Errorf("%w: email %s is no resource answer on the email %s answers", ErrNotFound, emailID, id)
		}
		answer = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Quoted as a reply quotes: "On <date>, <resource> wrote:" and the text.
	q := compose.Reply(emailMessage(answer), &compose.ReplyOptions{QuoteLanguage: w.opts.QuoteLanguage})
	return w.editDraft(ctx, agentID, id, "quote-resource-answer", func(_ *tx, _ *interaction.Interaction, e *Email) error {
		d := &compose.Draft{Text: e.Text, HTML: e.HTML}
		d.Prepend(q.Text+"\n", q.HTML)
		e.Text, e.HTML = d.Text, d.HTML
		return nil
	})
}
