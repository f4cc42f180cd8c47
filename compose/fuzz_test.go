package compose

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse, in memory and streaming, and to
// ParseBytes: no panic, a message or an error, whatever was read can be
// replied to, and ParseBytes reads what Parse reads without changing its
// input.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/enmime/*/*.raw")
	reports, _ := filepath.Glob("testdata/enmime-dsn/*.raw")
	automated, _ := filepath.Glob("testdata/automated/*.eml")
	for _, file := range append(append(files, reports...), automated...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n--b--\r\n"))
	f.Add([]byte("From x\n From: a@b\nContent-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: quoted-printable\n\n=1B$B$3=1B(B=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &ParseOptions{MaxSize: 1 << 20, MaxAttachments: 20}
		m, err := Parse(bytes.NewReader(data), opts)
		// ParseBytes, in place, reads the same and leaves its input alone.
		in := bytes.Clone(data)
		mb, errb := ParseBytes(in, opts)
		if !bytes.Equal(in, data) {
			t.Fatal("ParseBytes wrote to its input")
		}
		if fmt.Sprint(err) != fmt.Sprint(errb) || !reflect.DeepEqual(m, mb) {
			t.Fatalf("ParseBytes disagrees with Parse: %v, %v", errb, err)
		}
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error: %v", err)
			}
		} else {
			checkMessage(t, m, false)
		}
		s, err := Parse(bytes.NewReader(data), &ParseOptions{MaxSize: 1 << 20, MaxAttachments: 20, Blobs: &memBlobs{}})
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected streaming error: %v", err)
			}
			return
		}
		checkMessage(t, s, true)
	})
}

// checkMessage checks what any parsed message must satisfy; streamed
// messages have attachments in a BlobStore, which Render cannot read.
func checkMessage(t *testing.T, m *Message, streamed bool) {
	t.Helper()
	if m == nil {
		t.Fatal("nil message without error")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Fatalf("CR/LF in subject %q", m.Subject)
	}
	for _, s := range messageStrings(m) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("invalid UTF-8 or NUL: %q", s)
		}
	}
	_ = m.SafeHTML()
	_ = m.PlainText()
	d := ReplyAll(m, &ReplyOptions{From: testFrom})
	if _, err := Render(d, nil); err != nil && !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("render reply: %v", err)
	}
	// A forward goes to our own recipients: whatever was read must render.
	d, err := Forward(m, nil, &ForwardOptions{From: testFrom, To: []mail.Address{{Address: "x@acme.test"}}})
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	if _, err := Render(d, nil); err != nil && !(streamed && errors.Is(err, ErrInvalidInput)) {
		t.Fatalf("render forward: %v", err)
	}
}

// FuzzRenderParse renders arbitrary drafts and parses them back: Render
// refuses with ErrInvalidInput or writes a message of CRLF lines within
// 998 octets that Parse reads back with the same subject, bodies and
// attachment.
func FuzzRenderParse(f *testing.F) {
	f.Add("Votre demande n° 42 ✅", "Bonjour,\n\nC'est réglé 🎉\n", "<p>Bonjour</p>", "Françoise Dupré", "facture été.pdf", []byte("%PDF-1.4"))
	f.Add("こんにちは", "日本語のテキスト", "", "山田", "", []byte{})
	f.Add("hi\r\nBcc: x@y.z", "x", "", "Eve", "a.txt", []byte("x"))
	f.Add(strings.Repeat("x", 1100), "", "<p>only HTML</p>", strings.Repeat("N", 1000), strings.Repeat("é", 200)+".pdf", []byte("x"))
	f.Add("=?utf-8?q?x?=", "line with trailing space \nand =3D sign", "<b>x</b>", "\"quoted\" name", "résumé (1).docx", []byte{0, 1, 2, 255})
	f.Add("x", "x", "", "x", "../../etc/invoice_\u202efdp.exe", []byte("MZ"))
	f.Fuzz(func(t *testing.T, subject, text, html, name, filename string, data []byte) {
		d := &Draft{
			From:    mail.Address{Name: name, Address: "agent@acme.test"},
			To:      []mail.Address{{Name: name, Address: "customer@example.com"}},
			Subject: subject,
			Text:    text,
			HTML:    html,
		}
		if filename != "" {
			d.Attachments = []Attachment{{Filename: filename, ContentType: "application/octet-stream", Data: data}}
		}
		raw, err := Render(d, &RenderOptions{Now: fixedNow})
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if err := checkLines(raw); err != nil {
			t.Fatalf("%v\n%s", err, raw)
		}
		m, err := Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatalf("parse rendered: %v", err)
		}
		clean := func(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
		if len(m.Warnings) > 0 && clean(text) && clean(html) && utf8.ValidString(name) && utf8.ValidString(filename) {
			t.Fatalf("warnings on our own output: %q\n%s", m.Warnings, raw)
		}
		if utf8.ValidString(subject) && fields(m.Subject) != fields(oneLine(subject)) {
			t.Fatalf("subject %q became %q", subject, m.Subject)
		}
		if utf8.ValidString(name) && len(m.From) == 1 && fields(m.From[0].Name) != fields(oneLine(name)) {
			t.Fatalf("name %q became %q", name, m.From[0].Name)
		}
		if len(m.From) != 1 || m.From[0].Address != "agent@acme.test" {
			t.Fatalf("from: %v", m.From)
		}
		// Parsed text holds no NUL (see clean.go).
		text, html = strings.ReplaceAll(text, "\x00", ""), strings.ReplaceAll(html, "\x00", "")
		if utf8.ValidString(text) && text != "" && crlfNorm(m.Text) != crlfNorm(text) {
			t.Fatalf("text %q became %q", text, m.Text)
		}
		if utf8.ValidString(html) && crlfNorm(m.HTML) != crlfNorm(html) {
			t.Fatalf("html %q became %q", html, m.HTML)
		}
		if filename != "" {
			if len(m.Attachments) != 1 {
				t.Fatalf("attachments: %d", len(m.Attachments))
			}
			a := m.Attachments[0]
			if !bytes.Equal(a.Data, data) {
				t.Fatalf("data %q became %q", data, a.Data)
			}
			if utf8.ValidString(filename) && (a.Filename != SafeFilename(filename) || a.Filename != filename && a.OriginalFilename != filename) {
				t.Fatalf("filename %q became %q (original %q)", filename, a.Filename, a.OriginalFilename)
			}
		}
	})
}

func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

// crlfNorm maps CRLF and bare CR to LF: RFC 5322 bodies have no bare CR.
func crlfNorm(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// FuzzQuickAddrList checks the fast address-list path against net/mail:
// whenever the fast path accepts a list, net/mail reads the same.
func FuzzQuickAddrList(f *testing.F) {
	for _, s := range []string{
		"a@example.com", "Bob <bob@example.com>", `"Doe, John" <j@example.com>`,
		"=?utf-8?q?Fran=C3=A7oise?= <f@example.fr>, c@example.com",
		"<x@y.z>", "Bob  Smith <b@x.y>", "a@b, , c@d",
		// Only space and tab fold in a name: net/mail keeps a no-break
		// space and refuses a form feed.
		"A\u00a0  B <x@y.z>", "A\t\tB <a@b.c>", "0  \f<0@0>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := quickAddrList(s)
		if !ok {
			return
		}
		want, err := addrParser.ParseList(s)
		if err != nil {
			t.Fatalf("quick path accepted %q, net/mail refused: %v", s, err)
		}
		if len(want) != len(got) {
			t.Fatalf("%q: %d addresses, net/mail %d", s, len(got), len(want))
		}
		for i := range want {
			if want[i].Address != got[i].Address || want[i].Name != got[i].Name {
				t.Fatalf("%q: %q, net/mail %q", s, got[i], *want[i])
			}
		}
	})
}
