package port

import (
	"context"

	"github.com/emailflow/emailflow/interaction"
)

// LastWriteTx is an optional ability of a Tx, found by type assertion:
// UpdateInteractionLast is UpdateInteraction for a caller that fails its
// transaction with any error the write gives (it returns that error and
// nothing else runs in the transaction that could commit without the
// write). A store may then check the write later, with the statements
// after it or with the commit, instead of in the call: a stale version,
// an unknown id or a changed thread then fail the statement it rode with
// or the commit, the transaction returns the error UpdateInteraction
// would have given (ErrStaleVersion, ErrNotFound, ErrInvalidInput, or
// ErrConflict), and nothing of it is committed. Unlike UpdateInteraction's,
// such an error does not leave the transaction usable. On success it is
// UpdateInteraction. store/postgres has it: the write then rides in the
// batch of the events and COMMIT, saving its round trip.
type LastWriteTx interface {
	UpdateInteractionLast(ctx context.Context, it *interaction.Interaction) error
}
