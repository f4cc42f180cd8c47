package compose

import (
	"bytes"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC) }

func baseDraft() *Draft {
	return &Draft{
		From:    mail.Address{Name: "Acme Support", Address: "support@acme.test"},
		To:      []mail.Address{{Name: "Françoise Dupré", Address: "francoise@example.fr"}},
		Subject: "Votre demande n° 42 — réglée ✅",
		Text:    "Bonjour Françoise,\n\nC'est réglé. 🎉\n",
	}
}

func TestRenderRoundTrip(t *testing.T) {
	d := baseDraft()
	d.Cc = []mail.Address{{Address: "cc@example.com"}}
	d.Bcc = []mail.Address{{Address: "hidden@example.com"}}
	d.ReplyTo = []mail.Address{{Address: "replies@acme.test"}}
	d.HTML = "<p>Bonjour Françoise,</p><p>C'est réglé. 🎉 <img src=\"cid:logo@acme.test\"></p>"
	d.InReplyTo = "parent@example.fr"
	d.References = []string{"root@example.fr", "parent@example.fr"}
	d.AutoSubmitted = true
	d.Headers = map[string]string{"X-Case-Id": "case-7"}
	d.Attachments = []Attachment{
		{Filename: "logo.png", ContentType: "image/png", ContentID: "logo@acme.test", Inline: true, Data: []byte("\x89PNG\r\n\x1a\n")},
		{Filename: "facture été.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF-1.4 "), 50)},
	}
	raw, err := Render(d, &RenderOptions{Hostname: "mx.acme.test", Now: fixedNow})
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "hidden@example.com")
	assert.NotContains(t, strings.ReplaceAll(string(raw), "\r\n", ""), "\n", "bare LF in output")
	for _, line := range strings.Split(string(raw), "\r\n") {
		assert.LessOrEqual(t, len(line), 998)
	}

	m, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	assert.Empty(t, m.Warnings)
	assert.Equal(t, d.Subject, m.Subject)
	assert.Equal(t, []mail.Address{d.From}, m.From)
	assert.Equal(t, d.To, m.To)
	assert.Equal(t, d.Cc, m.Cc)
	assert.Equal(t, d.ReplyTo, m.ReplyTo)
	assert.True(t, m.Date.Equal(fixedNow()))
	assert.True(t, strings.HasSuffix(m.MessageID, "@mx.acme.test"), m.MessageID)
	assert.Equal(t, []string{"parent@example.fr"}, m.InReplyTo)
	assert.Equal(t, d.References, m.References)
	assert.Equal(t, AutoReply, m.Auto)
	assert.Equal(t, "case-7", m.Header.Get("X-Case-Id"))
	assert.Equal(t, d.Text, m.Text)
	assert.Equal(t, d.HTML, m.HTML)
	require.Len(t, m.Attachments, 2)
	assert.Equal(t, "logo.png", m.Attachments[0].Filename)
	assert.True(t, m.Attachments[0].Inline)
	assert.Equal(t, "logo@acme.test", m.Attachments[0].ContentID)
	assert.Equal(t, d.Attachments[0].Data, m.Attachments[0].Data)
	assert.Equal(t, "facture été.pdf", m.Attachments[1].Filename)
	assert.False(t, m.Attachments[1].Inline)
	assert.Equal(t, d.Attachments[1].Data, m.Attachments[1].Data)
}

func TestRenderDeterministic(t *testing.T) {
	d := baseDraft()
	d.MessageID = "fixed@acme.test"
	d.HTML = "<p>x</p>"
	opts := &RenderOptions{Now: fixedNow}
	a, err := Render(d, opts)
	require.NoError(t, err)
	b, err := Render(d, opts)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Contains(t, string(a), "Message-ID: <fixed@acme.test>\r\n")
	assert.Contains(t, string(a), "Date: Thu, 26 Nov 2026 10:30:00 +0000\r\n")
}

func TestRenderGeneratedMessageID(t *testing.T) {
	raw, err := Render(baseDraft(), nil)
	require.NoError(t, err)
	m, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(m.MessageID, "@localhost"), m.MessageID)
	assert.WithinDuration(t, time.Now(), m.Date, time.Minute)
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *Draft)
		opts   *RenderOptions
	}{
		{"CRLF in subject", func(d *Draft) { d.Subject = "hi\r\nBcc: victim@example.com" }, nil},
		{"LF in subject", func(d *Draft) { d.Subject = "hi\nX: y" }, nil},
		{"CR in name", func(d *Draft) { d.To[0].Name = "Eve\rBcc: x@example.com" }, nil},
		{"LF in address", func(d *Draft) { d.To[0].Address = "a@example.com\nBcc: x@example.com" }, nil},
		{"invalid address", func(d *Draft) { d.To[0].Address = "not an address" }, nil},
		{"address without domain", func(d *Draft) { d.Cc = []mail.Address{{Address: "bob@"}} }, nil},
		{"invalid bcc", func(d *Draft) { d.Bcc = []mail.Address{{Address: "<x>"}} }, nil},
		{"no from", func(d *Draft) { d.From = mail.Address{} }, nil},
		{"bad message id", func(d *Draft) { d.MessageID = "no-at-sign" }, nil},
		{"bracketed in-reply-to", func(d *Draft) { d.InReplyTo = "<x@y>" }, nil},
		{"CRLF in references", func(d *Draft) { d.References = []string{"a@b\r\nX: y"} }, nil},
		{"CRLF in extra header", func(d *Draft) { d.Headers = map[string]string{"X-A": "1\r\nBcc: x@y.z"} }, nil},
		{"bad header name", func(d *Draft) { d.Headers = map[string]string{"X A": "1"} }, nil},
		{"reserved header", func(d *Draft) { d.Headers = map[string]string{"bcc": "x@y.z"} }, nil},
		{"CRLF in filename", func(d *Draft) { d.Attachments = []Attachment{{Filename: "a\r\n.pdf", Data: []byte("x")}} }, nil},
		{"blob without data", func(d *Draft) { d.Attachments = []Attachment{{Filename: "a.pdf", BlobKey: "k"}} }, nil},
		{"bad hostname", func(d *Draft) {}, &RenderOptions{Hostname: "evil\r\nhost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := baseDraft()
			tt.mutate(d)
			raw, err := Render(d, tt.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidInput)
			assert.Nil(t, raw)
		})
	}
	_, err := Render(nil, nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
}

func TestRenderLongSubjectFolds(t *testing.T) {
	d := baseDraft()
	d.Subject = strings.TrimSpace(strings.Repeat("Une très longue ligne d'objet avec des accents ", 6))
	raw, err := Render(d, nil)
	require.NoError(t, err)
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n") {
		// Encoded words are at most 75 bytes; a line holds one after the name.
		assert.LessOrEqual(t, len(l), 90, l)
	}
	m, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	assert.Equal(t, d.Subject, m.Subject)
}

// checkLines returns an error unless raw is CRLF lines of at most 998
// octets (RFC 5322 section 2.1.1).
func checkLines(raw []byte) error {
	for n, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.Count(line, []byte("\r")) != 1 {
			return fmt.Errorf("line %d does not end in CRLF alone: %q", n+1, line)
		}
		if len(line)-2 > 998 {
			return fmt.Errorf("line %d has %d octets", n+1, len(line)-2)
		}
	}
	return nil
}
