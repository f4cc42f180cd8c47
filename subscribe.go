package emailflow

import (
	"context"
	"sync/atomic"
)

// SubscribeOptions filter and size a subscription. Nil means every event
// and a buffer of 256.
type SubscribeOptions struct {
	// Agent keeps only the events concerning this agent (as Agent or Actor).
	Agent string
	// Buffer is the channel's capacity.
	Buffer int
}

// Subscription is a stream of events published after each commit. A
// subscriber that falls behind by more than its buffer loses events (the
// Workspace never waits for a user interface); Dropped counts them, and the
// Store's event log (Workspace.Events) has them all for catching up.
type Subscription struct {
	// C delivers the events; it is closed when the subscription ends.
	C       <-chan Event
	c       chan Event
	agent   string
	dropped atomic.Int64
	w       *Workspace
	done    atomic.Bool
	stop    func() bool
}

// Dropped returns how many events this subscriber missed because its
// buffer was full.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

// Close ends the subscription and closes C.
func (s *Subscription) Close() {
	if !s.done.CompareAndSwap(false, true) {
		return
	}
	s.w.subMu.Lock()
	if s.stop != nil {
		s.stop()
	}
	delete(s.w.subs, s)
	close(s.c)
	s.w.subMu.Unlock()
}

// Subscribe returns a subscription to the Workspace's events; it ends when
// ctx is done or Close is called. Events carry details an agent may not
// see (a transfer's note, a consultation's question and answer): a stream
// without SubscribeOptions.Agent is the host's own, and a user interface
// gets one filtered for its agent.
func (w *Workspace) Subscribe(ctx context.Context, opts *SubscribeOptions) *Subscription {
	var o SubscribeOptions
	if opts != nil {
		o = *opts
	}
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	c := make(chan Event, o.Buffer)
	s := &Subscription{C: c, c: c, agent: o.Agent, w: w}
	// Registered and armed under the lock that Close takes, so a context
	// already done cannot close the subscription half set up.
	w.subMu.Lock()
	w.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, s.Close)
	w.subMu.Unlock()
	return s
}

func (w *Workspace) publish(events []Event) {
	if len(events) == 0 {
		return
	}
	w.subMu.RLock()
	defer w.subMu.RUnlock()
	for s := range w.subs {
		for _, e := range events {
			if s.agent != "" && e.Agent != s.agent && e.Actor != s.agent {
				continue
			}
			select {
			case s.c <- e:
			default:
				s.dropped.Add(1)
			}
		}
	}
}
