package sla

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Machine applies one policy to interactions' states: the functional core
// of service levels. Its functions take a State and return a new one; they
// do no I/O and read no clock. The zero Machine applies an empty policy:
// it keeps the clocks but sets no deadline.
type Machine struct {
	policy Policy
	cals   Calendars
}

// NewMachine validates p against the calendars its targets may name and
// returns its machine. It copies what it keeps.
// Errors: ErrInvalidPolicy, ErrUnknownCalendar.
func NewMachine(p Policy, cals Calendars) (Machine, error) {
	if err := p.Validate(cals); err != nil {
		return Machine{}, err
	}
	for _, k := range kinds {
		t := p.Target(k)
		t.PauseOn = slices.Clone(t.PauseOn)
		t.Escalations = slices.Clone(t.Escalations)
		switch k {
		case FirstResponse:
			p.FirstResponse = t
		case NextResponse:
			p.NextResponse = t
		case Resolution:
			p.Resolution = t
		}
	}
	return Machine{policy: p, cals: maps.Clone(cals)}, nil
}

// Policy returns the machine's policy.
func (m Machine) Policy() Policy { return m.policy }

// Apply applies ev to st. First it fires what fell due up to ev.At (a
// reply sent at or after the due time is a breach, found even if no Fire
// ran in between), then it applies the event. An event dated before st.Last is
// taken at st.Last: clocks of several processes may disagree a little.
// On an error st is returned unchanged.
// Errors: ErrInvalidEvent.
func (m Machine) Apply(st State, ev Event) (State, []Firing, error) {
	at := ev.At
	if at.Before(st.Last) {
		at = st.Last
	}
	if err := check(&st, ev, at); err != nil {
		return st, nil, err
	}
	fired := m.advance(&st, at)
	switch ev.Kind {
	case Arrived:
		st.Arrived = at
		st.FirstResponse = Timer{Seq: 1, Started: at}
		st.Resolution = Timer{Seq: 1, Started: at}
	case CustomerMessage:
		st.Pending = Pending{} // the customer answered, or wrote anyway
		if st.FirstResponse.Seq > 0 && !st.FirstResponse.open() && !st.NextResponse.open() {
			st.NextResponse = Timer{Seq: st.NextResponse.Seq + 1, Started: at}
		}
	case ReplySent:
		switch {
		case st.FirstResponse.open():
			m.meet(&st, FirstResponse, at)
		case st.NextResponse.open():
			m.meet(&st, NextResponse, at)
		}
	case PendingStarted:
		st.Pendings++
		st.Pending = Pending{Reason: ev.Reason, Since: at, Until: ev.Until}
	case PendingEnded:
		st.Pending = Pending{}
	case ReviewStarted:
		st.Reviews++
	case ReviewEnded:
		st.Reviews = max(st.Reviews-1, 0)
	case Done:
		for _, k := range kinds {
			if st.timer(k).open() {
				m.meet(&st, k, at)
			}
		}
		st.Done = true
		st.Pending = Pending{}
	case Reopened:
		st.Done = false
		st.Resolution.Met = time.Time{}
	}
	m.reconcile(&st, at)
	return st, fired, nil
}

// check refuses an event the state does not allow.
func check(st *State, ev Event, at time.Time) error {
	if ev.At.IsZero() {
		return fmt.Errorf("sla: %s without a time: %w", ev.Kind, ErrInvalidEvent)
	}
	switch ev.Kind {
	case Arrived:
		if !st.Arrived.IsZero() {
			return fmt.Errorf("sla: arrived again (first at %v): %w", st.Arrived, ErrInvalidEvent)
		}
		return nil
	case CustomerMessage, ReplySent, PendingStarted, PendingEnded, ReviewStarted, ReviewEnded, Done, Reopened:
	default:
		return fmt.Errorf("sla: unknown event %q: %w", ev.Kind, ErrInvalidEvent)
	}
	if st.Arrived.IsZero() {
		return fmt.Errorf("sla: %s before the interaction arrived: %w", ev.Kind, ErrInvalidEvent)
	}
	switch ev.Kind {
	case CustomerMessage, PendingStarted, Done:
		if st.Done {
			return fmt.Errorf("sla: %s on a done interaction (reopen it first): %w", ev.Kind, ErrInvalidEvent)
		}
	case Reopened:
		if !st.Done {
			return fmt.Errorf("sla: reopened, but it is not done: %w", ErrInvalidEvent)
		}
	}
	if ev.Kind == PendingStarted {
		if ev.Reason != WaitingOnCustomer && ev.Reason != WaitingOnThirdParty {
			return fmt.Errorf("sla: pending on %q, neither %q nor %q: %w", ev.Reason, WaitingOnCustomer, WaitingOnThirdParty, ErrInvalidEvent)
		}
		if !ev.Until.IsZero() && !ev.Until.After(at) {
			return fmt.Errorf("sla: pending until %v, not after %v: %w", ev.Until, at, ErrInvalidEvent)
		}
	}
	return nil
}

// Fire fires what fell due up to now, in the order it fell due, each
// firing once: the warnings and breaches of the deadlines (with their
// escalations) and the wake-up of a pending period that reached its time
// (the clocks it stopped run again from that time). Fire at an instant
// before st.Last fires nothing.
func (m Machine) Fire(st State, now time.Time) (State, []Firing) {
	fired := m.advance(&st, now)
	return st, fired
}

// Next returns the next instant at which Fire has something to fire, or
// the zero time when nothing is scheduled: what the Workspace indexes its
// interactions by, so a Tick reads only those due.
func (m Machine) Next(st State) time.Time {
	d, _ := m.upcoming(&st)
	return d.at
}

// Due returns the earliest due time of the deadlines whose clocks run,
// breached ones included, or the zero time: the key to order a queue by
// service level.
func (m Machine) Due(st State) time.Time {
	var due time.Time
	for _, k := range kinds {
		t, target := st.timer(k), m.policy.Target(k)
		if !t.open() || t.Running.IsZero() || !target.Enabled() {
			continue
		}
		if d := m.calendar(k).Add(t.Running, target.Within-t.Used); due.IsZero() || d.Before(due) {
			due = d
		}
	}
	return due
}

// Status returns what each deadline the policy sets shows at now, in the
// order first response, next response, resolution, leaving out those that
// never started. It counts what
// fell due by now even if Fire has not run.
func (m Machine) Status(st State, now time.Time) []Status {
	m.advance(&st, now)
	var out []Status
	for _, k := range kinds {
		t, target := st.timer(k), m.policy.Target(k)
		if t.Seq == 0 || !target.Enabled() {
			continue
		}
		cal := m.calendar(k)
		s := Status{Kind: k, Seq: t.Seq, Started: t.Started, Met: t.Met, Remaining: target.Within - t.Used}
		switch {
		case t.Breached:
			s.Phase = Breached
		case !t.open():
			s.Phase = Met
		case t.Running.IsZero():
			s.Phase = Paused
		default:
			s.Phase = Running
		}
		if t.open() && !t.Running.IsZero() {
			if now.After(t.Running) {
				s.Remaining -= cal.Between(t.Running, now)
			}
			s.Due = cal.Add(t.Running, target.Within-t.Used)
			if target.Warn > 0 {
				s.WarnAt = cal.Add(t.Running, target.warnAfter()-t.Used)
			}
		}
		s.AtRisk = t.open() && t.Warned && !t.Breached
		out = append(out, s)
	}
	return out
}

// calendar returns the calendar deadline k counts in.
func (m Machine) calendar(k Kind) Calendar {
	if c, ok := m.cals[m.policy.Target(k).Calendar]; ok {
		return c
	}
	return wallClock{}
}

// paused reports whether deadline k's clock stops in st's situation.
func (m Machine) paused(st *State, k Kind) bool {
	t := m.policy.Target(k)
	return (st.Pending.Active() && t.pausedBy(st.Pending.Reason)) || (st.Reviews > 0 && t.pausedBy(InReview))
}

// reconcile starts and stops the open deadlines' clocks, at at, as st's
// situation says.
func (m Machine) reconcile(st *State, at time.Time) {
	for _, k := range kinds {
		t := st.timer(k)
		if !t.open() {
			continue
		}
		run := !st.Done && !m.paused(st, k)
		switch {
		case run && t.Running.IsZero():
			t.Running = at
		case !run && !t.Running.IsZero():
			t.Used += m.calendar(k).Between(t.Running, at)
			t.Running = time.Time{}
		}
	}
}

// meet stops deadline k's clock at at, for good.
func (m Machine) meet(st *State, k Kind, at time.Time) {
	t := st.timer(k)
	if !t.Running.IsZero() {
		t.Used += m.calendar(k).Between(t.Running, at)
		t.Running = time.Time{}
	}
	t.Met = at
}

// scheduled is the next thing to fire.
type scheduled struct {
	at      time.Time
	trigger Trigger
	kind    Kind
}

// upcoming returns the earliest thing to fire in st; among things due at
// one instant, a wake-up first, then by deadline in the order of kinds,
// warning before breach.
func (m Machine) upcoming(st *State) (scheduled, bool) {
	var next scheduled
	found := false
	consider := func(s scheduled) {
		if !found || s.at.Before(next.at) {
			next, found = s, true
		}
	}
	if st.Pending.Active() && !st.Pending.Until.IsZero() {
		consider(scheduled{st.Pending.Until, Wake, ""})
	}
	for _, k := range kinds {
		t, target := st.timer(k), m.policy.Target(k)
		if !t.open() || t.Running.IsZero() || !target.Enabled() {
			continue
		}
		cal := m.calendar(k)
		if target.Warn > 0 && !t.Warned {
			consider(scheduled{cal.Add(t.Running, target.warnAfter()-t.Used), Warning, k})
		}
		if !t.Breached {
			consider(scheduled{cal.Add(t.Running, target.Within-t.Used), Breach, k})
		}
	}
	return next, found
}

// advance fires, in order, what falls due up to now.
func (m Machine) advance(st *State, now time.Time) []Firing {
	var fired []Firing
	for {
		s, ok := m.upcoming(st)
		if !ok || s.at.After(now) {
			break
		}
		if s.trigger == Wake {
			fired = append(fired, Firing{Trigger: Wake, Seq: st.Pendings, At: s.at, Reason: st.Pending.Reason})
			st.Pending = Pending{}
			m.reconcile(st, s.at)
			continue
		}
		t := st.timer(s.kind)
		if s.trigger == Warning {
			t.Warned = true
		} else {
			t.Breached = true
		}
		f := Firing{Trigger: s.trigger, Deadline: s.kind, Seq: t.Seq, At: s.at}
		for _, e := range m.policy.Target(s.kind).Escalations {
			if e.On == s.trigger {
				f.Escalations = append(f.Escalations, e)
			}
		}
		fired = append(fired, f)
	}
	if now.After(st.Last) {
		st.Last = now
	}
	return fired
}
