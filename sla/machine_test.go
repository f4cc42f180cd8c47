package sla_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/sla"
)

func TestFirstResponseMet(t *testing.T) {
	m := machine(t, standard())
	st, fired := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)})
	assert.Empty(t, fired)
	fr := status(m, st, at(2, 10, 0), sla.FirstResponse)
	assert.Equal(t, sla.Status{Kind: sla.FirstResponse, Seq: 1, Phase: sla.Running, Started: at(2, 10, 0),
		Due: at(2, 15, 0), WarnAt: at(2, 14, 0), Remaining: 4 * time.Hour}, fr, "10:00 + 4 business hours over lunch")
	assert.Equal(t, at(2, 14, 0), m.Next(st), "the first thing to happen is the warning")
	assert.Equal(t, at(2, 15, 0), m.Due(st))

	st, fired, err := m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)})
	require.NoError(t, err)
	assert.Empty(t, fired)
	fr = status(m, st, at(2, 16, 0), sla.FirstResponse)
	assert.Equal(t, sla.Met, fr.Phase)
	assert.Equal(t, at(2, 11, 0), fr.Met)
	assert.Equal(t, 3*time.Hour, fr.Remaining)
	assert.True(t, fr.Due.IsZero())
	// Only the resolution is left: 16 hours from Monday 10:00 end on
	// Wednesday 10:00, with the warning after 12 h 48 min, Tuesday 15:48.
	assert.Equal(t, at(3, 15, 48), m.Next(st))
	assert.Equal(t, at(4, 10, 0), m.Due(st))
	st, fired = m.Fire(st, at(2, 18, 0))
	assert.Empty(t, fired, "no warning or breach for a met deadline")
	assert.Equal(t, at(2, 18, 0), st.Last)
}

func TestWarnedThenBreached(t *testing.T) {
	m := machine(t, standard())
	st, _ := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)})

	st, fired := m.Fire(st, at(2, 13, 59))
	assert.Empty(t, fired)
	st, fired = m.Fire(st, at(2, 14, 0))
	require.Len(t, fired, 1)
	assert.Equal(t, sla.Firing{Trigger: sla.Warning, Deadline: sla.FirstResponse, Seq: 1, At: at(2, 14, 0),
		Escalations: []sla.Escalation{{On: sla.Warning, Action: sla.NotifySupervisor}}}, fired[0])
	assert.Equal(t, "first-response/1/warning", fired[0].Key())
	st, fired = m.Fire(st, at(2, 14, 0))
	assert.Empty(t, fired, "a warning fires once")
	fr := status(m, st, at(2, 14, 30), sla.FirstResponse)
	assert.True(t, fr.AtRisk)
	assert.Equal(t, sla.Running, fr.Phase)
	assert.Equal(t, 30*time.Minute, fr.Remaining)

	st, fired = m.Fire(st, at(2, 16, 0))
	require.Len(t, fired, 1)
	assert.Equal(t, sla.Firing{Trigger: sla.Breach, Deadline: sla.FirstResponse, Seq: 1, At: at(2, 15, 0),
		Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.MoveToQueue, Queue: "escalated"}}}, fired[0], "At is when it fell due, not when it was found")
	st, fired = m.Fire(st, at(2, 17, 0))
	assert.Empty(t, fired, "a breach fires once")

	st, fired, err := m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(2, 17, 0)})
	require.NoError(t, err)
	assert.Empty(t, fired)
	fr = status(m, st, at(2, 17, 0), sla.FirstResponse)
	assert.Equal(t, sla.Breached, fr.Phase, "answered late: still breached")
	assert.Equal(t, at(2, 17, 0), fr.Met)
	assert.Equal(t, -2*time.Hour, fr.Remaining)
	assert.False(t, fr.AtRisk)
}

// TestLateFindings: a Tick that runs late, or an event that comes after
// the deadline, finds what fell due in between, in order, each once.
func TestLateFindings(t *testing.T) {
	m := machine(t, standard())
	st, _ := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)})
	_, fired := m.Fire(st, at(3, 9, 0))
	assert.Equal(t, []string{"first-response/1/warning", "first-response/1/breach"}, keys(fired))
	assert.Equal(t, at(2, 14, 0), fired[0].At)
	assert.Equal(t, at(2, 15, 0), fired[1].At)

	st, fired, err := m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(2, 15, 0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"first-response/1/warning", "first-response/1/breach"}, keys(fired), "a reply at the due instant is late")
	assert.Equal(t, sla.Breached, status(m, st, at(2, 15, 0), sla.FirstResponse).Phase)

	// Not a nanosecond late.
	st, _ = run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)}, sla.Event{Kind: sla.ReplySent, At: at(2, 15, 0).Add(-1)})
	assert.Equal(t, sla.Met, status(m, st, at(2, 16, 0), sla.FirstResponse).Phase)
	assert.Equal(t, time.Nanosecond, status(m, st, at(2, 16, 0), sla.FirstResponse).Remaining)
}

func TestPausedWhilePendingAndResumedByCustomer(t *testing.T) {
	m := machine(t, standard())
	st, fired := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)},
		sla.Event{Kind: sla.PendingStarted, At: at(2, 11, 0), Reason: sla.WaitingOnCustomer, Until: at(6, 11, 0)},
	)
	assert.Empty(t, fired)
	res := status(m, st, at(3, 12, 0), sla.Resolution)
	assert.Equal(t, sla.Paused, res.Phase)
	assert.Equal(t, 15*time.Hour, res.Remaining, "one hour used before the pause")
	assert.True(t, res.Due.IsZero())
	assert.Equal(t, at(6, 11, 0), m.Next(st), "the next thing is the wake-up")
	assert.True(t, m.Due(st).IsZero(), "no clock runs")

	st, fired = m.Fire(st, at(4, 9, 0))
	assert.Empty(t, fired, "nothing falls due while paused")

	// The customer answers on Wednesday at 09:30: the clock runs again,
	// and a next-response deadline starts.
	st, fired, err := m.Apply(st, sla.Event{Kind: sla.CustomerMessage, At: at(4, 9, 30)})
	require.NoError(t, err)
	assert.Empty(t, fired)
	assert.False(t, st.Pending.Active())
	res = status(m, st, at(4, 9, 30), sla.Resolution)
	assert.Equal(t, sla.Running, res.Phase)
	assert.Equal(t, at(5, 17, 30), res.Due, "15 business hours from Wednesday 09:30")
	next := status(m, st, at(4, 9, 30), sla.NextResponse)
	assert.Equal(t, sla.Status{Kind: sla.NextResponse, Seq: 1, Phase: sla.Running, Started: at(4, 9, 30),
		Due: at(5, 9, 30), WarnAt: at(4, 16, 54), Remaining: 8 * time.Hour}, next)

	_, fired = m.Fire(st, at(6, 11, 0))
	assert.NotContains(t, keys(fired), "wake/1", "the customer's answer ended the pending period: no wake-up")
}

func TestWakeUp(t *testing.T) {
	m := machine(t, standard())
	st, _ := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)},
		sla.Event{Kind: sla.PendingStarted, At: at(2, 11, 0), Reason: sla.WaitingOnThirdParty, Until: at(4, 10, 0)},
	)
	st, fired := m.Fire(st, at(4, 10, 0))
	assert.Equal(t, []sla.Firing{{Trigger: sla.Wake, Seq: 1, At: at(4, 10, 0), Reason: sla.WaitingOnThirdParty}}, fired)
	assert.Equal(t, "wake/1", fired[0].Key())
	assert.False(t, st.Pending.Active())
	res := status(m, st, at(4, 10, 0), sla.Resolution)
	assert.Equal(t, sla.Running, res.Phase)
	assert.Equal(t, at(5, 18, 0), res.Due, "15 hours left from Wednesday 10:00")
	st, fired = m.Fire(st, at(4, 10, 0))
	assert.Empty(t, fired, "a wake-up fires once")

	// A wake-up found late restarts the clock at the wake-up time, not at
	// the late Tick: the result does not depend on how often Tick runs.
	late, _ := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)},
		sla.Event{Kind: sla.PendingStarted, At: at(2, 11, 0), Reason: sla.WaitingOnThirdParty, Until: at(4, 10, 0)},
	)
	late, fired = m.Fire(late, at(4, 15, 0))
	assert.Equal(t, []string{"wake/1"}, keys(fired))
	assert.Equal(t, at(5, 18, 0), status(m, late, at(4, 15, 0), sla.Resolution).Due)
	assert.Equal(t, st.Resolution, late.Resolution)
}

func TestFirstResponseRunsWhilePendingUnlessThePolicySaysSo(t *testing.T) {
	m := machine(t, standard())
	st, fired := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.PendingStarted, At: at(2, 10, 30), Reason: sla.WaitingOnThirdParty, Until: at(3, 9, 0)},
	)
	assert.Empty(t, fired)
	assert.Equal(t, sla.Running, status(m, st, at(2, 11, 0), sla.FirstResponse).Phase)
	assert.Equal(t, sla.Paused, status(m, st, at(2, 11, 0), sla.Resolution).Phase)
	_, fired = m.Fire(st, at(2, 16, 0))
	assert.Equal(t, []string{"first-response/1/warning", "first-response/1/breach"}, keys(fired))
}

func TestReviewCountsUnlessThePolicyPausesIt(t *testing.T) {
	events := []sla.Event{
		{Kind: sla.Arrived, At: at(2, 10, 0)},
		{Kind: sla.ReviewStarted, At: at(2, 12, 0)},
		{Kind: sla.ReviewEnded, At: at(2, 14, 0)}, // approved
		{Kind: sla.ReplySent, At: at(2, 14, 0)},
	}
	m := machine(t, standard())
	st, _ := run(t, m, events[:2]...)
	assert.Equal(t, at(2, 15, 0), m.Due(st), "by default the review counts: the customer waits all the same")
	st, fired := run(t, m, events...)
	assert.Equal(t, []string{"first-response/1/warning"}, keys(fired))
	assert.Equal(t, time.Hour, status(m, st, at(2, 14, 0), sla.FirstResponse).Remaining, "met with an hour left")

	p := standard()
	p.FirstResponse.PauseOn = []sla.Pause{sla.InReview}
	m = machine(t, p)
	st, _ = run(t, m, events[:2]...)
	assert.True(t, status(m, st, at(2, 13, 0), sla.FirstResponse).Due.IsZero(), "paused in review")
	assert.Equal(t, sla.Paused, status(m, st, at(2, 13, 0), sla.FirstResponse).Phase)
	st, fired = run(t, m, events...)
	assert.Empty(t, fired, "two hours in review (one of them lunch) did not count")
	assert.Equal(t, 2*time.Hour, status(m, st, at(2, 14, 0), sla.FirstResponse).Remaining)

	// Overlapping reviews: the clock runs again only when the last ends.
	st, _ = run(t, m, events[0], events[1],
		sla.Event{Kind: sla.ReviewStarted, At: at(2, 12, 10)},
		sla.Event{Kind: sla.ReviewEnded, At: at(2, 14, 0)})
	assert.Equal(t, sla.Paused, status(m, st, at(2, 14, 0), sla.FirstResponse).Phase)
	st, _, err := m.Apply(st, sla.Event{Kind: sla.ReviewEnded, At: at(2, 15, 0)})
	require.NoError(t, err)
	assert.Equal(t, at(2, 17, 0), status(m, st, at(2, 15, 0), sla.FirstResponse).Due, "2 hours used, 2 left from 15:00")
}

func TestNextResponses(t *testing.T) {
	p := standard()
	p.Resolution = sla.Target{} // only the responses here
	m := machine(t, p)
	st, _ := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 9, 0)},
		sla.Event{Kind: sla.CustomerMessage, At: at(2, 9, 30)}, // before any reply: the first response covers it
		sla.Event{Kind: sla.ReplySent, At: at(2, 10, 0)},
		sla.Event{Kind: sla.CustomerMessage, At: at(2, 11, 0)},
		sla.Event{Kind: sla.CustomerMessage, At: at(2, 15, 0)}, // the deadline runs from the oldest unanswered message
	)
	next := status(m, st, at(2, 15, 0), sla.NextResponse)
	assert.Equal(t, 1, next.Seq)
	assert.Equal(t, at(2, 11, 0), next.Started)
	assert.Equal(t, at(3, 11, 0), next.Due)

	st, fired, err := m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(3, 12, 0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"next-response/1/warning", "next-response/1/breach"}, keys(fired))
	st, _, err = m.Apply(st, sla.Event{Kind: sla.CustomerMessage, At: at(3, 14, 0)})
	require.NoError(t, err)
	next = status(m, st, at(3, 14, 0), sla.NextResponse)
	assert.Equal(t, sla.Status{Kind: sla.NextResponse, Seq: 2, Phase: sla.Running, Started: at(3, 14, 0),
		Due: at(4, 14, 0), WarnAt: at(4, 11, 24), Remaining: 8 * time.Hour}, next, "a new deadline, with its own warning and breach")
	_, fired = m.Fire(st, at(4, 14, 0))
	assert.Equal(t, []string{"next-response/2/warning", "next-response/2/breach"}, keys(fired))
	st, fired, err = m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(3, 15, 0)})
	require.NoError(t, err)
	assert.Empty(t, fired)
	st, fired, err = m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(3, 16, 0)})
	require.NoError(t, err, "a further reply meets nothing")
	assert.Empty(t, fired)
	assert.Equal(t, sla.Met, status(m, st, at(3, 16, 0), sla.NextResponse).Phase)
}

func TestDoneAndReopened(t *testing.T) {
	m := machine(t, standard())
	st, _ := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)},
		sla.Event{Kind: sla.CustomerMessage, At: at(2, 14, 0)},
		sla.Event{Kind: sla.Done, At: at(2, 16, 0)},
	)
	for _, s := range m.Status(st, at(2, 16, 0)) {
		assert.Equal(t, sla.Met, s.Phase, s.Kind)
	}
	assert.True(t, m.Next(st).IsZero(), "nothing to fire once done")
	assert.Equal(t, 11*time.Hour, status(m, st, at(2, 16, 0), sla.Resolution).Remaining)
	_, fired := m.Fire(st, at(30, 10, 0))
	assert.Empty(t, fired)

	// Reopened on Thursday: the resolution runs on with 11 hours left.
	st, _, err := m.Apply(st, sla.Event{Kind: sla.Reopened, At: at(5, 9, 0)})
	require.NoError(t, err)
	res := status(m, st, at(5, 9, 0), sla.Resolution)
	assert.Equal(t, sla.Running, res.Phase)
	assert.Equal(t, at(6, 12, 0), res.Due, "8 hours on Thursday, 3 on Friday morning")
	assert.Equal(t, sla.Met, status(m, st, at(5, 9, 0), sla.FirstResponse).Phase)
	_, fired = m.Fire(st, at(6, 12, 0))
	assert.Equal(t, []string{"resolution/1/warning", "resolution/1/breach"}, keys(fired))
	assert.Equal(t, []sla.Escalation{{On: sla.Breach, Action: sla.RaisePriority, Priority: 10}}, fired[1].Escalations)
}

func TestInvalidEventsChangeNothing(t *testing.T) {
	m := machine(t, standard())
	arrived, _ := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)})
	done, _ := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)}, sla.Event{Kind: sla.Done, At: at(2, 11, 0)})
	for _, tc := range []struct {
		name string
		st   sla.State
		ev   sla.Event
	}{
		{"no time", arrived, sla.Event{Kind: sla.ReplySent}},
		{"unknown kind", arrived, sla.Event{Kind: "phoned", At: at(2, 11, 0)}},
		{"before arrival", sla.State{}, sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)}},
		{"arrived twice", arrived, sla.Event{Kind: sla.Arrived, At: at(2, 11, 0)}},
		{"customer on a done interaction", done, sla.Event{Kind: sla.CustomerMessage, At: at(2, 12, 0)}},
		{"pending on a done interaction", done, sla.Event{Kind: sla.PendingStarted, At: at(2, 12, 0), Reason: sla.WaitingOnCustomer}},
		{"done twice", done, sla.Event{Kind: sla.Done, At: at(2, 12, 0)}},
		{"reopen an open one", arrived, sla.Event{Kind: sla.Reopened, At: at(2, 12, 0)}},
		{"pending on review", arrived, sla.Event{Kind: sla.PendingStarted, At: at(2, 12, 0), Reason: sla.InReview}},
		{"pending without reason", arrived, sla.Event{Kind: sla.PendingStarted, At: at(2, 12, 0)}},
		{"pending until the past", arrived, sla.Event{Kind: sla.PendingStarted, At: at(2, 12, 0), Reason: sla.WaitingOnCustomer, Until: at(2, 12, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, fired, err := m.Apply(tc.st, tc.ev)
			assert.ErrorIs(t, err, sla.ErrInvalidEvent)
			assert.Nil(t, fired)
			assert.Equal(t, tc.st, st)
		})
	}
}

func TestEventsOutOfOrderAreTakenAtTheLastInstant(t *testing.T) {
	m := machine(t, standard())
	st, _ := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)})
	st, _ = m.Fire(st, at(2, 11, 0))
	// Another process's clock is a second behind.
	st, _, err := m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0).Add(-time.Second)})
	require.NoError(t, err)
	assert.Equal(t, at(2, 11, 0), st.FirstResponse.Met)
	_, fired := m.Fire(st, at(2, 10, 0))
	assert.Empty(t, fired)
}

// TestStateSurvivesStorage: the state goes through JSON, as a store keeps
// it, and the machine goes on with it as with the original.
func TestStateSurvivesStorage(t *testing.T) {
	m := machine(t, standard())
	st, _ := run(t, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)},
		sla.Event{Kind: sla.CustomerMessage, At: at(2, 14, 0)},
		sla.Event{Kind: sla.PendingStarted, At: at(2, 15, 0), Reason: sla.WaitingOnCustomer, Until: at(4, 9, 0)},
		sla.Event{Kind: sla.ReviewStarted, At: at(2, 15, 30)},
	)
	st, _ = m.Fire(st, at(2, 17, 0))
	raw, err := json.Marshal(st)
	require.NoError(t, err)
	var stored sla.State
	require.NoError(t, json.Unmarshal(raw, &stored))

	for _, now := range []time.Time{at(3, 12, 0), at(4, 9, 0), at(5, 18, 0), at(9, 9, 0)} {
		a, fa := m.Fire(st, now)
		b, fb := m.Fire(stored, now)
		assert.Equal(t, keys(fa), keys(fb), "at %v", now)
		assert.True(t, m.Next(a).Equal(m.Next(b)))
		assert.Equal(t, m.Status(a, now)[0].Remaining, m.Status(b, now)[0].Remaining)
	}
}

func TestWallClockTarget(t *testing.T) {
	m, err := sla.NewMachine(sla.Policy{Name: "vip", FirstResponse: sla.Target{Within: time.Hour, Warn: 50}}, nil)
	require.NoError(t, err)
	saturday := time.Date(2026, 3, 7, 10, 0, 0, 0, paris)
	st, _ := run(t, m, sla.Event{Kind: sla.Arrived, At: saturday})
	assert.Equal(t, saturday.Add(time.Hour), m.Due(st), "wall-clock time runs on Saturdays")
	_, fired := m.Fire(st, saturday.Add(2*time.Hour))
	assert.Equal(t, []string{"first-response/1/warning", "first-response/1/breach"}, keys(fired))
	assert.Len(t, m.Status(st, saturday), 1, "targets without a duration show nothing")
}

func TestZeroMachineKeepsClocksButSetsNoDeadline(t *testing.T) {
	var m sla.Machine
	st, fired := run(t, m, sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)}, sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)})
	assert.Empty(t, fired)
	assert.Empty(t, m.Status(st, at(2, 12, 0)))
	assert.True(t, m.Next(st).IsZero())
	assert.Equal(t, at(2, 11, 0), st.FirstResponse.Met)
}
