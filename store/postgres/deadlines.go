package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/routing"
)

var (
	_ port.ServiceLevelTx  = (*txn)(nil)
	_ port.DeadlineClaimTx = (*txn)(nil)
)

// DueSLA implements port.ServiceLevelTx, from the partial index on
// sla_next.
func (t *txn) DueSLA(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	q, args := page(`SELECT id FROM {s}.interactions WHERE sla_next IS NOT NULL AND sla_next <= $1
		ORDER BY sla_next, id`, []any{now}, 0, limit)
	rows, err := t.tx.Query(ctx, t.s.sql(q), args...)
	if err != nil {
		return nil, mapErr("due deadlines", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr("due deadlines", err)
	}
	return ids, nil
}

// WaitingByDue implements port.ServiceLevelTx.
func (t *txn) WaitingByDue(ctx context.Context, queue string, offset, limit int) ([]routing.Item, error) {
	return t.waiting(ctx, queue, "sla_due NULLS LAST, ", offset, limit)
}

// ClaimDueSLA implements port.DeadlineClaimTx, on the index
// interactions_sla_next.
func (t *txn) ClaimDueSLA(ctx context.Context, now time.Time, skip []string) (*interaction.Interaction, error) {
	return t.claimInteraction(ctx, "claim due deadline", `SELECT data, version FROM {s}.interactions
		WHERE sla_next IS NOT NULL AND sla_next <= $1 AND id <> ALL($2)
		ORDER BY sla_next, id LIMIT 1 FOR UPDATE SKIP LOCKED`, utc(now), nonNil(skip))
}
