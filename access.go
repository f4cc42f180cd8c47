package emailflow

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// canSee is the one visibility rule of every read of an interaction's
// content. Agent a may see interaction it when a:
//
//   - holds PrivilegeAdmin (the host's administrator);
//   - owns it, is offered it, or transferred it and the transfer is pending;
//   - holds PrivilegeSupervise and serves its queue (a team lead);
//   - holds PrivilegeHistory and it is past: an inbound marked done, an
//     outbound sent or on its way (outbox); never a draft, a consultation
//     or a review;
//   - holds PrivilegeHandle and it waits in a team workbin (anyone may take
//     it from there);
//   - is a party of a consultation: the agent who asked it, the owner of
//     the interaction it is about; and, while it is open, the colleague
//     asked may see that interaction;
//   - reviews it: decided or edited one of its review rounds, or may see
//     its review in progress; a review itself is seen by the reviewers
//     (PrivilegeReview) of its queue, never by the author it excludes.
func (w *Workspace) canSee(t *tx, a *Agent, it *interaction.Interaction) (bool, error) {
	switch {
	case w.may(a, PrivilegeAdmin):
		return true, nil
	case it.Owner == a.ID || it.OfferedTo == a.ID || it.TransferFrom == a.ID:
		return true, nil
	case it.Queue != "" && a.Serves(it.Queue) && w.may(a, PrivilegeSupervise):
		return true, nil
	case past(it) && w.may(a, PrivilegeHistory):
		return true, nil
	case it.State == interaction.StateParked && it.Owner == "" && w.isTeamWorkbin(it.Workbin) && w.may(a, PrivilegeHandle):
		return true, nil
	}
	switch it.Kind {
	case interaction.KindConsult:
		if len(it.History) > 0 && it.History[0].Actor == a.ID {
			return true, nil // the agent who asked
		}
		parent, err := t.Interaction(t.ctx, it.ParentID)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return err == nil && parent.Owner == a.ID, err
	case interaction.KindInbound:
		return consulted(t, a.ID, it)
	case interaction.KindOutbound:
		return w.reviews(t, a, it)
	case interaction.KindReview:
		return w.reviewer(a, it), nil
	}
	return false, nil
}

// past reports an interaction that is over and belongs to the contact's
// history: an inbound done, an outbound that left.
func past(it *interaction.Interaction) bool {
	switch it.Kind {
	case interaction.KindInbound:
		return it.State == interaction.StateDone
	case interaction.KindOutbound:
		return it.State == interaction.StateSent || it.State == interaction.StateOutbox
	}
	return false
}

// consulted reports whether agent is the colleague of an open consultation
// about inbound it.
func consulted(t *tx, agent string, it *interaction.Interaction) (bool, error) {
	cs, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindConsult, ThreadID: it.ThreadID})
	for _, c := range cs {
		open := c.State == interaction.StateOffered || c.State == interaction.StateHandling
		if open && c.ParentID == it.ID && (c.Owner == agent || c.OfferedTo == agent) {
			return true, err
		}
	}
	return false, err
}

// reviews reports whether a reviews outbound o: decided or edited one of
// its rounds, or may see the review of the round in progress.
func (w *Workspace) reviews(t *tx, a *Agent, o *interaction.Interaction) (bool, error) {
	for _, r := range o.Rounds {
		if r.Reviewer == a.ID {
			return true, nil
		}
	}
	r := qa.Current(o.Rounds)
	if r == nil || o.State != interaction.StateInReview {
		return false, nil
	}
	rv, err := t.Interaction(t.ctx, r.ReviewID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return rv.Owner == a.ID || rv.OfferedTo == a.ID || w.reviewer(a, rv), nil
}

// reviewer reports whether a may see review rv from its queue: a reviewer
// of that queue, not excluded from it (its author).
func (w *Workspace) reviewer(a *Agent, rv *interaction.Interaction) bool {
	return rv.Kind == interaction.KindReview && a.Serves(rv.Queue) && w.may(a, PrivilegeReview) && !slices.Contains(rv.Excluded, a.ID)
}

// checkSee refuses with ErrForbidden an interaction a may not see.
func (w *Workspace) checkSee(t *tx, a *Agent, it *interaction.Interaction) error {
	ok, err := w.canSee(t, a, it)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: agent %s may not see %s interaction %s", ErrForbidden, a.ID, it.Kind, it.ID)
	}
	return nil
}

// seen loads interaction id for agent a to read. Errors: ErrNotFound;
// ErrForbidden.
func (w *Workspace) seen(t *tx, a *Agent, id string) (*interaction.Interaction, error) {
	it, err := t.Interaction(t.ctx, id)
	if err != nil {
		return nil, err
	}
	return it, w.checkSee(t, a, it)
}

// visibleOnly keeps the interactions of its that a may see.
func (w *Workspace) visibleOnly(t *tx, a *Agent, its []*interaction.Interaction) ([]*interaction.Interaction, error) {
	out := its[:0]
	for _, it := range its {
		ok, err := w.canSee(t, a, it)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// read runs fn in a read-only transaction on interaction id as agentID
// sees it. Errors: ErrForbidden (an unknown agent, or one who may not see
// it); ErrNotFound.
func (w *Workspace) read(ctx context.Context, agentID, id string, fn func(t *tx, it *interaction.Interaction) error) error {
	return w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, "")
		if err != nil {
			return err
		}
		it, err := w.seen(t, a, id)
		if err != nil {
			return err
		}
		return fn(t, it)
	})
}

// Interaction returns interaction id as agentID may see it (see the
// security model in docs/design.md: its owner, the agent offered it, a
// party of a consultation about it, its reviewer, a supervisor of its
// queue, the admin; past interactions with the history privilege).
// Errors: ErrNotFound; ErrForbidden.
func (w *Workspace) Interaction(ctx context.Context, agentID, id string) (*interaction.Interaction, error) {
	var out *interaction.Interaction
	err := w.read(ctx, agentID, id, func(_ *tx, it *interaction.Interaction) error {
		out = it
		return nil
	})
	return out, err
}

// Emails returns the emails of interaction id, oldest first, for agentID
// (who must be allowed to see it, as for Interaction). The HTML of a
// received email is the sanitized form (no scripts, handlers, forms or
// remote content); UnsafeHTML gives it as received. Errors: ErrNotFound;
// ErrForbidden.
func (w *Workspace) Emails(ctx context.Context, agentID, id string) ([]*Email, error) {
	var out []*Email
	err := w.read(ctx, agentID, id, func(t *tx, _ *interaction.Interaction) error {
		var err error
		out, err = t.EmailsOf(t.ctx, id)
		return err
	})
	return handOutEmails(out), err
}

// handOutEmails gives received emails their sanitized HTML: what hosts
// display by default.
func handOutEmails(es []*Email) []*Email {
	for i, e := range es {
		if e.Direction == Inbound && e.HTML != "" {
			c := e.Clone()
			c.HTML = (&compose.Message{HTML: e.HTML}).SafeHTML()
			es[i] = c
		}
	}
	return es
}

// UnsafeHTML returns the HTML body of email emailID exactly as it was
// received, for agentID (who must be allowed to see its interaction):
// scripts, event handlers, forms and remote images included. Never put it
// in a page as it is: Emails gives the sanitized form for display. It is
// meant for archiving, or for a sandboxed frame on a separate origin.
// Errors: ErrNotFound; ErrForbidden.
func (w *Workspace) UnsafeHTML(ctx context.Context, agentID, emailID string) (string, error) {
	var out string
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, "")
		if err != nil {
			return err
		}
		e, err := t.Email(t.ctx, emailID)
		if err != nil {
			return err
		}
		if _, err := w.seen(t, a, e.InteractionID); err != nil {
			return err
		}
		out = e.HTML
		return nil
	})
	return out, err
}

// Interactions returns the interactions matching q that agentID may see
// (see Interaction): q's Offset and Limit count those only. Errors:
// ErrForbidden (an unknown agent).
func (w *Workspace) Interactions(ctx context.Context, agentID string, q Query) ([]*interaction.Interaction, error) {
	var out []*interaction.Interaction
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, "")
		if err != nil {
			return err
		}
		if w.may(a, PrivilegeAdmin) {
			out, err = t.FindInteractions(ctx, q)
			return err
		}
		page := q
		page.Offset, page.Limit = 0, 0
		found, err := t.FindInteractions(ctx, page)
		if err != nil {
			return err
		}
		if found, err = w.visibleOnly(t, a, found); err != nil {
			return err
		}
		off := min(max(q.Offset, 0), len(found))
		end := len(found)
		if q.Limit > 0 {
			end = min(off+q.Limit, end)
		}
		out = found[off:end]
		return nil
	})
	return out, err
}

// CaseData returns the case data of interaction id, in order, with each
// key's read-only flag, for agentID (as for Interaction). Errors:
// ErrNotFound; ErrForbidden.
func (w *Workspace) CaseData(ctx context.Context, agentID, id string) (interaction.CaseData, error) {
	it, err := w.Interaction(ctx, agentID, id)
	if err != nil {
		return nil, err
	}
	return it.CaseData, nil
}

// Rounds returns the review rounds of outbound email id, oldest first, for
// agentID (as for Interaction). Errors: ErrNotFound; ErrForbidden;
// ErrInvalidInput (not an outbound email).
func (w *Workspace) Rounds(ctx context.Context, agentID, id string) ([]qa.Round, error) {
	it, err := w.Interaction(ctx, agentID, id)
	if err != nil {
		return nil, err
	}
	if it.Kind != interaction.KindOutbound {
		return nil, fmt.Errorf("%w: %s is a %s interaction, not an outbound email", ErrInvalidInput, id, it.Kind)
	}
	return it.Rounds, nil
}

// Events returns up to limit events (all when limit is 0) with Seq greater
// than after from the Store's log: what a subscriber that fell behind, or
// another process, reads to catch up. The admin gets every event; another
// agent those concerning them (as Agent or Actor), as SubscribeOptions.Agent
// filters a subscription. Errors: ErrForbidden (an unknown agent).
func (w *Workspace) Events(ctx context.Context, agentID string, after int64, limit int) ([]Event, error) {
	var out []Event
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, "")
		if err != nil {
			return err
		}
		if w.may(a, PrivilegeAdmin) {
			out, err = t.Events(ctx, after, limit)
			return err
		}
		for {
			page, err := t.Events(ctx, after, eventsPage)
			if err != nil {
				return err
			}
			for _, e := range page {
				if e.Agent == a.ID || e.Actor == a.ID {
					out = append(out, e)
					if limit > 0 && len(out) == limit {
						return nil
					}
				}
			}
			if len(page) < eventsPage {
				return nil
			}
			after = page[len(page)-1].Seq
		}
	})
	return out, err
}

// eventsPage is how many events Events reads at a time when it filters.
const eventsPage = 1000
