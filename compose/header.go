package compose

import (
	"encoding/base64"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Line lengths of rendered header fields (RFC 5322 section 2.1.1): a line
// should be at most 78 characters and must be at most 998, without its
// CRLF. Render folds at spaces and encodes what cannot be folded (RFC 2047
// words, RFC 2231 parameter continuations), so that every line it writes
// is within softLine unless a single token (an address, a Message-ID) is
// longer, and every token it accepts is short enough for hardLine.
const (
	softLine = 78
	hardLine = 998
	// maxToken bounds what Render accepts as one unfoldable token (an
	// address, a Message-ID, a Content-ID, a field name): the longest
	// field name and token still fit in hardLine.
	maxToken = 900
	// maxWord is the longest RFC 2047 encoded word (section 2).
	maxWord = 75
)

// field writes "Name: value" folded at spaces, before a word that would
// take the line past softLine. Callers pass values whose words fit
// (encoded or bounded); a longer word stays whole on its own line.
func (w *writer) field(name, value string) {
	w.buf.WriteString(name)
	w.buf.WriteString(": ")
	lineLen := len(name) + 2
	for value != "" {
		// Next word: up to and including the following space run.
		i := strings.IndexByte(value[1:], ' ')
		word := value
		if i >= 0 {
			word = value[:i+1]
		}
		if lineLen+len(strings.TrimRight(word, " ")) > softLine && lineLen > len(name)+2 && word[0] == ' ' {
			w.buf.WriteString("\r\n")
			lineLen = 0
		}
		w.buf.WriteString(word)
		lineLen += len(word)
		value = value[len(word):]
	}
	w.buf.WriteString("\r\n")
}

// text writes an unstructured field (a subject, an extra header): as it
// is when it is printable ASCII that folds within softLine, else as
// RFC 2047 encoded words (non-ASCII text, control characters, text that
// looks like an encoded word and so must not be read as one, a word too
// long to fold).
func (w *writer) text(name, value string) {
	if plainFits(value, softLine-len(name)-2) && !strings.Contains(value, "=?") {
		w.field(name, value)
		return
	}
	w.field(name, encodeWords(value, softLine-len(name)-2, false))
}

// plainFits reports whether s is printable ASCII whose space-separated
// words fit on folded lines: the first within first bytes, the others
// within softLine after the folding space.
func plainFits(s string, first int) bool {
	word := 0
	limit := first
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= 0x7f {
			return false
		}
		if c == ' ' {
			word, limit = 0, softLine-1
			continue
		}
		if word++; word > limit {
			return false
		}
	}
	return true
}

// encodeWords writes s as RFC 2047 encoded words in UTF-8 separated by
// single spaces (which readers drop between encoded words, so s reads
// back exactly): each word at most maxWord bytes, the first at most
// first, every word whole characters. It takes the Q encoding unless B is
// much shorter. In a phrase (a display name) Q leaves fewer characters as
// they are (RFC 2047 section 5).
func encodeWords(s string, first int, phrase bool) string {
	first = max(min(first, maxWord), 16)
	qSafe := qText
	if phrase {
		qSafe = qPhrase
	}
	q := 0
	for i := 0; i < len(s); i++ {
		if qSafe(s[i]) || s[i] == ' ' {
			q++
		} else {
			q += 3
		}
	}
	// Q keeps Latin text readable; B is shorter for other scripts.
	useB := q > base64.StdEncoding.EncodedLen(len(s))*3/2
	prefix := "=?utf-8?q?"
	if useB {
		prefix = "=?utf-8?b?"
	}
	var b strings.Builder
	b.Grow(len(s)*2 + 16)
	limit := first - len(prefix) - 2 // encoded text of this word
	var chunk []byte                 // the B word's bytes so far
	qlen := 0                        // the Q word's encoded length so far
	b.WriteString(prefix)
	flush := func() {
		if useB {
			b.WriteString(base64.StdEncoding.EncodeToString(chunk))
			chunk = chunk[:0]
		}
		b.WriteString("?= ")
		b.WriteString(prefix)
		limit = maxWord - len(prefix) - 2
		qlen = 0
	}
	for _, r := range s {
		var rb [utf8.UTFMax]byte
		n := utf8.EncodeRune(rb[:], r)
		if r == utf8.RuneError {
			n = copy(rb[:], "\uFFFD")
		}
		if useB {
			if base64.StdEncoding.EncodedLen(len(chunk)+n) > limit {
				flush()
			}
			chunk = append(chunk, rb[:n]...)
			continue
		}
		enc := 0
		for _, c := range rb[:n] {
			if qSafe(c) || c == ' ' {
				enc++
			} else {
				enc += 3
			}
		}
		if qlen+enc > limit {
			flush()
		}
		for _, c := range rb[:n] {
			switch {
			case c == ' ':
				b.WriteByte('_')
			case qSafe(c):
				b.WriteByte(c)
			default:
				const hexdigits = "0123456789ABCDEF"
				b.WriteByte('=')
				b.WriteByte(hexdigits[c>>4])
				b.WriteByte(hexdigits[c&15])
			}
		}
		qlen += enc
	}
	if useB {
		b.WriteString(base64.StdEncoding.EncodeToString(chunk))
	}
	b.WriteString("?=")
	return b.String()
}

// qText reports whether c may stand for itself in a Q-encoded word of
// unstructured text (RFC 2047 section 4.2).
func qText(c byte) bool {
	return c > ' ' && c < 0x7f && c != '=' && c != '?' && c != '_'
}

// qPhrase reports whether c may stand for itself in a Q-encoded word in a
// phrase (RFC 2047 section 5, rule 3).
func qPhrase(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/'
}

// address formats a as a mailbox: the display name as a quoted string,
// or encoded words (non-ASCII, or a word too long to fold), then
// the address in angle brackets. room is what is left of the line.
func address(a mail.Address, room int) string {
	addr := "<" + a.Address + ">"
	if a.Address != "" && strings.ContainsAny(a.Address[:max(strings.LastIndexByte(a.Address, '@'), 0)], "()<>[]:;@\\,\" ") {
		// A local part that needs quoting: net/mail knows how.
		addr = (&mail.Address{Address: a.Address}).String()
	}
	if a.Name == "" {
		return addr
	}
	if plainFits(a.Name, room-2) {
		// Quoted always, as net/mail writes names.
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(a.Name); i++ {
			if c := a.Name[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(a.Name[i])
		}
		b.WriteString("\" ")
		b.WriteString(addr)
		if plainFits(b.String(), room) {
			return b.String()
		}
	}
	return encodeWords(a.Name, room, true) + " " + addr
}

// mediaValue writes a Content-Type or Content-Disposition value: the
// type, then each parameter as name="value" when that is ASCII and fits a
// line, else in RFC 2231 form, UTF-8, percent-encoded and cut into
// numbered continuations (name*0*=utf-8”…; name*1*=…) that each fit a
// line and hold whole characters.
func mediaValue(typ string, params [][2]string) string {
	var b strings.Builder
	b.WriteString(typ)
	for _, p := range params {
		name, value := p[0], p[1]
		if plain := name + "=" + quoteParam(value); plainFits(value, softLine) && len(plain) <= softLine-2 {
			b.WriteString("; " + plain)
			continue
		}
		b.WriteString(continuations(name, value))
	}
	return b.String()
}

// quoteParam returns v as a token when it is one, else quoted.
func quoteParam(v string) string {
	if v != "" && !strings.ContainsFunc(v, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?=", r)
	}) {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// continuations writes "; name*=utf-8”…", or when that does not fit a
// line "; name*0*=utf-8”…; name*1*=…", each segment within a folded line
// and whole characters.
func continuations(name, value string) string {
	const hexdigits = "0123456789ABCDEF"
	var segs []string
	var cur []byte
	room := softLine - 2 - len(name) - len("*00*=utf-8''")
	for _, r := range value {
		var rb [utf8.UTFMax]byte
		n := utf8.EncodeRune(rb[:], r)
		var enc []byte
		for _, c := range rb[:n] {
			if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
				enc = append(enc, c)
			} else {
				enc = append(enc, '%', hexdigits[c>>4], hexdigits[c&15])
			}
		}
		if len(cur) > 0 && len(cur)+len(enc) > room {
			segs = append(segs, string(cur))
			cur = cur[:0]
			room = softLine - 2 - len(name) - len("*00*=")
		}
		cur = append(cur, enc...)
	}
	segs = append(segs, string(cur))
	if len(segs) == 1 {
		return "; " + name + "*=utf-8''" + segs[0]
	}
	var b strings.Builder
	for i, seg := range segs {
		b.WriteString("; " + name + "*" + itoa(i) + "*=")
		if i == 0 {
			b.WriteString("utf-8''")
		}
		b.WriteString(seg)
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
