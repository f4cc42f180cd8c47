package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/port"
)

var _ port.CheckpointTx = (*txn)(nil)

// Checkpoint implements port.CheckpointTx.
func (t *txn) Checkpoint(ctx context.Context, source string) (port.Checkpoint, error) {
	if err := t.readable(); err != nil {
		return port.Checkpoint{}, err
	}
	c := port.Checkpoint{Source: source}
	var validity, last int64
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT validity, last_uid, updated_at FROM {s}.checkpoints WHERE source = $1`), source).
		Scan(&validity, &last, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return port.Checkpoint{}, notFound("checkpoint", source)
	}
	if err != nil {
		return port.Checkpoint{}, mapErr("checkpoint", err)
	}
	c.Validity, c.Last = uint32(validity), uint32(last)
	return c, nil
}

// PutCheckpoint implements port.CheckpointTx.
func (t *txn) PutCheckpoint(ctx context.Context, c port.Checkpoint) error {
	if err := t.writable(); err != nil {
		return err
	}
	if c.Source == "" {
		return fmt.Errorf("%w: checkpoint without a source", port.ErrInvalidInput)
	}
	_, err := t.tx.Exec(ctx, t.s.sql(`INSERT INTO {s}.checkpoints (source, validity, last_uid, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (source) DO UPDATE SET validity = excluded.validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at`),
		c.Source, int64(c.Validity), int64(c.Last), utc(c.UpdatedAt))
	return mapErr("put checkpoint", err)
}
