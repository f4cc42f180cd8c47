package oauth_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/emailflow/emailflow/transport/oauth"
)

var errBadToken = errors.New("bad token")

// checkToken accepts token for support@boutique.example only.
func checkToken(user, tok string) error {
	if user != "support@boutique.example" || tok != token {
		return errBadToken
	}
	return nil
}

func TestXOAuth2Exchange(t *testing.T) {
	tests := []struct {
		name  string
		token string
		err   error
	}{
		{"Accepted", token, nil},
		{"Refused", "expired-token", errBadToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := oauth.NewClient(oauth.XOAuth2, "support@boutique.example", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tc.token}), "", 0)
			require.NoError(t, err)
			s := oauth.NewXOAuth2Server(checkToken)
			_, ir, err := c.Start()
			require.NoError(t, err)
			challenge, done, err := s.Next(ir)
			if tc.err == nil {
				require.NoError(t, err)
				assert.True(t, done)
				return
			}
			require.NoError(t, err, "a refusal first challenges with the reason")
			require.False(t, done)
			resp, err := c.Next(challenge)
			require.NoError(t, err)
			assert.Equal(t, "401", c.Failure().Status)
			_, done, err = s.Next(resp)
			assert.True(t, done)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

func TestXOAuth2ServerAsksForTheInitialResponse(t *testing.T) {
	s := oauth.NewXOAuth2Server(checkToken)
	challenge, done, err := s.Next(nil)
	require.NoError(t, err)
	assert.False(t, done)
	assert.Empty(t, challenge)
	_, done, err = s.Next([]byte("user=support@boutique.example\x01auth=Bearer " + token + "\x01\x01"))
	require.NoError(t, err)
	assert.True(t, done)
}

func TestXOAuth2ServerRefusesMalformed(t *testing.T) {
	for _, resp := range []string{
		"",
		"user=support@boutique.example\x01auth=Bearer " + token, // no terminator
		"user=support@boutique.example\x01auth=Basic abc\x01\x01",
		"auth=Bearer " + token + "\x01\x01",
		"user=support@boutique.example\x01\x01",
	} {
		s := oauth.NewXOAuth2Server(func(string, string) error { t.Fatal("auth called on a malformed response"); return nil })
		_, done, err := s.Next([]byte(resp))
		assert.True(t, done, "%q", resp)
		assert.Error(t, err, "%q", resp)
	}
}

// FuzzXOAuth2Server: any client response ends in acceptance only when it
// carries the right user and token.
func FuzzXOAuth2Server(f *testing.F) {
	f.Add([]byte("user=support@boutique.example\x01auth=Bearer " + token + "\x01\x01"))
	f.Add([]byte("user=x\x01auth=Bearer y\x01\x01"))
	f.Add([]byte("\x01\x01"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		s := oauth.NewXOAuth2Server(checkToken)
		challenge, done, err := s.Next(resp)
		if err == nil && done {
			require.Contains(t, string(resp), "user=support@boutique.example\x01")
			require.Contains(t, string(resp), " "+token+"\x01")
			return
		}
		if !done {
			require.NotEmpty(t, challenge)
			_, done, err = s.Next([]byte{})
			require.True(t, done)
			require.ErrorIs(t, err, errBadToken)
		}
	})
}
