package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/emailflow/emailflow/transport/oauth"
)

// dialTimeout bounds connecting, the TLS handshake and the greeting;
// closeTimeout bounds a clean logout.
const (
	dialTimeout  = 30 * time.Second
	closeTimeout = 5 * time.Second
)

// conn is one connection to a mailbox's server, with the folder selected.
type conn struct {
	c        *imapclient.Client
	raw      net.Conn // closing it breaks off any command under way
	caps     imap.CapSet
	validity uint32
	newMail  chan struct{} // a message arrived (EXISTS)

	mu        sync.Mutex
	waiting   bool // in wait: ending ctx lets wait log out cleanly
	cancelled bool
	stop      func() bool
}

// connect dials, secures, authenticates and selects the folder. Until the
// connection is closed, ending ctx aborts whatever command is under way
// (by closing the connection), except while it waits for mail, when it
// logs out cleanly instead.
func (r *reader) connect(ctx context.Context) (*conn, error) {
	mb := r.mb
	s := &conn{newMail: make(chan struct{}, 1)}
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					s.signal()
				}
			},
		},
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := net.Dialer{}
	raw, err := d.DialContext(dctx, "tcp", mb.Addr)
	if err != nil {
		return nil, err
	}
	s.raw = raw
	// Until the greeting and login are done, the dial timeout holds.
	_ = raw.SetDeadline(time.Now().Add(dialTimeout))
	tlsConfig := r.tlsConfig()
	switch mb.TLS {
	case TLSImplicit:
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		s.c = imapclient.New(tc, opts)
	case TLSStartTLS:
		opts.TLSConfig = tlsConfig
		s.c, err = imapclient.NewStartTLS(raw, opts)
		if err != nil {
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
	default:
		s.c = imapclient.New(raw, opts)
	}
	s.stop = context.AfterFunc(ctx, s.abort)
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	if err := s.c.WaitGreeting(); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if s.c.State() != imap.ConnStateAuthenticated {
		if err := r.login(s.c); err != nil {
			return nil, err
		}
	}
	_ = raw.SetDeadline(time.Time{}) // imapclient sets its own from here
	s.caps = s.c.Caps()
	if mb.After == Move {
		if err := ensureFolder(s.c, mb.MoveTo); err != nil {
			return nil, err
		}
	}
	sel, err := s.c.Select(mb.Folder, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("SELECT %q: %w", mb.Folder, err)
	}
	s.validity = sel.UIDValidity
	ok = true
	return s, nil
}

func (r *reader) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if r.mb.TLSConfig != nil {
		cfg = r.mb.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(r.mb.Addr)
	}
	return cfg
}

// login authenticates: OAuth with a TokenSource, otherwise AUTHENTICATE
// PLAIN where offered, LOGIN where not disabled. Credentials go only over
// TLS, or to a loopback address that opted out. Its errors never hold a
// credential.
func (r *reader) login(c *imapclient.Client) error {
	mb := r.mb
	if mb.TLS == TLSNone && !(mb.InsecureLoopbackAuth && isLoopback(mb.Addr)) {
		if mb.InsecureLoopbackAuth {
			return fmt.Errorf("refusing to send credentials without TLS to %s, which is not a loopback address", mb.Addr)
		}
		return errors.New("refusing to send credentials without TLS (set InsecureLoopbackAuth for a server on this machine)")
	}
	caps := c.Caps()
	offered := func(mech string) bool { return caps.Has(imap.Cap("AUTH=" + mech)) }
	if mb.TokenSource != nil {
		mech, err := oauth.Choose(mb.Mechanism, offered)
		if err != nil {
			return err
		}
		host, p, _ := net.SplitHostPort(mb.Addr)
		port, _ := strconv.Atoi(p)
		sc, err := oauth.NewClient(mech, mb.Username, mb.TokenSource, host, port)
		if err != nil {
			return err
		}
		if err := c.Authenticate(sc); err != nil {
			if f := sc.Failure(); f != nil {
				return fmt.Errorf("AUTHENTICATE %s: %w (%v)", mech, err, f)
			}
			return fmt.Errorf("AUTHENTICATE %s: %w", mech, err)
		}
		return nil
	}
	switch {
	case offered(sasl.Plain):
		if err := c.Authenticate(sasl.NewPlainClient("", mb.Username, mb.Password)); err != nil {
			return fmt.Errorf("AUTHENTICATE PLAIN as %s: %w", mb.Username, err)
		}
	case !caps.Has(imap.CapLoginDisabled):
		if err := c.Login(mb.Username, mb.Password).Wait(); err != nil {
			return fmt.Errorf("LOGIN as %s: %w", mb.Username, err)
		}
	default:
		return errors.New("the server offers neither AUTH=PLAIN nor LOGIN")
	}
	return nil
}

// ensureFolder creates folder when the server does not list it.
func ensureFolder(c *imapclient.Client, folder string) error {
	found, err := c.List("", folder, nil).Collect()
	if err != nil {
		return fmt.Errorf("LIST %q: %w", folder, err)
	}
	if len(found) > 0 {
		return nil
	}
	if err := c.Create(folder, nil).Wait(); err != nil {
		return fmt.Errorf("CREATE %q: %w", folder, err)
	}
	return nil
}

func (s *conn) signal() {
	select {
	case s.newMail <- struct{}{}:
	default:
	}
}

// abort is called when the context ends: outside wait, it cuts the
// command under way. It closes the network connection, not the client:
// the client's Close waits for its reader, which may wait for a fetched
// body to be read.
func (s *conn) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelled = true
	if !s.waiting {
		_ = s.raw.Close()
	}
}

// abandon breaks off a FETCH whose answer is left unread: the connection
// is closed, then the answer drained (failing at once), so the client's
// reader is not left waiting for a body to be read. When the reading of
// a body failed (broken), the client's reader has gone on with the
// connection: the drain, which would read that body again, waits for the
// reader to stop (the connection closed, it fails at once).
func (s *conn) abandon(cmd *imapclient.FetchCommand, broken bool) {
	_ = s.raw.Close()
	if broken {
		<-s.c.Closed()
	}
	_ = cmd.Close()
}

// setWaiting marks the connection idle (true) or busy; it reports false
// when the context already ended.
func (s *conn) setWaiting(w bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = w
	return !s.cancelled
}

// wait returns when new mail may have come: with IDLE, on the server's
// word or after opts.IdleTimeout; otherwise after opts.PollInterval. It
// returns nil when ctx ends, having logged out, and an error when the
// connection fails.
func (s *conn) wait(ctx context.Context, opts Options, poll bool) error {
	if !s.setWaiting(true) {
		return nil
	}
	idle := !poll && (s.caps.Has(imap.CapIdle) || s.caps.Has(imap.CapIMAP4rev2))
	var cmd *imapclient.IdleCommand
	every := opts.PollInterval
	if idle {
		var err error
		if cmd, err = s.c.Idle(); err != nil {
			s.setWaiting(false)
			return fmt.Errorf("IDLE: %w", err)
		}
		every = opts.IdleTimeout
	}
	t := time.NewTimer(every)
	defer t.Stop()
	var lost error
	select {
	case <-ctx.Done():
	case <-s.newMail:
	case <-t.C:
	case <-s.c.Closed():
		lost = errors.New("connection closed by the server")
	}
	if cmd != nil && lost == nil {
		err := cmd.Close()
		if err == nil {
			err = s.waitWithin(cmd.Wait)
		}
		if err != nil {
			lost = fmt.Errorf("ending IDLE: %w", err)
		}
	}
	if ctx.Err() != nil {
		if lost == nil {
			s.logout()
		}
		return nil
	}
	if !s.setWaiting(false) {
		return nil
	}
	return lost
}

// waitWithin runs fn, closing the connection when it takes longer than
// closeTimeout (a server that stopped answering).
func (s *conn) waitWithin(fn func() error) error {
	t := time.AfterFunc(closeTimeout, func() { _ = s.raw.Close() })
	defer t.Stop()
	return fn()
}

// logout ends the session politely, within closeTimeout.
func (s *conn) logout() {
	_ = s.waitWithin(s.c.Logout().Wait)
}

// close closes the connection (idempotent).
func (s *conn) close() {
	if s.stop != nil {
		s.stop()
	}
	_ = s.c.Close()
}
