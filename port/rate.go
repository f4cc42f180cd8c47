package port

import (
	"context"
	"time"
)

// RateTx is the optional ability of a Tx to keep rate counters, found by
// type assertion. store/memory and store/postgres have it; with a Store
// without it, each Workspace counts in its own memory, so a limit holds
// per process rather than for all of them.
type RateTx interface {
	// CountRate adds n to the counter of key for the window that starts
	// at window, creating it at zero, and returns its new value. Two
	// transactions counting the same key at once both count: neither
	// loses the other's.
	CountRate(ctx context.Context, key string, window time.Time, n int) (int, error)
	// PruneRates deletes the counters of windows that started before
	// before and returns how many it deleted.
	PruneRates(ctx context.Context, before time.Time) (int, error)
}
