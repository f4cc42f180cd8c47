package contact

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNotFound is wrapped by the errors that report a missing contact, for
// example MostRecent called without candidates. Match it with errors.Is.
var ErrNotFound = errors.New("contact: not found")

// Chooser picks the contact an inbound message from addr belongs to when
// several contacts share that address. candidates holds every contact that
// has addr (at least one, in no guaranteed order); a Chooser must not modify
// them. It returns the chosen contact, or an error to refuse the choice (the
// caller then treats the sender as unidentified, or asks an agent).
//
// MostRecent is the default policy; a host that knows better (a CRM that
// marks one contact as the account holder, say) plugs in its own.
type Chooser func(addr string, candidates []Contact) (Contact, error)

// MostRecent is the default Chooser: it returns the candidate with the
// newest UpdatedAt, on the grounds that the contact most recently edited is
// the one the host currently considers authoritative for the address. Ties,
// including contacts that were never updated, are broken by the smallest ID,
// so the choice is deterministic whatever the order of candidates.
//
// It returns an error wrapping ErrNotFound when candidates is empty.
func MostRecent(addr string, candidates []Contact) (Contact, error) {
	if len(candidates) == 0 {
		return Contact{}, fmt.Errorf("%w: no contact has the address %q", ErrNotFound, addr)
	}
	best := 0
	for i := 1; i < len(candidates); i++ {
		if newer(candidates[i], candidates[best]) {
			best = i
		}
	}
	return candidates[best], nil
}

// newer reports whether a comes before b in "most recent first" order:
// newest UpdatedAt first, then smallest ID.
func newer(a, b Contact) bool {
	if !a.UpdatedAt.Equal(b.UpdatedAt) {
		return a.UpdatedAt.After(b.UpdatedAt)
	}
	return a.ID < b.ID
}

// sortMostRecent orders contacts newest UpdatedAt first, ties by ID.
func sortMostRecent(cs []Contact) {
	slices.SortFunc(cs, func(a, b Contact) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
