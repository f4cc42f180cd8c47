package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/port"
)

// The sender lists and the rate counters of the intake.

// rateKey is a rate counter: a key's count in the window starting at
// window (Unix nanoseconds, so that equal instants in other zones are one
// window).
type rateKey struct {
	key    string
	window int64
}

// SenderRules implements port.Tx.
func (t *txn) SenderRules(_ context.Context, patterns []string) ([]port.SenderRule, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var out []port.SenderRule
	for i, p := range patterns {
		if r, ok := t.s.senderRules[p]; ok && !slices.Contains(patterns[:i], p) {
			out = append(out, r)
		}
	}
	return out, nil
}

// ListSenderRules implements port.Tx.
func (t *txn) ListSenderRules(_ context.Context, offset, limit int) ([]port.SenderRule, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(t.s.senderRules))
	for k := range t.s.senderRules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = keys[min(max(offset, 0), len(keys)):]
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]port.SenderRule, 0, len(keys))
	for _, k := range keys {
		out = append(out, t.s.senderRules[k])
	}
	return out, nil
}

// PutSenderRule implements port.Tx.
func (t *txn) PutSenderRule(_ context.Context, r port.SenderRule) error {
	if err := t.writable(); err != nil {
		return err
	}
	if r.Pattern == "" || strings.ContainsAny(r.Pattern, " \r\n") {
		return fmt.Errorf("%w: sender rule pattern %q", port.ErrInvalidInput, r.Pattern)
	}
	old, existed := t.s.senderRules[r.Pattern]
	t.s.senderRules[r.Pattern] = r
	t.undo = append(t.undo, func() {
		if existed {
			t.s.senderRules[r.Pattern] = old
		} else {
			delete(t.s.senderRules, r.Pattern)
		}
	})
	return nil
}

// DeleteSenderRule implements port.Tx.
func (t *txn) DeleteSenderRule(_ context.Context, pattern string) error {
	if err := t.writable(); err != nil {
		return err
	}
	old, ok := t.s.senderRules[pattern]
	if !ok {
		return notFound("sender rule", pattern)
	}
	delete(t.s.senderRules, pattern)
	t.undo = append(t.undo, func() { t.s.senderRules[pattern] = old })
	return nil
}

// CountRate implements port.Tx.
func (t *txn) CountRate(_ context.Context, key string, window time.Time, n int) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	k := rateKey{key, window.UnixNano()}
	old, existed := t.s.rates[k]
	t.s.rates[k] = old + n
	t.undo = append(t.undo, func() {
		if existed {
			t.s.rates[k] = old
		} else {
			delete(t.s.rates, k)
		}
	})
	return old + n, nil
}

// PruneRates implements port.Tx.
func (t *txn) PruneRates(_ context.Context, before time.Time) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	cut := before.UnixNano()
	gone := map[rateKey]int{}
	for k, n := range t.s.rates {
		if k.window < cut {
			gone[k] = n
			delete(t.s.rates, k)
		}
	}
	if len(gone) > 0 {
		t.undo = append(t.undo, func() {
			for k, n := range gone {
				t.s.rates[k] = n
			}
		})
	}
	return len(gone), nil
}
