package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestContentHash(t *testing.T) {
	const msg = "From: a@exemple.fr\r\nTo: support@boutique.example\r\nSubject: colis\r\n\r\nBonjour\r\n"
	base := ContentHash([]byte(msg))
	same := []struct{ name, raw string }{
		{"one more Received line", "Received: from mx2 by mx1; Mon, 2 Mar 2026 09:00:00 +0100\r\n" + msg},
		{"folded trace fields", "Received: from mx2\r\n\tby mx1 with ESMTP\r\n ; Mon, 2 Mar 2026\r\nReturn-Path: <a@exemple.fr>\r\nDelivered-To: support@boutique.example\r\nX-Original-To: support@boutique.example\r\n" + msg},
		{"signatures and verdicts", "DKIM-Signature: v=1; a=rsa-sha256;\r\n b=abc\r\nAuthentication-Results: mx; spf=pass\r\nX-Spam-Status: No\r\n" + msg},
		{"mbox From line", "From a@exemple.fr Mon Mar  2 09:00:00 2026\n" + msg},
		{"LF line breaks", strings.ReplaceAll(msg, "\r\n", "\n")},
		{"trailing line breaks", msg + "\r\n\r\n"},
		{"trace field names in any case", "RECEIVED: x\r\nreturn-path : <a@b>\r\n" + msg},
	}
	for _, tc := range same {
		assert.Equal(t, base, ContentHash([]byte(tc.raw)), tc.name)
	}
	other := []struct{ name, raw string }{
		{"another body", strings.Replace(msg, "Bonjour", "Bonsoir", 1)},
		{"another sender", strings.Replace(msg, "a@exemple.fr", "b@exemple.fr", 1)},
		{"a Received line after the first field", "From: a@exemple.fr\r\nReceived: x\r\n" + msg[len("From: a@exemple.fr\r\n"):]},
		{"a field of the author's", "X-Mailer: Outlook\r\n" + msg},
		{"empty", ""},
	}
	for _, tc := range other {
		assert.NotEqual(t, base, ContentHash([]byte(tc.raw)), tc.name)
	}
	assert.Len(t, base, 64)
}

// FuzzContentHash checks the rules on arbitrary messages: a Received line
// put in front, CRLF turned into LF, or line breaks added at the end leave
// the hash alone.
func FuzzContentHash(f *testing.F) {
	f.Add([]byte("From: a@exemple.fr\r\nSubject: x\r\n\r\nbody\r\n"))
	f.Add([]byte("Received: a\r\n b\r\nX: y\r\n\r\n"))
	f.Add([]byte("no header at all"))
	f.Add([]byte(":\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h := ContentHash(raw)
		if len(h) != 64 {
			t.Fatalf("hash %q", h)
		}
		if bytes.HasPrefix(raw, []byte("From ")) || (len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t')) {
			return // the mbox line or a continuation belong to what is in front
		}
		if got := ContentHash(append([]byte("Received: by relay\r\n"), raw...)); got != h {
			t.Fatalf("a Received line changed the hash of %q", raw)
		}
		lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
		if got := ContentHash(lf); got != h {
			t.Fatalf("LF line breaks changed the hash of %q", raw)
		}
		if got := ContentHash(append(bytes.Clone(raw), "\r\n"...)); got != h {
			t.Fatalf("a final line break changed the hash of %q", raw)
		}
	})
}

// A message larger than ContentHash's buffer, with lines across its
// edges (and a line longer than it), hashes as its LF form, and as its
// normalized bytes hashed at once; it allocates the same few objects
// whatever its size.
func TestContentHashLarge(t *testing.T) {
	var lf strings.Builder
	lf.WriteString("From: a@exemple.fr\nSubject: scans\n\n")
	for i := 0; lf.Len() < 5*hashChunk; i++ {
		lf.WriteString(strings.Repeat("x", i%97) + "\n")
	}
	lf.WriteString(strings.Repeat("y", 2*hashChunk+3) + "\nend")
	crlf := strings.ReplaceAll(lf.String(), "\n", "\r\n")
	for _, size := range []int{hashChunk - 1, hashChunk, hashChunk + 1, 3*hashChunk + 7, len(crlf)} {
		raw := []byte(crlf[:size])
		want := sha256.Sum256(bytes.TrimRight([]byte(strings.ReplaceAll(string(raw), "\r\n", "\n")), "\r\n"))
		// A lone CR at the cut is trimmed as a trailing line break.
		assert.Equal(t, hex.EncodeToString(want[:]), ContentHash(raw), "size %d", size)
	}
	assert.Equal(t, ContentHash([]byte(lf.String())), ContentHash([]byte(crlf)))
	small := testing.AllocsPerRun(10, func() { ContentHash([]byte(crlf[:hashChunk])) })
	large := testing.AllocsPerRun(10, func() { ContentHash([]byte(crlf)) })
	assert.LessOrEqual(t, large, small+1, "no allocation grows with the message")
}
