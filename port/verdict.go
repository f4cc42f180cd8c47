package port

// VerdictAction is what a filter decides.
type VerdictAction string

// Verdict actions.
const (
	// VerdictPass is no opinion: the next filter decides.
	VerdictPass VerdictAction = ""
	// VerdictDeliver lets the mail through without asking the filters
	// after this one.
	VerdictDeliver VerdictAction = "deliver"
	// VerdictQuarantine sets the mail aside for a supervisor: it is
	// stored as a quarantined inbound interaction (see Release).
	VerdictQuarantine VerdictAction = "quarantine"
	// VerdictReject refuses the mail: Ingest returns ErrRejected and
	// stores nothing.
	VerdictReject VerdictAction = "reject"
)

// String returns the action's name ("" for VerdictPass).
func (a VerdictAction) String() string { return string(a) }

// Verdict is a filter's decision on a message.
type Verdict struct {
	Action VerdictAction
	// Reason says why, for the supervisor who reviews the quarantine and
	// for the rejection's error.
	Reason string
	// Score is the filter's score, when Scored (a spam score: higher is
	// more likely spam).
	Score  float64
	Scored bool
	// Filter names the filter that decided: "sender-list", "upstream", or
	// what a host's filter says; the Workspace sets "filter N" (its index
	// in Options.Filters, from 1) when a filter leaves it empty.
	Filter string
}
