// Package oauthtest has what tests of OAuth 2.0 mail authentication need:
// a TokenSource that hands out given tokens in turn, as a real one does
// when each token expires.
package oauthtest

import (
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Tokens is an oauth2.TokenSource that hands out List in turn, the last
// one for good, or fails with Err when it is set. It is safe for
// concurrent use.
type Tokens struct {
	mu   sync.Mutex
	List []string
	Err  error
}

// Token returns the next token of List, valid for an hour, or Err.
func (ts *Tokens) Token() (*oauth2.Token, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.Err != nil {
		return nil, ts.Err
	}
	if len(ts.List) == 0 {
		return &oauth2.Token{}, nil
	}
	tok := ts.List[0]
	if len(ts.List) > 1 {
		ts.List = ts.List[1:]
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}
