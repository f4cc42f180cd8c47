package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeDraft is a draft at the edges of what mail can carry, with what a
// reader must find in it.
type edgeDraft struct {
	name      string
	draft     *Draft
	filenames []string // attachment file names a reader sees, in order
	nested    bool     // the forwarded original is a message/rfc822 part
	noText    bool     // no text/plain part (none can be made)
}

// original is a customer's message with the given body lines, ends and
// header, as a forward as attachment carries it.
func original(body, eol string) []byte {
	lines := []string{"From: Jo <jo@example.org>", "To: support@acme.test", "Subject: Colis abîmé",
		"Message-ID: <o1@example.org>", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", body}
	return []byte(strings.Join(lines, eol) + eol)
}

func edgeDrafts(t *testing.T) []edgeDraft {
	t.Helper()
	from := mail.Address{Name: "Acme Support", Address: "support@acme.test"}
	to := []mail.Address{{Name: "Françoise Dupré", Address: "francoise@example.fr"}}
	forward := func(raw []byte) *Draft {
		orig, err := Parse(bytes.NewReader(raw), nil)
		require.NoError(t, err)
		d, err := Forward(orig, raw, &ForwardOptions{From: from, To: to, AsAttachment: true})
		require.NoError(t, err)
		d.MessageID = "fwd.1@acme.test"
		return d
	}
	inlineForward := func() *Draft {
		orig, err := Parse(bytes.NewReader(original("Bonjour,\r\nmon colis est arrivé abîmé.", "\r\n")), nil)
		require.NoError(t, err)
		d, err := Forward(orig, nil, &ForwardOptions{From: from, To: to})
		require.NoError(t, err)
		d.MessageID = "fwd.2@acme.test"
		return d
	}
	longName := strings.Repeat("Relevé détaillé des opérations ", 7)[:200] + ".pdf"
	var many []mail.Address
	for i := range 50 {
		many = append(many, mail.Address{Name: fmt.Sprintf("Client n°%d", i), Address: fmt.Sprintf("client%d@example.com", i)})
	}
	var refs []string
	for i := range 20 {
		refs = append(refs, fmt.Sprintf("%d.a-rather-long-message-id-left-part@mail.example.com", i))
	}
	image := Attachment{Filename: "photo.png", ContentType: "image/png", ContentID: "img1@example.org", Inline: true, Data: []byte("\x89PNG\r\n")}
	return []edgeDraft{
		{name: "unspaced subject of 1,100 characters", draft: &Draft{From: from, To: to, Subject: strings.Repeat("x", 1100), Text: "x"}},
		{name: "accented file name of 200 characters", draft: &Draft{From: from, To: to, Subject: "Relevé", Text: "Ci-joint.",
			Attachments: []Attachment{{Filename: longName, ContentType: "application/pdf", Data: []byte("%PDF-1.4")}}}, filenames: []string{longName}},
		{name: "display name of 1,000 characters", draft: &Draft{From: from, Subject: "x", Text: "x",
			To: []mail.Address{{Name: strings.Repeat("N", 1000), Address: "n@example.com"}, {Name: strings.Repeat("Ö", 400), Address: "o@example.com"}}}},
		{name: "non-ASCII names in every script", draft: &Draft{From: mail.Address{Name: "Service Client Ærøskøbing", Address: "support@acme.test"}, Subject: "Votre demande n° 42 — réglée ✅", Text: "Bonjour",
			To: []mail.Address{{Name: "山田太郎", Address: "yamada@example.jp"}, {Name: "Françoise \"Fanfan\" Dupré", Address: "francoise@example.fr"}},
			Cc: []mail.Address{{Name: "Ελένη Παπαδοπούλου", Address: "eleni@example.gr"}, {Name: "Smith, John", Address: "john@example.com"}}}},
		{name: "Japanese subject", draft: &Draft{From: from, To: to, Subject: strings.Repeat("お問い合わせありがとうございます。", 6), Text: "日本語のテキスト"}},
		{name: "subject that looks encoded", draft: &Draft{From: from, To: to, Subject: "=?utf-8?q?not_encoded?= really", Text: "x"}},
		{name: "long body lines", draft: &Draft{From: from, To: to, Subject: "Long lines",
			Text: strings.Repeat("a", 5000) + "\n" + strings.Repeat("é ", 3000), HTML: "<p>" + strings.Repeat("b", 5000) + "</p>"}},
		{name: "HTML and text", draft: &Draft{From: from, To: to, Subject: "Both", Text: "Bonjour\n", HTML: "<p>Bonjour <b>Françoise</b></p>"}},
		{name: "HTML only", draft: &Draft{From: from, To: to, Subject: "HTML", HTML: "<p>Bonjour,</p><ul><li>un</li><li>deux</li></ul>"}},
		{name: "HTML with an inline image", draft: &Draft{From: from, To: to, Subject: "Image", Text: "Voir l'image", HTML: `<p><img src="cid:img1@example.org"></p>`,
			Attachments: []Attachment{image}}, filenames: []string{"photo.png"}},
		{name: "reply all whose HTML was removed", draft: &Draft{From: from, To: to, Subject: "Re: Image", Text: "Merci",
			Attachments: []Attachment{image}}},
		{name: "fifty recipients and twenty references", draft: &Draft{From: from, To: many, Subject: "Many", Text: "x",
			MessageID: "many.1@acme.test", InReplyTo: refs[19], References: refs}},
		{name: "extra header with long non-ASCII text", draft: &Draft{From: from, To: to, Subject: "x", Text: "x",
			Headers: map[string]string{"X-Case-Note": strings.Repeat("Client très mécontent, à rappeler ", 10)}}},
		{name: "inline forward", draft: inlineForward()},
		{name: "forward as attachment", draft: forward(original("Bonjour,\r\nmon colis est arrivé abîmé.", "\r\n")),
			filenames: []string{"Colis abîmé.eml"}, nested: true},
		{name: "forward as attachment with LF line ends", draft: forward(original("Bonjour,\nmon colis est arrivé abîmé.", "\n")),
			filenames: []string{"Colis abîmé.eml"}, nested: true},
		{name: "forward as attachment with a line of 1,200 octets", draft: forward(original(strings.Repeat("z", 1200), "\r\n")),
			filenames: []string{"Colis abîmé.eml"}},
		{name: "forward as attachment of a message with a NUL", draft: forward(original("a\x00b", "\r\n")),
			filenames: []string{"Colis abîmé.eml"}},
	}
}

// headerLines returns the header lines of raw and of every part in it:
// the lines from the start, or from a boundary line, to the next empty
// line.
func headerLines(raw []byte) []string {
	var out []string
	inHeader := true
	for _, line := range strings.Split(string(raw), "\r\n") {
		switch {
		case strings.HasPrefix(line, "--=_ef"):
			inHeader = !strings.HasSuffix(line, "--")
		case line == "":
			inHeader = false
		case inHeader:
			out = append(out, line)
		}
	}
	return out
}

func TestRenderEdges(t *testing.T) {
	for _, tt := range edgeDrafts(t) {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Render(tt.draft, &RenderOptions{Hostname: "acme.test", Now: fixedNow})
			require.NoError(t, err)
			require.NoError(t, checkLines(raw))
			for _, line := range headerLines(raw) {
				assert.LessOrEqual(t, len(line), 78, "header line %q", line)
			}
			assert.NotContains(t, string(raw), "Content-Type: message/rfc822;\r\n name=\"x\"\r\nContent-Transfer-Encoding: base64")

			m, err := Parse(bytes.NewReader(raw), nil)
			require.NoError(t, err)
			assert.Empty(t, m.Warnings)
			assert.Equal(t, tt.draft.Subject, m.Subject)
			require.Len(t, m.To, len(tt.draft.To))
			for i, a := range tt.draft.To {
				assert.Equal(t, a.Name, m.To[i].Name)
				assert.Equal(t, a.Address, m.To[i].Address)
			}
			for i, a := range tt.draft.Cc {
				assert.Equal(t, a.Name, m.Cc[i].Name)
			}
			var names []string
			for _, a := range m.Attachments {
				names = append(names, a.Filename)
				if tt.nested {
					assert.NotNil(t, a.Message, "a message/rfc822 part")
				}
			}
			assert.Equal(t, tt.filenames, names)
			for k, v := range tt.draft.Headers {
				assert.Equal(t, v, m.Header.Get(k))
			}
			if tt.draft.HTML != "" && !tt.noText {
				assert.NotEmpty(t, m.Text, "a text/plain alternative")
			}
		})
	}
}

func TestRenderForwardAsAttachmentEncodings(t *testing.T) {
	lf := original("Bonjour,\nmon colis est arrivé abîmé.", "\n")
	d, err := Forward(mustParseBytes(t, lf), lf, &ForwardOptions{From: testFrom, To: []mail.Address{{Address: "x@example.com"}}, AsAttachment: true})
	require.NoError(t, err)
	raw, err := Render(d, &RenderOptions{Now: fixedNow})
	require.NoError(t, err)
	assert.Contains(t, string(raw), "Content-Transfer-Encoding: 8bit\r\n\r\n"+string(toCRLF(lf)), "the original, its line ends made CRLF")

	long := original(strings.Repeat("z", 1200), "\r\n")
	d, err = Forward(mustParseBytes(t, long), long, &ForwardOptions{From: testFrom, To: []mail.Address{{Address: "x@example.com"}}, AsAttachment: true})
	require.NoError(t, err)
	raw, err = Render(d, &RenderOptions{Now: fixedNow})
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "message/rfc822", "RFC 2046 allows no base64 message/rfc822")
	m, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	require.Len(t, m.Attachments, 1)
	assert.Equal(t, "application/octet-stream", m.Attachments[0].ContentType)
	assert.Equal(t, long, m.Attachments[0].Data, "attached as a file, byte for byte")
}

func TestRenderBoundaryAvoidsTheForwardedBytes(t *testing.T) {
	// An original that is itself one of our renders, with the boundary the
	// forward would pick first.
	d := &Draft{From: testFrom, To: []mail.Address{{Address: "x@example.com"}}, Subject: "x", Text: "x", MessageID: "b.1@acme.test",
		Attachments: []Attachment{{ContentType: "message/rfc822", Filename: "x.eml", Data: []byte("Subject: x\r\n\r\nx\r\n")}}}
	first, err := Render(d, &RenderOptions{Now: fixedNow})
	require.NoError(t, err)
	boundary := string(first[bytes.Index(first, []byte("--=_ef")):])
	boundary = boundary[:strings.Index(boundary, "\r\n")]
	d.Attachments[0].Data = []byte("Subject: x\r\n\r\n" + boundary + "\r\n")
	raw, err := Render(d, &RenderOptions{Now: fixedNow})
	require.NoError(t, err)
	m, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	require.Len(t, m.Attachments, 1)
	assert.Equal(t, d.Attachments[0].Data, m.Attachments[0].Data)
	assert.Equal(t, 1, strings.Count(string(raw), boundary), "only inside the forwarded message, not as our boundary")
}

func mustParseBytes(t *testing.T, raw []byte) *Message {
	t.Helper()
	m, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	return m
}

// pythonReader parses each file named on the command line with Python's
// email package (policy.default) and prints, per file, the defects found
// on the message, every part and every header, the decoded subject and
// the attachment file names.
const pythonReader = `
import email, email.policy, json, sys
out = []
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    defects, names = [], []
    for part in msg.walk():
        defects += [type(d).__name__ + ': ' + str(d) for d in part.defects]
        for k, v in part.items():
            defects += [k + ': ' + type(d).__name__ + ': ' + str(d) for d in getattr(v, 'defects', ())]
        if part.get_content_disposition() == 'attachment' or (part.get_filename() and part is not msg):
            names.append(part.get_filename())
        if part.get_content_maintype() == 'text':
            part.get_content()
    out.append({'defects': defects, 'subject': str(msg['subject']), 'names': names,
                'to': [a.display_name for a in msg['to'].addresses] if msg['to'] else [],
                'rfc822': [p.get_content_type() for p in msg.walk() if p.get_content_type() == 'message/rfc822' and p.is_multipart()]})
print(json.dumps(out))
`

// TestPythonReadsRenderedMail has Python's email package, a strict and
// independent reader, parse every edge draft as rendered.
func TestPythonReadsRenderedMail(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required under CI")
		}
		t.Skip("python3 not installed: Python's email package cannot read our mail here")
	}
	dir := t.TempDir()
	edges := edgeDrafts(t)
	var paths []string
	for i, tt := range edges {
		raw, err := Render(tt.draft, &RenderOptions{Hostname: "acme.test", Now: fixedNow})
		require.NoError(t, err)
		p := filepath.Join(dir, fmt.Sprintf("%02d.eml", i))
		require.NoError(t, os.WriteFile(p, raw, 0o600))
		paths = append(paths, p)
	}
	out, err := exec.Command(python, append([]string{"-c", pythonReader}, paths...)...).Output()
	require.NoError(t, err, "%s", out)
	var got []struct {
		Defects []string
		Subject string
		Names   []string
		To      []string
		RFC822  []string
	}
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got, len(edges))
	for i, tt := range edges {
		t.Run(tt.name, func(t *testing.T) {
			assert.Empty(t, got[i].Defects)
			assert.Equal(t, tt.draft.Subject, got[i].Subject)
			require.Len(t, got[i].To, len(tt.draft.To))
			for j, a := range tt.draft.To {
				want, name := a.Name, got[i].To[j]
				if len(want) > 40 {
					// Python keeps the space between the encoded words of a
					// display name, which RFC 2047 section 6.2 says to drop
					// (in an unstructured field it drops it).
					want, name = strings.ReplaceAll(want, " ", ""), strings.ReplaceAll(name, " ", "")
				}
				assert.Equal(t, want, name)
			}
			assert.ElementsMatch(t, tt.filenames, got[i].Names)
			if tt.nested {
				assert.Len(t, got[i].RFC822, 1, "Python sees the forwarded message as a message")
			}
		})
	}
}
