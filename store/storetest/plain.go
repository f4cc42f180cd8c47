package storetest

import (
	"context"

	"github.com/emailflow/emailflow"
)

// Plain returns a Store whose transactions have only the methods of
// emailflow.Tx, none of the optional abilities (emailflow.CheckpointTx):
// a host's minimal store, to test what the Workspace and the adapters do
// without them.
func Plain(s emailflow.Store) emailflow.Store { return plainStore{s} }

type plainStore struct{ s emailflow.Store }

type plainTx struct{ emailflow.Tx }

func (p plainStore) Update(ctx context.Context, fn func(emailflow.Tx) error) error {
	return p.s.Update(ctx, func(tx emailflow.Tx) error { return fn(plainTx{tx}) })
}

func (p plainStore) View(ctx context.Context, fn func(emailflow.Tx) error) error {
	return p.s.View(ctx, func(tx emailflow.Tx) error { return fn(plainTx{tx}) })
}
