package emailflow

import (
	"context"
	"errors"
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// TimerTx is an optional ability of a Tx (found by type assertion): it
// claims the timers that are due, one at a time, so that the processes
// sharing a Store each take a different one and none is handled twice,
// and it finds them by an index on their due time instead of reading
// every offer and every queued interaction. store/postgres has it (FOR
// UPDATE SKIP LOCKED); without it, Tick reads the offers and the queued
// interactions and acts on each due one in a transaction that checks it
// again, the version check keeping a timer from firing twice.
type TimerTx interface {
	// ClaimDueOffer returns an interaction offered or transferred whose
	// OfferedAt is at or before offeredBefore, oldest first, none of skip,
	// locked until the transaction ends; one that another transaction
	// holds is passed over. It returns nil, nil when there is none.
	ClaimDueOffer(ctx context.Context, offeredBefore time.Time, skip []string) (*interaction.Interaction, error)
	// ClaimExpiredPreference returns a queued interaction kept for a
	// preferred agent until a PreferUntil at or before now, as
	// ClaimDueOffer does.
	ClaimExpiredPreference(ctx context.Context, now time.Time, skip []string) (*interaction.Interaction, error)
	// ClaimDeclined returns a queued interaction that agents declined
	// (Declined not empty), as ClaimDueOffer does.
	ClaimDeclined(ctx context.Context, skip []string) (*interaction.Interaction, error)
}

// OutboxClaimTx is an optional ability of a Tx (found by type
// assertion): it claims the outbox item due first, so that dispatchers in
// several processes each lease a different one. store/postgres has it;
// without it DispatchPending reads a page of due items and leases each in
// a transaction that checks it again.
type OutboxClaimTx interface {
	// ClaimOutbox returns the pending item whose NextAttempt is the
	// earliest, not after now, locked until the transaction ends; an item
	// another transaction holds is passed over. It returns nil, nil when
	// none is due.
	ClaimOutbox(ctx context.Context, now time.Time) (*OutboxItem, error)
}

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

// dispatchClaiming is DispatchPending on a Store whose Tx claims outbox
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
