package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"golang.org/x/oauth2"

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
// STARTTLS required, no authentication, the host's fully qualified name
// in EHLO, default timeouts.
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
	// TokenSource, when set, authenticates Username with an OAuth 2.0
	// token from it instead of Password (SASL OAUTHBEARER when the server
	// offers it, else XOAUTH2; see transport/oauth), under the same TLS
	// rule. A server that offers neither is refused.
	TokenSource oauth2.TokenSource
	// InsecureAuth allows sending the credentials over a connection
	// without TLS (TLSNone). Without it such a Send fails.
	InsecureAuth bool
	// HeloName is the name given in EHLO/HELO, before and after
	// STARTTLS. Empty means the host's fully qualified domain name (from
	// os.Hostname, or its canonical name when that has no dot), else the
	// address literal of the connection's local end ("[192.0.2.1]"), as
	// RFC 5321 section 4.1.4 asks of a client without a name.
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
// message is delivered once the server accepted its data: Send then says
// QUIT without waiting for its answer, so that the outbox records the
// delivery as soon as it can (a crash before that sends the message
// again, with the same Message-ID).
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
// outbox that retrying cannot help (the server refused with a 5xx, or the
// configuration cannot work), so the email fails back to its agent at
// once.
type sendError struct{ err error }

func (e *sendError) Error() string   { return e.err.Error() }
func (e *sendError) Unwrap() error   { return e.err }
func (e *sendError) Permanent() bool { return IsPermanent(e.err) }

// Errors of a Send that no retry can mend: the configuration and the
// server do not fit. IsPermanent reports them, and each error wraps one of
// these (errors.Is) with the reason in its text.
var (
	// ErrUntrustedCertificate: the server's certificate did not verify
	// against SenderOptions.TLSConfig (unknown authority, wrong name,
	// expired).
	ErrUntrustedCertificate = errors.New("smtp: server certificate not trusted")
	// ErrTLSHandshake: the TLS handshake failed for another reason than
	// the network (no common version or cipher, a TLS alert, a server
	// that does not speak TLS on that port).
	ErrTLSHandshake = errors.New("smtp: TLS handshake failed")
	// ErrNoStartTLS: TLSStartTLS was asked for and the server does not
	// offer STARTTLS.
	ErrNoStartTLS = errors.New("smtp: server does not offer STARTTLS")
	// ErrInsecureAuth: credentials are configured, the connection is not
	// encrypted and InsecureAuth is not set.
	ErrInsecureAuth = errors.New("smtp: refusing to send credentials without TLS")
	// ErrAuthUnsupported: the server does not offer the configured SASL
	// mechanism.
	ErrAuthUnsupported = errors.New("smtp: server does not offer the authentication mechanism")
	// ErrConfig: another configuration the server cannot serve (an unknown
	// TLS mode, a non-ASCII address for a server without SMTPUTF8).
	ErrConfig = errors.New("smtp: configuration error")
)

// permanentError is a failure no retry can mend: kind is one of the
// sentinels above, err says what happened.
type permanentError struct {
	kind error
	err  error
}

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.kind, e.err} }

// permanentf returns a permanentError of kind, its text formatted.
func permanentf(kind error, format string, args ...any) error {
	return &permanentError{kind: kind, err: fmt.Errorf(format, args...)}
}

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
	helo := s.heloName(raw)

	var c *gosmtp.Client
	var wire net.Conn // what the client talks through
	secure := false
	switch s.opts.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, s.tlsConfig())
		hctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return s.tlsError(err)
		}
		wire = tc
		c, secure = gosmtp.NewClient(wire), true
	case TLSStartTLS:
		tc, greeting, err := s.startTLS(conn, helo)
		if err != nil {
			return err
		}
		// The server greeted before the upgrade; go-smtp reads a greeting
		// first, so it gets that one again.
		wire = &replayConn{Conn: tc, pending: greeting}
		c, secure = gosmtp.NewClient(wire), true
	case TLSNone:
		wire = conn
		c = gosmtp.NewClient(wire)
	default:
		return permanentf(ErrConfig, "unknown TLS mode %q", s.opts.TLS)
	}
	defer c.Close()
	c.CommandTimeout = s.opts.CommandTimeout
	c.SubmissionTimeout = s.opts.CommandTimeout

	if err := c.Hello(helo); err != nil {
		return fmt.Errorf("EHLO %s: %w", helo, err)
	}
	err = s.transact(c, secure, from, to, msg)
	if err == nil {
		// Delivered. QUIT is said, as RFC 5321 asks, but its answer is not
		// awaited: the outbox records the delivery once Send returns, and
		// every moment spent before that widens the window in which a
		// crash makes the message go again.
		_, _ = io.WriteString(wire, "QUIT\r\n")
		return nil
	}
	if stillTalking(err) {
		// The server answered (a refusal) or we refused to go on: end the
		// session politely rather than hang up.
		_ = c.Quit()
	}
	return err
}

// stillTalking reports whether the session is in a state to say QUIT
// after err: the server replied, or the refusal was ours.
func stillTalking(err error) bool {
	var se *gosmtp.SMTPError
	var pe *permanentError
	return errors.As(err, &se) || errors.As(err, &pe)
}

// transact authenticates when configured and runs one mail transaction.
func (s *Sender) transact(c *gosmtp.Client, secure bool, from string, to []string, msg []byte) error {
	if err := s.authenticate(c, secure); err != nil {
		return err
	}
	opts := &gosmtp.MailOptions{Size: int64(len(msg))}
	if !ascii(from) || !allASCII(to) {
		opts.UTF8 = true
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return permanentf(ErrConfig, "an address is not ASCII and %s does not offer SMTPUTF8", s.addr)
		}
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
	return nil
}

// authenticate runs the SASL exchange the options ask for, if any. A
// mechanism is a client from saslClient; the checks around it (TLS, the
// server's offer) are the same for every mechanism.
func (s *Sender) authenticate(c *gosmtp.Client, secure bool) error {
	if s.opts.TokenSource != nil {
		return s.authOAuth(c, secure)
	}
	mech, client := s.saslClient()
	if client == nil {
		return nil
	}
	if !secure && !s.opts.InsecureAuth {
		return permanentf(ErrInsecureAuth, "refusing to send credentials without TLS (set InsecureAuth to allow it)")
	}
	if !c.SupportsAuth(mech) {
		return permanentf(ErrAuthUnsupported, "%s does not offer AUTH %s", s.addr, mech)
	}
	if err := c.Auth(client); err != nil {
		return fmt.Errorf("AUTH %s: %w", mech, err)
	}
	return nil
}

// saslClient returns the mechanism and client the options configure,
// or a nil client when no authentication is configured.
func (s *Sender) saslClient() (string, sasl.Client) {
	if s.opts.Username != "" {
		return sasl.Plain, sasl.NewPlainClient("", s.opts.Username, s.opts.Password)
	}
	return "", nil
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
// SMTP server (a 5xx reply) or a configuration the server cannot serve
// (ErrUntrustedCertificate, ErrTLSHandshake, ErrNoStartTLS,
// ErrInsecureAuth, ErrAuthUnsupported, ErrConfig): sending the same
// message again will fail the same way. Temporary refusals (4xx), network
// errors, timeouts and cancellations are not permanent.
func IsPermanent(err error) bool {
	var se *gosmtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 && se.Code < 600 {
		return true
	}
	var pe *permanentError
	return errors.As(err, &pe)
}

// startTLS runs the plain-text part of a STARTTLS session itself: the
// greeting, EHLO with our name, STARTTLS and the handshake. (go-smtp
// v0.25.1 cannot be told the name before its own STARTTLS, which greets
// as "localhost", and relays that check the name refuse that.) It returns
// the TLS connection and the server's greeting, to be replayed to
// go-smtp.
func (s *Sender) startTLS(conn *ctxConn, helo string) (*tls.Conn, []byte, error) {
	_ = conn.SetDeadline(time.Now().Add(s.opts.CommandTimeout))
	tp := textproto.NewReader(bufio.NewReader(conn))
	cmd := func(line string, want int) (string, error) {
		if _, err := io.WriteString(conn, line+"\r\n"); err != nil {
			return "", err
		}
		_, msg, err := tp.ReadResponse(want)
		return msg, smtpError(err)
	}
	_, greeting, err := tp.ReadResponse(220)
	if err != nil {
		return nil, nil, fmt.Errorf("greeting: %w", smtpError(err))
	}
	ext, err := cmd("EHLO "+helo, 250)
	if err != nil {
		return nil, nil, fmt.Errorf("EHLO %s: %w", helo, err)
	}
	offered := false
	for _, line := range strings.Split(ext, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(line), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		_, _ = cmd("QUIT", 221)
		return nil, nil, permanentf(ErrNoStartTLS, "%s does not offer STARTTLS (use TLSImplicit or TLSNone if that is intended)", s.addr)
	}
	if _, err := cmd("STARTTLS", 220); err != nil {
		return nil, nil, fmt.Errorf("STARTTLS: %w", err)
	}
	if tp.R.Buffered() > 0 {
		// Bytes after the 220 were not sent under TLS: never let them
		// pass as the server's answers.
		return nil, nil, permanentf(ErrTLSHandshake, "%s sent data before the TLS handshake", s.addr)
	}
	_ = conn.SetDeadline(time.Time{})
	tc := tls.Client(conn, s.tlsConfig())
	hctx, cancel := context.WithTimeout(context.Background(), s.opts.DialTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		return nil, nil, s.tlsError(err)
	}
	var b strings.Builder
	lines := strings.Split(greeting, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		b.WriteString("220" + sep + l + "\r\n")
	}
	return tc, []byte(b.String()), nil
}

// tlsError classifies a failed handshake: a certificate that does not
// verify and a handshake the server refuses are permanent (the
// configuration must change), a network failure is not.
func (s *Sender) tlsError(err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return permanentf(ErrUntrustedCertificate, "certificate for %s not trusted: %v", s.tlsConfig().ServerName, cv.Err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	return permanentf(ErrTLSHandshake, "TLS handshake with %s failed: %v", s.addr, err)
}

// smtpError turns a textproto reply error into go-smtp's *SMTPError, so
// that IsPermanent and errors.As treat the replies of our own dialogue as
// go-smtp's.
func smtpError(err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	se := &gosmtp.SMTPError{Code: te.Code, Message: te.Msg}
	if code, rest, ok := strings.Cut(te.Msg, " "); ok {
		parts := strings.Split(code, ".")
		if len(parts) == 3 {
			var ec gosmtp.EnhancedCode
			good := true
			for i, p := range parts {
				n, err := strconv.Atoi(p)
				good = good && err == nil
				ec[i] = n
			}
			if good {
				se.EnhancedCode, se.Message = ec, rest
			}
		}
	}
	return se
}

// replayConn reads pending before the connection: the server's greeting,
// already read before STARTTLS, for go-smtp to read first.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// heloName is the name the Sender gives in EHLO (see
// SenderOptions.HeloName).
func (s *Sender) heloName(c net.Conn) string {
	if s.opts.HeloName != "" {
		return s.opts.HeloName
	}
	if name := hostFQDN(); name != "" {
		return name
	}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		if ip4 := a.IP.To4(); ip4 != nil {
			return "[" + ip4.String() + "]"
		}
		return "[IPv6:" + a.IP.String() + "]"
	}
	return "localhost"
}

// hostFQDN is the host's fully qualified name, or "" when it has none;
// looked up once per process.
var hostFQDN = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return ""
	}
	if strings.Contains(strings.TrimSuffix(h, "."), ".") {
		return strings.TrimSuffix(h, ".")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if cname, err := net.DefaultResolver.LookupCNAME(ctx, h); err == nil {
		cname = strings.TrimSuffix(cname, ".")
		if strings.Contains(cname, ".") {
			return cname
		}
	}
	return ""
})

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
