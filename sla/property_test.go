package sla_test

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/emailflow/emailflow/sla"
)

func genTarget(t *rapid.T, label string) sla.Target {
	if !rapid.Bool().Draw(t, label+" enabled") {
		return sla.Target{}
	}
	target := sla.Target{
		Within:   time.Duration(rapid.IntRange(1, 40*60).Draw(t, label+" minutes")) * time.Minute,
		Calendar: rapid.SampledFrom([]string{"", "office"}).Draw(t, label+" calendar"),
		PauseOn:  rapid.SliceOfDistinct(rapid.SampledFrom([]sla.Pause{sla.WaitingOnCustomer, sla.WaitingOnThirdParty, sla.InReview}), rapid.ID[sla.Pause]).Draw(t, label+" pauses"),
	}
	if rapid.Bool().Draw(t, label+" warns") {
		target.Warn = rapid.IntRange(1, 99).Draw(t, label+" warn")
		target.Escalations = append(target.Escalations, sla.Escalation{On: sla.Warning, Action: sla.NotifySupervisor})
	}
	target.Escalations = append(target.Escalations, sla.Escalation{On: sla.Breach, Action: sla.RaisePriority, Priority: 9})
	return target
}

var eventKinds = []sla.EventKind{sla.Arrived, sla.CustomerMessage, sla.ReplySent, sla.PendingStarted, sla.PendingEnded,
	sla.ReviewStarted, sla.ReviewEnded, sla.Done, sla.Reopened}

type step struct {
	ev   sla.Event
	fire bool // a Tick rather than an event
}

func genSteps(t *rapid.T) []step {
	now := at(2, 0, 0).Add(time.Duration(rapid.IntRange(0, 7*24*60).Draw(t, "start")) * time.Minute)
	steps := []step{{ev: sla.Event{Kind: sla.Arrived, At: now}}}
	for range rapid.IntRange(0, 30).Draw(t, "steps") {
		now = now.Add(time.Duration(rapid.IntRange(0, 12*60).Draw(t, "minutes on")) * time.Minute)
		if rapid.IntRange(0, 3).Draw(t, "tick?") == 0 {
			steps = append(steps, step{ev: sla.Event{At: now}, fire: true})
			continue
		}
		ev := sla.Event{Kind: rapid.SampledFrom(eventKinds).Draw(t, "event"), At: now}
		if ev.Kind == sla.PendingStarted {
			ev.Reason = rapid.SampledFrom([]sla.Pause{sla.WaitingOnCustomer, sla.WaitingOnThirdParty}).Draw(t, "reason")
			if rapid.Bool().Draw(t, "until") {
				ev.Until = now.Add(time.Duration(rapid.IntRange(1, 5*24*60).Draw(t, "pending minutes")) * time.Minute)
			}
		}
		steps = append(steps, step{ev: ev})
	}
	return steps
}

// TestPropertyMachine runs random histories through random policies and
// checks what the Workspace will rely on: every firing fires once, in the
// order things fell due; Next is after every instant applied, and Fire at
// Next fires something (an index on Next never points at nothing); and
// the firings and the state do not depend on how often Fire runs.
func TestPropertyMachine(t *testing.T) {
	cals := calendars(t)
	rapid.Check(t, func(t *rapid.T) {
		m, err := sla.NewMachine(sla.Policy{
			Name:          "p",
			FirstResponse: genTarget(t, "first"),
			NextResponse:  genTarget(t, "next"),
			Resolution:    genTarget(t, "resolution"),
		}, cals)
		if err != nil {
			t.Fatal(err)
		}
		steps := genSteps(t)
		end := steps[len(steps)-1].ev.At.Add(30 * 24 * time.Hour)

		// With every Tick.
		var ticked sla.State
		var firings []sla.Firing
		seen := map[string]bool{}
		for _, s := range steps {
			before := ticked
			var fired []sla.Firing
			if s.fire {
				ticked, fired = m.Fire(ticked, s.ev.At)
			} else {
				ticked, fired, err = m.Apply(ticked, s.ev)
				if err != nil {
					if !errors.Is(err, sla.ErrInvalidEvent) {
						t.Fatalf("%s: %v", s.ev.Kind, err)
					}
					if ticked != before {
						t.Fatalf("a refused %s changed the state", s.ev.Kind)
					}
				}
			}
			firings = append(firings, fired...)
			if next := m.Next(ticked); !next.IsZero() {
				if !next.After(ticked.Last) {
					t.Fatalf("Next %v is not after the last instant applied %v", next, ticked.Last)
				}
				if _, f := m.Fire(ticked, next); len(f) == 0 {
					t.Fatalf("Fire at Next %v fires nothing", next)
				}
			}
		}
		ticked, fired := m.Fire(ticked, end)
		firings = append(firings, fired...)
		for i, f := range firings {
			if seen[f.Key()] {
				t.Fatalf("%s fired twice", f.Key())
			}
			seen[f.Key()] = true
			if i > 0 && f.At.Before(firings[i-1].At) {
				t.Fatalf("%s (%v) fired after %s (%v)", f.Key(), f.At, firings[i-1].Key(), firings[i-1].At)
			}
			for _, e := range f.Escalations {
				if e.On != f.Trigger {
					t.Fatalf("%s carries an escalation on %s", f.Key(), e.On)
				}
			}
		}
		if !m.Next(ticked).IsZero() && !m.Next(ticked).After(end) {
			t.Fatalf("something still due at the end: %v", m.Next(ticked))
		}

		// Without any Tick but the last one.
		var lazy sla.State
		var lazyFirings []sla.Firing
		for _, s := range steps {
			if s.fire {
				continue
			}
			var fired []sla.Firing
			if lazy, fired, err = m.Apply(lazy, s.ev); err == nil {
				lazyFirings = append(lazyFirings, fired...)
			}
		}
		lazy, fired = m.Fire(lazy, end)
		lazyFirings = append(lazyFirings, fired...)
		if len(lazyFirings) != len(firings) {
			t.Fatalf("with ticks %v, without %v", keys(firings), keys(lazyFirings))
		}
		for i := range firings {
			if firings[i].Key() != lazyFirings[i].Key() || !firings[i].At.Equal(lazyFirings[i].At) {
				t.Fatalf("with ticks %s at %v, without %s at %v", firings[i].Key(), firings[i].At, lazyFirings[i].Key(), lazyFirings[i].At)
			}
		}
		if ticked != lazy {
			t.Fatalf("the states differ:\n%+v\n%+v", ticked, lazy)
		}
	})
}
