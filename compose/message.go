package compose

import (
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
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
	return htmlPolicy().Sanitize(m.HTML)
}

// PlainText returns Text, or a plain-text rendering of HTML when Text is
// empty. It is computed on each call.
func (m *Message) PlainText() string {
	if strings.TrimSpace(m.Text) != "" || m.HTML == "" {
		return m.Text
	}
	return htmlToText(m.HTML)
}

// htmlPolicy is the display policy, built once on first use.
var htmlPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardAttributes()
	p.AllowElements("a", "abbr", "b", "big", "blockquote", "br", "caption",
		"center", "cite", "code", "col", "colgroup", "dd", "del", "div", "dl",
		"dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins",
		"kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
		"strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
		"tr", "tt", "u", "ul")
	p.AllowAttrs("align", "valign", "width", "height", "colspan", "rowspan",
		"border", "cellpadding", "cellspacing", "bgcolor", "color", "face",
		"size", "type").Globally()
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	// data: only for images (never data:text/html in a link).
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool {
		return safeDataImage.MatchString(u.Opaque)
	})
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("src").Matching(safeImageSrc).OnElements("img")
	p.AllowAttrs("alt", "title").OnElements("img")
	return p
})

// safeDataImage matches the opaque part of an image data: URL.
var safeDataImage = regexp.MustCompile(`(?i)^image/(png|gif|jpe?g|webp);base64,`)

// safeImageSrc admits only sources that load nothing from the network.
var safeImageSrc = regexp.MustCompile(`(?i)^(cid:[^\s]+|data:image/(png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+)$`)

// htmlToText renders HTML as plain text: block elements become line breaks,
// list items get a dash, links keep their target, scripts and styles vanish.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) / 2)
	skip := 0      // depth inside script, style, head, title
	pre := 0       // depth inside pre
	space := false // last written byte was whitespace
	nl := 0        // trailing newlines written
	newline := func(n int) {
		for nl < n {
			if b.Len() == 0 {
				return
			}
			b.WriteByte('\n')
			nl++
		}
		space = false
	}
	var href string
	hrefAt := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if pre > 0 {
				b.WriteString(text)
				nl = 0
				if strings.HasSuffix(text, "\n") {
					nl = 1
				}
				continue
			}
			if text != "" && isHTMLSpaceByteStart(text) {
				space = true
			}
			for i, f := range strings.FieldsFunc(text, isHTMLSpace) {
				if (space || i > 0) && nl == 0 && b.Len() > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(f)
				space, nl = false, 0
			}
			if r, _ := utf8.DecodeLastRuneInString(text); isHTMLSpace(r) {
				space = true
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			end := tt == html.EndTagToken
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
			case atom.Br:
				if skip == 0 {
					b.WriteByte('\n')
					nl++
					space = false
				}
			case atom.P, atom.Div, atom.Table, atom.Blockquote, atom.H1, atom.H2,
				atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Hr:
				if skip == 0 {
					if a == atom.P || a == atom.Blockquote {
						newline(2)
					} else {
						newline(1)
					}
				}
			case atom.Tr, atom.Li, atom.Dt, atom.Dd:
				if skip == 0 {
					newline(1)
					if a == atom.Li && !end {
						b.WriteString("- ")
						nl = 0
					}
				}
			case atom.Td, atom.Th:
				if skip == 0 && !end && nl == 0 && b.Len() > 0 {
					b.WriteByte('\t')
					space = false
				}
			case atom.Pre:
				if end {
					if pre > 0 {
						pre--
					}
				} else if tt == html.StartTagToken {
					pre++
				}
				newline(1)
			case atom.A:
				if end {
					if href != "" && skip == 0 && hrefAt <= b.Len() && !strings.Contains(b.String()[hrefAt:], href) {
						b.WriteString(" <" + href + ">")
						space, nl = false, 0
					}
					href = ""
				} else if hasAttr {
					href, hrefAt = "", b.Len()
					for {
						k, v, more := z.TagAttr()
						if string(k) == "href" {
							u := string(v)
							if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
								href = u
							}
						}
						if !more {
							break
						}
					}
				}
			}
		}
	}
}

func isHTMLSpaceByteStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isHTMLSpace(r)
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u00a0'
}
