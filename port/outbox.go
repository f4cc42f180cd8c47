package port

import "time"

// OutboxState is the delivery state of an outbox item.
type OutboxState string

// Outbox states.
const (
	OutboxPending   OutboxState = "pending"
	OutboxDelivered OutboxState = "delivered"
	OutboxFailed    OutboxState = "failed"
)

// String returns the state's name.
func (s OutboxState) String() string { return string(s) }

// OutboxItem is a rendered message waiting for delivery. It is written in
// the same transaction as the state change that sends it, so an accepted
// send is never lost; the dispatcher retries it with the same bytes.
type OutboxItem struct {
	ID            string
	InteractionID string
	EmailID       string
	MessageID     string
	From          string
	To            []string
	Raw           []byte
	State         OutboxState
	Attempts      int
	NextAttempt   time.Time
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Clone returns a copy; Raw is shared.
func (o *OutboxItem) Clone() *OutboxItem {
	if o == nil {
		return nil
	}
	c := *o
	c.To = append([]string(nil), o.To...)
	return &c
}
