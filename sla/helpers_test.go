package sla_test

import (
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/businesstime"
	"github.com/emailflow/emailflow/sla"
)

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at returns a time in Paris in the week of Monday 2 March 2026 (day 2 is
// that Monday).
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, paris)
}

// calendars: "office" is open Monday to Friday 09:00-12:30 and
// 13:30-18:00 in Paris.
func calendars(t testing.TB) sla.Calendars {
	office := businesstime.MustParseHours("09:00-12:30, 13:30-18:00")
	c, err := businesstime.New(businesstime.Config{
		Name: "office",
		Zone: "Europe/Paris",
		Week: businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office},
	})
	require.NoError(t, err)
	return sla.Calendars{"office": c}
}

// standard: first response within 4 business hours (warning at 75 %:
// after 3 hours; notify the supervisors; on breach move to "escalated"),
// next response within 8, resolution within 16 (2 days), which pauses
// while waiting on the customer or a third party (warning at 80 %, breach
// raises the priority to 10).
func standard() sla.Policy {
	return sla.Policy{
		Name: "standard",
		FirstResponse: sla.Target{Within: 4 * time.Hour, Calendar: "office", Warn: 75, Escalations: []sla.Escalation{
			{On: sla.Warning, Action: sla.NotifySupervisor},
			{On: sla.Breach, Action: sla.MoveToQueue, Queue: "escalated"},
		}},
		NextResponse: sla.Target{Within: 8 * time.Hour, Calendar: "office", Warn: 80},
		Resolution: sla.Target{Within: 16 * time.Hour, Calendar: "office", Warn: 80,
			PauseOn:     []sla.Pause{sla.WaitingOnCustomer, sla.WaitingOnThirdParty},
			Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.RaisePriority, Priority: 10}}},
	}
}

func machine(t testing.TB, p sla.Policy) sla.Machine {
	m, err := sla.NewMachine(p, calendars(t))
	require.NoError(t, err)
	return m
}

// run applies events in order and returns the state and every firing.
func run(t testing.TB, m sla.Machine, events ...sla.Event) (sla.State, []sla.Firing) {
	t.Helper()
	var st sla.State
	var all []sla.Firing
	for _, ev := range events {
		var fired []sla.Firing
		var err error
		st, fired, err = m.Apply(st, ev)
		require.NoError(t, err, "%s at %v", ev.Kind, ev.At)
		all = append(all, fired...)
	}
	return st, all
}

func status(m sla.Machine, st sla.State, now time.Time, k sla.Kind) sla.Status {
	for _, s := range m.Status(st, now) {
		if s.Kind == k {
			return s
		}
	}
	return sla.Status{}
}

func keys(fs []sla.Firing) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Key())
	}
	return out
}
