package compose_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/emailflow/emailflow/compose"
)

// An agent's editor may hand over anything; what is stored and sent keeps
// the formatting and loses the active content.
func ExampleSanitizeHTML() {
	agent := `<p style="color:#c00" onclick="steal()">Bonjour <b>Ana</b>,</p>` +
		`<script>alert(1)</script><a href="javascript:alert(2)">ici</a> ` +
		`<a href="https://acme.test/suivi">suivi</a><img src="cid:logo@acme.test">`
	fmt.Println(compose.SanitizeHTML(agent))
	// Output:
	// <p style="color: #c00">Bonjour <b>Ana</b>,</p>ici <a href="https://acme.test/suivi">suivi</a><img src="cid:logo@acme.test">
}

func ExampleTextToHTML() {
	fmt.Println(compose.TextToHTML("Bonjour Ana,\n\nVotre colis <FR-2291> part demain.\nSuivi : https://acme.test/suivi?id=2291&l=fr."))
	// Output:
	// <p>Bonjour Ana,</p>
	// <p>Votre colis &lt;FR-2291&gt; part demain.<br>
	// Suivi : <a href="https://acme.test/suivi?id=2291&amp;l=fr">https://acme.test/suivi?id=2291&amp;l=fr</a>.</p>
}

func ExampleHTMLToText() {
	fmt.Println(compose.HTMLToText(`<p>Bonjour,</p><ul><li>colis <b>FR-2291</b></li><li><a href="https://acme.test/suivi">suivi</a></li></ul>`))
	// Output:
	// Bonjour,
	//
	// - colis FR-2291
	// - suivi <https://acme.test/suivi>
}

// A screenshot pasted into the agent's editor arrives as a data: URL; it
// leaves as an inline part that the HTML shows by its Content-ID.
func ExampleExtractDataImages() {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	agentHTML := `<p>Voici la capture :</p><img alt="capture" src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `">`

	htm, images, err := compose.ExtractDataImages(compose.SanitizeHTML(agentHTML), &compose.ImageOptions{Hostname: "acme.test"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(htm, `src="cid:`+images[0].ContentID+`"`), images[0].Filename, images[0].ContentType, images[0].Inline)

	d := compose.New(mail.Address{Address: "support@acme.test"}, []mail.Address{{Address: "ana@example.test"}}, "Votre colis", "")
	d.HTML, d.Attachments = htm, images
	raw, _ := compose.Render(d, &compose.RenderOptions{Hostname: "acme.test"})
	fmt.Println(strings.Contains(string(raw), "multipart/related"))

	// A page is not an image.
	_, _, err = compose.ExtractDataImages(`<img src="data:text/html;base64,PHNjcmlwdD4=">`, nil)
	var ie *compose.ImageError
	fmt.Println(errors.As(err, &ie), errors.Is(err, compose.ErrInvalidInput), ie.Reason)
	// Output:
	// true image1.png image/png true
	// true
	// true true not a PNG, GIF, JPEG or WebP image
}
