package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/port"
)

// Contacts are stored as JSON, with their normalized addresses in
// contact_addresses (for ContactsByAddress) and their search keys in
// contact_keys: one row per folded name word ("n" + word), folded address
// ("e" + address) and suffix of at least three digits of a phone number
// ("p" + digits). Keys are bytea, so a prefix is a byte range of the
// primary key: a search term costs one index range scan, and "the digits
// occur in the number" is "the digits prefix one of its suffixes".

// Key kinds of contact_keys.
const (
	keyName  = 'n'
	keyEmail = 'e'
	keyPhone = 'p'
)

// minPhoneDigits is the fewest digits a search term needs to be matched
// against phone numbers (as contact.Index does).
const minPhoneDigits = 3

// contactKeys returns the search keys of c, without duplicates.
func contactKeys(c *contact.Contact) [][]byte {
	var keys []string
	for _, name := range []string{c.FirstName, c.LastName} {
		for _, w := range nameWords(contact.Fold(name)) {
			keys = append(keys, string(keyName)+w)
		}
	}
	for _, e := range c.Emails {
		if n := contact.NormalizeAddress(e); n != "" {
			keys = append(keys, string(keyEmail)+contact.Fold(n))
		}
	}
	for _, p := range c.Phones {
		g := contact.Digits(p)
		for i := 0; len(g)-i >= minPhoneDigits; i++ {
			keys = append(keys, string(keyPhone)+g[i:])
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	return out
}

// nameWords returns the words of a folded name: its runs of letters and
// digits, plus, for a chunk made of several runs ("saint-exupery",
// "d'artagnan"), the runs glued together.
func nameWords(folded string) []string {
	var out []string
	for _, chunk := range strings.Fields(folded) {
		runs := strings.FieldsFunc(chunk, notWordRune)
		out = append(out, runs...)
		if len(runs) > 1 {
			out = append(out, strings.Join(runs, ""))
		}
	}
	return out
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// sortKeys returns the columns search results are ordered by: folded last
// name, folded first name (then id); a contact without a name sorts by its
// primary address, or else its primary number's digits.
func sortKeys(c *contact.Contact) (last, first string) {
	last = contact.Fold(strings.TrimSpace(c.LastName))
	first = contact.Fold(strings.TrimSpace(c.FirstName))
	if last == "" && first == "" {
		switch {
		case slices.ContainsFunc(c.Emails, func(e string) bool { return contact.NormalizeAddress(e) != "" }):
			last = contact.Fold(contact.NormalizeAddress(c.Emails[0]))
		case len(c.Phones) > 0:
			last = contact.Digits(c.Phones[0])
		}
	}
	return last, first
}

// term is one word of a search query and the ways it may match: a prefix
// of an address, prefixes of name words (all of them), digits within a
// phone number. A contact matches the term when one way matches.
type term struct {
	email  string
	words  []string
	digits string
}

// parseQuery splits a search query into terms, following the rules of
// contact.Index: all reports a blank query (everything matches); a query
// with no letter or digit gives no term and matches nothing.
func parseQuery(q string) (terms []term, all bool) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, true
	}
	if phoneLike(q) && strings.ContainsFunc(q, unicode.IsSpace) {
		if g := phoneDigits(q); g != "" {
			return []term{{digits: g}}, false
		}
	}
	for _, chunk := range strings.Fields(q) {
		f := contact.Fold(chunk)
		var tm term
		if strings.Contains(f, "@") {
			tm.email = f
		} else if tm.words = strings.FieldsFunc(f, notWordRune); len(tm.words) > 0 {
			tm.email = f
		}
		if phoneLike(chunk) {
			tm.digits = phoneDigits(chunk)
		}
		if tm.email != "" || len(tm.words) > 0 || tm.digits != "" {
			terms = append(terms, tm)
		}
	}
	return terms, false
}

// phoneLike reports whether s holds digits and otherwise only a leading
// "+", spaces and the separators ( ) - . /
func phoneLike(s string) bool {
	digits := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '+' && i == 0, unicode.IsSpace(r), strings.ContainsRune("()-./", r):
		default:
			return false
		}
	}
	return digits
}

// phoneDigits returns the digits a phone-like term must contain: without
// a leading "00" or "0", and "" when fewer than three remain.
func phoneDigits(s string) string {
	g := contact.Digits(s)
	if strings.HasPrefix(g, "00") {
		g = g[2:]
	} else if strings.HasPrefix(g, "0") {
		g = g[1:]
	}
	if len(g) < minPhoneDigits {
		return ""
	}
	return g
}

// searchSQL builds the WHERE condition of a search and its arguments.
func searchSQL(terms []term) (string, []any) {
	var args []any
	prefix := func(kind byte, p string) string {
		lo := append([]byte{kind}, p...)
		hi := slices.Clone(lo)
		hi[len(hi)-1]++ // UTF-8 never holds 0xFF, so this does not overflow
		args = append(args, lo, hi)
		return fmt.Sprintf("c.id IN (SELECT contact_id FROM {s}.contact_keys WHERE key >= $%d AND key < $%d)", len(args)-1, len(args))
	}
	conds := make([]string, 0, len(terms))
	for _, tm := range terms {
		var ways []string
		if tm.email != "" {
			ways = append(ways, prefix(keyEmail, tm.email))
		}
		if len(tm.words) > 0 {
			all := make([]string, len(tm.words))
			for i, w := range tm.words {
				all[i] = prefix(keyName, w)
			}
			ways = append(ways, "("+strings.Join(all, " AND ")+")")
		}
		if tm.digits != "" {
			ways = append(ways, prefix(keyPhone, tm.digits))
		}
		conds = append(conds, "("+strings.Join(ways, " OR ")+")")
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

// Contact implements port.Directory: the contact with id, or an error
// wrapping ErrNotFound.
func (s *Store) Contact(ctx context.Context, id string) (contact.Contact, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, s.sql(`SELECT data FROM {s}.contacts WHERE id = $1`), id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return contact.Contact{}, notFound("contact", id)
	}
	if err != nil {
		return contact.Contact{}, mapErr("contact", err)
	}
	return decodeContact(data)
}

func decodeContact(data []byte) (contact.Contact, error) {
	var c contact.Contact
	if err := json.Unmarshal(data, &c); err != nil {
		return contact.Contact{}, fmt.Errorf("postgres: decode contact: %w", err)
	}
	return c, nil
}

func (s *Store) queryContacts(ctx context.Context, op, q string, args ...any) ([]contact.Contact, error) {
	rows, err := s.pool.Query(ctx, s.sql(q), args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	var out []contact.Contact
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		c, err := decodeContact(data)
		out = append(out, c)
		return err
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}

// ContactsByAddress implements port.Directory: the contacts having
// addr (compared in contact.NormalizeAddress form), newest UpdatedAt first,
// ties by id; none for an empty address.
func (s *Store) ContactsByAddress(ctx context.Context, addr string) ([]contact.Contact, error) {
	n := contact.NormalizeAddress(addr)
	if n == "" {
		return nil, nil
	}
	return s.queryContacts(ctx, "contacts by address", contactsByAddressSQL, n)
}

// contactsByAddressSQL selects the contacts having a normalized address,
// newest first.
const contactsByAddressSQL = `SELECT c.data FROM {s}.contact_addresses a
	JOIN {s}.contacts c ON c.id = a.contact_id WHERE a.address = $1
	ORDER BY c.updated_at DESC, c.id`

// CreateContact implements port.Directory. Errors: ErrInvalidInput
// (no id, or Validate refuses it), ErrConflict (the id exists).
func (s *Store) CreateContact(ctx context.Context, c contact.Contact) error {
	if c.ID == "" {
		return fmt.Errorf("%w: contact without id", port.ErrInvalidInput)
	}
	return s.putContact(ctx, c, true)
}

// UpdateContact implements port.Directory. Errors: ErrInvalidInput
// (Validate refuses it), ErrNotFound (no contact has the id).
func (s *Store) UpdateContact(ctx context.Context, c contact.Contact) error {
	return s.putContact(ctx, c, false)
}

func (s *Store) putContact(ctx context.Context, c contact.Contact, create bool) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %w", port.ErrInvalidInput, err)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.writeContact(ctx, tx, c, create) })
}

// EnsureContact implements port.ContactEnsurer. An advisory lock on
// the address, held to the end of the transaction, makes the look-up and
// the creation one step for every process on the schema.
func (s *Store) EnsureContact(ctx context.Context, c contact.Contact) ([]contact.Contact, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", port.ErrInvalidInput, err)
	}
	if len(c.Emails) == 0 {
		return nil, fmt.Errorf("%w: contact %q has no address to ensure", port.ErrInvalidInput, c.ID)
	}
	addr := contact.NormalizeAddress(c.Emails[0])
	var found []contact.Contact
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "emailflow contact "+s.schema+" "+addr); err != nil {
			return mapErr("ensure contact", err)
		}
		rows, err := tx.Query(ctx, s.sql(contactsByAddressSQL), addr)
		if err != nil {
			return mapErr("ensure contact", err)
		}
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
			c, err := decodeContact(data)
			found = append(found, c)
			return err
		})
		if err != nil || len(found) > 0 {
			return mapErr("ensure contact", err)
		}
		found = []contact.Contact{c.Clone()}
		return s.writeContact(ctx, tx, c, true)
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// writeContact stores a valid contact in tx: a new one (create), or over
// the one with its id.
func (s *Store) writeContact(ctx context.Context, tx pgx.Tx, c contact.Contact, create bool) error {
	c = c.Clone()
	normTimes(&c)
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("postgres: encode contact %s: %w", c.ID, err)
	}
	last, first := sortKeys(&c)
	var addrs []string
	for _, e := range c.Emails {
		if n := contact.NormalizeAddress(e); n != "" {
			addrs = append(addrs, n)
		}
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	keys := contactKeys(&c)
	q := `INSERT INTO {s}.contacts (id, updated_at, sort_last, sort_first, data)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`
	if !create {
		q = `UPDATE {s}.contacts SET updated_at = $2, sort_last = $3, sort_first = $4, data = $5
			WHERE id = $1`
	}
	tag, err := tx.Exec(ctx, s.sql(q), c.ID, c.UpdatedAt, last, first, data)
	if err != nil {
		return mapErr("put contact", err)
	}
	if tag.RowsAffected() == 0 {
		if create {
			return fmt.Errorf("%w: contact %q exists", port.ErrConflict, c.ID)
		}
		return notFound("contact", c.ID)
	}
	b := &pgx.Batch{}
	if !create {
		b.Queue(s.sql(`DELETE FROM {s}.contact_addresses WHERE contact_id = $1`), c.ID)
		b.Queue(s.sql(`DELETE FROM {s}.contact_keys WHERE contact_id = $1`), c.ID)
	}
	b.Queue(s.sql(`INSERT INTO {s}.contact_addresses (address, contact_id)
		SELECT a, $2 FROM unnest($1::text[]) AS a`), addrs, c.ID)
	b.Queue(s.sql(`INSERT INTO {s}.contact_keys (key, contact_id)
		SELECT k, $2 FROM unnest($1::bytea[]) AS k`), keys, c.ID)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return mapErr("put contact", err)
	}
	return nil
}

// SearchContacts implements port.Directory, with the matching rules
// and order of contact.Index.Search: each term of the query is a prefix of
// a name word or of an address, or digits within a phone number, case and
// accents folded with contact.Fold; results by last name, first name, id.
func (s *Store) SearchContacts(ctx context.Context, query string, pg contact.Page) (contact.Result, error) {
	terms, all := parseQuery(query)
	if !all && len(terms) == 0 {
		return contact.Result{}, nil
	}
	offset, limit := max(pg.Offset, 0), pg.Limit
	switch {
	case limit <= 0:
		limit = contact.DefaultLimit
	case limit > contact.MaxLimit:
		limit = contact.MaxLimit
	}
	where, args := searchSQL(terms)
	args = append(args, offset, limit)
	q := `SELECT c.data, count(*) OVER () FROM {s}.contacts c WHERE ` + where +
		` ORDER BY c.sort_last, c.sort_first, c.id OFFSET $` + strconv.Itoa(len(args)-1) + ` LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, s.render(q), args...)
	if err != nil {
		return contact.Result{}, mapErr("search contacts", err)
	}
	var res contact.Result
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data, &res.Total}, func() error {
		c, err := decodeContact(data)
		res.Contacts = append(res.Contacts, c)
		return err
	})
	if err != nil {
		return contact.Result{}, mapErr("search contacts", err)
	}
	if len(res.Contacts) == 0 && offset > 0 {
		// Past the last page: count alone.
		err := s.pool.QueryRow(ctx, s.render(`SELECT count(*) FROM {s}.contacts c WHERE `+where), args[:len(args)-2]...).Scan(&res.Total)
		if err != nil {
			return contact.Result{}, mapErr("search contacts", err)
		}
	}
	return res, nil
}
