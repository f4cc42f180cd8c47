package compose

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertClean asserts the rule of every parsed field: valid UTF-8, no NUL.
func assertClean(t *testing.T, m *Message) {
	t.Helper()
	for _, f := range messageStrings(m) {
		assert.True(t, utf8.ValidString(f), "invalid UTF-8 in %q", f)
		assert.NotContains(t, f, "\x00")
	}
}

// messageStrings lists every string field of m and its nested messages.
func messageStrings(m *Message) []string {
	out := []string{m.Subject, m.MessageID, m.Text, m.HTML}
	out = append(out, m.InReplyTo...)
	out = append(out, m.References...)
	out = append(out, m.Warnings...)
	for _, l := range [][]mail.Address{m.From, m.To, m.Cc, m.ReplyTo, m.Sender} {
		for _, a := range l {
			out = append(out, a.Name, a.Address)
		}
	}
	for _, vs := range m.Header {
		out = append(out, vs...)
	}
	for _, a := range m.Attachments {
		out = append(out, a.Filename, a.OriginalFilename, a.ContentType, a.ContentID)
		if a.Message != nil {
			out = append(out, messageStrings(a.Message)...)
		}
	}
	if r := m.Report; r != nil {
		out = append(out, r.ReportingMTA, r.OriginalMessageID, r.OriginalSubject)
		for _, s := range r.Recipients {
			out = append(out, s.Recipient, s.OriginalRecipient, s.Status, s.Diagnostic, s.RemoteMTA)
		}
	}
	return out
}

func TestParseCleansFields(t *testing.T) {
	utf16le := func(s string) []byte {
		b := []byte{}
		for _, r := range s {
			b = append(b, byte(r), 0)
		}
		return b
	}
	tests := []struct {
		name string
		raw  string
		// check looks at what was read.
		check func(t *testing.T, m *Message)
	}{{
		name: "UTF-16 text sent as text/plain without a charset",
		raw: "From: a@exemple.fr\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString(utf16le("Bonjour\r\nmerci")) + "\r\n",
		check: func(t *testing.T, m *Message) {
			assert.Equal(t, "Bonjour\nmerci", m.Text)
			assert.Contains(t, strings.Join(m.Warnings, "\n"), "UTF-16")
		},
	}, {
		name: "UTF-16 with a byte order mark",
		raw: "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString(append([]byte{0xFF, 0xFE}, utf16le("Hé")...)) + "\r\n",
		check: func(t *testing.T, m *Message) { assert.Equal(t, "Hé", m.Text) },
	}, {
		name: "NUL bytes in a text body",
		raw:  "Content-Type: text/plain\r\n\r\nBon\x00jour\x00\r\n",
		check: func(t *testing.T, m *Message) {
			assert.Equal(t, "Bonjour\n", m.Text)
			assert.Contains(t, strings.Join(m.Warnings, "\n"), "NUL")
		},
	}, {
		name: "non-UTF-8 bytes in the ids",
		raw:  "Message-ID: <\xff\xfe1@exemple.fr>\r\nIn-Reply-To: <a\x00b@x>\r\nReferences: <r\xc3@x>\r\n\r\nx",
		check: func(t *testing.T, m *Message) {
			assert.Equal(t, "\uFFFD1@exemple.fr", m.MessageID)
			assert.Equal(t, []string{"ab@x"}, m.InReplyTo)
			assert.Equal(t, []string{"r\uFFFD@x"}, m.References)
		},
	}, {
		name: "NUL in a header value and an attachment name",
		raw: "Subject: a\x00b\r\nX-Custom: \xe9t\xe9\x00\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" +
			"--b\r\nContent-Type: application/pdf; name=\"f\x00\xff.pdf\"\r\nContent-ID: <c\x00id>\r\n\r\n%PDF\x00\xff\r\n--b--\r\n",
		check: func(t *testing.T, m *Message) {
			require.Len(t, m.Attachments, 1)
			assert.Equal(t, []byte("%PDF\x00\xff"), m.Attachments[0].Data, "attachment bodies are bytes: kept as sent")
			assert.Equal(t, "cid", m.Attachments[0].ContentID)
		},
	}}
	for _, tc := range tests {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streamed=%v", tc.name, streamed), func(t *testing.T) {
				opts := &ParseOptions{}
				if streamed {
					opts.Blobs = &memBlobs{}
				}
				m, err := Parse(strings.NewReader(tc.raw), opts)
				require.NoError(t, err)
				assertClean(t, m)
				if !streamed || !strings.Contains(tc.name, "attachment") {
					tc.check(t, m)
				}
			})
		}
	}
}

// nestedMultipart returns a message whose multiparts nest depth levels
// deep, with a text at the bottom.
func nestedMultipart(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@exemple.fr\r\nSubject: deep\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nau fond\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

func TestParseDeepNestingKeepsTheRest(t *testing.T) {
	raw := nestedMultipart(40)
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("streamed=%v", streamed), func(t *testing.T) {
			blobs := &memBlobs{}
			opts := &ParseOptions{}
			if streamed {
				opts.Blobs = blobs
			}
			m, err := Parse(strings.NewReader(raw), opts)
			require.NoError(t, err)
			assert.Contains(t, strings.Join(m.Warnings, "\n"), "nested too deeply, kept unread as an attachment")
			require.Len(t, m.Attachments, 1, "what was not read is an attachment")
			a := m.Attachments[0]
			assert.Equal(t, "message/rfc822", a.ContentType)
			data := a.Data
			if streamed {
				data = blobs.blobs[a.BlobKey]
			}
			assert.Contains(t, string(data), "au fond", "the unread part is kept whole")
			assert.True(t, bytes.HasPrefix(data, []byte("Content-Type: multipart/mixed; boundary=b32")), "from its header: %.60q", data)
		})
	}
	// Within the limit, everything is read.
	m, err := Parse(strings.NewReader(nestedMultipart(20)), nil)
	require.NoError(t, err)
	assert.Equal(t, "au fond", m.Text)
	assert.Empty(t, m.Attachments)
}
