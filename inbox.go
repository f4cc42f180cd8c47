package emailflow

import (
	"context"
	"slices"

	"github.com/emailflow/emailflow/interaction"
)

// Inbox is what an agent's inbox shows, read at one moment.
type Inbox struct {
	// Offered are offered to the actor, oldest offer first: inbound mail,
	// transfers, consultations asked of them, reviews. Each is accepted or
	// declined.
	Offered []*interaction.Interaction
	// Owned are the open interactions the actor owns outside a workbin:
	// the mail they handle, the drafts they write, their emails in review,
	// the consultations and reviews they took.
	Owned []*interaction.Interaction
	// Workbins are the actor's personal workbins (WorkbinInProgress,
	// WorkbinDrafts, WorkbinPending), then the team workbins of
	// Options.TeamWorkbins, each listed even when empty.
	Workbins []WorkbinItems
}

// WorkbinItems is one workbin and what is parked in it.
type WorkbinItems struct {
	WorkbinRef
	Items []*interaction.Interaction
}

// Workbin returns what waits in the inbox's workbin named bin (personal
// or team), nil when the inbox lists no such workbin.
func (in *Inbox) Workbin(bin string) []*interaction.Interaction {
	for _, b := range in.Workbins {
		if b.Bin == bin {
			return b.Items
		}
	}
	return nil
}

// personalWorkbins are the workbins every agent has, in the order an inbox
// lists them.
var personalWorkbins = []string{WorkbinInProgress, WorkbinDrafts, WorkbinPending}

// Inbox returns the actor's inbox in one read transaction: what is offered
// to them, what they own, and their workbins with the team's, so a page
// shows one consistent moment. Team workbins list what the actor may take
// (the handle privilege). Errors: ErrForbidden (an unknown agent).
func (ac *Actor) Inbox(ctx context.Context) (*Inbox, error) {
	w := ac.w
	var in *Inbox
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, ac.id, "")
		if err != nil {
			return err
		}
		offered, err := t.FindInteractions(ctx, Query{OfferedTo: a.ID})
		if err != nil {
			return err
		}
		slices.SortStableFunc(offered, func(x, y *interaction.Interaction) int { return x.OfferedAt.Compare(y.OfferedAt) })
		mine, err := t.FindInteractions(ctx, Query{Owner: a.ID})
		if err != nil {
			return err
		}
		in = &Inbox{Offered: offered}
		bins := make(map[string][]*interaction.Interaction, len(personalWorkbins))
		for _, it := range mine {
			switch {
			case it.State == interaction.StateParked:
				bins[it.Workbin] = append(bins[it.Workbin], it)
			case it.State.Open() && it.State != interaction.StateQuarantined:
				in.Owned = append(in.Owned, it)
			}
		}
		for _, bin := range personalWorkbins {
			in.Workbins = append(in.Workbins, WorkbinItems{WorkbinRef: WorkbinRef{Owner: a.ID, Bin: bin}, Items: bins[bin]})
		}
		v := w.viewer(t, a)
		for _, bin := range w.opts.TeamWorkbins {
			found, err := t.FindInteractions(ctx, Query{Workbin: bin, States: []interaction.State{interaction.StateParked}})
			if err != nil {
				return err
			}
			found = slices.DeleteFunc(found, func(it *interaction.Interaction) bool { return it.Owner != "" })
			if found, err = v.only(found); err != nil {
				return err
			}
			in.Workbins = append(in.Workbins, WorkbinItems{WorkbinRef: WorkbinRef{Bin: bin}, Items: found})
		}
		return nil
	})
	return in, err
}
