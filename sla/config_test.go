package sla_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/sla"
)

func TestPolicyValidation(t *testing.T) {
	cals := calendars(t)
	for _, tc := range []struct {
		name   string
		target sla.Target
		want   []error
	}{
		{"negative", sla.Target{Within: -time.Hour}, []error{sla.ErrInvalidPolicy}},
		{"warn at 100", sla.Target{Within: time.Hour, Warn: 100}, []error{sla.ErrInvalidPolicy}},
		{"warn below 0", sla.Target{Within: time.Hour, Warn: -1}, []error{sla.ErrInvalidPolicy}},
		{"warning without a duration", sla.Target{Warn: 80}, []error{sla.ErrInvalidPolicy}},
		{"escalation without a duration", sla.Target{Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.NotifySupervisor}}}, []error{sla.ErrInvalidPolicy}},
		{"unknown calendar", sla.Target{Within: time.Hour, Calendar: "lyon"}, []error{sla.ErrInvalidPolicy, sla.ErrUnknownCalendar}},
		{"unknown pause", sla.Target{Within: time.Hour, PauseOn: []sla.Pause{"lunch"}}, []error{sla.ErrInvalidPolicy}},
		{"unknown trigger", sla.Target{Within: time.Hour, Escalations: []sla.Escalation{{On: sla.Wake, Action: sla.NotifySupervisor}}}, []error{sla.ErrInvalidPolicy}},
		{"escalation on a warning never given", sla.Target{Within: time.Hour, Escalations: []sla.Escalation{{On: sla.Warning, Action: sla.NotifySupervisor}}}, []error{sla.ErrInvalidPolicy}},
		{"move to no queue", sla.Target{Within: time.Hour, Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.MoveToQueue}}}, []error{sla.ErrInvalidPolicy}},
		{"unknown action", sla.Target{Within: time.Hour, Escalations: []sla.Escalation{{On: sla.Breach, Action: "page"}}}, []error{sla.ErrInvalidPolicy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []sla.Policy{{Name: "p", FirstResponse: tc.target}, {Name: "p", NextResponse: tc.target}, {Name: "p", Resolution: tc.target}} {
				_, err := sla.NewMachine(p, cals)
				for _, want := range tc.want {
					assert.ErrorIs(t, err, want)
				}
			}
		})
	}
	require.NoError(t, standard().Validate(cals))
}

func TestMachineCopiesPolicy(t *testing.T) {
	p := standard()
	m := machine(t, p)
	p.FirstResponse.Escalations[1].Queue = "elsewhere"
	p.Resolution.PauseOn[0] = sla.InReview
	assert.Equal(t, "escalated", m.Policy().FirstResponse.Escalations[1].Queue)
	assert.Equal(t, sla.WaitingOnCustomer, m.Policy().Resolution.PauseOn[0])
}

func TestSet(t *testing.T) {
	cals := calendars(t)
	urgent := sla.Policy{Name: "urgent", FirstResponse: sla.Target{Within: time.Hour, Calendar: "office"}}
	vip := sla.Policy{Name: "vip", FirstResponse: sla.Target{Within: 30 * time.Minute}}
	basic := sla.Policy{Name: "basic", FirstResponse: sla.Target{Within: 8 * time.Hour, Calendar: "office"}}
	set, err := sla.NewSet(sla.Config{
		Policies: []sla.Policy{standard(), urgent, vip, basic},
		Rules: []sla.Rule{
			{Route: "vip", Policy: "vip"},
			{Queue: "support-fr", MinPriority: 5, Policy: "urgent"},
			{Queue: "support-fr", Policy: "standard"},
		},
		Default: "basic",
	}, cals)
	require.NoError(t, err)
	assert.Equal(t, []string{"basic", "standard", "urgent", "vip"}, set.Names())
	for _, tc := range []struct {
		queue, route string
		priority     int
		want         string
	}{
		{"support-fr", "", 0, "standard"},
		{"support-fr", "", 4, "standard"},
		{"support-fr", "", 5, "urgent"},
		{"support-fr", "vip", 9, "vip"},
		{"billing", "vip", 0, "vip"},
		{"billing", "", 9, "basic"},
	} {
		m, ok := set.Select(tc.queue, tc.route, tc.priority)
		assert.True(t, ok)
		assert.Equal(t, tc.want, m.Policy().Name, "%s %q %d", tc.queue, tc.route, tc.priority)
	}
	m, ok := set.Machine("urgent")
	assert.True(t, ok)
	assert.Equal(t, time.Hour, m.Policy().FirstResponse.Within)

	// Raising the priority selects the tighter policy: the same state then
	// shows the earlier due time, with the time already used kept.
	st, _ := run(t, machine(t, standard()), sla.Event{Kind: sla.Arrived, At: at(2, 9, 0)})
	assert.Equal(t, at(2, 14, 0), status(machine(t, standard()), st, at(2, 9, 30), sla.FirstResponse).Due)
	assert.Equal(t, at(2, 10, 0), status(m, st, at(2, 9, 30), sla.FirstResponse).Due)

	none, err := sla.NewSet(sla.Config{Policies: []sla.Policy{basic}, Rules: []sla.Rule{{Queue: "a", Policy: "basic"}}}, cals)
	require.NoError(t, err)
	_, ok = none.Select("b", "", 0)
	assert.False(t, ok, "no rule, no default: no deadlines")

	for _, tc := range []struct {
		name string
		cfg  sla.Config
		want error
	}{
		{"unnamed", sla.Config{Policies: []sla.Policy{{}}}, sla.ErrInvalidPolicy},
		{"twice", sla.Config{Policies: []sla.Policy{basic, basic}}, sla.ErrInvalidPolicy},
		{"invalid target", sla.Config{Policies: []sla.Policy{{Name: "x", Resolution: sla.Target{Warn: 50}}}}, sla.ErrInvalidPolicy},
		{"unknown calendar", sla.Config{Policies: []sla.Policy{{Name: "x", Resolution: sla.Target{Within: time.Hour, Calendar: "lyon"}}}}, sla.ErrUnknownCalendar},
		{"rule to nowhere", sla.Config{Policies: []sla.Policy{basic}, Rules: []sla.Rule{{Queue: "a", Policy: "gold"}}}, sla.ErrUnknownPolicy},
		{"rule without policy", sla.Config{Policies: []sla.Policy{basic}, Rules: []sla.Rule{{Queue: "a"}}}, sla.ErrUnknownPolicy},
		{"default to nowhere", sla.Config{Policies: []sla.Policy{basic}, Default: "gold"}, sla.ErrUnknownPolicy},
	} {
		_, err := sla.NewSet(tc.cfg, cals)
		assert.ErrorIs(t, err, tc.want, tc.name)
	}
}
