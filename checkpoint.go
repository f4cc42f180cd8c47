package emailflow

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Checkpoint records how far a reader of a mailbox (the IMAP Ingester of
// transport/imap) got, so that after a restart it takes up where it
// stopped instead of taking in everything again.
type Checkpoint struct {
	// Source names the mailbox read, as the reader chooses (the IMAP
	// Ingester: "imap://user@host:port/INBOX").
	Source string
	// Validity is the numbering Last belongs to (IMAP's UIDVALIDITY):
	// when the mailbox's changes, Last means nothing any more.
	Validity uint32
	// Last is the highest message number (IMAP UID) the reader is done
	// with: every message up to it was ingested or deliberately skipped.
	Last uint32
	// UpdatedAt is when the checkpoint was last moved.
	UpdatedAt time.Time
}

// CheckpointTx is the optional ability of a Tx to keep checkpoints, found
// by type assertion. store/memory and store/postgres have it; a host's
// Store without it cannot run the IMAP Ingester.
type CheckpointTx interface {
	// Checkpoint returns the checkpoint of source, or ErrNotFound.
	Checkpoint(ctx context.Context, source string) (Checkpoint, error)
	// PutCheckpoint inserts or replaces the checkpoint of c.Source.
	PutCheckpoint(ctx context.Context, c Checkpoint) error
}

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
