package emailflow

import (
	"context"
	"errors"
	"fmt"
)

// checkpointTx returns the Tx's checkpoint ability, or an error wrapping
// errors.ErrUnsupported.
func checkpointTx(t *tx) (CheckpointTx, error) {
	c, ok := t.Tx.(CheckpointTx)
	if !ok {
		return nil, fmt.Errorf("emailflow: the store keeps no checkpoints (its Tx is no CheckpointTx): %w", errors.ErrUnsupported)
	}
	return c, nil
}

// Checkpoint returns the stored checkpoint of source.
//
// Errors: ErrNotFound when there is none; one wrapping
// errors.ErrUnsupported when the Store keeps no checkpoints; the store's.
func (w *Workspace) Checkpoint(ctx context.Context, source string) (Checkpoint, error) {
	var c Checkpoint
	err := w.view(ctx, func(t *tx) error {
		ct, err := checkpointTx(t)
		if err != nil {
			return err
		}
		c, err = ct.Checkpoint(ctx, source)
		return err
	})
	return c, err
}

// SaveCheckpoint stores c as the checkpoint of c.Source, stamped with the
// Workspace's clock. A checkpoint never moves back within one Validity:
// when the stored one has the same Validity and a higher Last (another
// process reading the same mailbox got further), it is kept. It returns
// the checkpoint stored.
//
// Errors: ErrInvalidInput for an empty Source; one wrapping
// errors.ErrUnsupported when the Store keeps no checkpoints; the store's.
func (w *Workspace) SaveCheckpoint(ctx context.Context, c Checkpoint) (Checkpoint, error) {
	if c.Source == "" {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint without a source", ErrInvalidInput)
	}
	var out Checkpoint
	err := w.update(ctx, func(t *tx) error {
		ct, err := checkpointTx(t)
		if err != nil {
			return err
		}
		old, err := ct.Checkpoint(ctx, c.Source)
		switch {
		case err == nil && old.Validity == c.Validity && old.Last >= c.Last:
			out = old
			return nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		c.UpdatedAt = t.now
		out = c
		return ct.PutCheckpoint(ctx, c)
	})
	return out, err
}
