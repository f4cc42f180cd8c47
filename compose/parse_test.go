package compose

import (
	"context"
	"errors"
	"io"
	"mime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crlf turns a readable test message into CRLF text.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func mustParse(t *testing.T, raw string) *Message {
	t.Helper()
	m, err := Parse(strings.NewReader(raw), nil)
	require.NoError(t, err)
	require.NotNil(t, m)
	return m
}

func TestParseHeaders(t *testing.T) {
	raw := crlf(`From: =?utf-8?q?Fran=C3=A7oise_Dupr=C3=A9?= <francoise@example.fr>
To: "Support" <support@acme.test>, bob@example.com
Cc: Carol <carol@example.com>
Reply-To: replies@example.fr
Sender: bounce@example.fr
Subject: =?iso-8859-1?q?R=E9clamation_n=B0_42?=
Date: Tue, 3 Mar 2026 10:04:05 +0100
Message-ID: <abc.123@example.fr>
In-Reply-To: <parent@acme.test>
References: <root@acme.test>
 <parent@acme.test>
Content-Type: text/plain; charset=utf-8

Bonjour, ça ne marche pas.
`)
	m := mustParse(t, raw)
	require.Len(t, m.From, 1)
	assert.Equal(t, "Françoise Dupré", m.From[0].Name)
	assert.Equal(t, "francoise@example.fr", m.From[0].Address)
	require.Len(t, m.To, 2)
	assert.Equal(t, "bob@example.com", m.To[1].Address)
	require.Len(t, m.Cc, 1)
	require.Len(t, m.ReplyTo, 1)
	require.Len(t, m.Sender, 1)
	assert.Equal(t, "Réclamation n° 42", m.Subject)
	assert.True(t, m.Date.Equal(time.Date(2026, 3, 3, 9, 4, 5, 0, time.UTC)))
	assert.Equal(t, "abc.123@example.fr", m.MessageID)
	assert.Equal(t, []string{"parent@acme.test"}, m.InReplyTo)
	assert.Equal(t, []string{"root@acme.test", "parent@acme.test"}, m.References)
	assert.Equal(t, "Bonjour, ça ne marche pas.\n", m.Text)
	assert.Equal(t, "Réclamation n° 42", m.Header.Get("Subject"))
	assert.Equal(t, AutoNone, m.Auto)
	assert.Empty(t, m.Warnings)
	assert.Equal(t, int64(len(raw)), m.Size)
}

func TestParseBodies(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		text     string
		html     string
		atts     []string // filename/content-type/inline
		warnings int
	}{
		{
			name: "latin1 body",
			raw:  "Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nD=E9j=E0 vu\n",
			text: "Déjà vu\n",
		},
		{
			name: "windows-1252 8bit body",
			raw:  "Subject: x\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n\x93quoted\x94 \x80\n",
			text: "“quoted” €\n",
		},
		{
			name: "iso-2022-jp body",
			raw:  "Subject: x\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\n",
			text: "こんにちは\n",
		},
		{
			name:     "unknown charset kept",
			raw:      "Subject: x\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nplain ascii\n",
			text:     "plain ascii\n",
			warnings: 1,
		},
		{
			name:     "unknown transfer encoding kept",
			raw:      "Subject: x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbody\n",
			text:     "body\n",
			warnings: 1,
		},
		{
			name: "alternative with inline image and attachment",
			raw: crlf(`Subject: x
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: multipart/alternative; boundary=a

--a
Content-Type: text/plain

text
--a
Content-Type: multipart/related; boundary=r

--r
Content-Type: text/html

<p>html <img src="cid:img1@x"></p>
--r
Content-Type: image/png
Content-ID: <img1@x>
Content-Transfer-Encoding: base64

iVBORw0K
--r--
--a--
--m
Content-Type: application/pdf; name="=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf
Content-Transfer-Encoding: base64

JVBERg==
--m--
`),
			text: "text",
			html: `<p>html <img src="cid:img1@x"></p>`,
			atts: []string{"/image/png/true", "résumé.pdf/application/pdf/false"},
		},
		{
			name:     "missing final boundary",
			raw:      crlf("Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n"),
			text:     "hello\n",
			warnings: 1,
		},
		{
			name:     "malformed header line",
			raw:      crlf("Subject: x\nthis is not a header\nX-Other: y\n\nbody\n"),
			text:     "body\n",
			warnings: 1,
		},
		{
			name: "mbox From line",
			raw:  "From someone@example.com Thu Jan  1 00:00:00 2026\r\nSubject: x\r\n\r\nbody\n",
			text: "body\n",
		},
		{
			name: "signed message keeps signature",
			raw: crlf(`Subject: x
Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=s

--s
Content-Type: text/plain

signed text
--s
Content-Type: application/pgp-signature; name=signature.asc

-----BEGIN PGP SIGNATURE-----
--s--
`),
			text: "signed text",
			atts: []string{"signature.asc/application/pgp-signature/false"},
		},
		{
			name: "encrypted message kept as attachments",
			raw: crlf(`Subject: x
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e

--e
Content-Type: application/pgp-encrypted

Version: 1
--e
Content-Type: application/octet-stream; name=encrypted.asc

-----BEGIN PGP MESSAGE-----
--e--
`),
			atts: []string{"/application/pgp-encrypted/false", "encrypted.asc/application/octet-stream/false"},
		},
		{
			name: "outlook inline image without disposition",
			raw: crlf(`Subject: x
Content-Type: multipart/related; boundary=r

--r
Content-Type: text/html

<img src="cid:image001.png@01D3">
--r
Content-Type: image/png; name=image001.png
Content-ID: <image001.png@01D3>
Content-Transfer-Encoding: base64

iVBORw0K
--r--
`),
			html: `<img src="cid:image001.png@01D3">`,
			atts: []string{"image001.png/image/png/true"},
		},
		{
			name:     "broken base64",
			raw:      crlf("Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=a.bin\nContent-Transfer-Encoding: base64\n\n!!!!\n--b--\n"),
			atts:     []string{"a.bin/application/octet-stream/false"},
			warnings: 1,
		},
		{
			name:     "invalid utf-8 read as windows-1252",
			raw:      "Subject: caf\xe9\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9\n",
			text:     "café\n",
			warnings: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.raw)
			assert.Equal(t, tt.text, m.Text)
			assert.Equal(t, tt.html, m.HTML)
			var atts []string
			for _, a := range m.Attachments {
				atts = append(atts, a.Filename+"/"+a.ContentType+"/"+map[bool]string{true: "true", false: "false"}[a.Inline])
			}
			assert.Equal(t, tt.atts, atts)
			assert.Len(t, m.Warnings, tt.warnings, "warnings: %q", m.Warnings)
		})
	}
}

func TestParseNestedMessage(t *testing.T) {
	raw := crlf(`Subject: outer
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see attached
--b
Content-Type: message/rfc822

From: inner@example.com
Subject: inner subject
Content-Type: text/plain

inner text
--b--
`)
	m := mustParse(t, raw)
	require.Len(t, m.Attachments, 1)
	a := m.Attachments[0]
	assert.Equal(t, "message/rfc822", a.ContentType)
	require.NotNil(t, a.Message)
	assert.Equal(t, "inner subject", a.Message.Subject)
	assert.Equal(t, "inner text", a.Message.Text)
	assert.Equal(t, "inner@example.com", a.Message.From[0].Address)
	assert.Equal(t, "inner subject.eml", a.Filename)
}

func TestParseLimits(t *testing.T) {
	many := func(n int, field string) string {
		var b strings.Builder
		b.WriteString(field + ": ")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("u" + string(rune('a'+i%26)) + "@example.com")
		}
		return b.String()
	}
	atts := func(n int) string {
		var b strings.Builder
		b.WriteString("Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for range n {
			b.WriteString("--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n")
		}
		b.WriteString("--b--\r\n")
		return b.String()
	}
	tests := []struct {
		name string
		raw  string
		opts *ParseOptions
	}{
		{"size", "Subject: x\r\n\r\n" + strings.Repeat("a", 2000), &ParseOptions{MaxSize: 1000}},
		{"header", "Subject: " + strings.Repeat("a", 5000) + "\r\n\r\nbody", &ParseOptions{MaxHeaderBytes: 1000}},
		{"recipients", many(30, "To") + "\r\n" + many(30, "Cc") + "\r\n\r\nbody", nil},
		{"attachments", atts(3), &ParseOptions{MaxAttachments: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(tt.raw), tt.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrTooLarge)
			assert.Nil(t, m)
		})
		t.Run(tt.name+" streaming", func(t *testing.T) {
			var opts ParseOptions
			if tt.opts != nil {
				opts = *tt.opts
			}
			opts.Blobs = &memBlobs{}
			m, err := Parse(strings.NewReader(tt.raw), &opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrTooLarge)
			assert.Nil(t, m)
		})
	}
	// Just under the limits is fine.
	_, err := Parse(strings.NewReader(atts(2)), &ParseOptions{MaxAttachments: 2})
	assert.NoError(t, err)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	for _, opts := range []*ParseOptions{nil, {Blobs: &memBlobs{}}} {
		_, err := Parse(io.MultiReader(strings.NewReader("Subject: x\r\n\r\nbody"), errReader{}), opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "disk on fire")
	}
}

type memBlobs struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

func (s *memBlobs) Put(_ context.Context, filename, _ string, r io.Reader) (string, int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobs == nil {
		s.blobs = map[string][]byte{}
	}
	key := "blob-" + filename
	s.blobs[key] = data
	return key, int64(len(data)), nil
}

func TestParseBlobStore(t *testing.T) {
	raw := crlf(`Subject: x
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

hi
--b
Content-Type: application/pdf
Content-Disposition: attachment; filename=doc.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b--
`)
	blobs := &memBlobs{}
	m, err := Parse(strings.NewReader(raw), &ParseOptions{Blobs: blobs})
	require.NoError(t, err)
	require.Len(t, m.Attachments, 1)
	a := m.Attachments[0]
	assert.Nil(t, a.Data)
	assert.Equal(t, "blob-doc.pdf", a.BlobKey)
	assert.Equal(t, int64(9), a.Size)
	assert.Equal(t, []byte("%PDF-1.4\n"), blobs.blobs["blob-doc.pdf"])
}

type failBlobs struct{}

func (failBlobs) Put(context.Context, string, string, io.Reader) (string, int64, error) {
	return "", 0, errors.New("bucket gone")
}

func TestParseBlobStoreError(t *testing.T) {
	raw := crlf("Subject: x\nContent-Type: application/pdf\n\n%PDF\n")
	_, err := Parse(strings.NewReader(raw), &ParseOptions{Blobs: failBlobs{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bucket gone")
}

func TestSafeHTML(t *testing.T) {
	m := &Message{HTML: `<html><head><style>p{}</style><script>alert(1)</script></head><body>
<p onclick="x()">Hello <b>there</b></p>
<img src="https://tracker.example/pixel.gif"><img src="cid:logo@x">
<a href="javascript:alert(1)">bad</a><a href="https://example.com">good</a>
<a href="data:text/html;base64,PHNjcmlwdD4=">data link</a><img src="data:image/png;base64,iVBORw0K">
<iframe src="https://evil.example"></iframe><form><input></form></body></html>`}
	got := m.SafeHTML()
	for _, bad := range []string{"script", "alert", "onclick", "tracker.example", "iframe", "javascript", "<form", "<input", "<style", "data:text"} {
		assert.NotContains(t, got, bad)
	}
	for _, good := range []string{"<b>there</b>", `src="cid:logo@x"`, `href="https://example.com"`, "nofollow", `src="data:image/png;base64,iVBORw0K"`} {
		assert.Contains(t, got, good)
	}
	assert.Equal(t, "", (&Message{}).SafeHTML())
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"text wins", Message{Text: "plain", HTML: "<p>html</p>"}, "plain"},
		{"derived", Message{HTML: "<html><head><title>T</title><style>x{}</style></head><body><p>Hello&nbsp;<b>world</b></p><p>Second<br>line</p><ul><li>one</li><li>two</li></ul><a href=\"https://x.test/a\">link</a></body></html>"},
			"Hello world\n\nSecond\nline\n\n- one\n- two\nlink <https://x.test/a>"},
		{"empty", Message{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.m.PlainText())
		})
	}
}

func TestAuto(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   Auto
	}{
		{"person", "From: a@example.com\r\n", AutoNone},
		{"auto-submitted no", "From: a@example.com\r\nAuto-Submitted: no\r\n", AutoNone},
		{"auto-replied", "From: a@example.com\r\nAuto-Submitted: auto-replied\r\n", AutoReply},
		{"auto-generated", "From: a@example.com\r\nAuto-Submitted: auto-generated\r\n", AutoBulk},
		{"x-autoreply", "From: a@example.com\r\nX-Autoreply: yes\r\n", AutoReply},
		{"x-autorespond", "From: a@example.com\r\nX-Autorespond: vacation\r\n", AutoReply},
		{"precedence bulk", "From: a@example.com\r\nPrecedence: bulk\r\n", AutoBulk},
		{"precedence junk", "From: a@example.com\r\nPrecedence: junk\r\n", AutoBulk},
		{"precedence list", "From: a@example.com\r\nPrecedence: list\r\n", AutoList},
		{"list-id", "From: a@example.com\r\nList-Id: <dev.lists.example.com>\r\n", AutoList},
		{"outlook suppress", "From: a@example.com\r\nX-Auto-Response-Suppress: All\r\n", AutoBulk},
		{"null return path", "From: a@example.com\r\nReturn-Path: <>\r\n", AutoBulk},
		{"mailer-daemon", "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n", AutoBounce},
		{"postmaster", "From: postmaster@example.com\r\n", AutoBounce},
		{"dsn", "From: a@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", AutoBounce},
		{"vacation comment", "From: a@example.com\r\nAuto-Submitted: auto-replied (vacation)\r\n", AutoReply},
		{"zimbra comment", "From: a@example.com\r\nAuto-Submitted: auto-replied (zimbra; vacation)\r\n", AutoReply},
		{"owner-email parameter", "From: a@example.com\r\nAuto-Submitted: auto-replied; owner-email=\"a@example.com\"\r\n", AutoReply},
		{"x-auto-reply", "From: a@example.com\r\nX-Auto-Reply: yes\r\n", AutoReply},
		{"exchange inbox rule", "From: a@example.com\r\nAuto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\nX-MS-Exchange-Inbox-Rules-Loop: a@example.com\r\n", AutoReply},
		{"exchange system mailbox", "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.com>\r\n", AutoBounce},
		{"exchange ndr field", "From: a@example.com\r\nX-MS-Exchange-Message-Is-Ndr: \r\n", AutoBounce},
		{"x-failed-recipients", "From: a@example.com\r\nX-Failed-Recipients: b@example.com\r\n", AutoBounce},
		{"null return path returning headers", "From: a@example.com\r\nReturn-Path: <>\r\nContent-Type: multipart/mixed; boundary=b\r\n", AutoBounce},
		{"returned headers without null sender", "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n", AutoNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "\r\nbody\r\n"
			switch {
			case strings.Contains(tt.header, "multipart/report"):
				body = "\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"
			case strings.Contains(tt.header, "multipart/mixed"):
				body = "\r\n--b\r\nContent-Type: text/plain\r\n\r\nnot delivered\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <x@y>\r\n--b--\r\n"
			}
			m := mustParse(t, tt.header+"Subject: s\r\n"+body)
			assert.Equal(t, tt.want, m.Auto)
			assert.Equal(t, tt.want != AutoNone, m.Auto.Automated())
			assert.Equal(t, string(tt.want), m.Auto.String())
		})
	}
}

func TestParseMalformedAddresses(t *testing.T) {
	m := mustParse(t, "From: Bob <bob@example.com\r\nTo: alice@example.com; \"Eve\" <eve@example.com>, ;;\r\nSubject: x\r\n\r\nbody")
	require.NotEmpty(t, m.To)
	var got []string
	for _, a := range m.To {
		got = append(got, a.Address)
	}
	assert.Equal(t, []string{"alice@example.com", "eve@example.com"}, got)
	require.Len(t, m.From, 1)
	assert.Equal(t, "bob@example.com", m.From[0].Address)
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"Tue, 3 Mar 2026 10:04:05 +0100", time.Date(2026, 3, 3, 9, 4, 5, 0, time.UTC)},
		{"3 Mar 2026 10:04:05 -0230", time.Date(2026, 3, 3, 12, 34, 5, 0, time.UTC)},
		{"Tue, 03 MAR 2026 10:04 GMT", time.Date(2026, 3, 3, 10, 4, 0, 0, time.UTC)},
		{"Tue, 3 Mar 2026 10:04:05 +0000 (UTC)", time.Date(2026, 3, 3, 10, 4, 5, 0, time.UTC)},
		{"Tue,  3 Mar 2026 10:04:05 PDT", time.Date(2026, 3, 3, 17, 4, 5, 0, time.UTC)},
		{"Tue, 3 Mar 2026 10:04:05", time.Date(2026, 3, 3, 10, 4, 5, 0, time.UTC)},
		{"2026-03-03 10:04:05 +0000", time.Date(2026, 3, 3, 10, 4, 5, 0, time.UTC)},
		{"Tue Mar  3 10:04:05 2026", time.Date(2026, 3, 3, 10, 4, 5, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDate(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %v", got)
		})
	}
	for _, bad := range []string{"", "yesterday", "32 Jan 2026 10:00:00 +0000", "Tue, 3 Foo 2026 10:04:05 +0100"} {
		_, err := parseDate(bad)
		assert.Error(t, err, bad)
	}
}

func TestMediaType(t *testing.T) {
	tests := []string{
		"text/plain",
		`text/plain; charset="utf-8"`,
		"text/plain; charset=UTF-8; format=flowed",
		`Multipart/Alternative; boundary="----=_Part_1_2.3"`,
		`attachment; filename="a b.pdf"`,
		`attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf`,
		`application/pdf; name="x\"y.pdf"`,
		"text/plain; charset=utf-8;",
		`inline; filename="=?utf-8?q?caf=C3=A9.txt?="`,
	}
	for _, v := range tests {
		t.Run(v, func(t *testing.T) {
			wantT, wantP, err := mime.ParseMediaType(v)
			require.NoError(t, err)
			gotT, gotP, clean := mediaType(v)
			assert.True(t, clean)
			assert.Equal(t, wantT, gotT)
			if len(wantP) == 0 {
				assert.Empty(t, gotP)
			} else {
				assert.Equal(t, wantP, gotP)
			}
		})
	}
}
