package contact

import (
	"strings"
	"unicode"
)

// minPhoneDigits is the fewest digits a query term needs to be matched
// against phone numbers; shorter runs of digits would match most numbers.
const minPhoneDigits = 3

// term is one word of a search query with the ways it may match a contact.
// A contact matches the term when at least one way matches.
type term struct {
	email  string   // prefix of a folded, normalized address; "" for none
	words  []string // each must prefix some folded name word; nil for none
	digits string   // substring of a number's digits; "" for none
}

// parseQuery splits a query into terms. all reports a blank query, which
// matches every contact. A query that is not blank but holds no letter or
// digit yields no term and all == false: it matches nothing.
//
// The words of a term are its runs of letters and digits ("saint-ex" must
// match both "saint" and "ex"), without the glued form that splitWords adds
// for indexed names: "jean-pierre" then finds "Jean Pierre" as well as
// "Jean-Pierre".
func parseQuery(q string) (terms []term, all bool) {
	chunks := strings.Fields(q)
	if len(chunks) == 0 {
		return nil, true
	}
	for i := 0; i < len(chunks); {
		// Consecutive phone-like chunks are one number: "+33 6 12 34 56 78"
		// is one term, not six, also in "dupont 06 12 34".
		j := i
		for j < len(chunks) && isPhoneish(chunks[j]) {
			j++
		}
		if j-i >= 2 {
			if g := phoneQuery(strings.Join(chunks[i:j], "")); g != "" {
				terms = append(terms, term{digits: g})
				i = j
				continue
			}
		}
		if t, ok := chunkTerm(chunks[i]); ok {
			terms = append(terms, t)
		}
		i++
	}
	return terms, false
}

// chunkTerm returns the term for one space-free chunk of a query, and
// false when the chunk has nothing to search for.
func chunkTerm(chunk string) (term, bool) {
	f := Fold(chunk)
	var t term
	if strings.Contains(f, "@") {
		t.email = f
	} else {
		t.words = strings.FieldsFunc(f, notWordRune)
		if len(t.words) > 0 {
			t.email = f
		}
	}
	if isPhoneish(chunk) {
		t.digits = phoneQuery(chunk)
	}
	return t, t.email != "" || len(t.words) > 0 || t.digits != ""
}

// phoneQuery returns the digits a phone-like query term must contain: its
// digits without a leading international prefix "00" or trunk prefix "0",
// or "" when fewer than minPhoneDigits remain.
func phoneQuery(s string) string {
	g := Digits(s)
	switch {
	case strings.HasPrefix(g, "00"):
		g = g[2:]
	case strings.HasPrefix(g, "0"):
		g = g[1:]
	}
	if len(g) < minPhoneDigits {
		return ""
	}
	return g
}

// isPhoneish reports whether s looks like (part of) a phone number: digits,
// an optional leading "+", and the separators space ( ) - . / only.
func isPhoneish(s string) bool {
	digits := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '+' && i == 0:
		case unicode.IsSpace(r) || r == '(' || r == ')' || r == '-' || r == '.' || r == '/':
		default:
			return false
		}
	}
	return digits
}

// splitWords appends to dst the words of a folded text: the runs of
// letters and digits. A chunk of several runs joined by punctuation, such
// as "saint-exupery" or "d'artagnan", also yields its runs glued together
// ("saintexupery", "dartagnan"), so both spellings find it.
func splitWords(dst []string, folded string) []string {
	for _, chunk := range strings.Fields(folded) {
		n := len(dst)
		dst = append(dst, strings.FieldsFunc(chunk, notWordRune)...)
		if len(dst)-n > 1 {
			dst = append(dst, strings.Join(dst[n:], ""))
		}
	}
	return dst
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// matches reports whether d matches the term t (used for the few documents
// not yet merged into the index's sorted arrays).
func (d *doc) matches(t *term) bool {
	if t.email != "" {
		for _, e := range d.emails {
			if strings.HasPrefix(e, t.email) {
				return true
			}
		}
	}
	if len(t.words) > 0 && d.matchesWords(t.words) {
		return true
	}
	if t.digits != "" {
		for _, g := range d.digits {
			if strings.Contains(g, t.digits) {
				return true
			}
		}
	}
	return false
}

func (d *doc) matchesWords(words []string) bool {
	for _, w := range words {
		found := false
		for _, dw := range d.words {
			if strings.HasPrefix(dw, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (d *doc) matchesAll(terms []term) bool {
	for i := range terms {
		if !d.matches(&terms[i]) {
			return false
		}
	}
	return true
}
