package smtp

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/emailflow/emailflow"
)

// errSpool marks a failure to keep a message's data (the temporary file).
var errSpool = errors.New("smtp: spooling the message")

// spooled is a message's data as received: in memory up to the Server's
// SpoolThreshold, in an unlinked temporary file above it.
type spooled struct {
	mem  blocks
	f    *os.File
	name string // the file's name, when it could not be unlinked at once
	size int64
}

// spool reads r to its end into memory or, past SpoolThreshold, into a
// temporary file; r's errors are returned as they are.
func (s *Server) spool(r io.Reader) (*spooled, error) {
	var buf blocks
	n, err := buf.readFrom(r, s.opts.SpoolThreshold+1)
	if err == io.EOF {
		return &spooled{mem: buf, size: n}, nil
	}
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.opts.TempDir, "emailflow-smtp-*.eml")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSpool, err)
	}
	sp := &spooled{f: f}
	if os.Remove(f.Name()) != nil {
		sp.name = f.Name() // not on this system: removed on Close
	}
	for _, b := range buf {
		if _, err := f.Write(b); err != nil {
			sp.Close()
			return nil, fmt.Errorf("%w: %v", errSpool, err)
		}
	}
	buf = nil
	m, err := io.Copy(f, r)
	if err != nil {
		sp.Close()
		var werr *os.PathError
		if errors.As(err, &werr) {
			return nil, fmt.Errorf("%w: %v", errSpool, err)
		}
		return nil, err
	}
	sp.size = n + m
	return sp, nil
}

// Close frees the temporary file.
func (sp *spooled) Close() {
	if sp.f != nil {
		_ = sp.f.Close()
		if sp.name != "" {
			_ = os.Remove(sp.name)
		}
	}
}

// reader returns a reader of head then the data, carrying env. For the
// last reader (last), data held in memory is let go as it is read: the
// reader's copy (Workspace.Ingest's, kept with the email) then replaces
// it rather than doubling it.
func (sp *spooled) reader(head []byte, env emailflow.Envelope, last bool) *message {
	m := &message{head: head, left: int64(len(head)) + sp.size, env: env}
	if sp.f != nil {
		m.body = io.NewSectionReader(sp.f, 0, sp.size)
	} else {
		mem := sp.mem
		if last {
			sp.mem = nil
		}
		m.body = &blockReader{b: mem, drop: last}
	}
	return m
}

// blocks holds data in memory as a list of blocks, growing from
// firstBlock to maxBlock bytes: unlike one slice that doubles, it never
// holds an old and a new copy at once, and wastes at most the unused
// end of its last block.
type blocks [][]byte

const (
	firstBlock = 4 << 10
	maxBlock   = 1 << 20
)

// readFrom reads r into bs until EOF or limit bytes, returning the count
// and r's error (io.EOF when r ended within limit).
func (bs *blocks) readFrom(r io.Reader, limit int64) (int64, error) {
	var n int64
	size := firstBlock
	for n < limit {
		b := make([]byte, min(int64(size), limit-n))
		k, err := io.ReadFull(r, b)
		if k > 0 {
			*bs = append(*bs, b[:k:k])
			n += int64(k)
		}
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			return n, io.EOF
		case err != nil:
			return n, err
		}
		size = min(2*size, maxBlock)
	}
	return n, nil
}

// blockReader reads blocks in order; with drop, it forgets each block
// once read, so that the garbage collector can take it back (blocks
// shared with other readers are left as they are).
type blockReader struct {
	b    blocks
	off  int // in b[0]
	drop bool
}

func (r *blockReader) Read(p []byte) (int, error) {
	for len(r.b) > 0 && r.off == len(r.b[0]) {
		if r.drop {
			r.b[0] = nil
		}
		r.b, r.off = r.b[1:], 0
	}
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b[0][r.off:])
	r.off += n
	return n, nil
}

// message is one copy of a received message as an IngestFunc reads it:
// the trace fields, then the data. It tells its size (Len, which lets
// Workspace.Ingest read it into one buffer of the right size) and its
// envelope (emailflow.EnvelopeReader).
type message struct {
	head []byte
	body io.Reader
	left int64
	env  emailflow.Envelope
}

var _ emailflow.EnvelopeReader = (*message)(nil)

func (m *message) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(m.head) > 0 {
		n = copy(p, m.head)
		m.head = m.head[n:]
	} else {
		n, err = m.body.Read(p)
	}
	m.left -= int64(n)
	return n, err
}

// Len is the number of bytes not yet read.
func (m *message) Len() int { return int(m.left) }

// Envelope is the SMTP envelope the message came with.
func (m *message) Envelope() emailflow.Envelope {
	env := m.env
	env.To = append([]string(nil), m.env.To...)
	return env
}
