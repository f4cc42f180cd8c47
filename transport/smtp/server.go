package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
)

// IngestFunc takes in one message received for mailbox. It must have
// stored the message when it returns nil: the Server then acknowledges
// it to the sending server, which forgets it. Workspace.Ingest fits (see
// IngestInto). r reads the message with the Server's trace fields
// (Return-Path, Received) in front; it is an emailflow.EnvelopeReader, and
// has a Len method (the bytes left), both of which Workspace.Ingest uses:
// an IngestFunc that wraps Ingest passes r on as it is.
type IngestFunc func(ctx context.Context, mailbox string, r io.Reader) error

// IngestInto returns an IngestFunc that ingests into w.
func IngestInto(w *emailflow.Workspace) IngestFunc {
	return func(ctx context.Context, mailbox string, r io.Reader) error {
		_, err := w.Ingest(ctx, mailbox, r)
		return err
	}
}

// traceRoom is what the trace fields take at most, and more.
const traceRoom = 4 << 10

// Default limits of a Server.
const (
	DefaultMaxMessageBytes      = compose.DefaultMaxSize - traceRoom
	DefaultMaxRecipients        = 50
	DefaultMaxConnections       = 100
	DefaultMaxConnectionsPerIP  = 20
	DefaultIdleTimeout          = 5 * time.Minute
	DefaultServerCommandTimeout = time.Minute
	DefaultMessageTimeout       = 10 * time.Minute
	DefaultWriteTimeout         = 5 * time.Minute
	DefaultSpoolThreshold       = 1 << 20
)

// ServerOptions configure a Server. The nil or zero value means defaults.
type ServerOptions struct {
	// Domain is the name the server greets with and writes in the
	// Received field; default the host's fully qualified name, else
	// "localhost".
	Domain string
	// MaxMessageBytes is the largest message accepted (SIZE is announced,
	// longer data gets 552); default DefaultMaxMessageBytes (the
	// Workspace's own parse limit, 40 MiB, less room for the trace fields
	// the server prepends).
	MaxMessageBytes int64
	// MaxRecipients is the most recipients per message (more get 452);
	// default DefaultMaxRecipients.
	MaxRecipients int
	// MaxConnections and MaxConnectionsPerIP bound the connections open at
	// once, in all and from one address; a connection beyond either is
	// answered "421 Too many connections" and closed. Defaults
	// DefaultMaxConnections and DefaultMaxConnectionsPerIP.
	MaxConnections, MaxConnectionsPerIP int
	// TLSConfig, when set, offers STARTTLS with this configuration.
	TLSConfig *tls.Config
	// IdleTimeout bounds the wait for a command (RFC 5321 section
	// 4.5.3.2.7 asks for at least 5 minutes), CommandTimeout the time a
	// command line takes from its first byte to its end, MessageTimeout
	// the time a message's data takes from the DATA reply (or the first
	// BDAT chunk) to its end. An idle or slow command gets 421 and the
	// connection is closed; data late gets 451 (try again later), never a
	// permanent refusal. Defaults DefaultIdleTimeout,
	// DefaultServerCommandTimeout, DefaultMessageTimeout.
	IdleTimeout, CommandTimeout, MessageTimeout time.Duration
	// WriteTimeout bounds each reply; default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// IngestTimeout bounds each call of the IngestFunc; zero means none
	// (the call still ends when the server is closed).
	IngestTimeout time.Duration
	// SpoolThreshold is the size above which a message's data is kept in
	// a temporary file (in TempDir, default os.TempDir()) rather than in
	// memory until it is ingested; default DefaultSpoolThreshold (1 MiB).
	SpoolThreshold int64
	TempDir        string
	// DisableSMTPUTF8 stops offering SMTPUTF8 (RFC 6531), which is
	// offered by default: without it, internationalised mail (UTF-8
	// addresses) is bounced by the sending server.
	DisableSMTPUTF8 bool
	// Postmaster is the mailbox that receives mail for postmaster@ each
	// of the mailboxes' domains (and for "Postmaster" without a domain),
	// which RFC 5321 section 4.5.1 requires a server to accept. Empty
	// means such mail is ingested for postmaster@<domain> as addressed:
	// give that address a queue in emailflow.Options.Mailboxes to route
	// it (else the Workspace's default queue takes it).
	Postmaster string
	// Logger receives ingest failures; nil means slog.Default().
	Logger *slog.Logger
}

// Server is an inbound SMTP server for the centre's mailboxes. A message
// is accepted only for the configured mailboxes and postmaster (another
// recipient gets 550), read up to the size limit, and passed to the
// IngestFunc once per accepted mailbox, with Return-Path and Received
// trace fields prepended (RFC 5321 section 4.4) and its envelope
// (emailflow.EnvelopeReader). The server replies 250 only when every
// call succeeded; when one fails it replies 451 (try again later), so
// the sending server keeps the message and retries. A retry reaches the
// mailboxes that had taken the message in again: Workspace.Ingest is
// idempotent, so that creates nothing twice.
//
// Nothing partial is ever ingested: a message whose data ends early (the
// connection drops, a BDAT chunk is shorter than declared, time runs
// out) is refused. Large messages are spooled to a temporary file, so a
// connection holds at most SpoolThreshold of message in memory before
// the IngestFunc reads it.
//
// An IngestFunc error that is an *smtp.SMTPError (github.com/emersion/go-smtp)
// is the reply as it is; emailflow.ErrTooLarge gives 552;
// emailflow.ErrRejected (the sender lists or a filter refused the
// message) 550 5.7.1, unless another recipient mailbox took the message
// in; any other error 451.
//
// Server is a go-smtp Backend behind a go-smtp server; it is safe for
// concurrent use.
type Server struct {
	ingest    IngestFunc
	mailboxes map[string]string // lower-case address → mailbox given
	domains   map[string]bool   // lower-case domains of the mailboxes
	domain    string            // for "Postmaster" without a domain
	opts      ServerOptions
	log       *slog.Logger
	srv       *gosmtp.Server

	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	closing atomic.Bool

	mu    sync.Mutex
	conns int            // open connections
	perIP map[string]int // open connections by remote address
}

var _ gosmtp.Backend = (*Server)(nil)

// NewServer returns a Server taking in mail for mailboxes (addresses,
// with or without a display name, compared case-insensitively) with
// ingest, which receives each mailbox's address as given here. A nil
// opts means defaults. It does not listen yet: call Serve or
// ListenAndServe.
func NewServer(ingest IngestFunc, mailboxes []string, opts *ServerOptions) *Server {
	s := &Server{ingest: ingest, mailboxes: make(map[string]string, len(mailboxes)), domains: map[string]bool{}, perIP: map[string]int{}}
	if opts != nil {
		s.opts = *opts
	}
	for _, m := range mailboxes {
		addr := m
		if a, err := mail.ParseAddress(m); err == nil {
			addr = a.Address
		}
		s.mailboxes[strings.ToLower(addr)] = addr
		if at := strings.LastIndexByte(addr, '@'); at >= 0 {
			d := strings.ToLower(addr[at+1:])
			if s.domain == "" {
				s.domain = d
			}
			s.domains[d] = true
		}
	}
	if s.opts.Domain == "" {
		s.opts.Domain = hostFQDN()
		if s.opts.Domain == "" {
			s.opts.Domain = "localhost"
		}
	}
	if s.domain == "" {
		s.domain = s.opts.Domain
	}
	defaults := []struct {
		v   *time.Duration
		def time.Duration
	}{{&s.opts.IdleTimeout, DefaultIdleTimeout}, {&s.opts.CommandTimeout, DefaultServerCommandTimeout},
		{&s.opts.MessageTimeout, DefaultMessageTimeout}, {&s.opts.WriteTimeout, DefaultWriteTimeout}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if s.opts.MaxMessageBytes <= 0 {
		s.opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if s.opts.MaxRecipients <= 0 {
		s.opts.MaxRecipients = DefaultMaxRecipients
	}
	if s.opts.MaxConnections <= 0 {
		s.opts.MaxConnections = DefaultMaxConnections
	}
	if s.opts.MaxConnectionsPerIP <= 0 {
		s.opts.MaxConnectionsPerIP = DefaultMaxConnectionsPerIP
	}
	if s.opts.SpoolThreshold <= 0 {
		s.opts.SpoolThreshold = DefaultSpoolThreshold
	}
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	srv := gosmtp.NewServer(s)
	srv.Domain = s.opts.Domain
	srv.MaxMessageBytes = s.opts.MaxMessageBytes
	srv.MaxRecipients = s.opts.MaxRecipients
	// Reads, line lengths and STARTTLS are the connection's (see wire);
	// go-smtp is given TLSConfig only to offer STARTTLS.
	srv.ReadTimeout = 0
	srv.MaxLineLength = 0
	srv.WriteTimeout = s.opts.WriteTimeout
	srv.TLSConfig = s.opts.TLSConfig
	srv.EnableSMTPUTF8 = !s.opts.DisableSMTPUTF8
	srv.ErrorLog = slogLogger{s.log}
	s.srv = srv
	return s
}

// Serve accepts connections on l until Close or Shutdown; it then
// returns smtp.ErrServerClosed (github.com/emersion/go-smtp), as it does
// at once when the server was closed before.
func (s *Server) Serve(l net.Listener) error {
	if s.closing.Load() {
		_ = l.Close()
		return gosmtp.ErrServerClosed
	}
	err := s.srv.Serve(&listener{Listener: l, s: s})
	if s.closing.Load() {
		return gosmtp.ErrServerClosed
	}
	return err
}

// ListenAndServe listens on the TCP address addr ("host:port") and
// serves it, like Serve.
func (s *Server) ListenAndServe(addr string) error {
	if s.closing.Load() {
		return gosmtp.ErrServerClosed
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Close closes the listeners and every connection at once. A message
// whose ingestion is cut short was not acknowledged: its sender retries.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.cancel()
	return s.srv.Close()
}

// Shutdown closes the listeners and waits for the connections to end, or
// for ctx to be done (it then returns ctx's error and leaves them open:
// call Close).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	return s.srv.Shutdown(ctx)
}

// NewSession implements smtp.Backend (github.com/emersion/go-smtp); it is
// called by the go-smtp server for each connection.
func (s *Server) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	w, _ := c.Conn().(*wire)
	return &session{s: s, c: c, w: w}, nil
}

// session is one SMTP connection's state.
type session struct {
	s *Server
	c *gosmtp.Conn
	w *wire // nil when the connection is not the Server's own

	from  string
	utf8  bool
	boxes []string            // accepted mailboxes, each once, in order
	rcpts map[string][]string // mailbox → the recipients given for it
}

func (ss *session) Mail(from string, opts *gosmtp.MailOptions) error {
	ss.Reset()
	ss.from = from
	ss.utf8 = opts != nil && opts.UTF8
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	box, ok := ss.s.mailboxFor(to)
	if !ok {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	}
	if ss.rcpts == nil {
		ss.rcpts = map[string][]string{}
	}
	if _, seen := ss.rcpts[box]; !seen {
		ss.boxes = append(ss.boxes, box) // the same mailbox twice gets the message once
	}
	ss.rcpts[box] = append(ss.rcpts[box], to)
	return nil
}

// mailboxFor returns the mailbox that takes mail for the recipient to.
func (s *Server) mailboxFor(to string) (string, bool) {
	lower := strings.ToLower(to)
	if box, ok := s.mailboxes[lower]; ok {
		return box, true
	}
	local, domain, ok := strings.Cut(lower, "@")
	if !ok || local != "postmaster" || !s.domains[domain] && domain != s.domain {
		return "", false
	}
	if s.opts.Postmaster != "" {
		return s.opts.Postmaster, true
	}
	return "postmaster@" + domain, true
}

func (ss *session) Data(r io.Reader) error {
	sp, err := ss.s.spool(r)
	if err != nil {
		return ss.s.dataError(err)
	}
	defer sp.Close()
	if ss.w != nil && ss.w.cut.Load() {
		ss.s.log.Warn("emailflow/smtp: message refused: the connection ended inside a BDAT chunk", "remote", ss.c.Conn().RemoteAddr().String())
		return errIncomplete
	}
	id := traceID()
	now := time.Now()
	accepted := false
	for i, box := range ss.boxes {
		env := emailflow.Envelope{From: ss.from, To: ss.rcpts[box]}
		switch err := ss.deliver(box, sp.reader(ss.trace(id, env, now), env, i == len(ss.boxes)-1)); {
		case err == nil:
			accepted = true
		case err != errRejected:
			return err
		}
	}
	if !accepted {
		// Every mailbox's filters refused it (a mailbox that took it in
		// makes the message delivered: SMTP has one reply for all).
		return errRejected
	}
	return nil
}

// errRejected is the reply to a message the Workspace's sender lists or
// filters refused (emailflow.ErrRejected); it says no more, so that a
// sender learns nothing of the filters.
var errRejected = &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Message refused"}

// errIncomplete is the reply to data that ended early.
var errIncomplete = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Message not received whole, try again later"}

// dataError turns a failure to read a message's data into its reply:
// the size limit (552) and the timeout (451) as they are, anything else
// (a connection that dropped, a temporary file that could not be
// written) 451.
func (s *Server) dataError(err error) error {
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, errSpool) {
		s.log.Error("emailflow/smtp: message not received, the sender will retry", "err", err)
	}
	return errIncomplete
}

// deliver hands the message to the IngestFunc for box and turns a
// failure into the SMTP reply.
func (ss *session) deliver(box string, msg io.Reader) error {
	ctx := ss.s.ctx
	if t := ss.s.opts.IngestTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	err := ss.s.ingest(ctx, box, msg)
	if err == nil {
		return nil
	}
	var se *gosmtp.SMTPError
	switch {
	case errors.As(err, &se):
		ss.s.log.Warn("emailflow/smtp: message refused", "mailbox", box, "err", err)
		return se
	case errors.Is(err, emailflow.ErrTooLarge):
		ss.s.log.Warn("emailflow/smtp: message refused", "mailbox", box, "err", err)
		return gosmtp.ErrDataTooLarge
	case errors.Is(err, emailflow.ErrRejected):
		ss.s.log.Info("emailflow/smtp: message rejected", "mailbox", box, "err", err)
		return errRejected
	}
	ss.s.log.Error("emailflow/smtp: ingest failed, the sender will retry", "mailbox", box, "err", err)
	return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Message not stored, try again later"}
}

func (ss *session) Reset() {
	ss.from, ss.utf8, ss.boxes, ss.rcpts = "", false, nil, nil
}

func (ss *session) Logout() error { return nil }

// slogLogger adapts a slog.Logger to go-smtp's Logger.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Warn("emailflow/smtp: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l slogLogger) Println(v ...any) {
	l.l.Warn("emailflow/smtp: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
