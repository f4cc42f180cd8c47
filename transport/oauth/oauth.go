package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// The SASL mechanisms of this package.
const (
	// OAuthBearer is RFC 7628's mechanism, preferred where offered.
	OAuthBearer = sasl.OAuthBearer
	// XOAuth2 is the older mechanism of Google and Microsoft.
	XOAuth2 = "XOAUTH2"
)

// ErrNoMechanism reports a server that offers no OAuth mechanism, or not
// the one asked for.
var ErrNoMechanism = errors.New("oauth: no usable OAuth mechanism")

// Choose returns the mechanism to authenticate with: want when it is set
// (OAuthBearer or XOAuth2, in any case), which the server must offer;
// otherwise OAuthBearer when the server offers it, else XOAuth2. offered
// tells whether the server offers a mechanism.
//
// Errors: ErrNoMechanism.
func Choose(want string, offered func(mech string) bool) (string, error) {
	if want != "" {
		want = strings.ToUpper(want)
		if want != OAuthBearer && want != XOAuth2 {
			return "", fmt.Errorf("%w: %q is not an OAuth mechanism (%s or %s)", ErrNoMechanism, want, OAuthBearer, XOAuth2)
		}
		if !offered(want) {
			return "", fmt.Errorf("%w: the server does not offer %s", ErrNoMechanism, want)
		}
		return want, nil
	}
	for _, m := range []string{OAuthBearer, XOAuth2} {
		if offered(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w: the server offers neither %s nor %s", ErrNoMechanism, OAuthBearer, XOAuth2)
}

// Client is a SASL client (github.com/emersion/go-sasl's sasl.Client) of
// one OAuth mechanism, holding one token. It is used for one exchange.
type Client struct {
	mech    string
	initial []byte
	failure *Failure
}

var _ sasl.Client = (*Client)(nil)

// NewClient returns a Client of mechanism mech (OAuthBearer or XOAuth2)
// that authenticates username with a token from ts. host and port name the
// server, as OAUTHBEARER's message carries them (zero values leave them
// out).
//
// Errors: ErrNoMechanism for another mechanism; the TokenSource's,
// wrapped.
func NewClient(mech, username string, ts oauth2.TokenSource, host string, port int) (*Client, error) {
	mech = strings.ToUpper(mech)
	if mech != OAuthBearer && mech != XOAuth2 {
		return nil, fmt.Errorf("%w: %q is not an OAuth mechanism", ErrNoMechanism, mech)
	}
	if ts == nil {
		return nil, errors.New("oauth: no TokenSource")
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, fmt.Errorf("oauth: getting a token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("oauth: the TokenSource gave an empty token")
	}
	c := &Client{mech: mech}
	// The messages, as RFC 7628 section 3.1 and Google's XOAUTH2
	// description write them; \x01 separates the fields.
	var b strings.Builder
	switch mech {
	case OAuthBearer:
		b.WriteString("n,")
		if username != "" {
			b.WriteString("a=" + gs2Name(username))
		}
		b.WriteString(",")
		if host != "" {
			b.WriteString("\x01host=" + host)
		}
		if port != 0 {
			b.WriteString("\x01port=" + strconv.Itoa(port))
		}
	case XOAuth2:
		b.WriteString("user=" + username)
	}
	b.WriteString("\x01auth=" + tok.Type() + " " + tok.AccessToken + "\x01\x01")
	c.initial = []byte(b.String())
	return c, nil
}

// gs2Name escapes a GS2 authorization identity (RFC 5801): "," and "="
// would end it early.
func gs2Name(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// Start implements sasl.Client: the mechanism and the initial response,
// which carries the token.
func (c *Client) Start() (mech string, ir []byte, err error) {
	return c.mech, c.initial, nil
}

// Next implements sasl.Client. A server challenges only to say why it
// refuses the token (a JSON object with a status, the schemes and the
// scope it wants); the client keeps it (see Failure) and answers with the
// dummy response both mechanisms expect, after which the server ends the
// exchange with its protocol's failure reply.
func (c *Client) Next(challenge []byte) ([]byte, error) {
	f := &Failure{}
	if err := json.Unmarshal(challenge, f); err != nil || f.Status == "" {
		f = &Failure{Status: "unreadable server challenge"}
	}
	c.failure = f
	if c.mech == OAuthBearer {
		return []byte{0x01}, nil // RFC 7628 section 3.2.3
	}
	return []byte{}, nil // an empty response, as Google documents
}

// Failure returns the server's reason for refusing the token, or nil
// when it gave none.
func (c *Client) Failure() *Failure { return c.failure }

// Failure is a server's reason for refusing a token.
type Failure struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

// Error describes the failure, never the token.
func (f *Failure) Error() string {
	s := "oauth: the server refused the token: " + f.Status
	if f.Scope != "" {
		s += " (scope " + f.Scope + ")"
	}
	return s
}
