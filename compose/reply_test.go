package compose

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeSubject(t *testing.T) {
	tests := []struct {
		prefix, in, want string
	}{
		{"Re", "hello", "Re: hello"},
		{"Re", "Re: hello", "Re: hello"},
		{"Re", "RE: AW: Fwd: hello", "Re: hello"},
		{"Re", "re:re:RE:  hello  ", "Re: hello"},
		{"Re", "RE : hello", "Re: hello"},
		{"Re", "Re[2]: hello", "Re: hello"},
		{"Re", "Re(3): hello", "Re: hello"},
		{"Re", "TR: WG: SV: FW: hello", "Re: hello"},
		{"Re", "Réf. : hello", "Re: hello"},
		{"Re", "Réf: hello", "Re: hello"},
		{"Re", "RE：hello", "Re: hello"},
		{"Fwd", "Re: hello", "Fwd: hello"},
		{"Fwd", "Fwd: Fwd: hello", "Fwd: hello"},
		{"Re", "Regarding: hello", "Re: Regarding: hello"},
		{"Re", "Remarks about Fwd: x", "Re: Remarks about Fwd: x"},
		{"Re", "", "Re: "},
		{"", "Re: hello", "hello"},
		{"Re", "Re: line\r\nbreak", "Re: line  break"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, NormalizeSubject(tt.prefix, tt.in))
		})
	}
}

func origMessage(t *testing.T) *Message {
	t.Helper()
	raw := crlf(`From: Customer One <one@example.com>
To: support@acme.test, Two <two@example.com>, ONE@example.com
Cc: three@example.com, Support@Acme.test, two@EXAMPLE.com
Subject: RE: Order 1234
Date: Mon, 23 Nov 2026 09:15:00 +0100
Message-ID: <m3@example.com>
References: <m1@example.com> <m2@example.com>
Content-Type: multipart/alternative; boundary=a

--a
Content-Type: text/plain; charset=utf-8

Where is my order?
> earlier text
--a
Content-Type: text/html; charset=utf-8

<p>Where is my <b>order</b>?</p><script>x()</script>
--a--
`)
	m, err := Parse(strings.NewReader(raw), nil)
	require.NoError(t, err)
	return m
}

func addrs(l []mail.Address) []string {
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.Address
	}
	return out
}

func TestReply(t *testing.T) {
	orig := origMessage(t)
	from := mail.Address{Name: "Acme", Address: "support@acme.test"}
	d := Reply(orig, &ReplyOptions{From: from})
	assert.Equal(t, from, d.From)
	assert.Equal(t, []string{"one@example.com"}, addrs(d.To))
	assert.Empty(t, d.Cc)
	assert.Equal(t, "Re: Order 1234", d.Subject)
	assert.Equal(t, "m3@example.com", d.InReplyTo)
	assert.Equal(t, []string{"m1@example.com", "m2@example.com", "m3@example.com"}, d.References)
	assert.Contains(t, d.Text, "On Mon, 23 Nov 2026 at 09:15, Customer One <one@example.com> wrote:\n> Where is my order?\n>> earlier text\n")
	assert.Contains(t, d.HTML, "<blockquote")
	assert.Contains(t, d.HTML, "<b>order</b>")
	assert.NotContains(t, d.HTML, "script")
	assert.Contains(t, d.HTML, "Customer One &lt;one@example.com&gt; wrote:")

	_, err := Render(d, nil)
	require.NoError(t, err)
}

func TestReplyToHeader(t *testing.T) {
	orig := &Message{
		From:    []mail.Address{{Address: "noreply@shop.example"}},
		ReplyTo: []mail.Address{{Address: "help@shop.example"}},
		Subject: "Hello",
	}
	d := Reply(orig, nil)
	assert.Equal(t, []string{"help@shop.example"}, addrs(d.To))
	assert.Empty(t, d.References)
	assert.Contains(t, d.Text, "noreply@shop.example wrote:")
}

func TestReplyLanguages(t *testing.T) {
	orig := &Message{
		From: []mail.Address{{Name: "Ana", Address: "ana@example.es"}},
		Date: time.Date(2026, 1, 2, 15, 4, 0, 0, time.UTC),
		Text: "hola",
	}
	tests := []struct{ lang, want string }{
		{"", "On Fri, 2 Jan 2026 at 15:04, Ana <ana@example.es> wrote:"},
		{"en", "On Fri, 2 Jan 2026 at 15:04, Ana <ana@example.es> wrote:"},
		{"fr", "Le 02/01/2026 à 15:04, Ana <ana@example.es> a écrit :"},
		{"de", "Am 02.01.2026 um 15:04 schrieb Ana <ana@example.es>:"},
		{"es", "El 02/01/2026 a las 15:04, Ana <ana@example.es> escribió:"},
		{"fr-CA", "Le 02/01/2026 à 15:04, Ana <ana@example.es> a écrit :"},
		{"xx", "On Fri, 2 Jan 2026 at 15:04, Ana <ana@example.es> wrote:"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			d := Reply(orig, &ReplyOptions{QuoteLanguage: tt.lang})
			assert.Contains(t, d.Text, tt.want+"\n> hola\n")
			assert.Empty(t, d.HTML)
		})
	}
}

func TestReplyAll(t *testing.T) {
	orig := origMessage(t)
	d := ReplyAll(orig, &ReplyOptions{
		From: mail.Address{Address: "support@acme.test"},
		Own:  []string{"sales@acme.test"},
	})
	assert.Equal(t, []string{"one@example.com", "two@example.com"}, addrs(d.To))
	assert.Equal(t, []string{"three@example.com"}, addrs(d.Cc))
	assert.Equal(t, "Re: Order 1234", d.Subject)
}

func TestReferencesBounded(t *testing.T) {
	orig := &Message{MessageID: "last@x"}
	for i := range 30 {
		orig.References = append(orig.References, "r"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@x")
	}
	d := Reply(orig, &ReplyOptions{MaxReferences: 5})
	require.Len(t, d.References, 5)
	assert.Equal(t, orig.References[0], d.References[0])
	assert.Equal(t, "last@x", d.References[4])
	assert.Equal(t, orig.References[27:], d.References[1:4])

	d = Reply(&Message{MessageID: "m@x", InReplyTo: []string{"p@x"}}, nil)
	assert.Equal(t, []string{"p@x", "m@x"}, d.References)
}

func TestForwardInline(t *testing.T) {
	orig := origMessage(t)
	orig.Attachments = []Attachment{{Filename: "invoice.pdf", ContentType: "application/pdf", Data: []byte("%PDF"), Size: 4}}
	d, err := Forward(orig, nil, &ForwardOptions{
		From:         mail.Address{Address: "agent@acme.test"},
		To:           []mail.Address{{Address: "logistics@partner.example"}},
		Instructions: "Please check <this> order.",
	})
	require.NoError(t, err)
	assert.Equal(t, "Fwd: Order 1234", d.Subject)
	assert.Equal(t, []string{"logistics@partner.example"}, addrs(d.To))
	assert.True(t, strings.HasPrefix(d.Text, "Please check <this> order.\n\n---------- Forwarded message ----------\nFrom: Customer One <one@example.com>\n"))
	assert.Contains(t, d.Text, "Subject: RE: Order 1234\n")
	assert.Contains(t, d.Text, "Where is my order?")
	assert.Contains(t, d.HTML, "Please check &lt;this&gt; order.")
	require.Len(t, d.Attachments, 1)
	assert.Equal(t, "invoice.pdf", d.Attachments[0].Filename)
	assert.Empty(t, d.InReplyTo)
}

func TestForwardAsAttachment(t *testing.T) {
	raw := []byte(crlf("From: a@example.com\nSubject: Broken: printer\n\nIt is broken.\n"))
	orig, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	d, err := Forward(orig, raw, &ForwardOptions{
		From:         mail.Address{Address: "agent@acme.test"},
		To:           []mail.Address{{Address: "it@acme.test"}},
		Instructions: "FYI",
		AsAttachment: true,
	})
	require.NoError(t, err)
	assert.Equal(t, "FYI", d.Text)
	require.Len(t, d.Attachments, 1)
	assert.Equal(t, "message/rfc822", d.Attachments[0].ContentType)
	assert.Equal(t, "Broken_ printer.eml", d.Attachments[0].Filename)

	out, err := Render(d, &RenderOptions{Now: fixedNow})
	require.NoError(t, err)
	m, err := Parse(bytes.NewReader(out), nil)
	require.NoError(t, err)
	require.Len(t, m.Attachments, 1)
	require.NotNil(t, m.Attachments[0].Message)
	assert.Equal(t, "Broken: printer", m.Attachments[0].Message.Subject)
	assert.Equal(t, "It is broken.\n", m.Attachments[0].Message.Text)

	_, err = Forward(orig, nil, &ForwardOptions{AsAttachment: true})
	assert.ErrorIs(t, err, ErrInvalidInput)
	_, err = Forward(nil, raw, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestReplyCarriesReferencedInlineImages(t *testing.T) {
	orig := &Message{
		From: []mail.Address{{Address: "a@example.com"}},
		HTML: `<p>logo: <img src="cid:logo@x"></p>`,
		Attachments: []Attachment{
			{Filename: "logo.png", ContentType: "image/png", ContentID: "logo@x", Inline: true, Data: []byte("png")},
			{Filename: "other.png", ContentType: "image/png", ContentID: "other@x", Inline: true, Data: []byte("png")},
		},
	}
	d := Reply(orig, &ReplyOptions{From: mail.Address{Address: "s@acme.test"}})
	require.Len(t, d.Attachments, 1)
	assert.Equal(t, "logo.png", d.Attachments[0].Filename)
}

// TestReplyToOddIDs: a parent with a Message-ID that cannot be written back,
// or inline parts whose Content-ID is not an addr-spec, can still be
// answered.
func TestReplyToOddIDs(t *testing.T) {
	raw := crlf(`From: a@example.com
Subject: odd
Message-ID: <weird,id"@x>
Content-Type: multipart/related; boundary=r

--r
Content-Type: text/html

<p><img src="cid:part1.abc"></p>
--r
Content-Type: image/png
Content-ID: <part1.abc>

png
--r--
`)
	orig, err := Parse(strings.NewReader(raw), nil)
	require.NoError(t, err)
	require.Len(t, orig.Attachments, 1)
	assert.Equal(t, "part1.abc", orig.Attachments[0].ContentID)
	d := ReplyAll(orig, &ReplyOptions{From: testFrom})
	assert.Empty(t, d.InReplyTo)
	require.Len(t, d.Attachments, 1)
	out, err := Render(d, nil)
	require.NoError(t, err)
	m, err := Parse(bytes.NewReader(out), nil)
	require.NoError(t, err)
	require.Len(t, m.Attachments, 1)
	assert.Equal(t, "part1.abc", m.Attachments[0].ContentID)
	assert.True(t, m.Attachments[0].Inline)
}
