package port

import "context"

// EventFeed is an optional ability of a Store (found by type assertion):
// one stream of the events committed by every process sharing the store,
// in commit order, so that a Workspace's Subscribe delivers in each
// process the events of all. store/postgres has it (LISTEN/NOTIFY to
// wake, the events table as the source). Without it, Subscribe delivers
// the events of the Workspace's own actions, in process, which is all
// there is with store/memory.
type EventFeed interface {
	// FeedAfter returns up to limit events committed after the one with
	// cursor, in commit order, with Cursor set. Two events of one
	// interaction come in the order their transactions committed.
	FeedAfter(ctx context.Context, cursor int64, limit int) ([]Event, error)
	// FeedHead returns the Cursor of the newest event of the feed (0 when
	// there is none).
	FeedHead(ctx context.Context) (int64, error)
	// FeedWake returns a channel that receives (at least once, several
	// wake-ups possibly merged into one) after events were committed by
	// any process, until ctx ends.
	FeedWake(ctx context.Context) <-chan struct{}
}
