package imap

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// prefetchBytes bounds the bodies read ahead of Ingest, and
// prefetchMessages their number. A body over directBytes is not read
// ahead: it is handed to Ingest straight from the connection, as it
// comes, once every body before it is taken in, so a large message is
// held in memory once.
const (
	prefetchBytes    = 4 << 20
	prefetchMessages = 16
	directBytes      = 1 << 20
)

// errStopped ends the reading of a FETCH whose taker failed.
var errStopped = errors.New("imap: reading stopped")

// body is one message read ahead (raw), or to be read from the
// connection (direct, then done is closed once it is taken).
type body struct {
	uid    imap.UID
	raw    []byte
	direct io.Reader
	done   chan struct{}
}

// fetchBodies runs UID FETCH (BODY.PEEK[]) of uids, as fetchAll does,
// with the answer read on a goroutine of its own a few messages ahead of
// take: the server's sending and the reading from the connection go on
// while take ingests. take gets each body in the order the server sent
// it, as a reader that tells its size; it stops at take's first error,
// closing the connection, and returns once the reading goroutine is
// done.
func (s *conn) fetchBodies(uids []imap.UID, take func(imap.UID, io.Reader) error) (gone []imap.UID, err error) {
	ahead := make(chan body, prefetchMessages)
	stop := make(chan struct{})
	b := newBudget(prefetchBytes)
	var readErr error
	var wg sync.WaitGroup
	free := make(chan []byte, prefetchMessages+1) // buffers taken, for reuse
	wg.Go(func() {
		defer close(ahead)
		gone, readErr = s.fetchAll(uids, bodyOpts, func(f *fetched) (bool, error) {
			if f.body == nil {
				return false, nil
			}
			size := f.body.size
			if size > directBytes {
				m := body{uid: f.uid, direct: f.body, done: make(chan struct{})}
				select {
				case ahead <- m:
				case <-stop:
					return false, errStopped
				}
				select {
				case <-m.done:
					return true, nil
				case <-stop:
					return false, errStopped
				}
			}
			if !b.acquire(size, stop) {
				return false, errStopped
			}
			raw := reuse(free, int(size))
			if _, err := io.ReadFull(f.body, raw); err != nil {
				b.release(size)
				return false, err
			}
			select {
			case ahead <- body{uid: f.uid, raw: raw}:
				return true, nil
			case <-stop:
				b.release(size)
				return false, errStopped
			}
		})
	})
	var takeErr error
	for m := range ahead {
		if takeErr == nil {
			r := m.direct
			if r == nil {
				r = bytes.NewReader(m.raw)
			}
			takeErr = take(m.uid, r)
			if takeErr != nil {
				// The rest of the answer is not wanted: the reader stops,
				// abandoning the command, and the connection is closed now
				// rather than once the reader notices (it may be waiting
				// for the server).
				close(stop)
				_ = s.raw.Close()
			}
		}
		if m.done != nil {
			close(m.done)
			continue
		}
		b.release(int64(len(m.raw)))
		// Ingest keeps a copy of its own: the buffer serves again.
		select {
		case free <- m.raw:
		default:
		}
	}
	wg.Wait()
	if takeErr != nil {
		return nil, takeErr
	}
	if readErr != nil {
		return nil, readErr
	}
	return gone, nil
}

// reuse returns a buffer of n bytes: one of free when it is large
// enough, else a new one.
func reuse(free chan []byte, n int) []byte {
	select {
	case buf := <-free:
		if cap(buf) >= n {
			return buf[:n]
		}
	default:
	}
	// Rounded up, so that a buffer serves the next messages too.
	return make([]byte, n, max(n, 64<<10))
}

// budget bounds the bytes read ahead. There is one reader acquiring and
// one taker releasing.
type budget struct {
	mu    sync.Mutex
	used  int64
	max   int64
	freed chan struct{}
}

func newBudget(max int64) *budget {
	return &budget{max: max, freed: make(chan struct{}, 1)}
}

// acquire waits until n bytes fit (or nothing is held), and reports false
// when stop closes first.
func (b *budget) acquire(n int64, stop <-chan struct{}) bool {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return true
		}
		b.mu.Unlock()
		select {
		case <-b.freed:
		case <-stop:
			return false
		}
	}
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	select {
	case b.freed <- struct{}{}:
	default:
	}
}
