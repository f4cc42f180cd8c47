package interaction

import "time"

// Entry is one line of an interaction's history: who did what, when, and
// the state before and after (equal for changes that are not transitions).
type Entry struct {
	At     time.Time
	Actor  string
	Action string // an Event name, or "create", "note", "case-data", "disposition", ...
	From   State
	To     State
	Detail string
	// Note, on a "note" entry, is the number of the note in Notes (from
	// 1): the entry refers to the note instead of copying its text.
	Note int
}
