package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relay is an SMTP server that records what it is given.
type relay struct {
	mu  sync.Mutex
	got []string // "to: subject"
}

func (r *relay) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct {
	r  *relay
	to []string
}

func (s *relaySession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.got = append(s.r.got, strings.Join(s.to, ",")+": "+string(b))
	return nil
}
func (s *relaySession) Reset()        { s.to = nil }
func (s *relaySession) Logout() error { return nil }

func listen(t *testing.T, serve func(net.Listener) error, stop func() error) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = serve(l) }()
	t.Cleanup(func() { _ = stop() })
	return l.Addr().String()
}

func customer(n int, extra string) []byte {
	return fmt.Appendf(nil, "From: Client %d <client%d@exemple.fr>\r\nTo: support@boutique.example\r\n"+
		"Subject: Commande FR-%d\r\nMessage-ID: <m%d@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Bonjour, où est ma commande ?\r\n%s", n, n, n, n, extra)
}

// TestRun: the mail room takes three messages from an IMAP server (one
// over -max-size), prints them, acknowledges each through SMTP, and moves
// them to the archive.
func TestRun(t *testing.T) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "s3cret")
	mem.AddUser(u)
	require.NoError(t, u.Create("INBOX", nil))
	for i, m := range [][]byte{customer(1, ""), customer(2, strings.Repeat("pièce jointe ", 3000)), customer(3, "")} {
		_, err := u.Append("INBOX", bytes.NewReader(m), &imap.AppendOptions{Time: time.Date(2026, 11, 30, 9, i, 0, 0, time.UTC)})
		require.NoError(t, err)
	}
	imapSrv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}},
		InsecureAuth: true,
		Logger:       discard{},
	})
	imapAddr := listen(t, imapSrv.Serve, imapSrv.Close)
	rec := &relay{}
	smtpSrv := gosmtp.NewServer(rec)
	smtpSrv.Domain = "relay.test"
	smtpAddr := listen(t, smtpSrv.Serve, smtpSrv.Close)

	env := map[string]string{"EMAILFLOW_IMAP_PASSWORD": "s3cret", "EMAILFLOW_IMAP_INSECURE_LOOPBACK": "true"}
	var out bytes.Buffer
	err := run(context.Background(), []string{
		"-once", "-imap-addr", imapAddr, "-imap-tls", "none", "-imap-user", "support",
		"-mailbox", "support@boutique.example", "-after", "move", "-move-to", "Archive",
		"-smtp-addr", smtpAddr, "-smtp-tls", "none", "-max-size", "20000", "-ack", "Bien reçu, nous revenons vers vous.",
	}, func(k string) string { return env[k] }, &out)
	require.NoError(t, err)
	t.Log(out.String())

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var news, sent, notes int
	for _, l := range lines {
		switch {
		case strings.Contains(l, "  new "):
			news++
			assert.Contains(t, l, "→ support")
		case strings.Contains(l, "  sent "):
			sent++
		case strings.Contains(l, "! This message of"):
			notes++
			assert.Contains(t, l, "of 42 KB is over the 20 KB limit")
		}
	}
	assert.Equal(t, 3, news, "each message printed as it arrives")
	assert.Equal(t, 3, sent, "each acknowledged")
	assert.Equal(t, 1, notes, "the large one taken in from its header, saying so")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.got, 3)
	for _, m := range rec.got {
		assert.Contains(t, m, "Bien re=C3=A7u") // quoted-printable
		assert.Contains(t, m, "Auto-Submitted: auto-replied")
	}
	st, err := u.Status("Archive", &imap.StatusOptions{NumMessages: true})
	require.NoError(t, err)
	assert.EqualValues(t, 3, *st.NumMessages)
}

type discard struct{}

func (discard) Printf(string, ...any) {}

func TestParseRefusals(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"Missing", []string{"-imap-user", "support"}, map[string]string{"EMAILFLOW_IMAP_PASSWORD": "x"}, "missing -imap-addr, -mailbox"},
		{"NoCredential", []string{"-imap-addr", "imap.test:993", "-imap-user", "u", "-mailbox", "support@boutique.example"}, nil, "EMAILFLOW_IMAP_PASSWORD"},
		{"NoPasswordFlag", []string{"-imap-password", "x"}, nil, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error()+out.String(), tc.want)
		})
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{"EMAILFLOW_IMAP_ADDR": "imap.test:993", "EMAILFLOW_IMAP_USER": "u", "EMAILFLOW_MAILBOX": "support@boutique.example",
		"EMAILFLOW_IMAP_TOKEN": "tok", "EMAILFLOW_AFTER": "seen"}
	c, err := parse(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "imap.test:993", c.imapAddr)
	assert.Equal(t, "seen", c.after)
	assert.Equal(t, "tok", c.imapToken)
	assert.NotNil(t, token(c.imapToken))
	assert.Nil(t, token(""))
}
