package contact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emailflow/emailflow/contact"
)

func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "Hélène", "HELENE", "Œuvre", "Straße", "ﬁ", "İstanbul", "Ǆ", "东京", "\xff\xfe", "K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := contact.Fold(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, got)
		}
		if again := contact.Fold(got); again != got {
			t.Fatalf("Fold not idempotent: %q → %q → %q", s, got, again)
		}
		if strings.ToLower(got) != got && utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q has upper case", s, got)
		}
	})
}

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{"", " Jean+Shop@X.fr ", "<a@b>", "<<a@b>>", " < A@B > "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := contact.NormalizeAddress(s)
		if strings.HasPrefix(n, "<") { // "<<a@b>>": only one pair is removed
			return
		}
		if contact.NormalizeAddress(n) != n {
			t.Fatalf("NormalizeAddress not idempotent on %q: %q", s, n)
		}
		if c := (contact.Contact{Emails: []string{s}}); n != "" && !c.HasEmail(n) {
			t.Fatalf("HasEmail(%q) false for its own normalized form", n)
		}
	})
}
