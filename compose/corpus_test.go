package compose

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The enmime corpus (testdata/enmime, MIT licence, see its LICENSE) holds
// real-world messages, many malformed.

func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/enmime/*/*.raw")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestCorpusParses parses every corpus message in memory and streaming to a
// BlobStore: no error, no panic, and the two paths agree on what they read.
func TestCorpusParses(t *testing.T) {
	for _, f := range corpusFiles(t) {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			m, err := Parse(bytes.NewReader(raw), nil)
			require.NoError(t, err)
			require.NotNil(t, m)
			assert.Equal(t, int64(len(raw)), m.Size)
			_ = m.SafeHTML()
			_ = m.PlainText()

			blobs := &memBlobs{}
			s, err := Parse(bytes.NewReader(raw), &ParseOptions{Blobs: blobs})
			require.NoError(t, err)
			assert.Equal(t, m.Subject, s.Subject)
			assert.Equal(t, m.From, s.From)
			assert.Equal(t, m.MessageID, s.MessageID)
			if len(m.Warnings) == 0 && len(s.Warnings) == 0 {
				assert.Equal(t, m.Text, s.Text)
				assert.Equal(t, m.HTML, s.HTML)
				require.Equal(t, len(m.Attachments), len(s.Attachments))
				for i, a := range m.Attachments {
					b := s.Attachments[i]
					assert.Equal(t, a.Filename, b.Filename)
					assert.Equal(t, a.ContentType, b.ContentType)
					assert.Equal(t, a.Size, b.Size)
					assert.Equal(t, a.Data, blobs.blobs[b.BlobKey], a.Filename)
				}
			}

			// Whatever was read can be answered and forwarded.
			d := ReplyAll(m, &ReplyOptions{From: testFrom})
			if len(d.To) > 0 {
				_, err = Render(d, nil)
				assert.NoError(t, err)
			}
			fwd, err := Forward(m, raw, &ForwardOptions{From: testFrom, To: d.To, AsAttachment: true})
			require.NoError(t, err)
			_, err = Render(fwd, nil)
			assert.NoError(t, err)
		})
	}
}

// TestCorpusNotable asserts what notable corpus messages contain.
func TestCorpusNotable(t *testing.T) {
	tests := []struct {
		file     string
		subject  string
		text     string // prefix of Text
		html     string // substring of HTML
		atts     []string
		warnings bool
	}{
		{file: "mail/attachment.raw", subject: "Attachment", text: "A text section", atts: []string{"test.html"}},
		{file: "mail/html-mime-inline.raw", subject: "MIME test 1", text: "Test of text section", html: "cid:8B8481A2", atts: []string{"favicon.png"}},
		{file: "mail/mime-signed.raw", subject: "Multipart Signed", text: "Section one", atts: []string{"signature.asc"}},
		{file: "mail/mime-bad-8bit-filename.raw", subject: "Malformed test", text: "Text part", atts: []string{"管理.doc"}, warnings: true},
		{file: "mail/mime-unquoted-tspecials-param.raw", subject: "Confirmation of Booking with easyHotel", text: "\n\nThank you for booking", atts: []string{"Invoice_(302232133150612).pdf"}, warnings: true},
		{file: "mail/mime-duplicate-param.raw", subject: "Confirmation of Booking with easyHotel", text: "\n\nThank you for booking", atts: []string{"Invoice_302232133150612.pdf"}},
		{file: "mail/qp-utf8-header.raw", subject: "MIME UTF8 Test ¢ More Text", text: "Lorem ipsum dolor sit amet", html: "Lorem ipsum"},
		{file: "mail/other-multi-related.raw", subject: "MIME test 1", text: "Plain text.", html: "HTML text.", atts: []string{"image001.png", "image002.png"}},
		{file: "mail/attachment-only-no-disposition.raw", subject: "Test", atts: []string{"favicon.jpg"}},
		{file: "mail/non-mime.raw", subject: "test Sun, 14 Oct 2012 16:09:01 -0700", text: "This is a test mailing"},
		{file: "mail/multipart-wo-boundary.raw", subject: "Delivery Status Notification (Failure)", text: "I'm  multipart message without boundary", warnings: true},
		{file: "low-quality/bad-final-boundary.raw", subject: "Attachment", text: "A text section", atts: []string{"foo_9E5D72.zip"}, warnings: true},
		{file: "low-quality/bad-header-start.raw", subject: "plain text", text: "A text section", warnings: true},
		{file: "low-quality/unk-charset-part.raw", subject: "Attachment", text: "A text section", atts: []string{"foo_9E5D72.zip"}, warnings: true},
		{file: "low-quality/unk-encoding-part.raw", subject: "Attachment", text: "A text section", atts: []string{"foo_9E5D72.zip"}, warnings: true},
		{file: "low-quality/malformed-base64-attach.raw", subject: "Attachment", text: "A text section", atts: []string{"some.doc"}, warnings: true},
		{file: "low-quality/bad-header-wrap.raw", subject: "Attachment", text: "A text section", atts: []string{"7DDA4_foo_9E5D72.zip"}, warnings: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/enmime", tt.file))
			require.NoError(t, err)
			m, err := Parse(bytes.NewReader(raw), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.subject, m.Subject)
			text := m.Text
			if len(text) > len(tt.text) {
				text = text[:len(tt.text)]
			}
			assert.Equal(t, tt.text, text)
			if tt.html != "" {
				assert.Contains(t, m.HTML, tt.html)
			}
			var names []string
			for _, a := range m.Attachments {
				names = append(names, a.Filename)
			}
			assert.Equal(t, tt.atts, names)
			assert.Equal(t, tt.warnings, len(m.Warnings) > 0, "warnings: %q", m.Warnings)
		})
	}
}
