package compose

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseBytesCases are messages that exercise every in-place path of
// ParseBytes: each transfer encoding, well-formed and broken, charsets,
// nested messages, an mbox line, LF line ends, a malformed header.
func parseBytesCases(t *testing.T) map[string][]byte {
	t.Helper()
	cases := map[string][]byte{
		"mbox line, LF ends, folded header": []byte("From someone Tue Mar  3 10:04:05 2026\nFrom: a@example.com\nSubject: folded\n  over two lines\n\nbody\n"),
		"malformed base64": []byte(crlf(`From: a@example.com
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

Qm9uam91ciDDp2Egdm` + "*" + `EgPw
--b
Content-Type: application/pdf; name=a.pdf
Content-Transfer-Encoding: base64

JVBERi0x*LjQK====
--b--
`)),
		"quoted-printable latin-1 and an 8bit attachment": []byte(crlf(`From: =?iso-8859-1?q?Ren=E9?= <rene@example.fr>
Subject: =?iso-8859-1?q?R=E9clamation?=
Content-Type: multipart/mixed; boundary="xx"

--xx
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 cr=E8me, soft=
 break and a long line
--xx
Content-Type: text/csv; name="r=E9sum=E9.csv"
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.csv
Content-Transfer-Encoding: 8bit

a;b
1;2
--xx--
`)),
		"nested message, missing final boundary": []byte(crlf(`From: a@example.com
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

see attached
--outer
Content-Type: message/rfc822

From: b@example.com
Subject: inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>caf=C3=A9</p>
`)),
		"malformed header line": []byte("From: a@example.com\r\nthis is not a field\r\nSubject: still read\r\n\r\nbody\r\n"),
		"iso-2022-jp":           []byte("From: a@example.jp\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n"),
		"no body":               []byte("Subject: x\r\n"),
		"empty":                 {},
	}
	var files []string
	for _, pattern := range []string{"testdata/enmime/*/*.raw", "testdata/golden/*.eml", "../testdata/*.eml", "../examples/quickstart/*.eml"} {
		found, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, found...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		cases[f] = b
	}
	return cases
}

// TestParseBytesLeavesItsInputAndAgreesWithParse: ParseBytes parses the
// caller's slice in place (the Ingest path): it must not write to it, and
// it reads exactly what Parse reads from the same bytes (Parse, reading
// from a bytes.Reader, must not write to them either).
func TestParseBytesLeavesItsInputAndAgreesWithParse(t *testing.T) {
	for name, raw := range parseBytesCases(t) {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			in := bytes.Clone(raw)
			got, err := ParseBytes(in, nil)
			require.NoError(t, err)
			assert.Equal(t, raw, in, "ParseBytes wrote to its input")

			want, err := Parse(bytes.NewReader(in), nil)
			require.NoError(t, err)
			assert.Equal(t, raw, in, "Parse wrote to the bytes it read")
			assert.Equal(t, want, got)
			assert.Equal(t, int64(len(raw)), got.Size)

			// With a BlobStore, ParseBytes streams like Parse: attachment
			// bodies go to the store, the same ones, and the input is
			// still untouched.
			gotBlobs, wantBlobs := &memBlobs{}, &memBlobs{}
			got, err = ParseBytes(in, &ParseOptions{Blobs: gotBlobs})
			require.NoError(t, err)
			assert.Equal(t, raw, in)
			want, err = Parse(bytes.NewReader(raw), &ParseOptions{Blobs: wantBlobs})
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, wantBlobs.blobs, gotBlobs.blobs)
			for _, a := range got.Attachments {
				assert.Nil(t, a.Data, "the body is in the BlobStore")
				assert.NotEmpty(t, a.BlobKey)
			}
		})
	}
}

// TestParseBytesLimits: ParseBytes refuses what Parse refuses, with the
// same error, and without touching its input.
func TestParseBytesLimits(t *testing.T) {
	big := []byte("Subject: big\r\n\r\n" + strings.Repeat("x", 200) + "\r\n")
	longHeader := []byte("Subject: " + strings.Repeat("y", 300) + "\r\n\r\nbody\r\n")
	for _, tt := range []struct {
		name string
		raw  []byte
		opts *ParseOptions
	}{
		{"over MaxSize", big, &ParseOptions{MaxSize: 100}},
		{"header over MaxHeaderBytes", longHeader, &ParseOptions{MaxHeaderBytes: 100}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Clone(tt.raw)
			got, err := ParseBytes(in, tt.opts)
			assert.Nil(t, got)
			require.ErrorIs(t, err, ErrTooLarge)
			assert.Equal(t, tt.raw, in)
			_, want := Parse(bytes.NewReader(tt.raw), tt.opts)
			assert.Equal(t, want.Error(), err.Error())
		})
	}
}
