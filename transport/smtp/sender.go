package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/emailflow/emailflow"
)

var _ emailflow.Sender = (*Sender)(nil)

// TLSMode says how a Sender secures its connection.
type TLSMode string

// The TLS modes. The zero value of SenderOptions.TLS means TLSStartTLS.
const (
	// TLSStartTLS connects in plain text and requires the STARTTLS
	// upgrade before anything else (submission, port 587): a server that
	// does not offer it is refused.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends in plain text: only for a trusted local relay or tests.
	TLSNone TLSMode = "none"
)

// String returns the mode's name.
func (m TLSMode) String() string { return string(m) }

// Default timeouts of a Sender.
const (
	DefaultDialTimeout    = 30 * time.Second
	DefaultCommandTimeout = 5 * time.Minute
)

// SenderOptions configure a Sender. The nil or zero value means defaults:
// STARTTLS required, no authentication, HELO name "localhost", default
// timeouts.
type SenderOptions struct {
	// TLS is the TLS mode; empty means TLSStartTLS.
	TLS TLSMode
	// TLSConfig configures TLS (certificate verification, client
	// certificates). Nil means a zero tls.Config with ServerName taken
	// from the address.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with SASL
	// PLAIN after TLS. A server that does not offer PLAIN is refused.
	Username, Password string
	// InsecureAuth allows sending the credentials over a connection
	// without TLS (TLSNone). Without it such a Send fails.
	InsecureAuth bool
	// HeloName is the name given in EHLO/HELO; empty means "localhost".
	HeloName string
	// DialTimeout bounds connecting (and the TLS handshake of
	// TLSImplicit); default DefaultDialTimeout.
	DialTimeout time.Duration
	// CommandTimeout bounds each command's reply, including the greeting
	// and the reply to the message's data; default DefaultCommandTimeout.
	CommandTimeout time.Duration
}

// Sender delivers messages through one SMTP server (a relay). It opens
// a connection per Send, so it is safe for concurrent use and keeps no
// state between messages.
type Sender struct {
	addr string
	host string
	opts SenderOptions
}

// NewSender returns a Sender that relays through the server at addr
// ("host:port"). A nil opts means defaults (see SenderOptions).
func NewSender(addr string, opts *SenderOptions) *Sender {
	s := &Sender{addr: addr}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.TLS == "" {
		s.opts.TLS = TLSStartTLS
	}
	if s.opts.DialTimeout <= 0 {
		s.opts.DialTimeout = DefaultDialTimeout
	}
	if s.opts.CommandTimeout <= 0 {
		s.opts.CommandTimeout = DefaultCommandTimeout
	}
	s.host = addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		s.host = h
	}
	return s
}

// Send implements emailflow.Sender: it connects, secures the connection
// as configured, authenticates, then gives MAIL FROM from, RCPT TO each
// address of to and the message as DATA. msg is sent as it is, only
// dot-stuffed as SMTP requires; a message whose lines end in CRLF (as
// the Workspace renders them) arrives byte for byte, while a bare LF
// is sent as CRLF and a missing final line break is added.
//
// Delivery is all or nothing: when the server refuses any recipient, the
// transaction is abandoned (RSET) and nothing is sent, so the Workspace's
// retry sends the whole message again, with the same Message-ID. The
// message is delivered once the server accepted its data; a failure after
// that (QUIT) is ignored.
//
// The ctx bounds the whole exchange: its deadline caps every timeout and
// its cancellation aborts the connection; the error then wraps ctx.Err().
// A server's refusal is returned wrapped, an *smtp.SMTPError (from
// github.com/emersion/go-smtp) that errors.As finds; IsPermanent tells a
// permanent (5xx) one, and so does the error's Permanent method, which
// the Workspace's outbox reads to stop retrying.
func (s *Sender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	if len(to) == 0 {
		return &sendError{err: fmt.Errorf("smtp: sending to %s: no recipient", s.addr)}
	}
	if err := ctx.Err(); err != nil {
		return &sendError{err: fmt.Errorf("smtp: sending to %s: %w", s.addr, err)}
	}
	err := s.send(ctx, from, to, msg)
	if err == nil {
		return nil
	}
	if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		return &sendError{err: fmt.Errorf("smtp: sending to %s: %w (%v)", s.addr, cerr, err)}
	}
	return &sendError{err: fmt.Errorf("smtp: sending to %s: %w", s.addr, err)}
}

// sendError is a failed Send. Its Permanent method tells the Workspace's
// outbox that retrying cannot help (the server refused with a 5xx), so the
// email fails back to its agent at once.
type sendError struct{ err error }

func (e *sendError) Error() string   { return e.err.Error() }
func (e *sendError) Unwrap() error   { return e.err }
func (e *sendError) Permanent() bool { return IsPermanent(e.err) }

// ctxErr is ctx.Err(), or DeadlineExceeded once ctx's deadline passed:
// the connection's deadline, which is the context's, can fire a moment
// before the context notices.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func (s *Sender) send(ctx context.Context, from string, to []string, msg []byte) error {
	dialer := net.Dialer{Timeout: s.opts.DialTimeout}
	raw, err := dialer.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	conn := newCtxConn(ctx, raw, s.opts.CommandTimeout)
	defer conn.stop()

	tlsConfig := s.tlsConfig()
	var c *gosmtp.Client
	secure := false
	switch s.opts.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c, secure = gosmtp.NewClient(tc), true
	case TLSStartTLS:
		// go-smtp greets as "localhost" before the upgrade; the HELO name
		// is given after it, in the session that carries the mail.
		c, err = gosmtp.NewClientStartTLS(conn, tlsConfig)
		if err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
		secure = true
	case TLSNone:
		c = gosmtp.NewClient(conn)
	default:
		return fmt.Errorf("unknown TLS mode %q", s.opts.TLS)
	}
	defer c.Close()
	c.CommandTimeout = s.opts.CommandTimeout
	c.SubmissionTimeout = s.opts.CommandTimeout

	helo := s.opts.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	return s.transact(c, secure, from, to, msg)
}

// transact authenticates when configured and runs one mail transaction.
func (s *Sender) transact(c *gosmtp.Client, secure bool, from string, to []string, msg []byte) error {
	if s.opts.Username != "" {
		if !secure && !s.opts.InsecureAuth {
			return errors.New("refusing to send credentials without TLS (set InsecureAuth to allow it)")
		}
		if !c.SupportsAuth(sasl.Plain) {
			return errors.New("the server does not offer AUTH PLAIN")
		}
		if err := c.Auth(sasl.NewPlainClient("", s.opts.Username, s.opts.Password)); err != nil {
			return fmt.Errorf("AUTH PLAIN: %w", err)
		}
	}
	opts := &gosmtp.MailOptions{Size: int64(len(msg))}
	if !ascii(from) || !allASCII(to) {
		opts.UTF8 = true
	}
	if err := c.Mail(from, opts); err != nil {
		return fmt.Errorf("MAIL FROM:<%s>: %w", from, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			_ = c.Reset()
			return fmt.Errorf("RCPT TO:<%s>: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	_ = c.Quit() // delivered: a failing QUIT changes nothing
	return nil
}

func (s *Sender) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	return cfg
}

// IsPermanent reports whether err carries a permanent refusal from an
// SMTP server (a 5xx reply): sending the same message again will fail
// the same way. Temporary refusals (4xx), network errors, timeouts and
// cancellations are not permanent.
func IsPermanent(err error) bool {
	var se *gosmtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500 && se.Code < 600
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !ascii(s) {
			return false
		}
	}
	return true
}

// ctxConn is a connection bound to a context: every deadline go-smtp sets
// is capped by the context's deadline (go-smtp resets deadlines after
// each command, which would otherwise lift it) and by limit from now (so
// the command timeout holds before the Client's own setting applies, as
// in NewClientStartTLS), and cancelling the context interrupts any read
// or write in progress.
type ctxConn struct {
	net.Conn
	deadline time.Time     // the context's, zero when none
	limit    time.Duration // the longest deadline go-smtp may set

	mu        sync.Mutex
	done      bool
	stopAfter func() bool
}

func newCtxConn(ctx context.Context, c net.Conn, limit time.Duration) *ctxConn {
	cc := &ctxConn{Conn: c, limit: limit}
	cc.deadline, _ = ctx.Deadline()
	_ = cc.SetDeadline(time.Time{})
	cc.stopAfter = context.AfterFunc(ctx, func() {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		cc.done = true
		_ = cc.Conn.SetDeadline(time.Unix(1, 0))
	})
	return cc
}

func (c *ctxConn) stop() {
	c.stopAfter()
	_ = c.Conn.Close()
}

func (c *ctxConn) capped(t time.Time) time.Time {
	if c.done {
		return time.Unix(1, 0)
	}
	if !t.IsZero() && c.limit > 0 {
		if most := time.Now().Add(c.limit); t.After(most) {
			t = most
		}
	}
	if !c.deadline.IsZero() && (t.IsZero() || t.After(c.deadline)) {
		return c.deadline
	}
	return t
}

func (c *ctxConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetDeadline(c.capped(t))
}

func (c *ctxConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.capped(t))
}

func (c *ctxConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.capped(t))
}
