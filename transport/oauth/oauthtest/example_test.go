package oauthtest_test

import (
	"fmt"

	"github.com/emailflow/emailflow/transport/oauth/oauthtest"
)

// A source that refreshes once: the second connection gets a new token.
func ExampleTokens() {
	ts := &oauthtest.Tokens{List: []string{"first", "refreshed"}}
	for range 3 {
		tok, _ := ts.Token()
		fmt.Println(tok.AccessToken)
	}
	// Output:
	// first
	// refreshed
	// refreshed
}
