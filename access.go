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

// viewer applies the one visibility rule of every read of an interaction's
// content for agent a, in transaction t. What the rule needs beyond the
// interaction itself (what a owns, the consultations and reviews a takes
// part in) it reads once, on first need, with two indexed queries, so a
// list costs the same whatever it holds.
type viewer struct {
	w *Workspace
	t *tx
	a *Agent

	loaded bool
	owns   map[string]bool // interactions a owns
	asked  map[string]bool // interactions a is asked about in an open consultation
	review map[string]bool // outbound emails whose open review a is offered or handles
}

func (w *Workspace) viewer(t *tx, a *Agent) *viewer { return &viewer{w: w, t: t, a: a} }

// canSee reports whether v's agent a may see interaction it. a may when a:
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
func (v *viewer) canSee(it *interaction.Interaction) (bool, error) {
	w, a := v.w, v.a
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
	case it.Kind == interaction.KindReview:
		return w.reviewer(a, it), nil
	case it.Kind == interaction.KindConsult && len(it.History) > 0 && it.History[0].Actor == a.ID:
		return true, nil // the agent who asked
	case it.Kind == interaction.KindOutbound && slices.ContainsFunc(it.Rounds, func(r qa.Round) bool { return r.Reviewer == a.ID }):
		return true, nil // decided or edited one of its rounds
	}
	if err := v.load(); err != nil {
		return false, err
	}
	switch it.Kind {
	case interaction.KindConsult:
		return v.owns[it.ParentID], nil
	case interaction.KindInbound:
		return v.asked[it.ID], nil
	case interaction.KindOutbound:
		if v.review[it.ID] {
			return true, nil
		}
		return v.reviewsFromQueue(it)
	}
	return false, nil
}

// load reads, once, the interactions v's agent owns or is offered: what
// the rule needs of consultations and reviews.
func (v *viewer) load() error {
	if v.loaded {
		return nil
	}
	v.loaded = true
	v.owns, v.asked, v.review = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, q := range []Query{{Owner: v.a.ID}, {OfferedTo: v.a.ID}} {
		its, err := v.t.FindInteractions(v.t.ctx, q)
		if err != nil {
			return err
		}
		for _, it := range its {
			if it.Owner == v.a.ID {
				v.owns[it.ID] = true
			}
			open := it.State == interaction.StateOffered || it.State == interaction.StateHandling
			switch {
			case !open:
			case it.Kind == interaction.KindConsult:
				v.asked[it.ParentID] = true
			case it.Kind == interaction.KindReview:
				v.review[it.ParentID] = true
			}
		}
	}
	return nil
}

// reviewsFromQueue reports whether v's agent may see outbound o as a
// reviewer of the queue its review in progress waits in.
func (v *viewer) reviewsFromQueue(o *interaction.Interaction) (bool, error) {
	r := qa.Current(o.Rounds)
	if r == nil || o.State != interaction.StateInReview || !v.w.may(v.a, PrivilegeReview) {
		return false, nil
	}
	rv, err := v.t.Interaction(v.t.ctx, r.ReviewID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && v.w.reviewer(v.a, rv), err
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

// reviewer reports whether a may see review rv from its queue: a reviewer
// of that queue, not excluded from it (its author).
func (w *Workspace) reviewer(a *Agent, rv *interaction.Interaction) bool {
	return rv.Kind == interaction.KindReview && a.Serves(rv.Queue) && w.may(a, PrivilegeReview) && !slices.Contains(rv.Excluded, a.ID)
}

// check refuses with ErrForbidden an interaction v's agent may not see.
func (v *viewer) check(it *interaction.Interaction) error {
	ok, err := v.canSee(it)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: agent %s may not see %s interaction %s", ErrForbidden, v.a.ID, it.Kind, it.ID)
	}
	return nil
}

// only keeps the interactions of its that v's agent may see.
func (v *viewer) only(its []*interaction.Interaction) ([]*interaction.Interaction, error) {
	out := its[:0]
	for _, it := range its {
		ok, err := v.canSee(it)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// checkSee refuses with ErrForbidden an interaction a may not see.
func (w *Workspace) checkSee(t *tx, a *Agent, it *interaction.Interaction) error {
	return w.viewer(t, a).check(it)
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
	return w.viewer(t, a).only(its)
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

// Interaction returns interaction id as the actor may see it (see the
// security model in docs/design.md: its owner, the agent offered it, a
// party of a consultation about it, its reviewer, a supervisor of its
// queue, the admin; past interactions with the history privilege).
// Errors: ErrNotFound; ErrForbidden.
func (ac *Actor) Interaction(ctx context.Context, id string) (*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	var out *interaction.Interaction
	err := w.read(ctx, agentID, id, func(_ *tx, it *interaction.Interaction) error {
		out = it
		return nil
	})
	return out, err
}

// Emails returns the emails of interaction id, oldest first, for the actor
// (who must be allowed to see it, as for Interaction). The HTML of a
// received email is the sanitized form (no scripts, handlers, forms or
// remote content); UnsafeHTML gives it as received. Errors: ErrNotFound;
// ErrForbidden.
func (ac *Actor) Emails(ctx context.Context, id string) ([]*Email, error) {
	w, agentID := ac.w, ac.id
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
// received, for the actor (who must be allowed to see its interaction):
// scripts, event handlers, forms and remote images included. Never put it
// in a page as it is: Emails gives the sanitized form for display. It is
// meant for archiving, or for a sandboxed frame on a separate origin.
// Errors: ErrNotFound; ErrForbidden.
func (ac *Actor) UnsafeHTML(ctx context.Context, emailID string) (string, error) {
	w, agentID := ac.w, ac.id
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

// Interactions returns the interactions matching q that the actor may see
// (see Interaction): q's Offset and Limit count those only. Errors:
// ErrForbidden (an unknown agent).
func (ac *Actor) Interactions(ctx context.Context, q Query) ([]*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
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
// key's read-only flag, for the actor (as for Interaction). Errors:
// ErrNotFound; ErrForbidden.
func (ac *Actor) CaseData(ctx context.Context, id string) (interaction.CaseData, error) {
	it, err := ac.Interaction(ctx, id)
	if err != nil {
		return nil, err
	}
	return it.CaseData, nil
}

// Rounds returns the review rounds of outbound email id, oldest first, for
// the actor (as for Interaction). Errors: ErrNotFound; ErrForbidden;
// ErrInvalidInput (not an outbound email).
func (ac *Actor) Rounds(ctx context.Context, id string) ([]qa.Round, error) {
	it, err := ac.Interaction(ctx, id)
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
func (ac *Actor) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	w, agentID := ac.w, ac.id
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
