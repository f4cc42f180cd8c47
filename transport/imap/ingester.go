package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/emailflow/emailflow"
)

// TLSMode says how the Ingester secures a connection.
type TLSMode string

// The TLS modes. The zero value of Mailbox.TLS means TLSImplicit.
const (
	// TLSImplicit speaks TLS from the first byte (port 993).
	TLSImplicit TLSMode = "implicit"
	// TLSStartTLS connects in plain text and requires the STARTTLS
	// upgrade before anything else (port 143).
	TLSStartTLS TLSMode = "starttls"
	// TLSNone reads in plain text: for a server on this machine.
	TLSNone TLSMode = "none"
)

// String returns the mode's name.
func (m TLSMode) String() string { return string(m) }

// Action is what the Ingester does with a message in the mailbox once it
// is taken in.
type Action string

// The after-ingest actions. The zero value of Mailbox.After means Leave.
const (
	// Leave leaves the message as it is; the checkpoint alone keeps it
	// from being taken in again.
	Leave Action = "leave"
	// MarkSeen flags the message \Seen.
	MarkSeen Action = "seen"
	// Move moves the message to Mailbox.MoveTo (created when missing):
	// MOVE where the server has it, otherwise COPY, \Deleted and, with
	// UIDPLUS, UID EXPUNGE (without UIDPLUS the message stays flagged
	// \Deleted, as a plain EXPUNGE would remove other clients' deleted
	// messages too).
	Move Action = "move"
	// Delete flags the message \Deleted and, with UIDPLUS, expunges it.
	// A message taken in from its header alone (too large) is never
	// deleted: it is flagged \Seen instead, so the whole message stays on
	// the server.
	Delete Action = "delete"
)

// String returns the action's name.
func (a Action) String() string { return string(a) }

// Defaults of Options.
const (
	DefaultMaxSize      = 25 << 20
	DefaultPollInterval = time.Minute
	DefaultIdleTimeout  = 25 * time.Minute
	DefaultWindow       = 50
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
)

// maxIdle is the longest IDLE a server must allow (RFC 2177 says a server
// may log a client out after 30 minutes; clients re-issue IDLE before 29).
const maxIdle = 29 * time.Minute

// Mailbox is one IMAP mailbox an Ingester reads.
type Mailbox struct {
	// ID names the mailbox in logs and keys its checkpoint; empty means
	// "imap://Username@Addr/Folder" (see Name). A new ID starts from the
	// folder's first message again (messages already taken in are
	// recognised by Message-ID and size, and not fetched again).
	ID string
	// Addr is the server's address, "host:port". Required.
	Addr string
	// TLS is how the connection is secured; empty means TLSImplicit.
	TLS TLSMode
	// TLSConfig configures TLS; nil means a zero tls.Config with
	// ServerName taken from Addr.
	TLSConfig *tls.Config
	// Username logs in. Required.
	Username string
	// Password authenticates with SASL PLAIN where the server offers it,
	// LOGIN otherwise. Ignored when TokenSource is set.
	Password string
	// TokenSource, when set, authenticates with OAuth 2.0 tokens from it
	// (SASL OAUTHBEARER where offered, else XOAUTH2; see
	// transport/oauth). It is asked for a token at every connection, and
	// refreshes it as it does.
	TokenSource oauth2.TokenSource
	// Mechanism forces an OAuth mechanism ("OAUTHBEARER" or "XOAUTH2")
	// instead of choosing from what the server offers.
	Mechanism string
	// InsecureLoopbackAuth allows sending credentials without TLS when
	// Addr is a loopback address (127.0.0.0/8, ::1, localhost): a server
	// on this machine. Credentials are never sent in plain text to any
	// other address.
	InsecureLoopbackAuth bool
	// Folder is the folder read; default "INBOX".
	Folder string
	// Deliver is the Workspace mailbox the messages are ingested at (one
	// of the centre's addresses). Required.
	Deliver string
	// After is what is done with a message once taken in; empty means
	// Leave.
	After Action
	// MoveTo is the folder Move moves to. Required with Move.
	MoveTo string
	// Poll makes the Ingester poll even when the server has IDLE (some
	// servers' IDLE is unreliable behind load balancers).
	Poll bool
	// MaxSize overrides Options.MaxSize for this mailbox.
	MaxSize int64
}

// Name returns the name the mailbox goes by in logs and its checkpoint
// (Workspace.Checkpoint): ID, or "imap://Username@Addr/Folder".
func (mb Mailbox) Name() string {
	if mb.ID != "" {
		return mb.ID
	}
	folder := mb.Folder
	if folder == "" {
		folder = "INBOX"
	}
	return "imap://" + mb.Username + "@" + mb.Addr + "/" + folder
}

// Options configure an Ingester. The nil or zero value means defaults.
type Options struct {
	// MaxSize is the largest message fetched whole, by its RFC822.SIZE;
	// a larger one is taken in from its header. Default DefaultMaxSize
	// (25 MB). Keep it at or under the Workspace's Parse.MaxSize (a
	// message Ingest refuses as too large is taken in from its header
	// too, after fetching it).
	MaxSize int64
	// PollInterval is how often a mailbox without IDLE is looked at.
	// Default DefaultPollInterval.
	PollInterval time.Duration
	// IdleTimeout is how long one IDLE lasts before it is re-issued (and
	// the folder looked at, in case a notification was missed). Default
	// DefaultIdleTimeout; at most 29 minutes.
	IdleTimeout time.Duration
	// Window is how many messages' metadata is read per command, and how
	// many messages are done between two checkpoints. Default
	// DefaultWindow.
	Window int
	// MinBackoff and MaxBackoff bound the wait before connecting again
	// after a failure: it doubles from MinBackoff up to MaxBackoff, with
	// jitter. Defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives what Run cannot return: connection failures, a
	// changed UIDVALIDITY. Nil discards.
	Logger *slog.Logger
}

// Ingester takes the mail of IMAP mailboxes into a Workspace. It is safe
// for concurrent use, but a mailbox should be read by one Run at a time
// per process (two, in two processes, take in nothing twice, only fetch
// twice).
type Ingester struct {
	ws      *emailflow.Workspace
	readers []*reader
	opts    Options
	log     *slog.Logger
}

// NewIngester returns an Ingester that takes the mail of mailboxes into
// ws. A nil opts means defaults.
//
// Errors: emailflow.ErrInvalidInput for no mailbox, a mailbox without
// Addr, Username or Deliver, a Deliver that is not an address, Move
// without MoveTo, an unknown TLS mode or action, two mailboxes of one
// name, or an option out of range.
func NewIngester(ws *emailflow.Workspace, mailboxes []Mailbox, opts *Options) (*Ingester, error) {
	if ws == nil {
		return nil, fmt.Errorf("%w: imap: no Workspace", emailflow.ErrInvalidInput)
	}
	if len(mailboxes) == 0 {
		return nil, fmt.Errorf("%w: imap: no mailbox to read", emailflow.ErrInvalidInput)
	}
	in := &Ingester{ws: ws}
	if opts != nil {
		in.opts = *opts
	}
	o := &in.opts
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.IdleTimeout > maxIdle {
		return nil, fmt.Errorf("%w: imap: IdleTimeout %v is over the %v servers allow", emailflow.ErrInvalidInput, o.IdleTimeout, maxIdle)
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	in.log = o.Logger
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	names := map[string]bool{}
	for i, mb := range mailboxes {
		mb, err := checkMailbox(mb)
		if err != nil {
			return nil, fmt.Errorf("%w: imap: mailbox %d: %s", emailflow.ErrInvalidInput, i+1, err)
		}
		name := mb.Name()
		if names[name] {
			return nil, fmt.Errorf("%w: imap: two mailboxes named %q", emailflow.ErrInvalidInput, name)
		}
		names[name] = true
		if mb.MaxSize <= 0 {
			mb.MaxSize = o.MaxSize
		}
		in.readers = append(in.readers, &reader{in: in, mb: mb, name: name, log: in.log.With("mailbox", name)})
	}
	return in, nil
}

// checkMailbox fills mb's defaults and checks the rest. Its errors name
// no credential.
func checkMailbox(mb Mailbox) (Mailbox, error) {
	switch {
	case mb.Addr == "":
		return mb, errors.New("no Addr")
	case mb.Username == "":
		return mb, errors.New("no Username")
	case mb.Deliver == "":
		return mb, errors.New("no Deliver mailbox")
	}
	if _, _, err := net.SplitHostPort(mb.Addr); err != nil {
		return mb, fmt.Errorf("the Addr %q is not host:port", mb.Addr)
	}
	if _, err := mail.ParseAddress(mb.Deliver); err != nil {
		return mb, fmt.Errorf("the Deliver mailbox %q is not an address", mb.Deliver)
	}
	if mb.TLS == "" {
		mb.TLS = TLSImplicit
	}
	switch mb.TLS {
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		return mb, fmt.Errorf("unknown TLS mode %q", mb.TLS)
	}
	if mb.Folder == "" {
		mb.Folder = "INBOX"
	}
	if mb.After == "" {
		mb.After = Leave
	}
	switch mb.After {
	case Leave, MarkSeen, Delete:
	case Move:
		if mb.MoveTo == "" {
			return mb, errors.New("the Move action without MoveTo")
		}
		if mb.MoveTo == mb.Folder {
			return mb, fmt.Errorf("the MoveTo folder is the folder read, %q", mb.Folder)
		}
	default:
		return mb, fmt.Errorf("unknown after-ingest action %q", mb.After)
	}
	return mb, nil
}

// Run watches every mailbox until ctx ends, then logs out and returns
// ctx's error. Failures (a server down, a refused login, a store error)
// are logged and retried after a backoff; Run returns before ctx ends only
// when the Workspace's Store keeps no checkpoints (an error wrapping
// errors.ErrUnsupported).
func (in *Ingester) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, r := range in.readers {
		wg.Go(func() {
			if err := r.run(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// Sync connects to each mailbox in turn, takes in every new message,
// logs out and returns: for a host that reads its mailboxes on a schedule
// of its own, or a test. It returns the mailboxes' errors, joined.
func (in *Ingester) Sync(ctx context.Context) error {
	var errs []error
	for _, r := range in.readers {
		if err := r.once(ctx); err != nil {
			errs = append(errs, fmt.Errorf("imap: %s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}

// reader reads one mailbox.
type reader struct {
	in   *Ingester
	mb   Mailbox
	name string // mb.Name()
	log  *slog.Logger
}

// once connects, takes in what is new and logs out.
func (r *reader) once(ctx context.Context) error {
	s, err := r.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	if err := r.sync(ctx, s); err != nil {
		return err
	}
	s.logout()
	return nil
}

// run reads the mailbox until ctx ends: connect, take in what is new,
// wait for more (IDLE or a poll), again; after a failure, connect again
// after a backoff. It returns nil when ctx ends, or an error no retry
// can mend.
func (r *reader) run(ctx context.Context) error {
	b := backoff{min: r.in.opts.MinBackoff, max: r.in.opts.MaxBackoff}
	for ctx.Err() == nil {
		err := r.session(ctx, &b)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errors.ErrUnsupported) {
			r.log.Error("emailflow: imap: cannot keep checkpoints", "err", err)
			return fmt.Errorf("imap: %s: %w", r.name, err)
		}
		wait := b.next()
		r.log.Warn("emailflow: imap: connection failed; trying again", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	return nil
}

// session is one connection's life: it returns its failure, or nil when
// ctx ended.
func (r *reader) session(ctx context.Context, b *backoff) error {
	s, err := r.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	for {
		if err := r.sync(ctx, s); err != nil {
			return err
		}
		b.reset() // connected and read the folder: the server works
		if err := s.wait(ctx, r.in.opts, r.mb.Poll); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// backoff is a capped exponential backoff with jitter: each wait is
// drawn between half and all of min·2ⁿ (at most max), so that many
// Ingesters cut off together do not all come back at once.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.max
	if b.n < 32 {
		if e := b.min << b.n; e > 0 && e < b.max {
			d = e
		}
	}
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }

// isLoopback reports whether addr's host is this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
