package imap_test

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	eimap "github.com/emailflow/emailflow/transport/imap"
	"github.com/emailflow/emailflow/transport/oauth"
	"github.com/emailflow/emailflow/transport/oauth/oauthtest"
)

func TestOAuth(t *testing.T) {
	tests := []struct {
		name     string
		mechs    []string
		force    string
		wantMech string
	}{
		{"OAUTHBEARER preferred", []string{"XOAUTH2", "OAUTHBEARER", "PLAIN"}, "", "OAUTHBEARER"},
		{"XOAUTH2 when alone", []string{"PLAIN", "XOAUTH2"}, "", "XOAUTH2"},
		{"XOAUTH2 asked for", []string{"XOAUTH2", "OAUTHBEARER"}, "xoauth2", "XOAUTH2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			valid := map[string]string{user: "tok-1"}
			srv := newServer(t, serverOptions{mechs: tc.mechs, tokens: valid})
			srv.append("INBOX", nil, messages(1, 2)...)
			d := newDesk(t)
			mb := srv.mailbox()
			mb.Password, mb.Mechanism = "", tc.force
			ts := &oauthtest.Tokens{List: []string{"tok-1", "tok-2"}}
			mb.TokenSource = ts
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, nil)
			require.NoError(t, err)
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 2)
			assert.Contains(t, srv.transcript.String(), "AUTHENTICATE "+tc.wantMech)

			// The next connection asks the source again: the server now
			// takes only the refreshed token.
			srv.tokens[user] = "tok-2"
			srv.append("INBOX", nil, message(3))
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 3)
		})
	}
}

func TestPasswordAuth(t *testing.T) {
	tests := []struct {
		name  string
		mechs []string
		want  string
	}{
		{"AUTHENTICATE PLAIN", []string{sasl.Plain}, "AUTHENTICATE PLAIN"},
		{"LOGIN", []string{}, " LOGIN "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, serverOptions{mechs: tc.mechs})
			srv.append("INBOX", nil, message(1))
			d := newDesk(t)
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{srv.mailbox()}, nil)
			require.NoError(t, err)
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 1)
			assert.Contains(t, srv.transcript.String(), tc.want)
		})
	}
}

func TestTLS(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	tests := []struct {
		name     string
		starttls bool
		mode     eimap.TLSMode
	}{
		{"Implicit", false, eimap.TLSImplicit},
		{"STARTTLS", true, eimap.TLSStartTLS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, serverOptions{tls: serverTLS, starttls: tc.starttls})
			srv.append("INBOX", nil, message(1))
			d := newDesk(t)
			mb := srv.mailbox()
			mb.TLS, mb.TLSConfig, mb.InsecureLoopbackAuth = tc.mode, clientTLS, false
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, nil)
			require.NoError(t, err)
			require.NoError(t, in.Sync(t.Context()))
			d.requireOnce(t, 1, 1)
		})
	}
	t.Run("UntrustedCertificate", func(t *testing.T) {
		srv := newServer(t, serverOptions{tls: serverTLS})
		d := newDesk(t)
		mb := srv.mailbox()
		mb.TLS, mb.InsecureLoopbackAuth = eimap.TLSImplicit, false
		in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, nil)
		require.NoError(t, err)
		err = in.Sync(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "TLS handshake")
		assert.Zero(t, srv.logins.Load())
	})
}

// TestCredentialsNeverLeak: whatever fails, no password or token (nor the
// base64 of what carries them) is in an error or the log.
func TestCredentialsNeverLeak(t *testing.T) {
	const secretToken = "ya29.a0-very-secret-token"
	secrets := []string{
		password, secretToken,
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + secretToken + "\x01\x01")),
	}
	tests := []struct {
		name   string
		mechs  []string
		mb     func(eimap.Mailbox) eimap.Mailbox
		logins int32 // login attempts the server saw; -1: at least one
		want   string
	}{
		{"WrongPasswordPLAIN", []string{sasl.Plain}, func(m eimap.Mailbox) eimap.Mailbox { m.Password = password + "x"; return m }, -1, "AUTHENTICATE PLAIN"},
		{"WrongPasswordLOGIN", []string{}, func(m eimap.Mailbox) eimap.Mailbox { m.Password = password + "x"; return m }, -1, "LOGIN"},
		{"RefusedTokenXOAUTH2", []string{oauth.XOAuth2}, func(m eimap.Mailbox) eimap.Mailbox {
			m.TokenSource = &oauthtest.Tokens{List: []string{secretToken}}
			return m
		}, -1, "AUTHENTICATE XOAUTH2"},
		{"RefusedTokenOAUTHBEARER", []string{oauth.OAuthBearer}, func(m eimap.Mailbox) eimap.Mailbox {
			m.TokenSource = &oauthtest.Tokens{List: []string{secretToken}}
			return m
		}, -1, "AUTHENTICATE OAUTHBEARER"},
		{"NoOAuthMechanism", []string{sasl.Plain}, func(m eimap.Mailbox) eimap.Mailbox {
			m.TokenSource = &oauthtest.Tokens{List: []string{secretToken}}
			return m
		}, 0, "neither"},
		{"PlaintextRefused", []string{sasl.Plain}, func(m eimap.Mailbox) eimap.Mailbox { m.InsecureLoopbackAuth = false; return m }, 0, "without TLS"},
		{"TokenSourceFails", []string{oauth.XOAuth2}, func(m eimap.Mailbox) eimap.Mailbox {
			m.TokenSource = &oauthtest.Tokens{Err: errors.New("token endpoint: 503")}
			return m
		}, 0, "token endpoint: 503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, serverOptions{mechs: tc.mechs, tokens: map[string]string{user: "the-right-token"}})
			srv.append("INBOX", nil, message(1))
			d := newDesk(t)
			var logs syncBuffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			mb := tc.mb(srv.mailbox())
			in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, fast(log))
			require.NoError(t, err)

			err = in.Sync(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			// Run retries, logging each failure.
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- in.Run(ctx) }()
			eventually(t, func() bool { return strings.Count(logs.String(), "connection failed") >= 3 }, "failures logged")
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)

			for _, s := range secrets {
				assert.NotContains(t, err.Error(), s)
				assert.NotContains(t, logs.String(), s)
			}
			assert.Contains(t, logs.String(), mb.Name(), "the log says which mailbox")
			if tc.logins >= 0 {
				assert.Equal(t, tc.logins, srv.logins.Load(), "the credentials never left")
			} else {
				assert.Positive(t, srv.logins.Load())
			}
			count, _ := d.taken(t)
			assert.Empty(t, count)
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:143":              true,
		"127.8.9.10:143":             true,
		"[::1]:143":                  true,
		"localhost:143":              true,
		"LOCALHOST:993":              true,
		"10.0.0.1:143":               false,
		"imap.boutique.example:143":  false,
		"localhost.example.com:143":  false,
		"[2001:db8::1]:143":          false,
		"127.0.0.1":                  false, // no port: not an address
		"outlook.office365.com:993":  false,
		"imap.gmail.com:993":         false,
		"localhost.localdomain:1143": false,
	} {
		assert.Equal(t, want, eimap.IsLoopback(addr), addr)
	}
}
