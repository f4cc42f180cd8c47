package emailflow

import (
	"context"
	"errors"
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// errNone ends a claiming loop: nothing left to claim.
var errNone = errors.New("nothing due")

// claimEach runs handle on each interaction claim returns, each in a
// transaction of its own, until claim finds none; it returns how many
// were handled. An interaction is claimed once a round, whether handle
// acted on it or skipped it (errSkip).
func (w *Workspace) claimEach(ctx context.Context, claim func(t *tx, skip []string) (*interaction.Interaction, error), handle func(t *tx, it *interaction.Interaction) error) (int, error) {
	var skip []string
	n := 0
	for {
		var id string
		err := w.update(ctx, func(t *tx) error {
			id = ""
			it, err := claim(t, skip)
			if err != nil {
				return err
			}
			if it == nil {
				return errNone
			}
			id = it.ID
			return handle(t, it)
		})
		if id != "" {
			skip = append(skip, id)
		}
		switch {
		case errors.Is(err, errNone):
			return n, nil
		case errors.Is(err, errSkip):
		case err != nil:
			return n, err
		default:
			n++
		}
	}
}

// tickClaiming is Tick on a Store whose Tx claims timers (TimerTx).
func (w *Workspace) tickClaiming(ctx context.Context, now time.Time) (int, error) {
	timers := func(t *tx) TimerTx { return t.Tx.(TimerTx) }
	n, err := w.claimEach(ctx, func(t *tx, skip []string) (*interaction.Interaction, error) {
		return timers(t).ClaimDueOffer(ctx, now.Add(-w.opts.AcceptTimeout), skip)
	}, func(t *tx, it *interaction.Interaction) error {
		if !it.Can(interaction.EventTimeout) {
			return errSkip
		}
		return w.timeOut(t, it)
	})
	if err != nil {
		return n, err
	}
	_, err = w.claimEach(ctx, func(t *tx, skip []string) (*interaction.Interaction, error) {
		return timers(t).ClaimDeclined(ctx, skip)
	}, w.route)
	if err != nil {
		return n, err
	}
	_, err = w.claimEach(ctx, func(t *tx, skip []string) (*interaction.Interaction, error) {
		return timers(t).ClaimExpiredPreference(ctx, now, skip)
	}, func(t *tx, it *interaction.Interaction) error {
		if it.State != interaction.StateQueued || it.PreferredAgent == "" {
			return errSkip
		}
		return w.expirePreference(t, it)
	})
	if err != nil {
		return n, err
	}
	return n, w.pruneRates(ctx, now)
}

// dispatchClaiming is dispatch on a Store whose Tx claims outbox
// items (OutboxClaimTx): at most 100 deliveries a call, as without.
func (w *Workspace) dispatchClaiming(ctx context.Context) (int, error) {
	n := 0
	for range 100 {
		var item *OutboxItem
		err := w.update(ctx, func(t *tx) error {
			item = nil
			o, err := t.Tx.(OutboxClaimTx).ClaimOutbox(ctx, t.now)
			if err != nil || o == nil {
				return err
			}
			item = o
			return w.lease(t, o)
		})
		if err != nil {
			return n, err
		}
		if item == nil {
			return n, nil
		}
		if _, err := w.attempt(ctx, item); err == nil {
			n++
		} else if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
	return n, nil
}
