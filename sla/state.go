package sla

import (
	"fmt"
	"time"
)

// State is what an interaction's deadlines need remembered between events:
// a small value with exported fields, which the Workspace stores with the
// interaction (as JSON or in columns) and hands back to the Machine. Its
// zero value is an interaction that has not arrived.
type State struct {
	// Arrived is when the first message came in; zero before.
	Arrived time.Time
	// Last is the latest instant an event or a Fire was applied at.
	Last time.Time
	// Done is set while the interaction is done.
	Done bool
	// Pending is the current pending period, if any; Pendings counts the
	// periods begun (it numbers their wake-ups).
	Pending  Pending
	Pendings int
	// Reviews counts the replies in QA review.
	Reviews int

	FirstResponse Timer
	NextResponse  Timer
	Resolution    Timer
}

// Pending is a period in which the interaction waits on someone.
type Pending struct {
	Reason Pause
	Since  time.Time // zero: not pending
	Until  time.Time // zero: no wake-up time
}

// Active reports whether p is a pending period under way.
func (p Pending) Active() bool { return !p.Since.IsZero() }

// Timer is the clock of one deadline. Time is counted in the target's
// calendar: Used holds what was counted before Running, the start of the
// current run (zero while the clock is stopped).
type Timer struct {
	// Seq numbers the deadline: 0 never started; next-response deadlines
	// count up with each one.
	Seq      int
	Started  time.Time
	Used     time.Duration
	Running  time.Time
	Met      time.Time // zero while open
	Warned   bool      // the warning fired
	Breached bool      // the breach fired
}

// open reports whether the deadline started and was not met yet.
func (t *Timer) open() bool { return t.Seq > 0 && t.Met.IsZero() }

func (st *State) timer(k Kind) *Timer {
	switch k {
	case FirstResponse:
		return &st.FirstResponse
	case NextResponse:
		return &st.NextResponse
	case Resolution:
		return &st.Resolution
	}
	panic(fmt.Sprintf("sla: unknown deadline %q", k))
}

// Phase is where a deadline stands.
type Phase string

// Phases.
const (
	Running  Phase = "running"  // the clock runs
	Paused   Phase = "paused"   // the clock is stopped (pending, in review)
	Met      Phase = "met"      // met in time
	Breached Phase = "breached" // not met in time (it may have been met since: see Status.Met)
)

// String returns the phase's name.
func (p Phase) String() string { return string(p) }

// Status is what a deadline shows at an instant: for an agent's view of
// the interaction and a supervisor's of the queue.
type Status struct {
	Kind  Kind
	Seq   int
	Phase Phase
	// AtRisk: the warning fired, the deadline is neither met nor breached.
	AtRisk  bool
	Started time.Time
	// Due and WarnAt are when the deadline breaches and warns while its
	// clock runs; zero while paused, once met, or (WarnAt) without a
	// warning.
	Due    time.Time
	WarnAt time.Time
	Met    time.Time
	// Remaining is the time left, in the target's calendar: negative when
	// overdue; for a met deadline, what was left when it was met.
	Remaining time.Duration
}

// Firing is something that fell due: a warning or a breach of a deadline,
// with the escalations the target attaches to it, or the wake-up of a
// pending period. Each fires exactly once: State remembers it.
type Firing struct {
	Trigger  Trigger
	Deadline Kind // "" for Wake
	// Seq is the deadline's number, or the pending period's for Wake.
	Seq int
	// At is when it fell due, which may be before it was found (a Tick
	// that runs late, an event that comes after a breach).
	At time.Time
	// Reason is, for Wake, what the interaction was waiting on.
	Reason      Pause
	Escalations []Escalation
}

// Key identifies the firing among all of its interaction's, for
// idempotent handling: "first-response/1/warning", "next-response/3/breach",
// "wake/2".
func (f Firing) Key() string {
	if f.Trigger == Wake {
		return fmt.Sprintf("wake/%d", f.Seq)
	}
	return fmt.Sprintf("%s/%d/%s", f.Deadline, f.Seq, f.Trigger)
}
