package sla

import "time"

// EventKind names what happened to an interaction, as far as its deadlines
// are concerned.
type EventKind string

// Events. The Workspace feeds them in the order they happened.
const (
	// Arrived: the customer's first message came in. It starts the
	// first-response and resolution deadlines.
	Arrived EventKind = "arrived"
	// CustomerMessage: the customer wrote again. It ends a pending period
	// and, once a reply was sent, starts a next-response deadline unless
	// one is already running for an earlier message.
	CustomerMessage EventKind = "customer-message"
	// ReplySent: a reply to the customer left (it went to the outbox;
	// after approval when reviewed). It meets the first-response deadline,
	// or else the running next-response one.
	ReplySent EventKind = "reply-sent"
	// PendingStarted: an agent set the interaction pending, waiting on
	// Reason until Until (zero: until the customer writes or
	// PendingEnded).
	PendingStarted EventKind = "pending-started"
	// PendingEnded: the pending period ended before its time.
	PendingEnded EventKind = "pending-ended"
	// ReviewStarted and ReviewEnded bracket a reply's QA review (ended by
	// approval, rejection or withdrawal). Reviews may overlap.
	ReviewStarted EventKind = "review-started"
	ReviewEnded   EventKind = "review-ended"
	// Done: the interaction was marked done. It meets every open deadline.
	Done EventKind = "done"
	// Reopened: a done interaction came back. Its resolution deadline
	// runs on from where it stood; the time it spent done does not count.
	Reopened EventKind = "reopened"
)

// String returns the event kind's name.
func (k EventKind) String() string { return string(k) }

// Event is one thing that happened to an interaction.
type Event struct {
	Kind EventKind
	At   time.Time
	// Reason and Until go with PendingStarted: what the interaction waits
	// on (WaitingOnCustomer or WaitingOnThirdParty) and when it wakes.
	Reason Pause
	Until  time.Time
}
