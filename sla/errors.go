package sla

import "errors"

// Sentinel errors, matched with errors.Is. Each is wrapped with what was
// refused and why.
var (
	// ErrInvalidPolicy reports a policy or a configuration that cannot
	// work: a negative duration, a warning threshold outside 1-99 %, a
	// warning or escalation on a target that has no duration, an unknown
	// pause, trigger or action, a move to no queue, a policy without a
	// name or two with one name.
	ErrInvalidPolicy = errors.New("invalid service-level policy")
	// ErrUnknownCalendar reports a target naming a calendar the host did
	// not give. It comes wrapped together with ErrInvalidPolicy.
	ErrUnknownCalendar = errors.New("unknown calendar")
	// ErrUnknownPolicy reports a rule or a default naming a policy the
	// configuration does not have.
	ErrUnknownPolicy = errors.New("unknown service-level policy")
	// ErrInvalidEvent reports an event the state does not allow (a second
	// arrival, a customer message on a done interaction, reopening one that
	// is not done), an event without a time, or a pending period without a
	// known reason or ending before it starts.
	ErrInvalidEvent = errors.New("invalid service-level event")
)
