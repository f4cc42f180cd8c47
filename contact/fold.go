package contact

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// iterPool recycles normalization iterators: a norm.Iter is too large to
// live on the stack, and Fold is called for every word indexed or searched.
var iterPool = sync.Pool{New: func() any { return new(norm.Iter) }}

// Fold returns the case- and accent-insensitive comparison key of s: its
// Unicode compatibility decomposition (NFKD) with the combining marks
// (category Mn) removed, lower-cased. "Hélène", "HELENE" and "helene" all
// fold to "helene"; "ﬁ" folds to "fi". A few Latin letters that carry their
// "accent" inside the letter and do not decompose are folded by hand, so
// that a customer typing on a plain keyboard still finds them: æ→ae, œ→oe,
// ß→ss, ø→o, ł→l, đ/ð→d, ħ→h, ı→i, þ→th.
//
// Fold does not touch spaces or punctuation. It allocates nothing for
// lower-case ASCII input and one string for other Latin text, which it
// folds through a table (about 250 ns for "Hélène Lefèvre-Béranger");
// other scripts go through the golang.org/x/text normalizer.
func Fold(s string) string {
	if f, ok := foldASCII(s); ok {
		return f
	}
	// Latin text, the common case, is folded through a table; anything
	// else goes through the Unicode normalizer.
	tbl := latinFolds()
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r < latinEnd:
			b.WriteString(tbl[r-utf8.RuneSelf])
		case r >= 0x300 && r < 0x370:
			// Combining Diacritical Marks, all of category Mn: dropped.
		default:
			return foldSlow(s)
		}
		i += n
	}
	return b.String()
}

// foldASCII folds s when it is all ASCII, allocating only when it has
// capitals; ok is false for any other text.
func foldASCII(s string) (folded string, ok bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if !upper {
		return s, true
	}
	return strings.ToLower(s), true
}

// latinEnd ends the runes folded by table: Latin-1 Supplement and Latin
// Extended-A and -B.
const latinEnd = 0x250

// latinFolds returns, for each rune from U+0080 to latinEnd, what foldSlow
// makes of it alone. Decomposition is rune by rune, and the only thing it
// reorders, combining marks, is dropped, so folding a Latin string rune by
// rune gives the same result as foldSlow.
var latinFolds = sync.OnceValue(func() *[latinEnd - utf8.RuneSelf]string {
	var t [latinEnd - utf8.RuneSelf]string
	for r := rune(utf8.RuneSelf); r < latinEnd; r++ {
		t[r-utf8.RuneSelf] = foldSlow(string(r))
	}
	return &t
})

// foldSlow is Fold through the Unicode normalizer.
func foldSlow(s string) string {
	if f, ok := foldASCII(s); ok {
		return f
	}
	var b strings.Builder
	b.Grow(len(s))
	it := iterPool.Get().(*norm.Iter)
	defer iterPool.Put(it)
	it.InitString(norm.NFKD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			if r < utf8.RuneSelf {
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				b.WriteByte(byte(r))
				continue
			}
			if unicode.Is(unicode.Mn, r) {
				continue
			}
			r = unicode.ToLower(r)
			switch r {
			case 'æ':
				b.WriteString("ae")
			case 'œ':
				b.WriteString("oe")
			case 'ß':
				b.WriteString("ss")
			case 'þ':
				b.WriteString("th")
			case 'ø':
				b.WriteByte('o')
			case 'ł':
				b.WriteByte('l')
			case 'đ', 'ð':
				b.WriteByte('d')
			case 'ħ':
				b.WriteByte('h')
			case 'ı':
				b.WriteByte('i')
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// Digits returns the ASCII digits of a phone number, in order, without
// anything else: "+33 6 12 34 56 78" gives "33612345678". Phone numbers
// are compared and searched by these digits.
func Digits(phone string) string {
	n := 0
	for i := 0; i < len(phone); i++ {
		if '0' <= phone[i] && phone[i] <= '9' {
			n++
		}
	}
	if n == len(phone) {
		return phone
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(phone); i++ {
		if '0' <= phone[i] && phone[i] <= '9' {
			b = append(b, phone[i])
		}
	}
	return string(b)
}
