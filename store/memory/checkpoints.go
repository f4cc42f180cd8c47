package memory

import (
	"context"
	"fmt"

	"github.com/emailflow/emailflow/port"
)

var _ port.CheckpointTx = (*txn)(nil)

// Checkpoint implements port.CheckpointTx.
func (t *txn) Checkpoint(_ context.Context, source string) (port.Checkpoint, error) {
	if err := t.readable(); err != nil {
		return port.Checkpoint{}, err
	}
	c, ok := t.s.checkpoints[source]
	if !ok {
		return port.Checkpoint{}, notFound("checkpoint", source)
	}
	return c, nil
}

// PutCheckpoint implements port.CheckpointTx.
func (t *txn) PutCheckpoint(_ context.Context, c port.Checkpoint) error {
	if err := t.writable(); err != nil {
		return err
	}
	if c.Source == "" {
		return fmt.Errorf("%w: checkpoint without a source", port.ErrInvalidInput)
	}
	s := t.s
	if s.checkpoints == nil {
		s.checkpoints = map[string]port.Checkpoint{}
	}
	old, existed := s.checkpoints[c.Source]
	s.checkpoints[c.Source] = c
	t.undo = append(t.undo, func() {
		if existed {
			s.checkpoints[c.Source] = old
		} else {
			delete(s.checkpoints, c.Source)
		}
	})
	return nil
}
