package smtp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/emailflow/emailflow/transport/oauth"
	"github.com/emailflow/emailflow/transport/oauth/oauthtest"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// oauthRelay is a go-smtp backend that authenticates with OAuth tokens
// only, checks each one, and records the deliveries and which mechanism
// and token each connection used.
type oauthRelay struct {
	rec   *recorder
	mechs []string          // offered
	valid map[string]string // token → user

	mu   sync.Mutex
	used []string // "MECH token" per authentication tried
}

func (b *oauthRelay) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &oauthSession{recSession: &recSession{r: b.rec, helo: c.Hostname()}, b: b}, nil
}

type oauthSession struct {
	*recSession
	b *oauthRelay
}

func (s *oauthSession) AuthMechanisms() []string { return s.b.mechs }

func (s *oauthSession) check(mech, user, token string) error {
	s.b.mu.Lock()
	s.b.used = append(s.b.used, mech+" "+token)
	s.b.mu.Unlock()
	if s.b.valid[token] != user {
		return gosmtp.ErrAuthFailed
	}
	s.user = user
	return nil
}

func (s *oauthSession) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case oauth.XOAuth2:
		return oauth.NewXOAuth2Server(func(user, token string) error { return s.check(mech, user, token) }), nil
	case oauth.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if s.check(mech, o.Username, o.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		}), nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

func (b *oauthRelay) tokensUsed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.used...)
}

// serveOAuthRelay runs b on 127.0.0.1 with STARTTLS (when tlsConfig is
// set) and returns its address.
func serveOAuthRelay(t *testing.T, b *oauthRelay, tlsConfig *tls.Config, insecureAuth bool) string {
	t.Helper()
	srv := gosmtp.NewServer(b)
	srv.Domain = "mx.test"
	srv.TLSConfig = tlsConfig
	srv.AllowInsecureAuth = insecureAuth
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serve(t, func() error { return srv.Serve(l) }, srv.Close)
	return l.Addr().String()
}

const mailUser = "support@shop.example"

func TestSenderOAuth(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	valid := map[string]string{"tok-1": mailUser, "tok-2": mailUser}
	tests := []struct {
		name     string
		mechs    []string
		wantMech string
	}{
		{"OAUTHBEARER preferred", []string{"XOAUTH2", "OAUTHBEARER", "PLAIN"}, "OAUTHBEARER"},
		{"XOAUTH2 when alone", []string{"PLAIN", "XOAUTH2"}, "XOAUTH2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &oauthRelay{rec: &recorder{users: map[string]string{}}, mechs: tc.mechs, valid: valid}
			addr := serveOAuthRelay(t, b, serverTLS, false)
			ts := &oauthtest.Tokens{List: []string{"tok-1", "tok-2"}}
			s := smtp.NewSender(addr, &smtp.SenderOptions{TLSConfig: clientTLS, Username: mailUser, TokenSource: ts})
			for range 2 {
				require.NoError(t, s.Send(context.Background(), "bounces@shop.example", []string{"jo@example.org"}, []byte(rendered)))
			}
			got := b.rec.received()
			require.Len(t, got, 2)
			for _, env := range got {
				assert.Equal(t, mailUser, env.User, "authenticated as the mailbox")
				assert.Equal(t, rendered, string(env.Data))
			}
			// A token per connection, from the source, which refreshes.
			assert.Equal(t, []string{tc.wantMech + " tok-1", tc.wantMech + " tok-2"}, b.tokensUsed())
		})
	}
}

func TestSenderOAuthRefusals(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	const secret = "ya29.super-secret-token"
	tests := []struct {
		name      string
		mechs     []string
		tls       bool
		opts      smtp.SenderOptions
		ts        oauth2.TokenSource
		want      string
		kind      error // the sentinel, for a refusal before anything is sent
		permanent bool
		tried     int // authentications the server saw
	}{
		// go-smtp's server answers a refused OAUTHBEARER token with 454
		// (temporary), a refused XOAUTH2 one with our server's 535.
		{name: "refused token OAUTHBEARER", mechs: []string{"OAUTHBEARER"}, tls: true,
			opts: smtp.SenderOptions{TLSConfig: clientTLS}, ts: &oauthtest.Tokens{List: []string{secret}},
			want: "AUTH OAUTHBEARER: SMTP error 454", permanent: false, tried: 1},
		{name: "refused token XOAUTH2", mechs: []string{"XOAUTH2"}, tls: true,
			opts: smtp.SenderOptions{TLSConfig: clientTLS}, ts: &oauthtest.Tokens{List: []string{secret}},
			want: "AUTH XOAUTH2: SMTP error 535", permanent: true, tried: 1},
		{name: "no OAuth mechanism", mechs: []string{"PLAIN"}, tls: true,
			opts: smtp.SenderOptions{TLSConfig: clientTLS}, ts: &oauthtest.Tokens{List: []string{secret}},
			want: "neither OAUTHBEARER nor XOAUTH2", kind: smtp.ErrAuthUnsupported, permanent: true},
		{name: "no TLS", mechs: []string{"XOAUTH2"},
			opts: smtp.SenderOptions{TLS: smtp.TLSNone}, ts: &oauthtest.Tokens{List: []string{secret}},
			want: "without TLS", kind: smtp.ErrInsecureAuth, permanent: true},
		{name: "token source fails", mechs: []string{"XOAUTH2"}, tls: true,
			opts: smtp.SenderOptions{TLSConfig: clientTLS}, ts: &oauthtest.Tokens{Err: errors.New("token endpoint: 503")},
			want: "token endpoint: 503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &oauthRelay{rec: &recorder{users: map[string]string{}}, mechs: tc.mechs, valid: map[string]string{"tok-1": mailUser}}
			cfg := serverTLS
			if !tc.tls {
				cfg = nil
			}
			addr := serveOAuthRelay(t, b, cfg, !tc.tls)
			opts := tc.opts
			opts.Username, opts.TokenSource = mailUser, tc.ts
			err := smtp.NewSender(addr, &opts).Send(context.Background(), "bounces@shop.example", []string{"jo@example.org"}, []byte(rendered))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.kind != nil {
				assert.ErrorIs(t, err, tc.kind)
			}
			assert.NotContains(t, err.Error(), secret, "never the token")
			assert.NotContains(t, fmt.Sprintf("%+v", err), secret)
			var p interface{ Permanent() bool }
			require.True(t, errors.As(err, &p))
			assert.Equal(t, tc.permanent, p.Permanent())
			assert.Len(t, b.tokensUsed(), tc.tried)
			for _, used := range b.tokensUsed() {
				assert.True(t, strings.HasSuffix(used, secret), "the server did get the token to check")
			}
			assert.Empty(t, b.rec.received(), "nothing delivered")
		})
	}
}
