package emailflow

import (
	"context"
)

// DecideAgent runs the routing decision for a waiting interaction (which
// agent gets it) in a read-only transaction, without offering: for the
// routing benchmarks.
func (w *Workspace) DecideAgent(ctx context.Context, id string) (string, error) {
	var out string
	err := w.view(ctx, func(t *tx) error {
		it, err := t.Interaction(ctx, id)
		if err != nil {
			return err
		}
		out, err = w.pickAgent(t, it)
		return err
	})
	return out, err
}

// DecideNext runs the routing decision for a free agent (which waiting
// interaction it gets) without offering.
func (w *Workspace) DecideNext(ctx context.Context, agentID string) (string, error) {
	var out string
	err := w.view(ctx, func(t *tx) error {
		a, err := t.Agent(ctx, agentID)
		if err != nil {
			return err
		}
		ra, err := w.routingAgent(t, a)
		if err != nil {
			return err
		}
		next, err := w.nextAcross(t, &ra, a.Queues, false)
		if next != nil {
			out = next.ID
		}
		return err
	})
	return out, err
}
