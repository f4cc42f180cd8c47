package oauth_test

import (
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/emailflow/emailflow/transport/oauth"
)

// A client for a server that offers both mechanisms. In a host, the
// TokenSource is an oauth2.Config's, which refreshes the token.
func Example() {
	offered := func(mech string) bool { return mech == "XOAUTH2" || mech == "OAUTHBEARER" }
	mech, err := oauth.Choose("", offered)
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.example"})
	c, err := oauth.NewClient(mech, "support@boutique.example", ts, "imap.boutique.example", 993)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, ir, _ := c.Start()
	fmt.Println(m)
	fmt.Println(strings.ReplaceAll(string(ir), "\x01", "^A"))
	// Output:
	// OAUTHBEARER
	// n,a=support@boutique.example,^Ahost=imap.boutique.example^Aport=993^Aauth=Bearer ya29.example^A^A
}
