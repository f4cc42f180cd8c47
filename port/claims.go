package port

import (
	"context"
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
// without it Dispatch reads a page of due items and leases each in
// a transaction that checks it again.
type OutboxClaimTx interface {
	// ClaimOutbox returns the pending item whose NextAttempt is the
	// earliest, not after now, locked until the transaction ends; an item
	// another transaction holds is passed over. It returns nil, nil when
	// none is due.
	ClaimOutbox(ctx context.Context, now time.Time) (*OutboxItem, error)
}
