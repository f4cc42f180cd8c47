package interaction

import "errors"

// Sentinel errors. The emailflow root package re-exports them, so callers
// match them there with errors.Is.
var (
	// ErrInvalidTransition reports an event the interaction's state does not
	// allow; the error wraps the state machine's own error.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrForbidden reports an actor that may not do what was asked, such as
	// acting on another agent's interaction or editing a read-only field.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidInput reports a malformed argument: an empty key, an unknown
	// disposition code, a note without text.
	ErrInvalidInput = errors.New("invalid input")
)
