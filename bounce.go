package emailflow

import (
	"fmt"
	"strings"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// A bounce of one of our emails (a delivery status notification whose
// returned message, header or report names the email's Message-ID) is
// kept beside that email, on its outbound interaction, with Email.BounceOf
// naming it: it is the agent's news about their own email, never a
// customer's mail. A failure fails the sent email back to its agent
// (EventBounce: sent → failed), with the report's status and diagnostic
// per recipient in the history; a delay warning is recorded and the email
// stays sent. The agent who owns the email gets an EventBounced (or
// EventDelayed), or, when the conversation it answered is done, the
// supervisors of its queue.

// takeBounce stores a bounce on the outbound of the email it reports on,
// in the ingest transaction.
func (w *Workspace) takeBounce(t *tx, in *intake, email *Email) (*interaction.Interaction, error) {
	o, err := t.Interaction(t.ctx, email.InteractionID)
	if err != nil {
		return nil, err
	}
	email.BounceOf = in.bounceOf.ID
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, err
	}
	r := email.Report
	if r == nil {
		r = &compose.Report{} // a bounce says it failed, if nothing else
	}
	summary := reportSummary(r)
	var ev EventType
	switch {
	case r.Delayed():
		ev = EventDelayed
		o.Record("system", "delivery-delayed", t.now, summary)
	case r.Failed() || len(r.Recipients) == 0:
		ev = EventBounced
		if o.Can(interaction.EventBounce) {
			if err := o.Fire(t.ctx, interaction.EventBounce, "system", t.now, summary); err != nil {
				return nil, err
			}
		} else {
			o.Record("system", "bounce", t.now, summary)
		}
	default: // delivered, relayed, expanded: news, not a failure
		o.Record("system", "delivery-report", t.now, summary)
	}
	recordWarnings(o, t.now, nil, in.warnings)
	if err := t.UpdateInteraction(t.ctx, o); err != nil {
		return nil, err
	}
	if ev == "" {
		return o, nil
	}
	// The conversation the email answered shows it too.
	var parent *interaction.Interaction
	if o.ParentID != "" {
		if parent, err = t.Interaction(t.ctx, o.ParentID); err != nil {
			return nil, err
		}
		parent.Record("system", string(ev), t.now, o.ID+": "+summary)
		if err := t.UpdateInteraction(t.ctx, parent); err != nil {
			return nil, err
		}
	}
	agents, err := w.concerned(t, o, parent)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		if err := t.emit(ev, o, a, "system", summary); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// concerned returns who hears of a delivery report on outbound o, which
// answers parent (nil for a new email): its owner (for an acknowledgement,
// the owner of the conversation), or, when the conversation is done or
// nobody owns it, the supervisors of its queue; "" (the host's stream)
// when there are none.
func (w *Workspace) concerned(t *tx, o, parent *interaction.Interaction) ([]string, error) {
	owner := o.Owner
	if owner == "system" {
		owner = ""
	}
	queue := o.Queue
	if parent != nil {
		if owner == "" {
			owner = parent.Owner
			if owner == "" {
				owner = parent.LastAgent
			}
		}
		if queue == "" {
			queue = parent.Queue
		}
	}
	if owner != "" && (parent == nil || parent.State != interaction.StateDone) {
		return []string{owner}, nil
	}
	sups, err := w.supervisors(t, queue, PrivilegeSupervise)
	if err != nil || len(sups) > 0 {
		return sups, err
	}
	return []string{""}, nil
}

// supervisors returns the agents serving queue that hold privilege p.
func (w *Workspace) supervisors(t *tx, queue string, p Privilege) ([]string, error) {
	if queue == "" {
		return nil, nil
	}
	agents, err := t.Agents(t.ctx, queue)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range agents {
		if w.may(a, PrivilegeSupervise) && w.may(a, p) {
			out = append(out, a.ID)
		}
	}
	return out, nil
}

// reportSummary says what a report says, in one line for the history and
// events: each recipient's action, status and diagnostic, at most five.
func reportSummary(r *compose.Report) string {
	if len(r.Recipients) == 0 {
		return "delivery failed (the report names no recipient)"
	}
	parts := make([]string, 0, min(len(r.Recipients), 6))
	for i, s := range r.Recipients {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.Recipients)-i))
			break
		}
		parts = append(parts, cutRunes(s.String(), 300))
	}
	return strings.Join(parts, "; ")
}
