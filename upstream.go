package emailflow

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	gmtextproto "github.com/emersion/go-message/textproto"
)

// UpstreamFilter is a Filter that reads the verdict a spam filter upstream
// wrote into the header: SpamAssassin's X-Spam-Flag and X-Spam-Status,
// rspamd's X-Spamd-Result and X-Spam, Microsoft's
// X-MS-Exchange-Organization-SCL. Spam is quarantined, with the filter's
// reason and score; other mail passes to the next filter.
//
// Anyone can write these fields, so they are believed only from a relay
// the host trusts: the hop that handed the message over last (the first
// Received field, which our SMTP server writes, or the mail store's when
// the mail comes from IMAP) must name the relay by an address in Trusted.
// Every address literal in that field's "from" clause must be trusted:
// the EHLO name is the client's own word, so a forged "[192.0.2.25]"
// there cannot make a stranger a trusted relay. List only relays that run
// the filter and replace the verdict fields the message came with
// (SpamAssassin and rspamd replace their own; Exchange removes its
// organization fields from mail that enters the organization).
type UpstreamFilter struct {
	trusted []netip.Prefix
	scl     int
}

// UpstreamOptions configure an UpstreamFilter.
type UpstreamOptions struct {
	// Trusted are the relays whose verdicts are believed: IP addresses
	// ("192.0.2.25", "2001:db8::1") or networks ("10.0.0.0/8").
	Trusted []string
	// SCL is the Microsoft spam confidence level from which mail is spam;
	// 0 means 5 (Exchange's own junk threshold is 5 and above).
	SCL int
}

// NewUpstreamFilter returns an UpstreamFilter trusting the relays opts
// lists. Errors: ErrInvalidInput for an entry that is no address or
// network, or an SCL outside 1 to 9.
func NewUpstreamFilter(opts *UpstreamOptions) (*UpstreamFilter, error) {
	f := &UpstreamFilter{scl: 5}
	if opts == nil {
		return f, nil
	}
	for _, s := range opts.Trusted {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			f.trusted = append(f.trusted, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: trusted relay %q is no IP address or network", ErrInvalidInput, s)
		}
		f.trusted = append(f.trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	switch {
	case opts.SCL == 0:
	case opts.SCL < 1 || opts.SCL > 9:
		return nil, fmt.Errorf("%w: SCL threshold %d is outside 1 to 9", ErrInvalidInput, opts.SCL)
	default:
		f.scl = opts.SCL
	}
	return f, nil
}

// Check implements Filter: VerdictQuarantine for mail a trusted relay
// marked as spam, VerdictPass otherwise. It never fails.
func (f *UpstreamFilter) Check(_ context.Context, m *Incoming) (Verdict, error) {
	h, err := gmtextproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.Raw)))
	if err != nil && h.Len() == 0 {
		return Verdict{}, nil // no header to read: no verdict
	}
	if !f.trustedRelay(h.Get("Received")) {
		return Verdict{}, nil
	}
	return f.read(&h), nil
}

// trustedRelay reports whether the Received field names, in its "from"
// clause, only trusted addresses, and at least one.
func (f *UpstreamFilter) trustedRelay(received string) bool {
	addrs := relayAddrs(received)
	if len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !f.trusts(a) {
			return false
		}
	}
	return true
}

func (f *UpstreamFilter) trusts(a netip.Addr) bool {
	for _, p := range f.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// relayAddrs returns the address literals of a Received field's "from"
// clause: "from mx.example (mx.example [192.0.2.1]) by ..." gives
// 192.0.2.1. A literal that is no address gives nothing at all, so that
// it cannot hide behind a trusted one.
func relayAddrs(received string) []netip.Addr {
	v := strings.Join(strings.Fields(received), " ")
	rest, ok := strings.CutPrefix(strings.ToLower(v), "from ")
	if !ok {
		return nil
	}
	if i := strings.Index(rest, " by "); i >= 0 {
		rest = rest[:i]
	}
	var out []netip.Addr
	for {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			return nil
		}
		lit := strings.TrimPrefix(rest[i+1:i+j], "ipv6:")
		a, err := netip.ParseAddr(lit)
		if err != nil {
			return nil
		}
		out = append(out, a.Unmap())
		rest = rest[i+j+1:]
	}
}

// read returns the verdict the header's spam fields give.
func (f *UpstreamFilter) read(h *gmtextproto.Header) Verdict {
	v := Verdict{Action: VerdictQuarantine, Filter: "upstream"}
	if status := h.Get("X-Spam-Status"); status != "" || yes(h.Get("X-Spam-Flag")) {
		// SpamAssassin: "Yes, score=9.7 required=5.0 tests=..."
		spam := yes(h.Get("X-Spam-Flag")) || yes(firstWord(status))
		score, scored := spamField(status, "score=")
		if s, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Spam-Score")), 64); !scored && err == nil {
			score, scored = s, true
		}
		if spam {
			v.Score, v.Scored = score, scored
			v.Reason = "marked as spam by SpamAssassin"
			if scored {
				v.Reason += fmt.Sprintf(" (score %g", score)
				if req, ok := spamField(status, "required="); ok {
					v.Reason += fmt.Sprintf(", required %g", req)
				}
				v.Reason += ")"
			}
			return v
		}
	}
	if result := h.Get("X-Spamd-Result"); result != "" {
		// rspamd: "default: True [15.20 / 15.00]; SYMBOL(1.0)[...]; ..."
		_, after, _ := strings.Cut(result, ":")
		if yes(firstWord(after)) {
			v.Reason = "marked as spam by rspamd"
			if i, j := strings.IndexByte(after, '['), strings.IndexByte(after, '/'); i >= 0 && j > i {
				if s, err := strconv.ParseFloat(strings.TrimSpace(after[i+1:j]), 64); err == nil {
					v.Score, v.Scored = s, true
					v.Reason += fmt.Sprintf(" (score %g)", s)
				}
			}
			return v
		}
	}
	if yes(h.Get("X-Spam")) {
		v.Reason = "marked as spam (X-Spam)"
		return v
	}
	if scl, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Ms-Exchange-Organization-Scl"))); err == nil && scl >= f.scl {
		v.Score, v.Scored = float64(scl), true
		v.Reason = fmt.Sprintf("Microsoft spam confidence level %d", scl)
		return v
	}
	return Verdict{}
}

// yes reports a flag that says yes: "YES", "Yes", "true".
func yes(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "yes" || s == "true"
}

// firstWord returns s up to its first space, comma or semicolon.
func firstWord(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t,;["); i >= 0 {
		return s[:i]
	}
	return s
}

// spamField reads a number after name ("score=") in a SpamAssassin
// status.
func spamField(status, name string) (float64, bool) {
	i := strings.Index(status, name)
	if i < 0 {
		return 0, false
	}
	rest := status[i+len(name):]
	end := strings.IndexFunc(rest, func(r rune) bool { return !(r == '.' || r == '-' || r >= '0' && r <= '9') })
	if end >= 0 {
		rest = rest[:end]
	}
	s, err := strconv.ParseFloat(rest, 64)
	return s, err == nil
}
