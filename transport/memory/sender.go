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

// Sender records deliveries. Its zero value is ready to use and safe for
// concurrent use. Set Fail to make deliveries fail, to exercise retries.
type Sender struct {
	mu   sync.Mutex
	sent []Delivery
	fail error
}

// Send implements emailflow.Sender.
func (s *Sender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.sent = append(s.sent, Delivery{From: from, To: slices.Clone(to), Raw: slices.Clone(msg)})
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

// Reset forgets the deliveries so far.
func (s *Sender) Reset() {
	s.mu.Lock()
	s.sent = nil
	s.mu.Unlock()
}
