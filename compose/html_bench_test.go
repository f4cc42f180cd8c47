package compose

import (
	"strings"
	"testing"
)

// agentDraftHTML is what an editor sends for a reply of a few paragraphs
// above a quoted customer mail: styles, a link, a table, an image.
var agentDraftHTML = strings.Repeat(`<p style="font-family:Arial;font-size:14px;color:#222">Bonjour Françoise,</p>`+
	`<p>Votre commande <b>1234</b> est partie : <a href="https://acme.test/suivi?id=1234">suivi</a>.</p>`+
	`<table border="1"><tr><td>Article</td><td>Qté</td></tr><tr><td>Chaise</td><td>2</td></tr></table>`+
	`<img src="cid:logo@acme.test" alt="Acme" onerror="x()"><script>x()</script>`, 4) +
	`<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex"><p>Bonjour, où est mon colis ?</p></blockquote>`

// BenchmarkSanitizeHTML sanitizes a 2 KB agent draft.
func BenchmarkSanitizeHTML(b *testing.B) {
	b.SetBytes(int64(len(agentDraftHTML)))
	b.ReportAllocs()
	for b.Loop() {
		_ = SanitizeHTML(agentDraftHTML)
	}
}

// BenchmarkTextToHTML converts a 1 KB text with links.
func BenchmarkTextToHTML(b *testing.B) {
	text := strings.Repeat("Bonjour Françoise,\nvotre colis part demain : https://acme.test/suivi?id=1234&l=fr.\n\n", 12)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = TextToHTML(text)
	}
}

// BenchmarkExtractDataImages extracts a pasted 12 KB image from a draft.
func BenchmarkExtractDataImages(b *testing.B) {
	img := append(testImage(b, "png"), make([]byte, 12<<10)...)
	htm := agentDraftHTML + `<img src="` + dataURL("image/png", img) + `">`
	b.SetBytes(int64(len(htm)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ExtractDataImages(htm, nil); err != nil {
			b.Fatal(err)
		}
	}
}
