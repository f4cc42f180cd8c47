package compose_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/emailflow/emailflow/compose"
)

func TestSafeFilename(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf" // 404 bytes
	tests := []struct {
		name, in, want string
	}{
		{"plain", "facture.pdf", "facture.pdf"},
		{"accents kept", "Reçu été 2026.pdf", "Reçu été 2026.pdf"},
		{"path climbing", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\bob\..\rapport.docx`, "rapport.docx"},
		{"right-to-left override", "invoice_\u202Efdp.exe", "invoice_fdp.exe"},
		{"bidi isolates and marks", "\u2067abc\u2069\u200F.txt", "abc.txt"},
		{"zero-width space", "bon\u200B.pdf", "bon.pdf"},
		{"control characters", "a\x00b\x1b[31mc\r\n.txt", "ab[31mc.txt"},
		{"C1 control", "a\u0085b.txt", "ab.txt"},
		{"line separator", "a\u2028b.txt", "ab.txt"},
		{"windows refused characters", `what?<is>:this|"*.txt`, "what__is__this___.txt"},
		{"hidden file", ".bashrc", "bashrc"},
		{"trailing dots and spaces", "rapport.pdf. . ", "rapport.pdf"},
		{"dot dot", "..", compose.DefaultFilename},
		{"empty", "", compose.DefaultFilename},
		{"only a directory", "dossier/", compose.DefaultFilename},
		{"only invisible characters", "\u202E\u200B", compose.DefaultFilename},
		{"device name", "CON.txt", "_CON.txt"},
		{"device name any case", "lpt1", "_lpt1"},
		{"not a device", "CONTRAT.pdf", "CONTRAT.pdf"},
		{"invalid UTF-8", "a\xffb.txt", "a_b.txt"},
		{"long name keeps its extension", long, strings.Repeat("é", 125) + ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compose.SafeFilename(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, compose.SafeFilename(got), "a safe name stays as it is")
		})
	}
}

// checkSafeFilename asserts what SafeFilename promises of any input.
func checkSafeFilename(t *testing.T, in string) {
	got := compose.SafeFilename(in)
	if got == "" || len(got) > compose.MaxFilenameBytes || !utf8.ValidString(got) {
		t.Fatalf("SafeFilename(%q) = %q: empty, too long or not UTF-8", in, got)
	}
	if strings.ContainsAny(got, `/\<>:"|?*`) || strings.HasPrefix(got, ".") || got != strings.TrimRightFunc(got, func(r rune) bool { return r == '.' || unicode.IsSpace(r) }) {
		t.Fatalf("SafeFilename(%q) = %q: a separator, a refused character, a leading dot or a trailing dot or space", in, got)
	}
	if i := strings.IndexFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }); i >= 0 {
		t.Fatalf("SafeFilename(%q) = %q: an invisible character at %d", in, got, i)
	}
	if again := compose.SafeFilename(got); again != got {
		t.Fatalf("SafeFilename(%q) = %q, then %q: not stable", in, got, again)
	}
}

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"facture.pdf", "../../etc/passwd", "invoice_\u202Efdp.exe", ". .x", "CON", "a\xffb", strings.Repeat("ab.", 120) + "pdf", "\u3000x\u3000"} {
		f.Add(s)
	}
	f.Fuzz(checkSafeFilename)
}

func TestParseGivesSafeAttachmentNames(t *testing.T) {
	raw := "From: jo@example.org\r\nSubject: names\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		// RFC 2231, percent-encoded right-to-left override.
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''invoice_%E2%80%AEfdp.exe\r\n\r\nMZ\r\n" +
		// An encoded word climbing directories.
		"--b\r\nContent-Type: application/pdf; name=\"=?utf-8?q?..=2F..=2Fetc=2Fpasswd?=\"\r\n\r\n%PDF\r\n" +
		// A forwarded message named after its subject, slashes and all.
		"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: Re: order 12/03\r\n\r\nbody\r\n" +
		"--b--\r\n"
	m, err := compose.Parse(strings.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	type name struct{ safe, original string }
	var got []name
	for _, a := range m.Attachments {
		got = append(got, name{a.Filename, a.OriginalFilename})
	}
	assert.Equal(t, []name{
		{"invoice_fdp.exe", "invoice_\u202Efdp.exe"},
		{"passwd", "../../etc/passwd"},
		{"Re_ order 12_03.eml", ""},
	}, got)
}

func TestForwardAsAttachmentIsNamedSafely(t *testing.T) {
	orig := &compose.Message{Subject: "../\u202Eetc/passwd", From: nil}
	d, err := compose.Forward(orig, []byte("Subject: x\r\n\r\nbody\r\n"), &compose.ForwardOptions{AsAttachment: true})
	if err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, "_etc_passwd.eml", d.Attachments[0].Filename)
	d, err = compose.Forward(&compose.Message{}, []byte("Subject: \r\n\r\nbody\r\n"), &compose.ForwardOptions{AsAttachment: true})
	if err != nil {
		t.Fatal(err)
	}
	assert.Equal(t, "message.eml", d.Attachments[0].Filename)
}

func ExampleSafeFilename() {
	for _, name := range []string{"../../etc/passwd", "invoice_\u202Efdp.exe", "rapport final.pdf"} {
		fmt.Printf("%q\n", compose.SafeFilename(name))
	}
	// Output:
	// "passwd"
	// "invoice_fdp.exe"
	// "rapport final.pdf"
}
