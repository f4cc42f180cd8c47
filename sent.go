package emailflow

import (
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// Sent is what Send returns: the outbound interaction as it now stands
// (embedded), the email as rendered, with its Message-ID, and what became
// of its delivery. All are the caller's copies.
type Sent struct {
	*interaction.Interaction
	Email    *Email
	Delivery Delivery
}

// DeliveryState is what became of an email Send accepted.
type DeliveryState string

// Delivery states.
const (
	// DeliveryInReview: the email waits for a reviewer's approval;
	// nothing was sent.
	DeliveryInReview DeliveryState = "in-review"
	// DeliveryQueued: the email is in the outbox; a Runner delivers it
	// (Options.ManualDispatch) or tries again after a failure that may
	// pass (Reason says which).
	DeliveryQueued DeliveryState = "in-outbox"
	// DeliverySent: the Sender took the message.
	DeliverySent DeliveryState = "sent"
	// DeliveryFailed: the Sender refused it for good (Reason); the email
	// is back with its agent, in state failed, to correct and send again.
	DeliveryFailed DeliveryState = "failed"
)

// String returns the state's name.
func (s DeliveryState) String() string { return string(s) }

// Delivery is the state of an email's delivery.
type Delivery struct {
	State DeliveryState
	// Reason is the Sender's error of the last attempt that failed: why it
	// failed for good, or why it waits for another try. Empty otherwise.
	Reason string
	// Attempts is how many deliveries were tried.
	Attempts int
	// NextAttempt is when the outbox tries again, while DeliveryQueued.
	NextAttempt time.Time
}

// deliveryOf reads the delivery state from the outbound after an attempt
// and the outbox item as recorded.
func deliveryOf(it *interaction.Interaction, item *OutboxItem, sendErr error) Delivery {
	var d Delivery
	if item != nil {
		d.Attempts, d.NextAttempt, d.Reason = item.Attempts, item.NextAttempt, item.LastError
	}
	if sendErr != nil && d.Reason == "" {
		d.Reason = sendErr.Error()
	}
	switch {
	case it != nil && it.State == interaction.StateSent:
		d.State, d.NextAttempt = DeliverySent, time.Time{}
	case it != nil && it.State == interaction.StateFailed:
		d.State, d.NextAttempt = DeliveryFailed, time.Time{}
	default:
		d.State = DeliveryQueued
	}
	return d
}
