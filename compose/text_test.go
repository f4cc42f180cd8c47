package compose

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
)

func TestTextToHTML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"blank", " \n\t\n", ""},
		{"one line", "Bonjour", "<p>Bonjour</p>"},
		{"escaped", `a < b & "c" > 'd'`, "<p>a &lt; b &amp; &#34;c&#34; &gt; &#39;d&#39;</p>"},
		{"markup stays text", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"},
		{"line breaks", "Line 1\nLine 2\r\nLine 3", "<p>Line 1<br>\nLine 2<br>\nLine 3</p>"},
		{"paragraphs", "\n\nFirst\n\n\n  \nSecond\nline\n\n", "<p>First</p>\n<p>Second<br>\nline</p>"},
		{"link", "See https://acme.test/orders?id=1&x=2 now",
			`<p>See <a href="https://acme.test/orders?id=1&amp;x=2">https://acme.test/orders?id=1&amp;x=2</a> now</p>`},
		{"trailing punctuation outside", "Go to http://acme.test/a.",
			`<p>Go to <a href="http://acme.test/a">http://acme.test/a</a>.</p>`},
		{"brackets", "(see https://acme.test/x) and https://en.wikipedia.org/wiki/Mail_(disambiguation)",
			`<p>(see <a href="https://acme.test/x">https://acme.test/x</a>) and <a href="https://en.wikipedia.org/wiki/Mail_(disambiguation)">https://en.wikipedia.org/wiki/Mail_(disambiguation)</a></p>`},
		{"angle brackets", "<https://acme.test/a>",
			`<p>&lt;<a href="https://acme.test/a">https://acme.test/a</a>&gt;</p>`},
		{"quote ends a URL", `href="https://acme.test/a"onmouseover="x"`,
			`<p>href=&#34;<a href="https://acme.test/a">https://acme.test/a</a>&#34;onmouseover=&#34;x&#34;</p>`},
		{"upper-case scheme", "HTTPS://ACME.TEST/A", `<p><a href="https://ACME.TEST/A">HTTPS://ACME.TEST/A</a></p>`},
		{"not linked: other schemes", "javascript:alert(1) ftp://acme.test mailto:a@b.test",
			"<p>javascript:alert(1) ftp://acme.test mailto:a@b.test</p>"},
		{"not linked: inside a word", "xhttps://acme.test", "<p>xhttps://acme.test</p>"},
		{"not linked: no host", "https:// and http://", "<p>https:// and http://</p>"},
		{"not linked: user info", "https://bank.test@evil.test/", "<p>https://bank.test@evil.test/</p>"},
		{"not linked: bad escape", "https://acme.test/%zz", "<p>https://acme.test/%zz</p>"},
		{"controls removed", "a\x00b\x07c\u0085d", "<p>abcd</p>"},
		{"invalid UTF-8", "caf\xe9", "<p>caf\uFFFD</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TextToHTML(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, SanitizeHTML(got), "passes the sanitizer unchanged")
		})
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"paragraphs and breaks", "<p>One<br>two</p><p>Three</p>", "One\ntwo\n\nThree"},
		{"list", "<ul><li>a</li><li>b</li></ul>", "- a\n- b"},
		{"link target shown", `<a href="https://acme.test/x">here</a>`, "here <https://acme.test/x>"},
		{"link text is its target", `<a href="https://acme.test/x">https://acme.test/x</a>`, "https://acme.test/x"},
		{"scripts and styles vanish", "<style>p{}</style><script>x()</script><p>ok</p>", "ok"},
		{"entities", "<p>a &amp; b &lt;c&gt;</p>", "a & b <c>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, HTMLToText(tt.in))
		})
	}
}

// TestTextToHTMLProperties: any text becomes HTML that the sanitizer
// keeps as it is, and plain prose comes back from HTMLToText as written
// (but for blank lines and spaces, which HTML collapses).
func TestTextToHTMLProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "text")
		got := TextToHTML(s)
		if got != SanitizeHTML(got) {
			t.Fatalf("sanitizer changed TextToHTML(%q):\n%q\n%q", s, got, SanitizeHTML(got))
		}
	})
	word := rapid.StringMatching(`[A-Za-zéà0-9&<>"'.,()]{1,8}|https://[a-z]{1,6}\.test/[a-z0-9]{0,5}`)
	rapid.Check(t, func(t *rapid.T) {
		paras := rapid.SliceOfN(rapid.SliceOfN(rapid.SliceOfN(word, 1, 6), 1, 3), 1, 4).Draw(t, "paragraphs")
		var blocks []string
		for _, lines := range paras {
			var ls []string
			for _, words := range lines {
				ls = append(ls, strings.Join(words, " "))
			}
			blocks = append(blocks, strings.Join(ls, "\n"))
		}
		text := strings.Join(blocks, "\n\n")
		if back := HTMLToText(TextToHTML(text)); back != text {
			t.Fatalf("round trip of %q gave %q", text, back)
		}
	})
}

// FuzzTextToHTML: whatever the text, the HTML is a fixed point of the
// sanitizer, every link is an http or https one, and no markup comes from
// the text.
func FuzzTextToHTML(f *testing.F) {
	for _, s := range []string{"a\nb\n\nc", "https://acme.test/a?b=1&c=2.", "<b>x</b> http://x.test/(a)", "\x00\r\r\n", "HTTP://A.TEST/%41"} {
		f.Add(s)
	}
	tag := regexp.MustCompile(`<(/?[a-z]+)[ >]`)
	f.Fuzz(func(t *testing.T, s string) {
		got := TextToHTML(s)
		assert.Equal(t, got, SanitizeHTML(got))
		for _, m := range tag.FindAllStringSubmatch(got, -1) {
			assert.Contains(t, []string{"p", "/p", "br", "a", "/a"}, m[1])
		}
		for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(got, -1) {
			assert.Regexp(t, `^https?://`, m[1])
		}
	})
}
