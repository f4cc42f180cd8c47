package smtp

import (
	"fmt"
	"net"
	"strconv"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/emailflow/emailflow/transport/oauth"
)

// authOAuth authenticates with a token from SenderOptions.TokenSource.
// Neither the token nor anything holding it goes into an error.
func (s *Sender) authOAuth(c *gosmtp.Client, secure bool) error {
	if !secure && !s.opts.InsecureAuth {
		return permanentf(ErrInsecureAuth, "refusing to send an OAuth token without TLS (set InsecureAuth to allow it)")
	}
	mech, err := oauth.Choose("", c.SupportsAuth)
	if err != nil {
		return permanentf(ErrAuthUnsupported, "%s: %w", s.addr, err)
	}
	port := 0
	if _, p, err := net.SplitHostPort(s.addr); err == nil {
		port, _ = strconv.Atoi(p)
	}
	sc, err := oauth.NewClient(mech, s.opts.Username, s.opts.TokenSource, s.host, port)
	if err != nil {
		return err
	}
	if err := c.Auth(sc); err != nil {
		if f := sc.Failure(); f != nil {
			return fmt.Errorf("AUTH %s: %w (%v)", mech, err, f)
		}
		return fmt.Errorf("AUTH %s: %w", mech, err)
	}
	return nil
}
