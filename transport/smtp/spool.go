package smtp

import (
	"bytes"
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
	mem  []byte
	f    *os.File
	name string // the file's name, when it could not be unlinked at once
	size int64
}

// spool reads r to its end into memory or, past SpoolThreshold, into a
// temporary file; r's errors are returned as they are.
func (s *Server) spool(r io.Reader) (*spooled, error) {
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r, s.opts.SpoolThreshold+1)
	if err == io.EOF {
		return &spooled{mem: buf.Bytes(), size: n}, nil
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
	if _, err := f.Write(buf.Bytes()); err != nil {
		sp.Close()
		return nil, fmt.Errorf("%w: %v", errSpool, err)
	}
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

// reader returns a reader of head then the data, carrying env.
func (sp *spooled) reader(head []byte, env emailflow.Envelope) *message {
	m := &message{head: head, left: int64(len(head)) + sp.size, env: env}
	if sp.f != nil {
		m.body = io.NewSectionReader(sp.f, 0, sp.size)
	} else {
		m.body = bytes.NewReader(sp.mem)
	}
	return m
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
