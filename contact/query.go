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

	// The same, as needles for doc.hay (see haystack); nil needles when
	// the term holds a marker byte and must be checked by matches.
	needles *needles
}

type needles struct {
	email  string
	words  []string
	digits string
}

// Markers that start each token of a doc's haystack.
const (
	markWord   = "\x01"
	markEmail  = "\x02"
	markDigits = "\x03"
)

// haystack returns d's words, addresses and phone digits in one string,
// each preceded by its marker ("\x01helene\x01dupont\x02h@x.fr\x03336…"),
// and the offset where the digits start; or "", 0 when a token holds a
// marker byte itself (unvalidated data), and matches must be used. Looking
// for "\x01hel" in it tells whether a word starts with "hel", with one
// strings.Contains over one block of memory: this is how the few contacts
// not merged yet are checked.
func haystack(d *doc) (hay string, digitsAt int) {
	n := 0
	for _, ss := range [3][]string{d.words, d.emails, d.digits} {
		for _, s := range ss {
			n += 1 + len(s)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i, ss := range [3][]string{d.words, d.emails, d.digits} {
		for _, s := range ss {
			if strings.ContainsAny(s, markWord+markEmail+markDigits) {
				return "", 0
			}
		}
		if i == 2 {
			digitsAt = b.Len()
		}
		for _, s := range ss {
			b.WriteString([3]string{markWord, markEmail, markDigits}[i])
			b.WriteString(s)
		}
	}
	return b.String(), digitsAt
}

// withNeedles sets t.needles, unless t holds a marker byte.
func (t term) withNeedles() term {
	all := t.email + t.digits + strings.Join(t.words, "")
	if strings.ContainsAny(all, markWord+markEmail+markDigits) {
		return t
	}
	n := &needles{}
	if t.email != "" {
		n.email = markEmail + t.email
	}
	for _, w := range t.words {
		n.words = append(n.words, markWord+w)
	}
	if t.digits != "" {
		n.digits = markDigits + t.digits
	}
	t.needles = n
	return t
}

// scan is matches through d.hay.
func (d *doc) scan(t *term) bool {
	n := t.needles
	if n == nil || d.hay == "" {
		return d.matches(t)
	}
	if n.email != "" && strings.Contains(d.hay, n.email) {
		return true
	}
	if len(n.words) > 0 {
		all := true
		for _, w := range n.words {
			if !strings.Contains(d.hay, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	// The numbers come last in the haystack and hold only digits and
	// markers, so the query's digits can only match inside one number.
	if n.digits != "" && strings.Contains(d.hay[d.digitsAt:], n.digits[1:]) {
		return true
	}
	return false
}

func (d *doc) scanAll(terms []term) bool {
	for i := range terms {
		if !d.scan(&terms[i]) {
			return false
		}
	}
	return true
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
