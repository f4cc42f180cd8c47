package oauth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/emailflow/emailflow/transport/oauth"
)

const token = "ya29.a0-secret-token"

func TestNewClientMessages(t *testing.T) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})
	tests := []struct {
		name, mech, user, host string
		port                   int
		want                   string
	}{
		{"OAuthBearer", "OAUTHBEARER", "support@boutique.example", "imap.boutique.example", 993,
			"n,a=support@boutique.example,\x01host=imap.boutique.example\x01port=993\x01auth=Bearer " + token + "\x01\x01"},
		{"OAuthBearerLowerCase", "oauthbearer", "support@boutique.example", "", 0,
			"n,a=support@boutique.example,\x01auth=Bearer " + token + "\x01\x01"},
		{"OAuthBearerEscapesIdentity", "OAUTHBEARER", "a,b=c", "", 0,
			"n,a=a=2Cb=3Dc,\x01auth=Bearer " + token + "\x01\x01"},
		{"OAuthBearerNoIdentity", "OAUTHBEARER", "", "", 0,
			"n,,\x01auth=Bearer " + token + "\x01\x01"},
		{"XOAuth2", "XOAUTH2", "support@boutique.example", "imap.boutique.example", 993,
			"user=support@boutique.example\x01auth=Bearer " + token + "\x01\x01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := oauth.NewClient(tc.mech, tc.user, ts, tc.host, tc.port)
			require.NoError(t, err)
			mech, ir, err := c.Start()
			require.NoError(t, err)
			assert.Equal(t, strings.ToUpper(tc.mech), mech)
			assert.Equal(t, tc.want, string(ir))
			assert.Nil(t, c.Failure())
		})
	}
}

func TestNewClientRefusals(t *testing.T) {
	good := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})
	failing := tokenFunc(func() (*oauth2.Token, error) { return nil, errors.New("token endpoint down") })
	empty := oauth2.StaticTokenSource(&oauth2.Token{})
	tests := []struct {
		name string
		mech string
		ts   oauth2.TokenSource
		want error
		text string
	}{
		{"OtherMechanism", "PLAIN", good, oauth.ErrNoMechanism, "not an OAuth mechanism"},
		{"NoTokenSource", "XOAUTH2", nil, nil, "no TokenSource"},
		{"TokenSourceFails", "XOAUTH2", failing, nil, "token endpoint down"},
		{"EmptyToken", "OAUTHBEARER", empty, nil, "empty token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oauth.NewClient(tc.mech, "u", tc.ts, "", 0)
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Contains(t, err.Error(), tc.text)
			assert.NotContains(t, err.Error(), token)
		})
	}
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

func TestChoose(t *testing.T) {
	offers := func(mechs ...string) func(string) bool {
		return func(m string) bool {
			for _, o := range mechs {
				if strings.EqualFold(o, m) {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name    string
		want    string
		offered []string
		got     string
		err     error
	}{
		{"PrefersOAuthBearer", "", []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}, "OAUTHBEARER", nil},
		{"ElseXOAuth2", "", []string{"PLAIN", "XOAUTH2"}, "XOAUTH2", nil},
		{"NeitherOffered", "", []string{"PLAIN", "LOGIN"}, "", oauth.ErrNoMechanism},
		{"AskedAndOffered", "xoauth2", []string{"XOAUTH2", "OAUTHBEARER"}, "XOAUTH2", nil},
		{"AskedNotOffered", "OAUTHBEARER", []string{"XOAUTH2"}, "", oauth.ErrNoMechanism},
		{"AskedNotOAuth", "PLAIN", []string{"PLAIN"}, "", oauth.ErrNoMechanism},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oauth.Choose(tc.want, offers(tc.offered...))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.got, got)
		})
	}
}

func TestNextKeepsTheServersReason(t *testing.T) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})
	challenge := []byte(`{"status":"invalid_token","schemes":"bearer","scope":"https://mail.google.com/"}`)
	tests := []struct {
		mech      string
		challenge []byte
		response  []byte
		status    string
	}{
		{"OAUTHBEARER", challenge, []byte{0x01}, "invalid_token"},
		{"XOAUTH2", challenge, []byte{}, "invalid_token"},
		{"XOAUTH2", []byte("not json"), []byte{}, "unreadable server challenge"},
	}
	for _, tc := range tests {
		t.Run(tc.mech+"/"+tc.status, func(t *testing.T) {
			c, err := oauth.NewClient(tc.mech, "u", ts, "", 0)
			require.NoError(t, err)
			resp, err := c.Next(tc.challenge)
			require.NoError(t, err, "the exchange goes on to the server's failure reply")
			assert.Equal(t, tc.response, resp)
			require.NotNil(t, c.Failure())
			assert.Equal(t, tc.status, c.Failure().Status)
			assert.Contains(t, c.Failure().Error(), tc.status)
			assert.NotContains(t, c.Failure().Error(), token)
		})
	}
}

// FuzzNext: whatever a server challenges with, Next answers with the
// dummy response and keeps a reason free of the token.
func FuzzNext(f *testing.F) {
	f.Add([]byte(`{"status":"invalid_token","schemes":"bearer","scope":"x"}`))
	f.Add([]byte(`{"status":""}`))
	f.Add([]byte("\x00\xff"))
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})
	f.Fuzz(func(t *testing.T, challenge []byte) {
		for _, mech := range []string{oauth.OAuthBearer, oauth.XOAuth2} {
			c, err := oauth.NewClient(mech, "u", ts, "", 0)
			require.NoError(t, err)
			resp, err := c.Next(challenge)
			require.NoError(t, err)
			require.LessOrEqual(t, len(resp), 1)
			require.NotNil(t, c.Failure())
			require.NotEmpty(t, c.Failure().Status)
			if !strings.Contains(string(challenge), token) {
				require.NotContains(t, c.Failure().Error(), token)
			}
		}
	})
}
