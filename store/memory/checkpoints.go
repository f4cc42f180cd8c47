package memory

import (
	"context"
	"fmt"

	"github.com/emailflow/emailflow"
)

var _ emailflow.CheckpointTx = (*txn)(nil)

// Checkpoint implements emailflow.CheckpointTx.
func (t *txn) Checkpoint(_ context.Context, source string) (emailflow.Checkpoint, error) {
	if err := t.readable(); err != nil {
		return emailflow.Checkpoint{}, err
	}
	c, ok := t.s.checkpoints[source]
	if !ok {
		return emailflow.Checkpoint{}, notFound("checkpoint", source)
	}
	return c, nil
}

// PutCheckpoint implements emailflow.CheckpointTx.
func (t *txn) PutCheckpoint(_ context.Context, c emailflow.Checkpoint) error {
	if err := t.writable(); err != nil {
		return err
	}
	if c.Source == "" {
		return fmt.Errorf("%w: checkpoint without a source", emailflow.ErrInvalidInput)
	}
	s := t.s
	if s.checkpoints == nil {
		s.checkpoints = map[string]emailflow.Checkpoint{}
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
