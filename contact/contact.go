package contact

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// ErrInvalidInput is wrapped by every error that refuses a contact or an
// argument because of its content (see Validate and FieldError). Match it
// with errors.Is.
var ErrInvalidInput = errors.New("contact: invalid input")

// Contact is a person the contact centre corresponds with.
//
// The zero value is an empty contact, which Validate refuses. Contact is a
// value type but holds slices and a map: use Clone before handing a copy to
// code that may modify it.
type Contact struct {
	ID         string
	FirstName  string
	LastName   string
	Emails     []string          // Emails[0] is the primary address
	Phones     []string          // Phones[0] is the primary number
	Language   string            // BCP 47, e.g. "fr"
	Attributes map[string]string // custom attributes
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// PrimaryEmail returns Emails[0] as written, or "" when the contact has no
// address.
func (c Contact) PrimaryEmail() string {
	if len(c.Emails) == 0 {
		return ""
	}
	return c.Emails[0]
}

// PrimaryPhone returns Phones[0] as written, or "" when the contact has no
// number.
func (c Contact) PrimaryPhone() string {
	if len(c.Phones) == 0 {
		return ""
	}
	return c.Phones[0]
}

// DisplayName returns "First Last" (either part may be missing), or the
// primary email address when the contact has no name, or the primary phone
// number when it has neither, or "" for an empty contact.
func (c Contact) DisplayName() string {
	first, last := strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	switch {
	case first != "" && last != "":
		return first + " " + last
	case first != "":
		return first
	case last != "":
		return last
	}
	if e := strings.TrimSpace(c.PrimaryEmail()); e != "" {
		return e
	}
	return strings.TrimSpace(c.PrimaryPhone())
}

// Clone returns a deep copy of c: the Emails and Phones slices and the
// Attributes map are copied, so changing the copy never changes c. Nil
// slices and maps stay nil.
func (c Contact) Clone() Contact {
	out := c
	if c.Emails != nil {
		out.Emails = append(make([]string, 0, len(c.Emails)), c.Emails...)
	}
	if c.Phones != nil {
		out.Phones = append(make([]string, 0, len(c.Phones)), c.Phones...)
	}
	if c.Attributes != nil {
		out.Attributes = make(map[string]string, len(c.Attributes))
		for k, v := range c.Attributes {
			out.Attributes[k] = v
		}
	}
	return out
}

// HasEmail reports whether one of the contact's addresses equals addr once
// both are normalized by NormalizeAddress. An empty addr never matches.
func (c Contact) HasEmail(addr string) bool {
	n := NormalizeAddress(addr)
	if n == "" {
		return false
	}
	for _, e := range c.Emails {
		if NormalizeAddress(e) == n {
			return true
		}
	}
	return false
}

// NormalizeAddress returns the comparison form of an email address: spaces
// around it and one pair of enclosing angle brackets are removed, and the
// whole address, local part included, is lower-cased. Plus-addressing and
// dots are kept as written: "Jean+Shop@X.fr" becomes "jean+shop@x.fr".
//
// RFC 5321 lets the receiving server treat the local part as case-sensitive,
// but in practice every mainstream mail system (and every customer typing
// their address) treats it case-insensitively; a contact centre that did not
// would fail to recognise "Jean.Dupont@…" as "jean.dupont@…". Dots and plus
// tags, on the other hand, are provider-specific (Gmail ignores them, most
// others do not), so they are never removed: "jean+shop@x.fr" and
// "jean@x.fr" are different addresses.
//
// NormalizeAddress does not validate; see Validate for that.
func NormalizeAddress(addr string) string {
	a := strings.TrimSpace(addr)
	if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
		a = strings.TrimSpace(a[1 : len(a)-1])
	}
	return strings.ToLower(a)
}

// MaxNameRunes is the most characters Validate accepts in FirstName or
// LastName.
const MaxNameRunes = 200

// Limits applied by Validate.
const (
	maxNameRunes  = MaxNameRunes
	maxAddrBytes  = 254 // RFC 5321 path limit, less the angle brackets
	minPhoneDigit = 2
	maxPhoneDigit = 15 // E.164
)

// FieldError is the error Validate returns for one refused field. It wraps
// ErrInvalidInput, so errors.Is(err, ErrInvalidInput) holds.
type FieldError struct {
	Field  string // the field, e.g. "Emails[1]" or "Language"
	Value  string // the refused value, possibly empty
	Reason string // why it was refused
}

// Error returns a message that names the field, the value and the reason.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("contact: invalid %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("contact: invalid %s %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidInput.
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// Validate checks a contact before it is stored. It returns nil, or one
// *FieldError per refused field joined with errors.Join; the result always
// matches errors.Is(err, ErrInvalidInput). The rules:
//
//   - the contact is not empty: it has a name, an address or a number;
//   - names hold no control characters (CR and LF included) and at most 200
//     characters;
//   - every address is a bare addr-spec that net/mail parses ("a@b.fr", not
//     "Name <a@b.fr>"), at most 254 bytes, and no two addresses are the same
//     once normalized;
//   - every phone number holds 2 to 15 digits, optionally a leading "+", and
//     otherwise only spaces and the separators ( ) - . /
//   - Language, when set, is a well-formed BCP 47 tag;
//   - attribute keys are non-empty and hold no control characters;
//   - UpdatedAt, when both are set, is not before CreatedAt.
//
// ID is not checked: the store assigns it.
func (c Contact) Validate() error {
	var errs []error
	add := func(field, value, reason string) {
		errs = append(errs, &FieldError{Field: field, Value: value, Reason: reason})
	}
	if strings.TrimSpace(c.FirstName) == "" && strings.TrimSpace(c.LastName) == "" &&
		len(c.Emails) == 0 && len(c.Phones) == 0 {
		add("Contact", "", "empty contact: it needs a name, an email address or a phone number")
	}
	for _, f := range []struct{ name, v string }{{"FirstName", c.FirstName}, {"LastName", c.LastName}} {
		if hasControl(f.v) {
			add(f.name, f.v, "contains a control character")
		} else if utf8.RuneCountInString(f.v) > maxNameRunes {
			add(f.name, f.v, fmt.Sprintf("longer than %d characters", maxNameRunes))
		}
	}
	seen := make(map[string]int, len(c.Emails))
	for i, e := range c.Emails {
		field := fmt.Sprintf("Emails[%d]", i)
		if reason := checkAddress(e); reason != "" {
			add(field, e, reason)
			continue
		}
		n := NormalizeAddress(e)
		if j, dup := seen[n]; dup {
			add(field, e, fmt.Sprintf("same address as Emails[%d]", j))
			continue
		}
		seen[n] = i
	}
	for i, p := range c.Phones {
		if reason := checkPhone(p); reason != "" {
			add(fmt.Sprintf("Phones[%d]", i), p, reason)
		}
	}
	if c.Language != "" {
		if _, err := language.Parse(c.Language); err != nil {
			add("Language", c.Language, "not a well-formed BCP 47 language tag")
		}
	}
	for k := range c.Attributes {
		if strings.TrimSpace(k) == "" {
			add("Attributes", k, "empty attribute key")
		} else if hasControl(k) {
			add("Attributes", k, "attribute key contains a control character")
		}
	}
	if !c.CreatedAt.IsZero() && !c.UpdatedAt.IsZero() && c.UpdatedAt.Before(c.CreatedAt) {
		add("UpdatedAt", c.UpdatedAt.Format(time.RFC3339), "before CreatedAt")
	}
	return errors.Join(errs...)
}

// checkAddress returns why e is not an acceptable address, or "".
func checkAddress(e string) string {
	if strings.TrimSpace(e) == "" {
		return "empty address"
	}
	if hasControl(e) {
		return "contains a control character"
	}
	if len(e) > maxAddrBytes {
		return fmt.Sprintf("longer than %d bytes", maxAddrBytes)
	}
	a, err := mail.ParseAddress(e)
	if err != nil {
		return "not an email address: " + err.Error()
	}
	if a.Name != "" || !strings.EqualFold(a.Address, strings.TrimSpace(e)) {
		return "give the bare address (user@domain), without a display name or brackets"
	}
	return ""
}

// checkPhone returns why p is not an acceptable phone number, or "".
func checkPhone(p string) string {
	s := strings.TrimSpace(p)
	if s == "" {
		return "empty phone number"
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '(' || r == ')' || r == '-' || r == '.' || r == '/':
		default:
			return fmt.Sprintf("unexpected character %q (digits, a leading + and the separators space ( ) - . / only)", r)
		}
	}
	if digits < minPhoneDigit || digits > maxPhoneDigit {
		return fmt.Sprintf("has %d digits, want %d to %d", digits, minPhoneDigit, maxPhoneDigit)
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
