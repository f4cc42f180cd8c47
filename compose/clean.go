package compose

import (
	"bytes"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
)

// What a parsed Message holds: every string field (addresses, subject,
// ids, bodies, file names, header values, warnings) is valid UTF-8 without
// NUL bytes, whatever the mail carried. Stores and hosts rely on it (a SQL
// text column refuses both); the bytes as received stay in the raw message.

// needsClean reports whether s breaks the rule.
func needsClean(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// cleanString makes s valid UTF-8 (invalid bytes become U+FFFD) and drops
// its NUL bytes.
func cleanString(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// clean enforces the rule on every field of the message st collected,
// with one warning per field it had to change. Nested messages were
// cleaned when they were finished.
func (st *msgState) clean() {
	m := st.m
	fix := func(field string, s *string) {
		if needsClean(*s) {
			*s = cleanString(*s)
			st.warn("%s: invalid UTF-8 or NUL bytes, replaced", field)
		}
	}
	fixList := func(field string, l []string) {
		for i := range l {
			fix(field, &l[i])
		}
	}
	fixAddrs := func(field string, l []mail.Address) {
		for i := range l {
			fix(field, &l[i].Name)
			fix(field, &l[i].Address)
		}
	}
	fixAddrs("From", m.From)
	fixAddrs("To", m.To)
	fixAddrs("Cc", m.Cc)
	fixAddrs("Reply-To", m.ReplyTo)
	fixAddrs("Sender", m.Sender)
	fix("Subject", &m.Subject)
	fix("Message-ID", &m.MessageID)
	fixList("In-Reply-To", m.InReplyTo)
	fixList("References", m.References)
	fix("text/plain", &m.Text)
	fix("text/html", &m.HTML)
	for i := range m.Attachments {
		a := &m.Attachments[i]
		fix("attachment name", &a.Filename)
		fix("attachment name", &a.OriginalFilename)
		fix("attachment type", &a.ContentType)
		fix("Content-ID", &a.ContentID)
	}
	for _, vs := range m.Header {
		for i := range vs {
			if needsClean(vs[i]) {
				// Quietly: the fields read above carry the warnings.
				vs[i] = cleanString(vs[i])
			}
		}
	}
	for i, w := range m.Warnings {
		if needsClean(w) {
			m.Warnings[i] = cleanString(w)
		}
	}
}

// utf16Text reads a text body holding NUL bytes as UTF-16 when it looks
// like it: a byte order mark, or NULs in every other byte, as in UTF-16
// text sent as text/plain without a charset. ok is false for anything
// else, whose NULs are then dropped by clean.
func utf16Text(data []byte) (string, bool) {
	if len(data) < 2 || len(data)%2 != 0 {
		return "", false
	}
	var e unicode.Endianness
	switch {
	case data[0] == 0xFF && data[1] == 0xFE:
		e = unicode.LittleEndian
	case data[0] == 0xFE && data[1] == 0xFF:
		e = unicode.BigEndian
	default:
		// Mostly-ASCII text: the high bytes are NUL, on one side only.
		var odd, even int
		for i := 0; i < len(data); i += 2 {
			if data[i] == 0 {
				even++
			}
			if data[i+1] == 0 {
				odd++
			}
		}
		half := len(data) / 2
		switch {
		case odd*2 >= half && even == 0:
			e = unicode.LittleEndian
		case even*2 >= half && odd == 0:
			e = unicode.BigEndian
		default:
			return "", false
		}
	}
	out, err := unicode.UTF16(e, unicode.UseBOM).NewDecoder().Bytes(data)
	if err != nil || bytes.IndexByte(out, 0) >= 0 {
		return "", false
	}
	return string(out), true
}
