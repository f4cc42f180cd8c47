package emailflow

import (
	"errors"
	"fmt"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// Sentinel errors returned by the Workspace and its ports. Match them with
// errors.Is; the messages say what was refused and why.
var (
	// ErrNotFound reports an id that names nothing (port.ErrNotFound).
	ErrNotFound = port.ErrNotFound
	// ErrConflict reports a write on a stale version, or a duplicate id
	// (port.ErrConflict).
	ErrConflict = port.ErrConflict
	// ErrStaleVersion is the ErrConflict of an UpdateInteraction based on
	// an old version: the store wrote nothing and its transaction goes on
	// (the Workspace steps over a queue item another process just took).
	ErrStaleVersion = port.ErrStaleVersion
	// ErrForbidden reports an actor that may not do this.
	ErrForbidden = interaction.ErrForbidden
	// ErrInvalidTransition reports an action the interaction's state does
	// not allow; it wraps the state machine's error.
	ErrInvalidTransition = interaction.ErrInvalidTransition
	// ErrInvalidInput reports a malformed argument or message.
	ErrInvalidInput = port.ErrInvalidInput
	// ErrTooLarge reports a message, attachment or recipient list over a
	// configured limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnavailable reports an agent who cannot take more work now: not
	// ready, or at capacity (the target of a transfer or a consultation).
	ErrUnavailable = errors.New("unavailable")
)

// domainErr maps the compose package's sentinels onto ours, keeping the
// original wrapped, so callers need only this package's errors.
func domainErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, compose.ErrTooLarge) && !errors.Is(err, ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, compose.ErrInvalidInput) && !errors.Is(err, ErrInvalidInput):
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return err
}
