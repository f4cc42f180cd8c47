package smtp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// testTLS returns a server configuration with a fresh self-signed
// certificate for 127.0.0.1 and a client configuration trusting it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: pool}
}

// envelope is one message a recorder received.
type envelope struct {
	From string
	To   []string
	Data []byte
	Helo string
	User string // authenticated user, if any
}

// recorder is a go-smtp backend that keeps what it receives: a stand-in
// for a relay or a customer's MX.
type recorder struct {
	mu     sync.Mutex
	got    []envelope
	refuse map[string]*gosmtp.SMTPError // recipient → refusal
	users  map[string]string            // when set, authentication is required
	// fqdn refuses a greeting without a dotted name or address literal,
	// as relays that check it do.
	fqdn  bool
	helos []string        // every EHLO name, in order
	wire  strings.Builder // the server's side of the dialogue
}

func (r *recorder) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	r.mu.Lock()
	r.helos = append(r.helos, c.Hostname())
	r.mu.Unlock()
	if r.fqdn && !strings.Contains(c.Hostname(), ".") {
		return nil, &gosmtp.SMTPError{Code: 504, EnhancedCode: gosmtp.EnhancedCode{5, 5, 2}, Message: "need fully-qualified hostname"}
	}
	return &recSession{r: r, helo: c.Hostname()}, nil
}

// Write records the dialogue (the go-smtp server's Debug writer).
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wire.Write(p)
}

func (r *recorder) greetings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.helos)
}

func (r *recorder) dialogue() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wire.String()
}

func (r *recorder) received() []envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

type recSession struct {
	r    *recorder
	helo string
	user string
	env  envelope
}

func (s *recSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *recSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if want, ok := s.r.users[user]; !ok || want != pass {
			return gosmtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *recSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.r.users != nil && s.user == "" {
		return gosmtp.ErrAuthRequired
	}
	s.env = envelope{From: from, Helo: s.helo, User: s.user}
	return nil
}

func (s *recSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if e := s.r.refuse[to]; e != nil {
		return e
	}
	s.env.To = append(s.env.To, to)
	return nil
}

func (s *recSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.env.Data = b
	s.r.mu.Lock()
	s.r.got = append(s.r.got, s.env)
	s.r.mu.Unlock()
	return nil
}

func (s *recSession) Reset()        { s.env = envelope{} }
func (s *recSession) Logout() error { return nil }

// serveRecorder runs a go-smtp server for rec on 127.0.0.1 and returns
// its address. implicit makes the listener speak TLS from the start;
// otherwise tlsConfig (when set) offers STARTTLS.
func serveRecorder(t *testing.T, rec *recorder, tlsConfig *tls.Config, implicit, insecureAuth bool) string {
	t.Helper()
	srv := gosmtp.NewServer(rec)
	srv.Domain = "mx.test"
	srv.Debug = rec
	srv.AllowInsecureAuth = insecureAuth
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	var l net.Listener
	var err error
	if implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	} else {
		srv.TLSConfig = tlsConfig
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	serve(t, func() error { return srv.Serve(l) }, srv.Close)
	return l.Addr().String()
}

// serve runs a server loop until the test ends.
func serve(t testing.TB, run func() error, stop func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run() }()
	t.Cleanup(func() {
		_ = stop()
		err := <-done
		if err != nil && !errors.Is(err, gosmtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
	})
}

// silent accepts connections and never answers: a stuck server.
func silent(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}
