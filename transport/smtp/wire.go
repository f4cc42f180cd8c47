package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// wire is one inbound connection as the go-smtp server reads it. go-smtp
// v0.25.1 leaves out what an MX facing the Internet needs, so wire frames
// the byte stream itself and hands go-smtp whole command lines and the
// message data:
//
//   - time limits by phase: IdleTimeout for the next command to start,
//     CommandTimeout for the rest of its line, MessageTimeout for a whole
//     message's data (DATA, or every BDAT chunk from the first to the
//     last). go-smtp only knows a deadline per read of a command line, so
//     a client sending a byte now and then could hold a connection for
//     ever, and a timeout during data got 554.
//   - the line limit for commands only (maxCommandLine): go-smtp's limit
//     applies to message lines too and refuses long ones with 554, while
//     RFC 5321's limits bind senders, not what a receiver must take.
//   - BDAT chunk sizes: wire counts each declared chunk, and a connection
//     that ends inside one marks the message cut (go-smtp takes the end of
//     the stream as the end of the last chunk and would pass on a partial
//     message as whole).
//   - STARTTLS: wire runs the handshake itself, so that all of the above
//     sees the plain text under TLS too (go-smtp would put its own TLS
//     connection above wire).
//
// The message data goes to go-smtp as it comes, never held here: wire
// keeps at most one read buffer.
type wire struct {
	raw net.Conn
	s   *Server

	mu     sync.Mutex // guards cur and state for Close and the session's reads
	cur    net.Conn   // raw, or the TLS connection over it after STARTTLS
	tlsOn  *tls.ConnectionState
	closed bool

	buf    []byte // read from cur: buf[r:e] not yet examined or handed over
	r, e   int
	out    []byte // examined, to hand to go-smtp next
	next   func() // what to do once out is handed over
	phase  phase
	remain int64 // chunk bytes still to come
	last   bool  // the chunk is BDAT … LAST
	dot    int   // end-of-data detector (dataReader's states)

	dataAsked  bool // the last command was DATA: a 354 reply opens the data
	greeting   string
	helloAgain bool      // after STARTTLS, until the client greets again
	lineStart  time.Time // first byte of the command line being read
	waitStart  time.Time // when the server began waiting for a command
	msgStart   time.Time // when the current message's data began
	inMessage  bool
	failed     error // sticky: the stream cannot be framed any further

	cut     atomic.Bool // the connection ended inside a declared chunk
	release func()
	once    sync.Once
}

type phase int

const (
	phaseCommand phase = iota
	phaseData          // after 354, to the line with a single dot
	phaseChunk         // the bytes of a BDAT chunk
)

// maxCommandLine bounds a command line, CRLF included; longer gets 500
// and the connection is closed. RFC 5321 allows 512 octets, extensions
// (SMTPUTF8, DSN, AUTH=) a little more.
const maxCommandLine = 4096

// errTimedOut is the reply to data that did not come in time: temporary,
// so the sending server tries again later.
var errTimedOut = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 4, 2}, Message: "Message not received in time, try again later"}

func newWire(c net.Conn, s *Server, release func()) *wire {
	now := time.Now()
	return &wire{raw: c, cur: c, s: s, buf: make([]byte, 16<<10), release: release, waitStart: now}
}

// LocalAddr, RemoteAddr: those of the TCP connection.
func (w *wire) LocalAddr() net.Addr  { return w.raw.LocalAddr() }
func (w *wire) RemoteAddr() net.Addr { return w.raw.RemoteAddr() }

// SetDeadline and SetReadDeadline leave reads to wire's own limits.
func (w *wire) SetDeadline(t time.Time) error      { return w.SetWriteDeadline(t) }
func (w *wire) SetReadDeadline(time.Time) error    { return nil }
func (w *wire) SetWriteDeadline(t time.Time) error { return w.conn().SetWriteDeadline(t) }

func (w *wire) conn() net.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// tlsState returns the TLS state of the connection, nil before STARTTLS.
func (w *wire) tlsState() *tls.ConnectionState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tlsOn
}

// Close closes the connection (TLS first, when on) and frees its place.
func (w *wire) Close() error {
	w.mu.Lock()
	c := w.cur
	w.closed = true
	w.mu.Unlock()
	err := c.Close()
	if c != w.raw {
		_ = w.raw.Close()
	}
	w.once.Do(w.release)
	return err
}

// Write sends a reply. It watches for the reply to DATA (354 opens the
// data) and drops STARTTLS from the extensions listed once TLS is on
// (go-smtp does not know wire runs it).
func (w *wire) Write(p []byte) (int, error) {
	if w.dataAsked {
		w.dataAsked = false
		if bytes.HasPrefix(p, []byte("354")) {
			w.phase, w.dot, w.inMessage, w.msgStart = phaseData, 0, true, time.Now()
		}
	}
	if w.tlsState() != nil && bytes.Equal(p, []byte("250-STARTTLS\r\n")) {
		return len(p), nil
	}
	w.waitStart = time.Now()
	return w.conn().Write(p)
}

// Read hands go-smtp the next bytes: one command line at a time, or the
// data of a message up to its end and no further.
func (w *wire) Read(p []byte) (int, error) {
	for len(w.out) == 0 {
		if w.failed != nil {
			return 0, w.failed
		}
		if next := w.next; next != nil {
			w.next = nil
			next()
		}
		var err error
		switch w.phase {
		case phaseCommand:
			err = w.command()
		case phaseData:
			err = w.data()
		case phaseChunk:
			err = w.chunk()
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, w.out)
	w.out = w.out[n:]
	return n, nil
}

// fill reads more from the connection into buf, by deadline. It returns
// the read's error, made sticky when the stream cannot go on.
func (w *wire) fill(deadline time.Time) error {
	if w.r == w.e {
		w.r, w.e = 0, 0
	} else if w.e == len(w.buf) {
		if w.r == 0 {
			return nil // full: the caller takes what is there
		}
		w.e = copy(w.buf, w.buf[w.r:w.e])
		w.r = 0
	}
	c := w.conn()
	_ = c.SetReadDeadline(deadline)
	n, err := c.Read(w.buf[w.e:])
	w.e += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// command examines the next command line and sets it to be handed over.
func (w *wire) command() error {
	i := bytes.IndexByte(w.buf[w.r:w.e], '\n')
	for i < 0 {
		if w.e-w.r >= maxCommandLine {
			w.failed = gosmtp.ErrTooLongLine
			return w.failed
		}
		deadline := w.waitStart.Add(w.s.opts.IdleTimeout)
		if w.e > w.r {
			deadline = w.lineStart.Add(w.s.opts.CommandTimeout)
		}
		if w.inMessage && w.msgStart.Add(w.s.opts.MessageTimeout).Before(deadline) {
			deadline = w.msgStart.Add(w.s.opts.MessageTimeout) // between BDAT chunks
		}
		empty := w.e == w.r
		if err := w.fill(deadline); err != nil {
			if isTimeout(err) {
				// go-smtp answers a timeout between commands 421 and
				// hangs up; a message in progress is dropped with it.
				w.failed = timeoutErr{}
				return w.failed
			}
			return err
		}
		if empty {
			w.lineStart = time.Now()
		}
		i = bytes.IndexByte(w.buf[w.r:w.e], '\n')
	}
	if i+1 > maxCommandLine {
		w.failed = gosmtp.ErrTooLongLine
		return w.failed
	}
	line := w.buf[w.r : w.r+i+1]
	w.r += i + 1
	text := strings.TrimRight(string(line), "\r\n")
	upper := strings.ToUpper(text)
	verb := upper
	if len(verb) > 4 {
		verb = verb[:4]
	}
	if w.helloAgain && verb != "EHLO" && verb != "HELO" && verb != "QUIT" && verb != "NOOP" && verb != "RSET" && !strings.HasPrefix(upper, "STARTTLS") {
		// RFC 3207 section 4.2: after TLS the server forgets what it
		// learnt before, go-smtp included, which forgets on a new EHLO.
		_, err := w.conn().Write([]byte("503 5.5.1 EHLO first, after STARTTLS\r\n"))
		return err
	}
	switch {
	case strings.HasPrefix(upper, "STARTTLS"):
		return w.startTLS()
	case verb == "DATA":
		w.dataAsked = true
	case verb == "BDAT":
		if size, last, ok := bdatArgs(text); ok {
			w.next = func() {
				w.phase, w.remain, w.last = phaseChunk, size, last
				if !w.inMessage {
					w.inMessage, w.msgStart = true, time.Now()
				}
			}
		}
	case verb == "EHLO" || verb == "HELO":
		w.greeting, w.helloAgain = verb, false
	case verb == "RCPT":
		if arg, ok := strings.CutPrefix(upper, "RCPT TO:"); ok {
			arg = strings.TrimLeft(arg, " ")
			if rest, ok := strings.CutPrefix(arg, "<POSTMASTER>"); ok {
				// RFC 5321 section 4.5.1: "Postmaster" without a domain
				// must be taken; go-smtp wants a domain, so it gets ours.
				line = []byte("RCPT TO:<postmaster@" + w.s.domain + ">" + text[len(text)-len(rest):] + "\r\n")
			}
		}
	}
	w.out = line
	return nil
}

// bdatArgs parses the arguments of a BDAT line as go-smtp does, and
// reports whether go-smtp will read a chunk after it.
func bdatArgs(line string) (size int64, last bool, ok bool) {
	if len(line) <= 5 || line[4] != ' ' {
		return 0, false, false
	}
	args := strings.Fields(strings.TrimSpace(line[5:]))
	if len(args) == 0 || len(args) > 2 {
		return 0, false, false
	}
	if len(args) == 2 {
		if !strings.EqualFold(args[1], "LAST") {
			return 0, false, false
		}
		last = true
	}
	n, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil {
		return 0, false, false
	}
	return int64(n), last, true
}

// data hands over message data up to the end-of-data line, detected as
// go-smtp's dataReader does.
func (w *wire) data() error {
	if w.r == w.e {
		if err := w.fill(w.msgStart.Add(w.s.opts.MessageTimeout)); err != nil {
			return w.dataErr(err)
		}
	}
	const (
		beginLine = iota
		sawDot
		sawDotCR
		sawCR
		inLine
	)
	b := w.buf[w.r:w.e]
	n := 0
	for n < len(b) {
		c := b[n]
		n++
		switch w.dot {
		case beginLine:
			switch c {
			case '.':
				w.dot = sawDot
			case '\r':
				w.dot = sawCR
			default:
				w.dot = inLine
			}
		case sawDot:
			if c == '\r' {
				w.dot = sawDotCR
			} else {
				w.dot = inLine
			}
		case sawDotCR:
			if c == '\n' {
				w.out = b[:n]
				w.r += n
				w.next = w.endMessage
				return nil
			}
			w.dot = inLine
		case sawCR:
			if c == '\n' {
				w.dot = beginLine
			} else {
				w.dot = inLine
			}
		case inLine:
			if c == '\r' {
				w.dot = sawCR
			}
		}
	}
	w.out = b
	w.r += n
	return nil
}

// chunk hands over the bytes of a BDAT chunk. A connection that ends
// before the declared size marks the message cut.
func (w *wire) chunk() error {
	if w.remain == 0 {
		w.phase = phaseCommand
		if w.last {
			w.endMessage()
		}
		return nil
	}
	if w.r == w.e {
		if err := w.fill(w.msgStart.Add(w.s.opts.MessageTimeout)); err != nil {
			w.cut.Store(true)
			return w.dataErr(err)
		}
	}
	n := min(int64(w.e-w.r), w.remain)
	w.out = w.buf[w.r : w.r+int(n)]
	w.r += int(n)
	w.remain -= n
	return nil
}

// endMessage returns to commands once a message's data is over.
func (w *wire) endMessage() {
	w.phase, w.inMessage = phaseCommand, false
}

// dataErr turns a read failure during data into what go-smtp passes on:
// a timeout is a temporary refusal (451), and from then on the
// connection times out (go-smtp closes it with 421).
func (w *wire) dataErr(err error) error {
	if isTimeout(err) {
		w.failed = timeoutErr{}
		return errTimedOut
	}
	w.failed = err
	return err
}

// startTLS answers STARTTLS: the handshake, then everything over TLS.
// Bytes the client sent after the command in plain text are dropped
// (RFC 3207 section 4.2).
func (w *wire) startTLS() error {
	cfg := w.s.opts.TLSConfig
	switch {
	case cfg == nil:
		w.out = []byte("STARTTLS\r\n") // go-smtp answers: not supported
		return nil
	case w.tlsState() != nil:
		_, err := w.conn().Write([]byte("503 5.5.1 TLS already active\r\n"))
		return err
	}
	w.r, w.e = 0, 0
	if _, err := w.raw.Write([]byte("220 2.0.0 Ready to start TLS\r\n")); err != nil {
		return err
	}
	tc := tls.Server(w.raw, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), w.s.opts.CommandTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		w.failed = err
		return err
	}
	st := tc.ConnectionState()
	w.mu.Lock()
	w.cur, w.tlsOn = tc, &st
	closed := w.closed
	w.mu.Unlock()
	w.helloAgain = true
	if closed {
		_ = tc.Close()
	}
	w.waitStart = time.Now()
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// timeoutErr is the sticky error after a timeout in data: a net.Error
// whose Timeout is true, which go-smtp answers with 421 and a hang-up.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "smtp: timed out" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
