package sla

import (
	"fmt"
	"slices"
	"time"
)

// Kind names a deadline.
type Kind string

// The three deadlines of an interaction.
const (
	// FirstResponse runs from the customer's first message to the first
	// reply sent to them.
	FirstResponse Kind = "first-response"
	// NextResponse runs from each customer message that comes after a
	// reply to the next reply.
	NextResponse Kind = "next-response"
	// Resolution runs from the first message until the interaction is
	// done.
	Resolution Kind = "resolution"
)

// kinds lists the deadlines in the order they are reported and fire at
// one instant.
var kinds = [...]Kind{FirstResponse, NextResponse, Resolution}

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// Pause names a situation in which a target's clock may stop.
type Pause string

// Pauses. A target stops its clock in the situations its PauseOn lists.
const (
	// WaitingOnCustomer: pending, waiting for the customer's answer.
	WaitingOnCustomer Pause = "customer"
	// WaitingOnThirdParty: pending, waiting on someone else (a supplier, a
	// carrier, another department).
	WaitingOnThirdParty Pause = "third-party"
	// InReview: a reply is in QA review. Without it in PauseOn the review
	// counts against the deadline: the customer waits all the same.
	InReview Pause = "review"
)

// String returns the pause's name.
func (p Pause) String() string { return string(p) }

// Trigger names what fires for a deadline, or for a pending period.
type Trigger string

// Triggers.
const (
	// Warning fires once a target's Warn percentage of its time is used.
	Warning Trigger = "warning"
	// Breach fires when the time is used up before the deadline was met.
	Breach Trigger = "breach"
	// Wake fires when a pending period reaches its end time: the
	// interaction goes back to work.
	Wake Trigger = "wake"
)

// String returns the trigger's name.
func (t Trigger) String() string { return string(t) }

// Action names what an escalation does. The pure core only says which
// escalations fire; the Workspace carries them out through its routing.
type Action string

// Actions.
const (
	// RaisePriority raises the interaction's priority to Escalation.Priority
	// (never lowers it).
	RaisePriority Action = "raise-priority"
	// MoveToQueue moves the interaction to Escalation.Queue.
	MoveToQueue Action = "move-to-queue"
	// NotifySupervisor tells a supervisor: Escalation.Supervisor, or the
	// supervisors of the interaction's queue when empty.
	NotifySupervisor Action = "notify-supervisor"
)

// String returns the action's name.
func (a Action) String() string { return string(a) }

// Escalation is an action a target takes when its warning or breach fires.
type Escalation struct {
	On         Trigger // Warning or Breach
	Action     Action
	Priority   int    // RaisePriority: the priority to raise to
	Queue      string // MoveToQueue: the queue to move to
	Supervisor string // NotifySupervisor: whom to tell; "" the queue's supervisors
}

// Target is one deadline of a policy. A zero Target sets no deadline.
type Target struct {
	// Within is the time allowed; zero sets no deadline.
	Within time.Duration
	// Calendar names the business calendar Within is counted in; empty
	// counts wall-clock time.
	Calendar string
	// Warn is the share of Within, in percent (1-99), after which the
	// deadline is at risk and its warning fires; zero: no warning.
	Warn int
	// PauseOn lists the situations that stop this deadline's clock.
	PauseOn []Pause
	// Escalations fire with the target's warning or breach.
	Escalations []Escalation
}

// Enabled reports whether the target sets a deadline.
func (t Target) Enabled() bool { return t.Within > 0 }

// warnAfter returns the part of Within after which the warning fires,
// computed without overflowing for any Within.
func (t Target) warnAfter() time.Duration {
	w := time.Duration(t.Warn)
	return t.Within/100*w + t.Within%100*w/100
}

// pausedBy reports whether the target's clock stops in situation p.
func (t Target) pausedBy(p Pause) bool { return slices.Contains(t.PauseOn, p) }

// Policy is a named set of targets: the promise made for the interactions
// it applies to. Policies are data the host gives; Config says which
// interactions each applies to.
type Policy struct {
	Name          string
	FirstResponse Target
	NextResponse  Target
	Resolution    Target
}

// Target returns the policy's target for deadline k (a zero Target for an
// unknown kind).
func (p Policy) Target(k Kind) Target {
	switch k {
	case FirstResponse:
		return p.FirstResponse
	case NextResponse:
		return p.NextResponse
	case Resolution:
		return p.Resolution
	}
	return Target{}
}

// Validate checks the policy against the calendars it may name.
// Errors: ErrInvalidPolicy, ErrUnknownCalendar (with ErrInvalidPolicy).
func (p Policy) Validate(cals Calendars) error {
	for _, k := range kinds {
		if err := p.Target(k).validate(cals); err != nil {
			return fmt.Errorf("sla: policy %q: %s: %w", p.Name, k, err)
		}
	}
	return nil
}

func (t Target) validate(cals Calendars) error {
	if t.Within < 0 {
		return fmt.Errorf("negative duration %v: %w", t.Within, ErrInvalidPolicy)
	}
	if t.Warn < 0 || t.Warn > 99 {
		return fmt.Errorf("warning at %d%%, not within 1-99%%: %w", t.Warn, ErrInvalidPolicy)
	}
	if !t.Enabled() && (t.Warn > 0 || len(t.Escalations) > 0) {
		return fmt.Errorf("a warning or an escalation without a duration: %w", ErrInvalidPolicy)
	}
	if t.Calendar != "" {
		if _, ok := cals[t.Calendar]; !ok {
			return fmt.Errorf("calendar %q: %w: %w", t.Calendar, ErrInvalidPolicy, ErrUnknownCalendar)
		}
	}
	for _, p := range t.PauseOn {
		if p != WaitingOnCustomer && p != WaitingOnThirdParty && p != InReview {
			return fmt.Errorf("unknown pause %q: %w", p, ErrInvalidPolicy)
		}
	}
	for i, e := range t.Escalations {
		switch {
		case e.On != Warning && e.On != Breach:
			return fmt.Errorf("escalation %d: trigger %q is neither %q nor %q: %w", i, e.On, Warning, Breach, ErrInvalidPolicy)
		case e.On == Warning && t.Warn == 0:
			return fmt.Errorf("escalation %d on a warning the target does not give (Warn is 0): %w", i, ErrInvalidPolicy)
		case e.Action == MoveToQueue && e.Queue == "":
			return fmt.Errorf("escalation %d: a move to no queue: %w", i, ErrInvalidPolicy)
		case e.Action != RaisePriority && e.Action != MoveToQueue && e.Action != NotifySupervisor:
			return fmt.Errorf("escalation %d: unknown action %q: %w", i, e.Action, ErrInvalidPolicy)
		}
	}
	return nil
}
