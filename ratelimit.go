package emailflow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emailflow/emailflow/contact"
)

// RateLimit bounds how many messages of a kind one address may cause in a
// window of time: automated mail from one sender (Options.AutoMailLimit),
// acknowledgements to one recipient (Options.AckLimit). Windows are fixed
// (they start at multiples of Per since the Unix epoch), so at most twice
// Max can pass around the turn of a window. The counters are kept in the
// Store (see RateTx), so every Workspace sharing it counts together.
type RateLimit struct {
	// Max is how many pass in a window; 0 means the option's default, and
	// a negative Max turns the limit off.
	Max int
	// Per is the length of a window; 0 means an hour.
	Per time.Duration
}

// off reports whether the limit is turned off.
func (l RateLimit) off() bool { return l.Max < 0 }

// withDefault returns l with its zero fields set: max messages an hour.
func (l RateLimit) withDefault(max int) RateLimit {
	if l.Max == 0 {
		l.Max = max
	}
	if l.Per <= 0 {
		l.Per = time.Hour
	}
	return l
}

// Default rate limits.
const (
	// DefaultAutoMailLimit is how many automated messages one sender may
	// send in an hour before the rest is quarantined.
	DefaultAutoMailLimit = 20
	// DefaultAckLimit is how many acknowledgements one address receives
	// in an hour at most.
	DefaultAckLimit = 5
)

// localRates are the rate counters of a Workspace whose Store keeps none
// (see RateTx).
type localRates struct {
	mu sync.Mutex
	n  map[rateWindow]int
}

// rateWindow is a counter's key and the start of its window (Unix
// nanoseconds).
type rateWindow struct {
	key    string
	window int64
}

func (l *localRates) count(key string, window time.Time, n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[rateWindow]int{}
	}
	k := rateWindow{key, window.UnixNano()}
	l.n[k] += n
	return l.n[k]
}

func (l *localRates) prune(before time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.n {
		if k.window < before.UnixNano() {
			delete(l.n, k)
		}
	}
}

// Rate counter keys, by what they count.
const (
	rateAutoMail = "auto-mail "
	rateAck      = "ack "
)

// count adds one to the counter of addr for limit l in the window now
// falls in, in the Store's counters when it keeps them, and reports
// whether that one is still within the limit.
func (w *Workspace) count(t *tx, kind, addr string, l RateLimit) (bool, error) {
	if l.off() {
		return true, nil
	}
	key, window := kind+contact.NormalizeAddress(addr), t.now.Truncate(l.Per)
	rt, ok := t.Tx.(RateTx)
	if !ok {
		return w.rates.count(key, window, 1) <= l.Max, nil
	}
	n, err := rt.CountRate(t.ctx, key, window, 1)
	if err != nil {
		return false, err
	}
	return n <= l.Max, nil
}

// pruneRates deletes, at most once a minute, the rate counters whose
// window ended long enough ago not to matter to any limit.
func (w *Workspace) pruneRates(ctx context.Context, now time.Time) error {
	minute := now.Truncate(time.Minute).Unix()
	if last := w.pruned.Load(); last >= minute || !w.pruned.CompareAndSwap(last, minute) {
		return nil
	}
	before := now.Add(-2 * max(w.opts.AutoMailLimit.Per, w.opts.AckLimit.Per))
	w.rates.prune(before)
	return w.update(ctx, func(t *tx) error {
		rt, ok := t.Tx.(RateTx)
		if !ok {
			return nil
		}
		_, err := rt.PruneRates(ctx, before)
		return err
	})
}

// checkRateLimit refuses a limit whose window is negative.
func checkRateLimit(name string, l RateLimit) error {
	if l.Per < 0 {
		return fmt.Errorf("%w: Options.%s.Per %v is negative", ErrInvalidInput, name, l.Per)
	}
	return nil
}
