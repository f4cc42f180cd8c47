package compose

import (
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Attachment is a non-body part of a message (a file, an inline image, a
// signature, a nested message), or a file to attach to a [Draft].
type Attachment struct {
	// Filename is the file name to show and save: the decoded name from
	// Content-Disposition or the Content-Type name parameter (RFC 2231 and
	// encoded-word forms) made safe by SafeFilename.
	Filename string
	// OriginalFilename is the name as the sender wrote it, when it differs
	// from Filename: for display on request only, escaped, never as a path
	// (it may climb directories or hide its extension behind a
	// right-to-left override).
	OriginalFilename string
	// ContentType is the media type without parameters, e.g. "application/pdf".
	ContentType string
	// ContentID is the Content-ID without angle brackets.
	ContentID string
	// Inline is true for parts shown within the body (Content-Disposition
	// inline, or a Content-ID without disposition as Outlook writes them).
	Inline bool
	// Size is the decoded size in bytes.
	Size int64
	// Data is the decoded body; nil when it was streamed to a BlobStore.
	Data []byte
	// BlobKey is the BlobStore key when the body was streamed there.
	BlobKey string
	// Message holds the parsed headers and bodies of a message/rfc822
	// attachment, else nil.
	Message *Message
}

// Message is a parsed email. Parse fills it; the zero value is an empty
// message.
type Message struct {
	From, To, Cc, ReplyTo, Sender []mail.Address

	// Subject is the decoded subject, with control characters replaced by
	// spaces.
	Subject string
	// Date is the Date header; zero if missing or unparseable (with a warning).
	Date time.Time
	// MessageID is the Message-ID without angle brackets.
	MessageID string
	// InReplyTo and References hold message ids without angle brackets.
	InReplyTo  []string
	References []string

	// Text is the text/plain body decoded to UTF-8, with LF line endings
	// (several inline text parts are joined with a blank line).
	Text string
	// HTML is the text/html body as received, decoded to UTF-8, with LF line
	// endings. Display SafeHTML instead.
	HTML string

	// Attachments lists every part that is not the text or HTML body.
	Attachments []Attachment
	// Auto classifies automated mail; AutoNone for mail written by a person.
	Auto Auto
	// Report is what a delivery status notification says about the
	// message it reports on; nil for any other mail. It is set for
	// bounces (Auto is AutoBounce) and for any message carrying a
	// message/delivery-status part.
	Report *Report
	// Warnings say what could not be read; they are never fatal.
	Warnings []string
	// Size is the number of bytes read.
	Size int64
	// Header is the top-level header with canonical keys; values are unfolded
	// and RFC 2047-decoded, in the order received.
	Header textproto.MIMEHeader
}

// SafeHTML returns the HTML body sanitized for display: no scripts, styles,
// event handlers, forms or frames, links marked nofollow and opened in a new
// window, and images restricted to cid: and data: sources so that remote
// content is never loaded. It returns "" when there is no HTML body.
func (m *Message) SafeHTML() string {
	if m.HTML == "" {
		return ""
	}
	return displayPolicy().Sanitize(m.HTML)
}

// PlainText returns Text, or a plain-text rendering of HTML when Text is
// empty. It is computed on each call.
func (m *Message) PlainText() string {
	if strings.TrimSpace(m.Text) != "" || m.HTML == "" {
		return m.Text
	}
	return HTMLToText(m.HTML)
}
