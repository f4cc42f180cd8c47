package sla_test

import (
	"fmt"
	"time"

	"github.com/emailflow/emailflow/businesstime"
	"github.com/emailflow/emailflow/sla"
)

// A first response promised within 4 business hours, warned at 75 %,
// escalated to another queue on breach.
func Example() {
	office := businesstime.MustParseHours("09:00-12:30, 13:30-18:00")
	cal, err := businesstime.New(businesstime.Config{
		Zone: "Europe/Paris",
		Week: businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office},
	})
	if err != nil {
		panic(err)
	}
	m, err := sla.NewMachine(sla.Policy{
		Name: "standard",
		FirstResponse: sla.Target{Within: 4 * time.Hour, Calendar: "office", Warn: 75, Escalations: []sla.Escalation{
			{On: sla.Warning, Action: sla.NotifySupervisor},
			{On: sla.Breach, Action: sla.MoveToQueue, Queue: "escalated"},
		}},
	}, sla.Calendars{"office": cal})
	if err != nil {
		panic(err)
	}
	paris := cal.Location()
	monday := func(h, min int) time.Time { return time.Date(2026, 3, 2, h, min, 0, 0, paris) }

	st, _, err := m.Apply(sla.State{}, sla.Event{Kind: sla.Arrived, At: monday(10, 0)})
	if err != nil {
		panic(err)
	}
	s := m.Status(st, monday(10, 0))[0]
	fmt.Println(s.Kind, s.Phase, "due", s.Due.Format("15:04"), "warning at", s.WarnAt.Format("15:04"))
	fmt.Println("next:", m.Next(st).Format("15:04"))

	// The Workspace's Tick, run late: both fall due, once each.
	st, fired := m.Fire(st, monday(16, 0))
	for _, f := range fired {
		e := f.Escalations[0]
		line := fmt.Sprintf("%s at %s: %s", f.Key(), f.At.Format("15:04"), e.Action)
		if e.Queue != "" {
			line += " to " + e.Queue
		}
		fmt.Println(line)
	}
	st, fired = m.Fire(st, monday(17, 0))
	fmt.Println("fired again:", len(fired))

	st, _, _ = m.Apply(st, sla.Event{Kind: sla.ReplySent, At: monday(17, 0)})
	s = m.Status(st, monday(17, 0))[0]
	fmt.Println(s.Phase, "answered at", s.Met.Format("15:04"), "late by", -s.Remaining)
	// Output:
	// first-response running due 15:00 warning at 14:00
	// next: 14:00
	// first-response/1/warning at 14:00: notify-supervisor
	// first-response/1/breach at 15:00: move-to-queue to escalated
	// fired again: 0
	// breached answered at 17:00 late by 2h0m0s
}

// Pending on the customer stops the resolution clock; their answer starts
// it again.
func ExampleMachine_Apply_pending() {
	m, err := sla.NewMachine(sla.Policy{
		Name:       "wall-clock",
		Resolution: sla.Target{Within: 48 * time.Hour, PauseOn: []sla.Pause{sla.WaitingOnCustomer}},
	}, nil)
	if err != nil {
		panic(err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	var st sla.State
	for _, ev := range []sla.Event{
		{Kind: sla.Arrived, At: day(2, 9)},
		{Kind: sla.ReplySent, At: day(2, 12)},
		{Kind: sla.PendingStarted, At: day(2, 12), Reason: sla.WaitingOnCustomer, Until: day(9, 12)},
		{Kind: sla.CustomerMessage, At: day(4, 12)},
	} {
		st, _, err = m.Apply(st, ev)
		if err != nil {
			panic(err)
		}
		s := m.Status(st, ev.At)[0]
		fmt.Printf("%-16s %-8s %v left\n", ev.Kind, s.Phase, s.Remaining)
	}
	fmt.Println("due", m.Due(st).Format(time.DateTime))
	// Output:
	// arrived          running  48h0m0s left
	// reply-sent       running  45h0m0s left
	// pending-started  paused   45h0m0s left
	// customer-message running  45h0m0s left
	// due 2026-03-06 09:00:00
}

func ExampleSet_Select() {
	set, err := sla.NewSet(sla.Config{
		Policies: []sla.Policy{
			{Name: "standard", FirstResponse: sla.Target{Within: 8 * time.Hour}},
			{Name: "urgent", FirstResponse: sla.Target{Within: time.Hour}},
			{Name: "vip", FirstResponse: sla.Target{Within: 30 * time.Minute}},
		},
		Rules: []sla.Rule{
			{Route: "key-accounts", Policy: "vip"}, // a route rule's override
			{MinPriority: 5, Policy: "urgent"},     // a priority's override
			{Queue: "support-fr", Policy: "standard"},
		},
	}, nil)
	if err != nil {
		panic(err)
	}
	for _, q := range []struct {
		queue, route string
		priority     int
	}{{"support-fr", "", 0}, {"support-fr", "", 7}, {"support-fr", "key-accounts", 0}, {"billing", "", 0}} {
		if m, ok := set.Select(q.queue, q.route, q.priority); ok {
			fmt.Println(q, m.Policy().Name)
		} else {
			fmt.Println(q, "no deadlines")
		}
	}
	// Output:
	// {support-fr  0} standard
	// {support-fr  7} urgent
	// {support-fr key-accounts 0} vip
	// {billing  0} no deadlines
}
