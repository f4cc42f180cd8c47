package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/emersion/go-sasl"
)

// XOAuth2Authenticator checks a username and the token that came with it.
type XOAuth2Authenticator func(username, token string) error

// NewXOAuth2Server returns the server side of XOAUTH2 (github.com/emersion/
// go-sasl has OAUTHBEARER's, sasl.NewOAuthBearerServer), for a host's own
// IMAP or SMTP server and for tests. auth checks the token; when it
// refuses, the server sends the error challenge the mechanism describes,
// waits for the client's empty response, then fails with auth's error.
func NewXOAuth2Server(auth XOAuth2Authenticator) sasl.Server {
	return &xoauth2Server{auth: auth}
}

type xoauth2Server struct {
	auth    XOAuth2Authenticator
	started bool
	failed  error
	done    bool
}

// errMalformed reports an XOAUTH2 message that cannot be read.
var errMalformed = errors.New("oauth: malformed XOAUTH2 response")

func (s *xoauth2Server) Next(response []byte) (challenge []byte, done bool, err error) {
	switch {
	case s.done:
		return nil, true, sasl.ErrUnexpectedClientResponse
	case s.failed != nil:
		// The client's answer to the error challenge: the exchange ends.
		s.done = true
		return nil, true, s.failed
	case response == nil && !s.started:
		s.started = true
		return []byte{}, false, nil // ask for the initial response
	}
	s.started = true
	user, token, err := parseXOAuth2(response)
	if err != nil {
		s.done = true
		return nil, true, err
	}
	if err := s.auth(user, token); err != nil {
		s.failed = err
		blob, _ := json.Marshal(Failure{Status: "401", Schemes: "bearer"})
		return blob, false, nil
	}
	s.done = true
	return nil, true, nil
}

// parseXOAuth2 reads "user=U\x01auth=Bearer T\x01\x01".
func parseXOAuth2(b []byte) (user, token string, err error) {
	b, ok := bytes.CutSuffix(b, []byte("\x01\x01"))
	if !ok {
		return "", "", errMalformed
	}
	for _, f := range strings.Split(string(b), "\x01") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "user":
			user = v
		case "auth":
			scheme, t, ok := strings.Cut(v, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				return "", "", errMalformed
			}
			token = t
		}
	}
	if user == "" || token == "" {
		return "", "", errMalformed
	}
	return user, token, nil
}
