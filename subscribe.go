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
	// After resumes a subscription after the event with this Cursor (the
	// last one a subscriber got before it disconnected): every event
	// committed since comes first, in order, then the live stream. Only
	// with a Store that has an EventFeed; 0 starts with the events
	// committed from now on.
	After int64
}

// Subscription is a stream of events published after each commit. A
// subscriber that falls behind by more than its buffer loses events (the
// Workspace never waits for a user interface); Dropped counts them, and the
// Store's event log (Workspace.Events) has them all for catching up.
//
// On a Store that has an EventFeed (store/postgres), the stream carries
// the events committed by every process sharing the store, in commit
// order, each with its Cursor; a subscriber that lost events (a full
// buffer, a disconnect) subscribes again with After set to the last
// Cursor it got. Otherwise it carries this Workspace's own events.
type Subscription struct {
	// C delivers the events; it is closed when the subscription ends.
	C       <-chan Event
	c       chan Event
	agent   string
	dropped atomic.Int64
	w       *Workspace
	done    atomic.Bool
	stop    func() bool

	// With a feed, guarded by w.subMu: the cursor of the last event
	// given (or skipped by the filter); while catching up (After), the
	// catching-up goroutine owns c and closes it when quit is closed.
	last     int64
	catching bool
	quit     chan struct{}
}

// wants reports whether the subscription's filter keeps e.
func (s *Subscription) wants(e Event) bool {
	return s.agent == "" || e.Agent == s.agent || e.Actor == s.agent
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
	if s.catching {
		close(s.quit) // the catching-up goroutine closes c
	} else {
		delete(s.w.subs, s)
		close(s.c)
		s.w.unfollow()
	}
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
	if w.feed != nil {
		w.subscribeFeed(ctx, s, o.After)
		return s
	}
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
	if w.feed != nil {
		w.nudgeFeed() // the feed brings them, with everyone else's
		return
	}
	w.subMu.RLock()
	defer w.subMu.RUnlock()
	for s := range w.subs {
		for _, e := range events {
			if !s.wants(e) {
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
