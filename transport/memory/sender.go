// Package memory is an in-memory mail transport: a Sender that records what
// it was asked to deliver, for embedding, demos and tests of host
// applications.
package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/emailflow/emailflow"
)

var _ emailflow.Sender = (*Sender)(nil)

// Delivery is one message handed to the Sender.
type Delivery struct {
	From string
	To   []string
	Raw  []byte
}

// Attempt is one call of Send: what it was asked to deliver and what it
// returned (nil for a delivery).
type Attempt struct {
	Delivery
	Err error
}

// Sender records deliveries. Its zero value is ready to use and safe for
// concurrent use. Set Fail to make deliveries fail, to exercise retries.
type Sender struct {
	mu       sync.Mutex
	sent     []Delivery
	attempts []Attempt
	fail     error
}

// Send implements emailflow.Sender.
func (s *Sender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	d := Delivery{From: from, To: slices.Clone(to), Raw: slices.Clone(msg)}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := ctx.Err()
	if err == nil {
		err = s.fail
	}
	s.attempts = append(s.attempts, Attempt{Delivery: d, Err: err})
	if err != nil {
		return err
	}
	s.sent = append(s.sent, d)
	return nil
}

// Fail makes every later Send return err; nil makes them succeed again.
func (s *Sender) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// Sent returns the deliveries so far, oldest first.
func (s *Sender) Sent() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Attempts returns every call of Send so far, failed ones included,
// oldest first: what a retry schedule is checked against.
func (s *Sender) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// Reset forgets the deliveries and attempts so far.
func (s *Sender) Reset() {
	s.mu.Lock()
	s.sent, s.attempts = nil, nil
	s.mu.Unlock()
}
