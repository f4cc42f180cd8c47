package emailflow

import (
	"bufio"
	"context"
	"net/netip"
	"strings"
	"testing"

	gmtextproto "github.com/emersion/go-message/textproto"

	"github.com/emailflow/emailflow/compose"
)

// FuzzUpstreamFilter feeds arbitrary headers to UpstreamFilter: no panic,
// no error, a verdict that passes or quarantines; and a message whose
// last relay is not trusted is never quarantined, whatever its fields
// say.
func FuzzUpstreamFilter(f *testing.F) {
	f.Add("Received: from mx ([192.0.2.25]) by desk; x\r\nX-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=9.7 required=5.0\r\n\r\nbody")
	f.Add("Received: from [192.0.2.25] (unknown [203.0.113.9])\r\n by mx\r\nX-Spamd-Result: default: True [15.2 / 15.0]\r\n\r\n")
	f.Add("Received: from x ([IPv6:2001:db8::1])\r\n\tby y\r\nX-MS-Exchange-Organization-SCL: 9\r\nX-Spam: yes\r\n\r\n")
	f.Add("Received: from x ([192.0.2.25] [not an address]) by y\r\nX-Spam-Flag: YES\r\n\r\n")
	f.Add("X-Spam-Status: Yes, score=-.-e9 required=\r\nReceived: from\r\n\r\n")
	up, err := NewUpstreamFilter(&UpstreamOptions{Trusted: []string{"192.0.2.0/24", "2001:db8::/32"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, err := up.Check(context.Background(), &Incoming{Raw: []byte(header), Message: &compose.Message{}})
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		switch v.Action {
		case VerdictPass:
		case VerdictQuarantine:
			if v.Filter != "upstream" || v.Reason == "" {
				t.Fatalf("verdict without a name or a reason: %+v", v)
			}
			// Quarantined only on the word of a trusted relay.
			h, _ := gmtextproto.ReadHeader(bufio.NewReader(strings.NewReader(header)))
			addrs := relayAddrs(h.Get("Received"))
			if len(addrs) == 0 {
				t.Fatalf("quarantined without a relay address: %q", header)
			}
			for _, a := range addrs {
				if !netip.MustParsePrefix("192.0.2.0/24").Contains(a) && !netip.MustParsePrefix("2001:db8::/32").Contains(a) {
					t.Fatalf("quarantined on the word of %v: %q", a, header)
				}
			}
		default:
			t.Fatalf("verdict %q", v.Action)
		}
	})
}

// FuzzSenderPattern feeds arbitrary patterns and addresses to the sender
// lists' parsers: a pattern is refused or normalized to a form that
// normalizes to itself, and the patterns an address yields are its own
// normalized form, then domains, each the suffix of the one before.
func FuzzSenderPattern(f *testing.F) {
	for _, s := range []string{"Promo@Deals.Example", "deals.example.", "münchen.de", "a@b@c", "@x", "x..y", " a@b ", "a@-b.c", strings.Repeat("a.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := normalizePattern(s); err == nil {
			again, err := normalizePattern(p)
			if err != nil || again != p {
				t.Fatalf("%q normalized to %q, which gives %q, %v", s, p, again, err)
			}
		}
		ps := senderPatterns(s)
		for i := 1; i < len(ps); i++ {
			if !strings.HasSuffix(ps[i-1], ps[i]) || len(ps[i]) >= len(ps[i-1]) {
				t.Fatalf("patterns of %q: %q", s, ps)
			}
		}
		if len(ps) > 8 {
			t.Fatalf("%d patterns", len(ps))
		}
	})
}
