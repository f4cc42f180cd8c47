package memory

import (
	"sort"

	"github.com/emailflow/emailflow"
)

// ringChunk is how many events one block of the ring holds. The ring grows
// a block at a time, so reaching its size never copies the events already
// kept (a slice grown by append would, again and again, while a store
// fills up).
const ringChunk = 512

// ring keeps the most recent events, up to max: the log of a
// Workspace.Events reader. It grows in blocks up to max, then wraps,
// overwriting the oldest.
type ring struct {
	blocks [][]emailflow.Event
	size   int // slots allocated, at most max
	max    int
	start  int // slot of the oldest event
	n      int
}

func (r *ring) slot(i int) *emailflow.Event {
	i %= r.size
	return &r.blocks[i/ringChunk][i%ringChunk]
}

func (r *ring) push(e emailflow.Event) {
	if r.n == r.size && r.size < r.max {
		// Not wrapped yet, so start is 0 and the new slots follow the
		// used ones.
		b := make([]emailflow.Event, min(ringChunk, r.max-r.size))
		r.blocks = append(r.blocks, b)
		r.size += len(b)
	}
	if r.n < r.size {
		*r.slot(r.start + r.n) = e
		r.n++
		return
	}
	*r.slot(r.start) = e
	r.start = (r.start + 1) % r.size
}

// pop removes the newest event (a rolled-back append). When the push had
// overwritten the oldest event, that one stays lost: the log only promises
// the most recent events.
func (r *ring) pop() {
	if r.n == 0 {
		return
	}
	r.n--
	*r.slot(r.start + r.n) = emailflow.Event{}
}

func (r *ring) at(i int) *emailflow.Event { return r.slot(r.start + i) }

func (r *ring) after(seq int64, limit int) []emailflow.Event {
	i := sort.Search(r.n, func(i int) bool { return r.at(i).Seq > seq })
	end := r.n
	if limit > 0 && i+limit < end {
		end = i + limit
	}
	out := make([]emailflow.Event, 0, end-i)
	for ; i < end; i++ {
		out = append(out, *r.at(i))
	}
	return out
}
