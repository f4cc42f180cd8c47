package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/port"
)

// The sender lists and the rate counters of the intake (tables of
// intakeSQL).

// SenderRules implements port.Tx.
func (t *txn) SenderRules(ctx context.Context, patterns []string) ([]port.SenderRule, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	rows, err := t.tx.Query(ctx, t.s.sql(`SELECT r.data FROM unnest($1::text[]) WITH ORDINALITY AS p(pattern, ord)
		JOIN {s}.sender_rules r ON r.pattern = p.pattern ORDER BY p.ord`), patterns)
	if err != nil {
		return nil, mapErr("sender rules", err)
	}
	return collectRules(rows)
}

// ListSenderRules implements port.Tx.
func (t *txn) ListSenderRules(ctx context.Context, offset, limit int) ([]port.SenderRule, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	rows, err := t.tx.Query(ctx, t.s.sql(`SELECT data FROM {s}.sender_rules ORDER BY pattern OFFSET $1 LIMIT $2`), max(offset, 0), lim)
	if err != nil {
		return nil, mapErr("list sender rules", err)
	}
	return collectRules(rows)
}

func collectRules(rows pgx.Rows) ([]port.SenderRule, error) {
	out := []port.SenderRule{}
	var data []byte
	seen := map[string]bool{}
	_, err := pgx.ForEachRow(rows, []any{&data}, func() error {
		var r port.SenderRule
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("postgres: decode sender rule: %w", err)
		}
		if !seen[r.Pattern] { // a pattern given twice is one rule
			seen[r.Pattern] = true
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr("sender rules", err)
	}
	return out, nil
}

// PutSenderRule implements port.Tx.
func (t *txn) PutSenderRule(ctx context.Context, r port.SenderRule) error {
	if err := t.writable(); err != nil {
		return err
	}
	if r.Pattern == "" {
		return fmt.Errorf("%w: sender rule without a pattern", port.ErrInvalidInput)
	}
	normTimes(&r)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("postgres: encode sender rule %s: %w", r.Pattern, err)
	}
	_, err = t.tx.Exec(ctx, t.s.sql(`INSERT INTO {s}.sender_rules (pattern, action, data) VALUES ($1, $2, $3)
		ON CONFLICT (pattern) DO UPDATE SET action = EXCLUDED.action, data = EXCLUDED.data`), r.Pattern, string(r.Action), data)
	return mapErr("put sender rule", err)
}

// DeleteSenderRule implements port.Tx.
func (t *txn) DeleteSenderRule(ctx context.Context, pattern string) error {
	if err := t.writable(); err != nil {
		return err
	}
	tag, err := t.tx.Exec(ctx, t.s.sql(`DELETE FROM {s}.sender_rules WHERE pattern = $1`), pattern)
	if err != nil {
		return mapErr("delete sender rule", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("sender rule", pattern)
	}
	return nil
}

// CountRate implements port.Tx: one statement, so that two
// transactions counting at once both count (the second waits for the
// first's row).
func (t *txn) CountRate(ctx context.Context, key string, window time.Time, n int) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	var count int64
	err := t.tx.QueryRow(ctx, t.s.sql(`INSERT INTO {s}.rate_counters AS r (key, window_start, count) VALUES ($1, $2, $3)
		ON CONFLICT (key, window_start) DO UPDATE SET count = r.count + EXCLUDED.count
		RETURNING count`), key, window, n).Scan(&count)
	if err != nil {
		return 0, mapErr("count rate", err)
	}
	return int(count), nil
}

// PruneRates implements port.Tx.
func (t *txn) PruneRates(ctx context.Context, before time.Time) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(ctx, t.s.sql(`DELETE FROM {s}.rate_counters WHERE window_start < $1`), before)
	if err != nil {
		return 0, mapErr("prune rates", err)
	}
	return int(tag.RowsAffected()), nil
}
