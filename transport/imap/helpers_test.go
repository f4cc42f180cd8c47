package imap_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	eimap "github.com/emailflow/emailflow/transport/imap"
	transport "github.com/emailflow/emailflow/transport/memory"
	"github.com/emailflow/emailflow/transport/oauth"
)

const (
	// admin is the desk's administrator: the tests read what was taken
	// in as the admin, who sees every interaction.
	admin    = "admin"
	deliver  = "support@boutique.example"
	user     = "support"
	password = "s3cret-P4ssw0rd"
)

// server is go-imap's in-memory IMAP server on 127.0.0.1, with a user
// "support" whose INBOX is empty, and ways to watch what clients do.
type server struct {
	t    *testing.T
	mem  *imapmemserver.Server
	user *imapmemserver.User
	addr string

	// mechs are the SASL mechanisms offered; tokens the OAuth tokens
	// accepted, by user.
	mechs  []string
	tokens map[string]string

	// beforeFetch, when set, runs before each FETCH the server answers.
	beforeFetch atomic.Pointer[func(numSet imap.NumSet, opts *imap.FetchOptions)]

	transcript syncBuffer // everything clients sent and the server answered
	mu         sync.Mutex
	whole      []imap.UIDSet // the UID sets of FETCH commands for whole bodies
	idles      atomic.Int32
	logins     atomic.Int32
}

type serverOptions struct {
	caps     imap.CapSet // nil: IMAP4rev1 with MOVE and UIDPLUS
	tls      *tls.Config // implicit TLS when set
	starttls bool        // with tls: STARTTLS instead of implicit TLS
	mechs    []string    // nil: PLAIN
	tokens   map[string]string
}

func newServer(t *testing.T, o serverOptions) *server {
	t.Helper()
	s := &server{t: t, mem: imapmemserver.New(), user: imapmemserver.NewUser(user, password), mechs: o.mechs, tokens: o.tokens}
	if s.mechs == nil {
		s.mechs = []string{sasl.Plain}
	}
	s.mem.AddUser(s.user)
	require.NoError(t, s.user.Create("INBOX", nil))
	caps := o.caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{s: s}, nil, nil
		},
		Caps:         caps,
		InsecureAuth: o.tls == nil,
		TLSConfig:    o.tls,
		Logger:       discardLogger{},
		DebugWriter:  &s.transcript,
	})
	var l net.Listener
	var err error
	if o.tls != nil && !o.starttls {
		l, err = tls.Listen("tcp", "127.0.0.1:0", o.tls)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	s.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// session is a memory server session that checks passwords and OAuth
// tokens and lets the test watch IDLE and FETCH.
type session struct {
	*imapmemserver.UserSession
	s *server
}

var _ imapserver.SessionSASL = (*session)(nil)

func (ss *session) Login(username, pass string) error {
	ss.s.logins.Add(1)
	if err := ss.s.user.Login(username, pass); err != nil {
		return err
	}
	ss.UserSession = imapmemserver.NewUserSession(ss.s.user)
	return nil
}

func (ss *session) AuthenticateMechanisms() []string { return ss.s.mechs }

func (ss *session) Authenticate(mech string) (sasl.Server, error) {
	ss.s.logins.Add(1)
	ok := func(username, token string) bool {
		if ss.s.tokens[username] != token || token == "" {
			return false
		}
		ss.UserSession = imapmemserver.NewUserSession(ss.s.user)
		return true
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, pass string) error { return ss.Login(username, pass) }), nil
	case oauth.XOAuth2:
		return oauth.NewXOAuth2Server(func(username, token string) error {
			if !ok(username, token) {
				return imapserver.ErrAuthFailed
			}
			return nil
		}), nil
	case oauth.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if !ok(o.Username, o.Token) {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		}), nil
	}
	return nil, imapserver.ErrAuthFailed
}

func (ss *session) Close() error {
	if ss.UserSession == nil {
		return nil
	}
	return ss.UserSession.Close()
}

func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	ss.s.idles.Add(1)
	return ss.UserSession.Idle(w, stop)
}

func (ss *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, opts *imap.FetchOptions) error {
	if f := ss.s.beforeFetch.Load(); f != nil {
		(*f)(numSet, opts)
	}
	for _, bs := range opts.BodySection {
		if set, ok := numSet.(imap.UIDSet); ok && bs.Specifier == imap.PartSpecifierNone && len(bs.Part) == 0 {
			ss.s.mu.Lock()
			ss.s.whole = append(ss.s.whole, set)
			ss.s.mu.Unlock()
		}
	}
	return ss.UserSession.Fetch(w, numSet, opts)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// client returns a logged-in client of the server, for the test's own
// looks and changes.
func (s *server) client() *imapclient.Client {
	s.t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	require.NoError(s.t, err)
	require.NoError(s.t, c.Login(user, password).Wait())
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// append adds messages to folder (created when missing) with flags, as
// a delivery would, and returns their UIDs.
func (s *server) append(folder string, flags []imap.Flag, msgs ...[]byte) []imap.UID {
	s.t.Helper()
	if _, err := s.user.Status(folder, &imap.StatusOptions{}); err != nil {
		require.NoError(s.t, s.user.Create(folder, nil))
	}
	var uids []imap.UID
	for _, m := range msgs {
		data, err := s.user.Append(folder, bytes.NewReader(m), &imap.AppendOptions{Flags: flags})
		require.NoError(s.t, err)
		uids = append(uids, data.UID)
	}
	return uids
}

// folder lists the messages of folder: Message-ID → flags.
func (s *server) folder(name string) map[string][]imap.Flag {
	s.t.Helper()
	c := s.client()
	defer c.Logout()
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(s.t, err)
	out := map[string][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	require.NoError(s.t, err)
	for i, b := range bufs {
		id := b.Envelope.MessageID
		if id == "" {
			id = fmt.Sprintf("#%d", i+1)
		}
		out[id] = b.Flags
	}
	return out
}

// fetchedWhole reports whether a FETCH of whole bodies named uid.
func (s *server) fetchedWhole(uid imap.UID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.whole {
		if set.Contains(uid) {
			return true
		}
	}
	return false
}

// wholeFetches is the number of FETCH commands for whole bodies.
func (s *server) wholeFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.whole)
}

// message returns a customer's email numbered n, with a Message-ID.
func message(n int) []byte {
	return fmt.Appendf(nil, "From: Client %d <client%d@exemple.fr>\r\n"+
		"To: Service Client <support@boutique.example>\r\n"+
		"Subject: Commande FR-%04d : où en est mon colis ?\r\n"+
		"Date: Wed, 25 Nov 2026 18:42:07 +0100\r\n"+
		"Message-ID: <msg-%d@mail.exemple.fr>\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Transfer-Encoding: 8bit\r\n"+
		"\r\n"+
		"Bonjour,\r\n\r\nJe n'ai toujours rien reçu pour la commande FR-%04d.\r\n\r\nMerci d'avance.\r\n", n, n, n, n, n)
}

func messages(from, to int) [][]byte {
	var out [][]byte
	for n := from; n <= to; n++ {
		out = append(out, message(n))
	}
	return out
}

func msgID(n int) string { return fmt.Sprintf("msg-%d@mail.exemple.fr", n) }

// desk is a Workspace on the memory store.
type desk struct {
	ws    *emailflow.Workspace
	store *memory.Store
}

func newDesk(t testing.TB) *desk {
	t.Helper()
	return newDeskWith(t, nil)
}

// newDeskWith is newDesk with a Directory in front of the store's: the
// Workspace asks it for the sender of every message it ingests, before
// storing anything.
func newDeskWith(t testing.TB, dir func(emailflow.Directory) emailflow.Directory) *desk {
	t.Helper()
	st := memory.New(nil)
	var directory emailflow.Directory = st
	if dir != nil {
		directory = dir(st)
	}
	ws, err := emailflow.New(emailflow.Ports{Store: st, Sender: &transport.Sender{}, Directory: directory}, &emailflow.Options{
		Hostname:  "desk.boutique.example",
		Mailboxes: []emailflow.Mailbox{{Address: deliver, Name: "Service Client", Queue: "support-fr"}},
	})
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(context.Background(), emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	return &desk{ws: ws, store: st}
}

// taken returns how many inbound interactions hold each Message-ID, and
// the interactions.
func (d *desk) taken(t testing.TB) (map[string]int, []*interaction.Interaction) {
	t.Helper()
	ctx := context.Background()
	its, err := d.ws.As(admin).Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
	require.NoError(t, err)
	count := map[string]int{}
	for _, it := range its {
		emails, err := d.ws.As(admin).Emails(ctx, it.ID)
		require.NoError(t, err)
		for _, e := range emails {
			count[e.MessageID]++
		}
	}
	return count, its
}

// requireOnce checks that the messages numbered from..to were each taken
// in exactly once, and nothing else.
func (d *desk) requireOnce(t testing.TB, from, to int) {
	t.Helper()
	count, _ := d.taken(t)
	want := map[string]int{}
	for n := from; n <= to; n++ {
		want[msgID(n)] = 1
	}
	require.Equal(t, want, count)
}

// onNth is a Directory that runs fn when first asked for the sender of
// the nth message (each test message has a sender of its own), before
// that message's Ingest stores anything.
type onNth struct {
	emailflow.Directory
	at int

	mu   sync.Mutex
	seen map[string]bool
	fn   func()
}

func (o *onNth) ContactsByAddress(ctx context.Context, addr string) ([]contact.Contact, error) {
	o.mu.Lock()
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	key := strings.ToLower(addr)
	if !o.seen[key] {
		o.seen[key] = true
		if len(o.seen) == o.at {
			o.fn()
		}
	}
	o.mu.Unlock()
	return o.Directory.ContactsByAddress(ctx, addr)
}

// stopDesk returns a desk whose Ingest of the nth message fails, storing
// nothing, because the returned context is cancelled then: the Ingester
// stops in the middle of its window, at a known place.
func stopDesk(t testing.TB, n int) (*desk, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return newDeskWith(t, func(d emailflow.Directory) emailflow.Directory {
		return &onNth{Directory: d, at: n, fn: cancel}
	}), ctx
}

// mailbox is the Ingester's view of the test server's INBOX.
func (s *server) mailbox() eimap.Mailbox {
	return eimap.Mailbox{Addr: s.addr, TLS: eimap.TLSNone, InsecureLoopbackAuth: true, Username: user, Password: password, Deliver: deliver}
}

// fast are options for tests: short waits.
func fast(log *slog.Logger) *eimap.Options {
	return &eimap.Options{PollInterval: time.Hour, IdleTimeout: 29 * time.Minute, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: log}
}

// testTLS returns a server configuration with a fresh self-signed
// certificate for 127.0.0.1 and a client configuration trusting it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imap.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, &tls.Config{RootCAs: pool}
}

// proxy forwards connections to a server, can cut them all, and can hide
// capabilities from the server's answers (a server without IDLE).
type proxy struct {
	t      *testing.T
	target string
	hide   []string
	addr   string

	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string, hide ...string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{t: t, target: target, hide: hide, addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		p.cut()
	})
	return p
}

func (p *proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	// Server to client, a line at a time, capabilities filtered. Literal
	// bytes pass through the same way: the test messages hold no line
	// that looks like a capability list.
	br := bufio.NewReader(up)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 && strings.Contains(line, "CAPABILITY") {
			for _, h := range p.hide {
				line = strings.ReplaceAll(line, " "+h, "")
			}
		}
		if _, werr := io.WriteString(c, line); werr != nil || err != nil {
			_ = c.Close()
			return
		}
	}
}

// cut closes every connection through the proxy.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// eventually waits for cond, failing after a generous time (the machine
// may be slow): no timing is asserted.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	assert.Eventually(t, cond, 30*time.Second, 10*time.Millisecond, msg)
}
