package interaction

import (
	"fmt"
	"strings"
	"time"
)

// Note is a remark an agent adds to an interaction; every later handler
// sees it (a transfer note, for instance).
type Note struct {
	Author string
	At     time.Time
	Text   string
}

// AddNote appends a note by author, and a history entry that refers to it
// by number (Entry.Note) rather than copying it. An empty note is refused
// with ErrInvalidInput.
func (it *Interaction) AddNote(author, text string, at time.Time) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return fmt.Errorf("%w: note text is empty", ErrInvalidInput)
	}
	it.Notes = append(it.Notes, Note{Author: author, At: at, Text: text})
	it.Record(author, "note", at, "")
	it.History[len(it.History)-1].Note = len(it.Notes)
	return nil
}

// SetDisposition records the disposition code, which must be one of allowed
// when allowed is not empty; otherwise ErrInvalidInput.
func (it *Interaction) SetDisposition(actor, code string, allowed []string, at time.Time) error {
	if code == "" {
		return fmt.Errorf("%w: disposition code is empty", ErrInvalidInput)
	}
	if len(allowed) > 0 {
		ok := false
		for _, a := range allowed {
			if a == code {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%w: disposition %q is not one of %v", ErrInvalidInput, code, allowed)
		}
	}
	it.Disposition = code
	it.Record(actor, "disposition", at, code)
	return nil
}
