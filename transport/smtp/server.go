package smtp

import (
	"bytes"
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
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
)

// IngestFunc takes in one message received for mailbox. It must have
// stored the message when it returns nil: the Server then acknowledges
// it to the sending server, which forgets it. Workspace.Ingest fits (see
// IngestInto).
type IngestFunc func(ctx context.Context, mailbox string, r io.Reader) error

// IngestInto returns an IngestFunc that ingests into w.
func IngestInto(w *emailflow.Workspace) IngestFunc {
	return func(ctx context.Context, mailbox string, r io.Reader) error {
		_, err := w.Ingest(ctx, mailbox, r)
		return err
	}
}

// Default limits of a Server.
const (
	DefaultMaxMessageBytes = compose.DefaultMaxSize
	DefaultMaxRecipients   = 50
	DefaultReadTimeout     = 5 * time.Minute
	DefaultWriteTimeout    = 5 * time.Minute
)

// ServerOptions configure a Server. The nil or zero value means defaults.
type ServerOptions struct {
	// Domain is the name the server greets with; default "localhost".
	Domain string
	// MaxMessageBytes is the largest message accepted (SIZE is announced,
	// longer data gets 552); default DefaultMaxMessageBytes (40 MB, the
	// Workspace's own parse limit).
	MaxMessageBytes int64
	// MaxRecipients is the most recipients per message (more get 452);
	// default DefaultMaxRecipients.
	MaxRecipients int
	// TLSConfig, when set, offers STARTTLS with this configuration.
	TLSConfig *tls.Config
	// ReadTimeout and WriteTimeout bound each read of a command or data
	// and each reply; defaults DefaultReadTimeout and DefaultWriteTimeout.
	ReadTimeout, WriteTimeout time.Duration
	// IngestTimeout bounds each call of the IngestFunc; zero means none
	// (the call still ends when the server is closed).
	IngestTimeout time.Duration
	// Logger receives ingest failures; nil means slog.Default().
	Logger *slog.Logger
}

// Server is an inbound SMTP server for the centre's mailboxes. A message
// is accepted only for the configured mailboxes (another recipient gets
// 550), read up to the size limit, and passed to the IngestFunc once per
// accepted mailbox. The server replies 250 only when every call
// succeeded; when one fails it replies 451 (try again later), so the
// sending server keeps the message and retries. A retry reaches the
// mailboxes that had taken the message in again: Workspace.Ingest is
// idempotent, so that creates nothing twice.
//
// An IngestFunc error that is an *smtp.SMTPError (github.com/emersion/go-smtp)
// is the reply as it is; emailflow.ErrTooLarge gives 552; any other
// error 451.
//
// Server is a go-smtp Backend behind a go-smtp server; it is safe for
// concurrent use.
type Server struct {
	ingest    IngestFunc
	mailboxes map[string]string // lower-case address → mailbox given
	opts      ServerOptions
	log       *slog.Logger
	srv       *gosmtp.Server

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	once   sync.Once
}

var _ gosmtp.Backend = (*Server)(nil)

// NewServer returns a Server taking in mail for mailboxes (addresses,
// with or without a display name, compared case-insensitively) with
// ingest, which receives each mailbox's address as given here. A nil
// opts means defaults. It does not listen yet: call Serve or
// ListenAndServe.
func NewServer(ingest IngestFunc, mailboxes []string, opts *ServerOptions) *Server {
	s := &Server{ingest: ingest, mailboxes: make(map[string]string, len(mailboxes))}
	if opts != nil {
		s.opts = *opts
	}
	for _, m := range mailboxes {
		addr := m
		if a, err := mail.ParseAddress(m); err == nil {
			addr = a.Address
		}
		s.mailboxes[strings.ToLower(addr)] = addr
	}
	if s.opts.Domain == "" {
		s.opts.Domain = "localhost"
	}
	if s.opts.MaxMessageBytes <= 0 {
		s.opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if s.opts.MaxRecipients <= 0 {
		s.opts.MaxRecipients = DefaultMaxRecipients
	}
	if s.opts.ReadTimeout <= 0 {
		s.opts.ReadTimeout = DefaultReadTimeout
	}
	if s.opts.WriteTimeout <= 0 {
		s.opts.WriteTimeout = DefaultWriteTimeout
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
	srv.ReadTimeout = s.opts.ReadTimeout
	srv.WriteTimeout = s.opts.WriteTimeout
	srv.TLSConfig = s.opts.TLSConfig
	srv.ErrorLog = slogLogger{s.log}
	s.srv = srv
	return s
}

// Serve accepts connections on l until Close or Shutdown; it then
// returns smtp.ErrServerClosed (github.com/emersion/go-smtp).
func (s *Server) Serve(l net.Listener) error {
	return s.srv.Serve(l)
}

// ListenAndServe listens on the TCP address addr ("host:port") and
// serves it, like Serve.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Close closes the listeners and every connection at once. A message
// whose ingestion is cut short was not acknowledged: its sender retries.
func (s *Server) Close() error {
	s.once.Do(s.cancel)
	return s.srv.Close()
}

// Shutdown closes the listeners and waits for the connections to end, or
// for ctx to be done (it then returns ctx's error and leaves them open:
// call Close).
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx)
}

// NewSession implements smtp.Backend (github.com/emersion/go-smtp); it is
// called by the go-smtp server for each connection.
func (s *Server) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &session{s: s}, nil
}

// session is one SMTP connection's state.
type session struct {
	s         *Server
	mailboxes []string // accepted recipients, each once, in order
}

func (ss *session) Mail(string, *gosmtp.MailOptions) error {
	ss.mailboxes = nil
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	box, ok := ss.s.mailboxes[strings.ToLower(to)]
	if !ok {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	}
	for _, m := range ss.mailboxes {
		if m == box {
			return nil // the same mailbox twice gets the message once
		}
	}
	ss.mailboxes = append(ss.mailboxes, box)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *gosmtp.SMTPError
		if errors.As(err, &se) {
			return se // the size limit: 552
		}
		return err
	}
	for _, box := range ss.mailboxes {
		if err := ss.deliver(box, raw); err != nil {
			return err
		}
	}
	return nil
}

// deliver hands raw to the IngestFunc for box and turns a failure into
// the SMTP reply.
func (ss *session) deliver(box string, raw []byte) error {
	ctx := ss.s.ctx
	if t := ss.s.opts.IngestTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	err := ss.s.ingest(ctx, box, bytes.NewReader(raw))
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
	}
	ss.s.log.Error("emailflow/smtp: ingest failed, the sender will retry", "mailbox", box, "err", err)
	return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Message not stored, try again later"}
}

func (ss *session) Reset() {
	ss.mailboxes = nil
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
