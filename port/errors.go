package port

import (
	"errors"
	"fmt"

	"github.com/emailflow/emailflow/interaction"
)

// Errors a port returns, matched with errors.Is. The root package
// re-exports them (emailflow.ErrNotFound is ErrNotFound).
var (
	// ErrNotFound reports an id that names nothing.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports a write on a stale version, or a duplicate id.
	ErrConflict = errors.New("conflict")
	// ErrStaleVersion is the ErrConflict of an UpdateInteraction based on
	// an old version: the store wrote nothing and its transaction goes on
	// (the Workspace steps over a queue item another process just took).
	ErrStaleVersion = fmt.Errorf("%w: stale version", ErrConflict)
	// ErrInvalidInput reports a malformed argument or record; it is the
	// interaction package's value, so errors.Is matches whichever package
	// produced it.
	ErrInvalidInput = interaction.ErrInvalidInput
)
