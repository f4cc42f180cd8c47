package compose

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TextToHTML renders plain text as HTML: the text is escaped, blank lines
// separate paragraphs (<p>), other line breaks become <br>, and http and
// https URLs become links. Leading and trailing blank lines are dropped;
// runs of spaces collapse when shown, as HTML has them. Control
// characters but tab and line breaks are removed and invalid UTF-8 is
// replaced, so the result is a fixed point of SanitizeHTML. Blank text
// gives "".
//
// A URL ends at white space, a quote or an angle bracket; trailing
// punctuation (".", ",", ";", ":", "!", "?", "'") and a closing bracket
// without its opening one are left outside the link, so that "(see
// https://example.com/a.)" links https://example.com/a.
func TextToHTML(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, text)
	var b strings.Builder
	b.Grow(len(text) + len(text)/8 + 16)
	open := false // inside a paragraph
	blank := false
	for line := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(line) == "" {
			blank = true
			continue
		}
		switch {
		case !open:
			b.WriteString("<p>")
			open = true
		case blank:
			b.WriteString("</p>\n<p>")
		default:
			b.WriteString("<br>\n")
		}
		blank = false
		linkify(&b, line)
	}
	if open {
		b.WriteString("</p>")
	}
	return b.String()
}

// linkify writes line escaped, with its http and https URLs as links.
func linkify(b *strings.Builder, line string) {
	for line != "" {
		i, j, href := nextURL(line)
		if i < 0 {
			b.WriteString(html.EscapeString(line))
			return
		}
		b.WriteString(html.EscapeString(line[:i]))
		b.WriteString(`<a href="` + html.EscapeString(href) + `">` + html.EscapeString(line[i:j]) + "</a>")
		line = line[j:]
	}
}

// nextURL finds the first linkable URL in s: its bounds and the href to
// write, which is the URL as net/url prints it (as the sanitizer would
// rewrite it). i is -1 when there is none.
func nextURL(s string) (i, j int, href string) {
	from := 0
	for {
		k := indexFold(s[from:], "http")
		if k < 0 {
			return -1, -1, ""
		}
		i = from + k
		from = i + 4
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue
			}
		}
		rest := s[i:]
		var n int
		switch {
		case len(rest) > 8 && strings.EqualFold(rest[:8], "https://"):
			n = 8
		case len(rest) > 7 && strings.EqualFold(rest[:7], "http://"):
			n = 7
		default:
			continue
		}
		end := n
		for end < len(rest) {
			r, size := utf8.DecodeRuneInString(rest[end:])
			if unicode.IsSpace(r) || r == '"' || r == '<' || r == '>' || r == '`' {
				break
			}
			end += size
		}
		end = trimURLEnd(rest[:end], n)
		if end <= n {
			continue
		}
		u, err := url.Parse(rest[:end])
		if err != nil || u.Host == "" || u.User != nil {
			continue
		}
		href = u.String()
		// Link only what reads back the same: the sanitizer parses and
		// prints the href again.
		if v, err := url.Parse(href); err != nil || v.String() != href {
			continue
		}
		return i, i + end, href
	}
}

// trimURLEnd drops trailing punctuation and unbalanced closing brackets
// from the candidate URL u (whose scheme is n bytes long) and returns its
// new length.
func trimURLEnd(u string, n int) int {
	end := len(u)
	for end > n {
		var open byte
		switch u[end-1] {
		case '.', ',', ';', ':', '!', '?', '\'':
			end--
			continue
		case ')':
			open = '('
		case ']':
			open = '['
		case '}':
			open = '{'
		default:
			return end
		}
		if strings.Count(u[:end], string(open)) >= strings.Count(u[:end], string(u[end-1])) {
			return end
		}
		end--
	}
	return end
}

// indexFold is strings.Index for an ASCII lower-case needle, ignoring case.
func indexFold(s, needle string) int {
	first, upper := needle[0], needle[0]-'a'+'A'
	for i := 0; i+len(needle) <= len(s); i++ {
		if c := s[i]; (c == first || c == upper) && strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// HTMLToText renders HTML as plain text, as Render does for the text
// alternative of an HTML-only draft and Message.PlainText for HTML-only
// mail: block elements (paragraphs, headings, quotes, tables, lists) become
// line breaks, list items get a dash, table cells a tab, a link whose text
// does not show its http or https target is followed by it in angle
// brackets, and scripts, styles and the head vanish. Runs of white space
// collapse as a browser collapses them, but for preformatted text.
func HTMLToText(s string) string {
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
