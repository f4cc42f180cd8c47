package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow"
)

var _ emailflow.CheckpointTx = (*txn)(nil)

// Checkpoint implements emailflow.CheckpointTx.
func (t *txn) Checkpoint(ctx context.Context, source string) (emailflow.Checkpoint, error) {
	if err := t.readable(); err != nil {
		return emailflow.Checkpoint{}, err
	}
	c := emailflow.Checkpoint{Source: source}
	var validity, last int64
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT validity, last_uid, updated_at FROM {s}.checkpoints WHERE source = $1`), source).
		Scan(&validity, &last, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return emailflow.Checkpoint{}, notFound("checkpoint", source)
	}
	if err != nil {
		return emailflow.Checkpoint{}, mapErr("checkpoint", err)
	}
	c.Validity, c.Last = uint32(validity), uint32(last)
	return c, nil
}

// PutCheckpoint implements emailflow.CheckpointTx.
func (t *txn) PutCheckpoint(ctx context.Context, c emailflow.Checkpoint) error {
	if err := t.writable(); err != nil {
		return err
	}
	if c.Source == "" {
		return fmt.Errorf("%w: checkpoint without a source", emailflow.ErrInvalidInput)
	}
	_, err := t.tx.Exec(ctx, t.s.sql(`INSERT INTO {s}.checkpoints (source, validity, last_uid, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (source) DO UPDATE SET validity = excluded.validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`),
		c.Source, int64(c.Validity), int64(c.Last), utc(c.UpdatedAt))
	return mapErr("put checkpoint", err)
}
