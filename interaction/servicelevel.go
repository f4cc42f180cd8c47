package interaction

import (
	"time"

	"github.com/emailflow/emailflow/sla"
)

// Risk is how an inbound interaction stands against its deadlines, as
// stored with it for statistics.
type Risk string

// Risks.
const (
	RiskNone     Risk = ""         // no open deadline warned or breached
	RiskAtRisk   Risk = "at-risk"  // an open deadline warned, none breached
	RiskBreached Risk = "breached" // an open deadline is breached
)

// String returns the risk's name ("none" for RiskNone).
func (r Risk) String() string {
	if r == RiskNone {
		return "none"
	}
	return string(r)
}

// ServiceLevel is what an inbound interaction keeps of its service levels:
// the state of its deadlines (see package sla) and the values derived from
// it that stores index and statistics read. The Workspace keeps it; its
// zero value is an interaction without deadlines.
type ServiceLevel struct {
	// Policy names the policy that applied at the last change; empty when
	// none does (the clocks still run, and a pending period still wakes).
	Policy string `json:",omitempty"`
	// Route is the name of the route rule the interaction came by, which
	// rules may select a policy by.
	Route string `json:",omitempty"`
	// State is the deadlines' state.
	State sla.State
	// Next is when something falls due next (a warning, a breach, a
	// pending period's wake-up): the key of the stores' deadline index.
	// Zero when nothing is scheduled.
	Next time.Time `json:",omitzero"`
	// Due is the earliest due time of the deadlines whose clocks run: the
	// key of a queue ordered by deadline. Zero when none runs.
	Due time.Time `json:",omitzero"`
	// Risk says whether an open deadline warned or breached.
	Risk Risk `json:",omitempty"`
	// WakeToQueue sends the interaction back to its queue rather than to
	// its owner when its pending period ends.
	WakeToQueue bool `json:",omitempty"`
}

// Firing is what an sla-warning, sla-breached or sla-notify event carries
// (its Deadline): which deadline fired, when it fell due and under which
// policy.
type Firing struct {
	Deadline sla.Kind
	// Seq numbers the deadline among its kind (next-response deadlines
	// count up).
	Seq     int
	Trigger sla.Trigger // sla.Warning or sla.Breach
	// At is when it fell due, which may be before the event (a Tick that
	// ran late).
	At     time.Time
	Policy string
}

// Key identifies the deadline's firing among its interaction's, for
// idempotent handling by the host: "first-response/1/warning".
func (f Firing) Key() string {
	return sla.Firing{Trigger: f.Trigger, Deadline: f.Deadline, Seq: f.Seq}.Key()
}

// String returns the firing as an event's Detail says it:
// "first-response/1/breach at 2026-03-02T13:00:00Z policy standard".
func (f Firing) String() string {
	return f.Key() + " at " + f.At.UTC().Format(time.RFC3339Nano) + " policy " + f.Policy
}
