package emailflow

import (
	"context"
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// QueueStats is what a supervisor sees of a queue.
type QueueStats struct {
	Queue   string
	Waiting int           // interactions queued
	Offered int           // offered to an agent, not yet accepted
	Oldest  time.Duration // the longest wait among the queued
	// ServiceLevel is the queue's target time to answer (Queue.ServiceLevel);
	// OverTarget counts the queued interactions waiting longer than it.
	ServiceLevel time.Duration
	OverTarget   int
	// Available counts the agents of the queue ready and below capacity.
	Available int
	// Quarantined counts the mail of the queue set aside for a
	// supervisor (see ListQuarantine, Release).
	Quarantined int
	// Bounced counts the emails of the queue a delivery report failed
	// and their agents have not taken up again (outbound, failed by a
	// bounce: see EventBounced).
	Bounced int
	// AtRisk counts the queue's open inbound interactions with a deadline
	// that warned and is neither met nor breached; Breached those with an
	// open deadline breached (Options.ServiceLevels). NextDue is the
	// earliest due time among their running deadlines (zero: none runs).
	AtRisk   int
	Breached int
	NextDue  time.Time
}

// QueueStats reports the state of queue for a supervisor: waiting and
// offered interactions, the oldest wait, how many wait beyond the service
// level target, the available agents, the quarantined mail and the
// bounced emails. It needs the assign privilege. Errors: ErrForbidden.
func (ac *Actor) QueueStats(ctx context.Context, queue string) (QueueStats, error) {
	w, actorID := ac.w, ac.id
	st := QueueStats{Queue: queue, ServiceLevel: w.queue(queue).ServiceLevel}
	err := w.view(ctx, func(t *tx) error {
		if _, err := w.agent(t, actorID, PrivilegeAssign); err != nil {
			return err
		}
		for offset := 0; ; offset += statsPage {
			page, err := t.Waiting(ctx, queue, offset, statsPage)
			if err != nil {
				return err
			}
			st.Waiting += len(page)
			for _, it := range page {
				wait := t.now.Sub(it.QueuedAt)
				st.Oldest = max(st.Oldest, wait)
				if st.ServiceLevel > 0 && wait > st.ServiceLevel {
					st.OverTarget++
				}
			}
			if len(page) < statsPage {
				break
			}
		}
		offered, err := t.FindInteractions(ctx, Query{Queue: queue, States: []interaction.State{interaction.StateOffered}})
		if err != nil {
			return err
		}
		for _, it := range offered {
			if it.Kind != interaction.KindConsult { // consults carry their parent's queue
				st.Offered++
			}
		}
		if err := serviceStats(t, queue, &st); err != nil {
			return err
		}
		aside, err := t.FindInteractions(ctx, Query{Queue: queue, States: []interaction.State{interaction.StateQuarantined, interaction.StateFailed}})
		if err != nil {
			return err
		}
		for _, it := range aside {
			switch {
			case it.State == interaction.StateQuarantined:
				st.Quarantined++
			case it.Kind == interaction.KindOutbound && bounced(it):
				st.Bounced++
			}
		}
		for offset := 0; ; offset += statsPage {
			page, err := t.AvailableAgents(ctx, queue, offset, statsPage)
			if err != nil {
				return err
			}
			st.Available += len(page)
			if len(page) < statsPage {
				return nil
			}
		}
	})
	return st, err
}

const statsPage = 1000

// inboundOpen lists the states of an inbound that still owes an answer.
var inboundOpen = []interaction.State{interaction.StateQueued, interaction.StateOffered,
	interaction.StateHandling, interaction.StateParked, interaction.StateTransferred}

// serviceStats counts the queue's open inbound interactions at risk and
// breached and finds the earliest due time, from the values stored with
// each (see slaSync), not recomputed.
func serviceStats(t *tx, queue string, st *QueueStats) error {
	if queue == "" {
		return nil
	}
	for offset := 0; ; offset += statsPage {
		page, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, Queue: queue, States: inboundOpen, Offset: offset, Limit: statsPage})
		if err != nil {
			return err
		}
		for _, it := range page {
			switch it.SLA.Risk {
			case interaction.RiskAtRisk:
				st.AtRisk++
			case interaction.RiskBreached:
				st.Breached++
			}
			if d := it.SLA.Due; !d.IsZero() && (st.NextDue.IsZero() || d.Before(st.NextDue)) {
				st.NextDue = d
			}
		}
		if len(page) < statsPage {
			return nil
		}
	}
}

// bounced reports whether outbound it failed because of a bounce (its
// latest transition is one), not a delivery the Sender gave up on.
func bounced(it *interaction.Interaction) bool {
	for i := len(it.History) - 1; i >= 0; i-- {
		if e := it.History[i]; e.From != e.To {
			return e.Action == string(interaction.EventBounce)
		}
	}
	return false
}
