package interaction

import "time"

// Answer is a colleague's answer to a consultation, kept on the
// interaction consulted about (Interaction.Answers): the answer's typed
// place, beside the note that also records it.
type Answer struct {
	ConsultID string // the consultation interaction
	Colleague string // the agent who answered
	Text      string
	At        time.Time
}

// AddAnswer appends a colleague's answer to a consultation about it.
func (it *Interaction) AddAnswer(a Answer) { it.Answers = append(it.Answers, a) }

// LastReview returns the last round of review a reviewer decided on
// (approved or rejected: Reviewer, Decision, Reason, Remarks, DecidedAt),
// and false when none was decided yet: the outcome an author's window
// shows.
func (it *Interaction) LastReview() (Round, bool) {
	for i := len(it.Rounds) - 1; i >= 0; i-- {
		if !it.Rounds[i].DecidedAt.IsZero() {
			return it.Rounds[i].Clone(), true
		}
	}
	return Round{}, false
}
