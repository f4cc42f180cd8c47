package emailflow

import (
	"context"
	"time"

	"github.com/emailflow/emailflow/port"
)

// EventFeed is port.EventFeed: a Store that feeds every process the
// events all of them commit, in commit order.
type EventFeed = port.EventFeed

// feedPage is how many events the follower reads at a time.
const feedPage = 1000

// follower is the Workspace's reader of its store's feed: one per
// Workspace, running while it has subscriptions, fanning out to them.
type follower struct {
	subs   int           // subscriptions, catching up or not
	cursor int64         // the last event fanned out
	ready  chan struct{} // closed once cursor is set
	cancel context.CancelFunc
	nudge  chan struct{}
}

// subscribeFeed sets s up on the feed: from now, or after cursor after.
func (w *Workspace) subscribeFeed(ctx context.Context, s *Subscription, after int64) {
	w.subMu.Lock()
	if w.fol.subs == 0 {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		w.fol.cancel, w.fol.ready, w.fol.nudge = cancel, make(chan struct{}), make(chan struct{}, 1)
		go w.follow(fctx, w.fol.ready, w.fol.nudge)
	}
	w.fol.subs++
	ready := w.fol.ready
	s.catching, s.quit = true, make(chan struct{})
	s.stop = context.AfterFunc(ctx, s.Close)
	w.subMu.Unlock()
	joined := make(chan struct{})
	go w.catchUp(ctx, s, ready, after, joined)
	if after <= 0 {
		// From now: events committed once Subscribe returns are the
		// subscription's.
		<-joined
	}
}

// unfollow stops the follower when the last subscription is gone. The
// caller holds subMu.
func (w *Workspace) unfollow() {
	w.fol.subs--
	if w.fol.subs == 0 {
		w.fol.cancel()
		w.fol = follower{}
	}
}

// nudgeFeed wakes the follower after a commit of this Workspace's.
func (w *Workspace) nudgeFeed() {
	w.subMu.RLock()
	if w.fol.nudge != nil {
		select {
		case w.fol.nudge <- struct{}{}:
		default:
		}
	}
	w.subMu.RUnlock()
}

// follow reads the feed whenever woken and gives each event to the
// subscriptions that are live (not catching up), until ctx ends.
func (w *Workspace) follow(ctx context.Context, ready chan struct{}, nudge chan struct{}) {
	wake := w.feed.FeedWake(ctx)
	var cursor int64
	for {
		head, err := w.feed.FeedHead(ctx)
		if err == nil {
			cursor = head
			break
		}
		if !w.feedPause(ctx, err) {
			return
		}
	}
	w.subMu.Lock()
	if ctx.Err() != nil { // stopped: w.fol may be another follower's now
		w.subMu.Unlock()
		return
	}
	w.fol.cursor = cursor
	w.subMu.Unlock()
	close(ready)
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-nudge:
		}
		for {
			evs, err := w.feed.FeedAfter(ctx, cursor, feedPage)
			if err != nil {
				if !w.feedPause(ctx, err) {
					return
				}
				continue
			}
			if len(evs) == 0 {
				break
			}
			cursor = evs[len(evs)-1].Cursor
			w.subMu.Lock()
			if ctx.Err() != nil {
				w.subMu.Unlock()
				return
			}
			for s := range w.subs {
				for _, e := range evs {
					if e.Cursor <= s.last {
						continue // had it while catching up
					}
					s.last = e.Cursor
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
			w.fol.cursor = cursor
			w.subMu.Unlock()
			if len(evs) < feedPage {
				break
			}
		}
	}
}

// feedPause logs a feed error and waits a moment; it reports false when
// ctx ended.
func (w *Workspace) feedPause(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	w.log.Warn("emailflow: event feed", "err", err)
	select {
	case <-ctx.Done():
		return false
	case <-time.After(200 * time.Millisecond):
		return true
	}
}

// catchUp gives s the events after cursor after (none when after is 0),
// waiting for the subscriber rather than dropping, until it has reached
// the follower; then s joins the live subscriptions, and joined is closed
// (also when s ends first).
func (w *Workspace) catchUp(ctx context.Context, s *Subscription, ready chan struct{}, after int64, joined chan struct{}) {
	defer close(joined)
	select {
	case <-ready:
	case <-s.quit:
		w.endCatchUp(s)
		return
	}
	last := after
	for {
		if last <= 0 || !w.behind(last) {
			w.subMu.Lock()
			select {
			case <-s.quit:
				w.subMu.Unlock()
				w.endCatchUp(s)
				return
			default:
			}
			if last <= 0 {
				last = w.fol.cursor
			}
			if last >= w.fol.cursor {
				s.catching, s.last = false, last
				w.subs[s] = struct{}{}
				w.subMu.Unlock()
				return
			}
			w.subMu.Unlock()
		}
		evs, err := w.feed.FeedAfter(ctx, last, feedPage)
		if err != nil {
			if !w.feedPause(ctx, err) {
				<-s.quit // Close follows ctx's end
				w.endCatchUp(s)
				return
			}
			continue
		}
		for _, e := range evs {
			last = e.Cursor
			if !s.wants(e) {
				continue
			}
			select {
			case s.c <- e:
			case <-s.quit:
				w.endCatchUp(s)
				return
			}
		}
	}
}

// behind reports whether the follower has fanned out events after cursor.
func (w *Workspace) behind(cursor int64) bool {
	w.subMu.RLock()
	defer w.subMu.RUnlock()
	return cursor < w.fol.cursor
}

// endCatchUp closes a subscription closed while catching up.
func (w *Workspace) endCatchUp(s *Subscription) {
	w.subMu.Lock()
	close(s.c)
	w.unfollow()
	w.subMu.Unlock()
}
