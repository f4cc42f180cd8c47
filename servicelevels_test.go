package emailflow_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/businesstime"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/sla"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// standardSLA answers first within 4 hours (warned at 75 %) and resolves
// within 2 days, the resolution paused while waiting on the customer.
func standardSLA(escalations ...sla.Escalation) sla.Config {
	return sla.Config{
		Policies: []sla.Policy{{
			Name:          "standard",
			FirstResponse: sla.Target{Within: 4 * time.Hour, Warn: 75, Escalations: escalations},
			NextResponse:  sla.Target{Within: 8 * time.Hour, Warn: 50},
			Resolution:    sla.Target{Within: 48 * time.Hour, PauseOn: []sla.Pause{sla.WaitingOnCustomer}},
		}},
		Rules: []sla.Rule{{Queue: "support-fr", Policy: "standard"}},
	}
}

// tick runs the Workspace's timers once.
func (f *fixture) tick(t testing.TB) {
	t.Helper()
	_, err := f.ws.Runner(nil).Tick(context.Background())
	require.NoError(t, err)
}

// deadline returns what deadline k of interaction id shows now.
func (f *fixture) deadline(t testing.TB, id string, k sla.Kind) sla.Status {
	t.Helper()
	ds, err := f.ws.As(admin).Deadlines(context.Background(), id)
	require.NoError(t, err)
	for _, d := range ds {
		if d.Kind == k {
			return d
		}
	}
	require.Failf(t, "no deadline", "%s has no %s deadline: %+v", id, k, ds)
	return sla.Status{}
}

func (f *fixture) stats(t testing.TB, queue string) emailflow.QueueStats {
	t.Helper()
	ctx := context.Background()
	// A supervisor of the queue who is not logged in: no agent to route to.
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "watcher", Queues: []string{queue}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	st, err := f.ws.As("watcher").QueueStats(ctx, queue)
	require.NoError(t, err)
	return st
}

func (f *fixture) slaKeys(t testing.TB, typ emailflow.EventType) []string {
	t.Helper()
	var keys []string
	for _, e := range f.eventsOf(t, typ) {
		require.NotNil(t, e.Deadline, "%s carries its deadline", typ)
		assert.Equal(t, e.Deadline.String(), e.Detail)
		keys = append(keys, e.InteractionID+" "+e.Deadline.Key())
	}
	return keys
}

func TestSLAFirstResponseMet(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA()})
	f.agent(t, "alice")
	start := f.clock.Now()
	id := f.handled(t, "alice")

	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "standard", it.SLA.Policy)
	assert.Equal(t, start.Add(4*time.Hour), it.SLA.Due, "the first response is due first")
	assert.Equal(t, start.Add(3*time.Hour), it.SLA.Next, "its warning comes next")
	fr := f.deadline(t, id, sla.FirstResponse)
	assert.Equal(t, sla.Running, fr.Phase)
	assert.Equal(t, start.Add(4*time.Hour), fr.Due)

	f.clock.Advance(90 * time.Minute)
	f.tick(t)
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)

	fr = f.deadline(t, id, sla.FirstResponse)
	assert.Equal(t, sla.Met, fr.Phase)
	assert.Equal(t, start.Add(90*time.Minute), fr.Met)
	assert.Equal(t, 150*time.Minute, fr.Remaining, "what was left when it was met")
	assert.Equal(t, sla.Running, f.deadline(t, id, sla.Resolution).Phase)

	f.clock.Advance(10 * time.Hour)
	f.tick(t)
	assert.Empty(t, f.eventsOf(t, emailflow.EventSLAWarning), "a met deadline never warns")
	assert.Empty(t, f.eventsOf(t, emailflow.EventSLABreached))
	st := f.stats(t, "support-fr")
	assert.Zero(t, st.AtRisk)
	assert.Zero(t, st.Breached)
	assert.Equal(t, start.Add(48*time.Hour), st.NextDue, "the resolution")
}

func TestSLAWarnedThenBreached(t *testing.T) {
	f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA()})
	start := f.clock.Now()
	id := f.ingest(t, readFile(t, "testdata/french-order.eml")) // nobody to offer it to

	f.clock.Advance(2*time.Hour + 59*time.Minute)
	f.tick(t)
	assert.Empty(t, f.eventsOf(t, emailflow.EventSLAWarning), "not yet at 75 %")

	f.clock.Advance(time.Minute)
	f.tick(t)
	f.tick(t)
	warnings := f.eventsOf(t, emailflow.EventSLAWarning)
	require.Len(t, warnings, 1, "once, however many Ticks")
	require.NotNil(t, warnings[0].Deadline)
	assert.Equal(t, interaction.Firing{Deadline: sla.FirstResponse, Seq: 1, Trigger: sla.Warning, At: start.Add(3 * time.Hour), Policy: "standard"}, *warnings[0].Deadline)
	assert.Equal(t, "first-response/1/warning", warnings[0].Deadline.Key())
	assert.Equal(t, "first-response/1/warning at 2026-11-26T12:00:00Z policy standard", warnings[0].Detail)
	assert.Equal(t, id, warnings[0].InteractionID)
	st := f.stats(t, "support-fr")
	assert.Equal(t, 1, st.AtRisk)
	assert.Zero(t, st.Breached)
	assert.Equal(t, start.Add(4*time.Hour), st.NextDue)
	assert.True(t, f.deadline(t, id, sla.FirstResponse).AtRisk)

	// A Tick that comes late still finds the breach at its time.
	f.clock.Advance(2 * time.Hour)
	f.tick(t)
	f.tick(t)
	breaches := f.eventsOf(t, emailflow.EventSLABreached)
	require.Len(t, breaches, 1)
	require.NotNil(t, breaches[0].Deadline)
	assert.Equal(t, "first-response/1/breach", breaches[0].Deadline.Key())
	assert.Equal(t, start.Add(4*time.Hour), breaches[0].Deadline.At)
	st = f.stats(t, "support-fr")
	assert.Zero(t, st.AtRisk)
	assert.Equal(t, 1, st.Breached)
	fr := f.deadline(t, id, sla.FirstResponse)
	assert.Equal(t, sla.Breached, fr.Phase)
	assert.Equal(t, -time.Hour, fr.Remaining)
	assert.Len(t, f.eventsOf(t, emailflow.EventSLAWarning), 1)
}

func TestSLAPausedWhilePendingAndResumedByTheCustomer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA()})
	f.agent(t, "alice")
	start := f.clock.Now()
	id, _, msgID := f.sentReply(t, "alice")

	f.clock.Advance(time.Hour)
	it, err := f.ws.As("alice").SetPending(ctx, id, emailflow.Pending{Until: start.Add(7 * 24 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, interaction.StateParked, it.State)
	assert.Equal(t, emailflow.WorkbinPending, it.Workbin)
	assert.Equal(t, start.Add(7*24*time.Hour), it.SLA.Next, "only the wake-up is scheduled")
	res := f.deadline(t, id, sla.Resolution)
	assert.Equal(t, sla.Paused, res.Phase)
	assert.Equal(t, 47*time.Hour, res.Remaining)

	f.clock.Advance(3 * 24 * time.Hour) // beyond the resolution's 48 hours
	f.tick(t)
	assert.Empty(t, f.eventsOf(t, emailflow.EventSLABreached), "its clock is stopped")
	assert.Equal(t, 47*time.Hour, f.deadline(t, id, sla.Resolution).Remaining)

	answer := followUpFrom("answer-1", "helene.dupre@exemple.fr", support, "In-Reply-To: <"+msgID+">\r\n")
	assert.Equal(t, id, f.ingest(t, answer), "the answer joins the pending inbound")
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateHandling, it.State, "back to its owner")
	assert.Equal(t, "alice", it.Owner)
	assert.Empty(t, it.Workbin)
	woken := f.eventsOf(t, emailflow.EventWoken)
	require.Len(t, woken, 1)
	assert.Equal(t, "customer", woken[0].Detail)
	assert.Equal(t, "alice", woken[0].Agent)
	res = f.deadline(t, id, sla.Resolution)
	assert.Equal(t, sla.Running, res.Phase)
	assert.Equal(t, 47*time.Hour, res.Remaining, "it runs on from where it stood")
	next := f.deadline(t, id, sla.NextResponse)
	assert.Equal(t, sla.Running, next.Phase, "the answer starts a next-response deadline")

	f.clock.Advance(47 * time.Hour)
	f.tick(t)
	assert.ElementsMatch(t, []string{id + " next-response/1/breach", id + " resolution/1/breach"}, f.slaKeys(t, emailflow.EventSLABreached))
}

func TestPendingWakesAtItsTime(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		wakeToQueue bool // Options.WakeToQueue
		wake        emailflow.WakeTo
		logOut      bool // the owner logs out meanwhile
		want        interaction.State
		owner       string
	}{
		{"to its owner by default", false, emailflow.WakeDefault, false, interaction.StateHandling, "alice"},
		{"to its queue by the option", true, emailflow.WakeDefault, false, interaction.StateOffered, "bob"},
		{"to its queue by the request", false, emailflow.WakeToQueue, false, interaction.StateOffered, "bob"},
		{"to its owner by the request", true, emailflow.WakeToOwner, false, interaction.StateHandling, "alice"},
		{"to its queue when the owner is gone", false, emailflow.WakeToOwner, true, interaction.StateOffered, "bob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA(), WakeToQueue: tc.wakeToQueue})
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			f.agent(t, "bob")
			_, err := f.ws.As("alice").SetPending(ctx, id, emailflow.Pending{Reason: sla.WaitingOnThirdParty, Until: f.clock.Now().Add(2 * time.Hour), Wake: tc.wake})
			require.NoError(t, err)
			if tc.logOut {
				require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusLoggedOut))
			} else {
				// alice is busy elsewhere: the wake-up is offered to bob.
				require.NoError(t, f.ws.As("alice").SetStatus(ctx, emailflow.StatusNotReady))
			}
			f.clock.Advance(2*time.Hour - time.Second)
			f.tick(t)
			assert.Empty(t, f.eventsOf(t, emailflow.EventWoken))
			f.clock.Advance(time.Second)
			f.tick(t)
			f.tick(t)
			require.Len(t, f.eventsOf(t, emailflow.EventWoken), 1)
			it, err := f.ws.As(admin).Interaction(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, tc.want, it.State)
			if tc.want == interaction.StateHandling {
				assert.Equal(t, tc.owner, it.Owner)
			} else {
				assert.Equal(t, tc.owner, it.OfferedTo)
			}
			assert.True(t, it.SLA.Next.After(f.clock.Now()), "nothing left due")
		})
	}
}

func TestSetPendingRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA()})
	f.agent(t, "alice")
	f.agent(t, "bob")
	id := f.handled(t, "alice")
	tests := []struct {
		name  string
		agent string
		p     emailflow.Pending
		want  error
	}{
		{"unknown reason", "alice", emailflow.Pending{Reason: "review"}, emailflow.ErrInvalidInput},
		{"until in the past", "alice", emailflow.Pending{Until: f.clock.Now().Add(-time.Minute)}, emailflow.ErrInvalidInput},
		{"until now", "alice", emailflow.Pending{Until: f.clock.Now()}, emailflow.ErrInvalidInput},
		{"unknown wake", "alice", emailflow.Pending{Wake: "desk"}, emailflow.ErrInvalidInput},
		{"not the owner", "bob", emailflow.Pending{}, emailflow.ErrForbidden},
	}
	before, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.ws.As(tc.agent).SetPending(ctx, id, tc.p)
			require.ErrorIs(t, err, tc.want)
			after, err := f.ws.As(admin).Interaction(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, before.Version, after.Version, "nothing changed")
		})
	}
	// Taken back from the workbin, it is no longer pending.
	_, err = f.ws.As("alice").SetPending(ctx, id, emailflow.Pending{Until: f.clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, f.ws.As("alice").TakeFromWorkbin(ctx, id))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.False(t, it.SLA.State.Pending.Active())
	f.clock.Advance(2 * time.Hour)
	f.tick(t)
	assert.Empty(t, f.eventsOf(t, emailflow.EventWoken), "the ended period does not wake")
}

func TestSLAEscalations(t *testing.T) {
	ctx := context.Background()
	cfg := standardSLA(
		sla.Escalation{On: sla.Warning, Action: sla.RaisePriority, Priority: 9},
		sla.Escalation{On: sla.Warning, Action: sla.NotifySupervisor},
		sla.Escalation{On: sla.Breach, Action: sla.MoveToQueue, Queue: "escalated"},
	)
	// The escalated queue has a tighter policy of its own.
	cfg.Policies = append(cfg.Policies, sla.Policy{Name: "escalated", FirstResponse: sla.Target{Within: 5 * time.Hour}})
	cfg.Rules = append(cfg.Rules, sla.Rule{Queue: "escalated", Policy: "escalated"})
	f := newFixture(t, &emailflow.Options{ServiceLevels: cfg, Queues: []emailflow.Queue{{Name: "escalated"}}})
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sam", Queues: []string{"support-fr"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "expert", Queues: []string{"escalated"}}))
	require.NoError(t, f.ws.As("expert").SetStatus(ctx, emailflow.StatusReady))
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))

	f.clock.Advance(3 * time.Hour)
	f.tick(t)
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 9, it.Priority, "raised at the warning")
	notes := f.eventsOf(t, emailflow.EventSLANotify)
	require.Len(t, notes, 1)
	assert.Equal(t, "sam", notes[0].Agent, "the queue's supervisor")
	require.NotNil(t, notes[0].Deadline)
	assert.Equal(t, "first-response/1/warning", notes[0].Deadline.Key(), "what to tell them about")

	f.clock.Advance(time.Hour)
	f.tick(t)
	f.tick(t)
	it, err = f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "escalated", it.Queue)
	assert.Equal(t, interaction.StateOffered, it.State, "routed in its new queue")
	assert.Equal(t, "expert", it.OfferedTo)
	assert.Equal(t, "escalated", it.SLA.Policy, "the new queue's policy applies")
	var escalated []string
	for _, e := range f.eventsOf(t, emailflow.EventSLAEscalated) {
		escalated = append(escalated, e.Detail)
	}
	assert.Equal(t, []string{"raise-priority 9", "move-to-queue escalated"}, escalated)
	// The first response, re-timed by the escalated policy, keeps the 4
	// hours it used: one hour is left.
	fr := f.deadline(t, id, sla.FirstResponse)
	assert.Equal(t, time.Hour, fr.Remaining)
	assert.Equal(t, sla.Breached, fr.Phase, "the breach stays")
	assert.Len(t, f.eventsOf(t, emailflow.EventSLABreached), 1)
}

// Each deadline's events are emitted once when two goroutines run Tick at
// the same instants.
func TestSLAEventsOnceWithConcurrentTicks(t *testing.T) {
	f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA()})
	const n = 40
	ids := map[string]bool{}
	for i := range n {
		ids[f.ingest(t, followUpFrom(fmt.Sprintf("concurrent-%d", i), "c@exemple.fr", support))] = true
	}
	require.Len(t, ids, n)
	for _, step := range []time.Duration{3 * time.Hour, time.Hour, 44 * time.Hour} {
		f.clock.Advance(step)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				_, err := f.ws.Runner(nil).Tick(context.Background())
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	for typ, want := range map[emailflow.EventType]int{emailflow.EventSLAWarning: n, emailflow.EventSLABreached: 2 * n} {
		keys := f.slaKeys(t, typ)
		assert.Len(t, keys, want, "%s", typ)
		seen := map[string]bool{}
		for _, k := range keys {
			assert.False(t, seen[k], "%s twice", k)
			seen[k] = true
		}
	}
	assert.Equal(t, n, f.stats(t, "support-fr").Breached)
}

// Business hours: a message that comes on Friday at 17:00 in Paris, to an
// office open 09:00-18:00 on weekdays, is due on Monday at 12:00.
func TestSLAInBusinessHours(t *testing.T) {
	ctx := context.Background()
	office := businesstime.MustParseHours("09:00-18:00")
	cal := businesstime.Config{Name: "paris", Zone: "Europe/Paris",
		Week: businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office}}
	cfg := sla.Config{
		Policies: []sla.Policy{{Name: "office", FirstResponse: sla.Target{Within: 4 * time.Hour, Calendar: "paris", Warn: 50}}},
		Default:  "office",
	}
	f := newFixture(t, &emailflow.Options{Calendars: []businesstime.Config{cal}, ServiceLevels: cfg})
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	f.clock.Advance(time.Date(2026, 11, 27, 17, 0, 0, 0, paris).Sub(f.clock.Now())) // a Friday
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	assert.True(t, it.SLA.Due.Equal(time.Date(2026, 11, 30, 12, 0, 0, 0, paris)), "due %v", it.SLA.Due)
	assert.True(t, it.SLA.Next.Equal(time.Date(2026, 11, 30, 10, 0, 0, 0, paris)), "warned at %v", it.SLA.Next)

	f.clock.Advance(64 * time.Hour) // Monday 09:00: the weekend does not count
	f.tick(t)
	assert.Empty(t, f.eventsOf(t, emailflow.EventSLAWarning))
	f.clock.Advance(time.Hour)
	f.tick(t)
	assert.Len(t, f.eventsOf(t, emailflow.EventSLAWarning), 1)
}

// A queue ordered by deadline offers the mail due first, whatever its
// priority and arrival.
func TestQueueOrderedByDue(t *testing.T) {
	ctx := context.Background()
	cfg := sla.Config{
		Policies: []sla.Policy{
			{Name: "slow", FirstResponse: sla.Target{Within: 24 * time.Hour}},
			{Name: "fast", FirstResponse: sla.Target{Within: time.Hour}},
		},
		Rules:   []sla.Rule{{Route: "vip", Policy: "fast"}},
		Default: "slow",
	}
	for _, byDue := range []bool{false, true} {
		f := newFixture(t, &emailflow.Options{
			ServiceLevels: cfg,
			Queues:        []emailflow.Queue{{Name: "support-fr", OrderByDue: byDue}},
			Routes:        []emailflow.Route{{Name: "vip", Pattern: "vip@boutique.example", Queue: "support-fr"}},
		})
		first := f.ingest(t, followUpFrom("plain-1", "a@exemple.fr", support))
		f.clock.Advance(time.Minute)
		none := f.ingest(t, followUpFrom("plain-2", "b@exemple.fr", support))
		f.clock.Advance(time.Minute)
		vip := f.ingest(t, followUpFrom("vip-1", "c@exemple.fr", "vip@boutique.example"))
		it, err := f.ws.As(admin).Interaction(ctx, vip)
		require.NoError(t, err)
		require.Equal(t, "fast", it.SLA.Policy, "the route rule's policy")
		f.agent(t, "alice") // ready: the waiting mail is offered to her in routing order
		byOffer := map[string]int{}
		for _, e := range f.eventsOf(t, emailflow.EventOffered) {
			byOffer[e.InteractionID] = len(byOffer)
		}
		require.Len(t, byOffer, 3)
		if byDue {
			assert.Equal(t, 0, byOffer[vip], "due first, offered first")
			assert.Less(t, byOffer[first], byOffer[none])
		} else {
			assert.Equal(t, 0, byOffer[first], "oldest first")
			assert.Equal(t, 2, byOffer[vip])
		}
	}
}

func TestServiceLevelOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		opts emailflow.Options
	}{
		{"unknown zone", emailflow.Options{Calendars: []businesstime.Config{{Name: "x", Zone: "Mars/Olympus"}}}},
		{"calendar without a name", emailflow.Options{Calendars: []businesstime.Config{{Zone: "UTC", Week: businesstime.Week{time.Monday: businesstime.MustParseHours("09:00-17:00")}}}}},
		{"unknown calendar", emailflow.Options{ServiceLevels: sla.Config{Policies: []sla.Policy{{Name: "p", FirstResponse: sla.Target{Within: time.Hour, Calendar: "nowhere"}}}, Default: "p"}}},
		{"unknown policy", emailflow.Options{ServiceLevels: sla.Config{Default: "missing"}}},
		{"warning out of range", emailflow.Options{ServiceLevels: sla.Config{Policies: []sla.Policy{{Name: "p", FirstResponse: sla.Target{Within: time.Hour, Warn: 100}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newWorkspaceErr(tc.opts)
			require.ErrorIs(t, err, emailflow.ErrInvalidInput)
		})
	}
}

func newWorkspaceErr(opts emailflow.Options) (*emailflow.Workspace, error) {
	return emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, &opts)
}

// A reply's QA review does not stop the first-response clock unless the
// policy lists sla.InReview; the approved reply meets the deadline when it
// goes out.
func TestSLAReviewClock(t *testing.T) {
	ctx := context.Background()
	for _, pause := range []bool{false, true} {
		t.Run(fmt.Sprintf("paused=%v", pause), func(t *testing.T) {
			target := sla.Target{Within: 4 * time.Hour}
			if pause {
				target.PauseOn = []sla.Pause{sla.InReview}
			}
			opts := reviewAll()
			opts.ServiceLevels = sla.Config{Policies: []sla.Policy{{Name: "p", FirstResponse: target}}, Default: "p"}
			f := newFixture(t, opts)
			f.agent(t, "alice")
			start := f.clock.Now()
			f.clock.Advance(time.Hour)
			inbound, _, review := f.submitted(t, "Nous regardons.")
			fr := f.deadline(t, inbound, sla.FirstResponse)
			if pause {
				assert.Equal(t, sla.Paused, fr.Phase)
			} else {
				assert.Equal(t, sla.Running, fr.Phase)
			}
			f.clock.Advance(4 * time.Hour) // the review takes long
			f.tick(t)
			f.reviewer(t, "rex") // now ready: offered the review
			_, err := f.ws.As("rex").Accept(ctx, review)
			require.NoError(t, err)
			_, err = f.ws.As("rex").Approve(ctx, review)
			require.NoError(t, err)
			fr = f.deadline(t, inbound, sla.FirstResponse)
			assert.Equal(t, start.Add(5*time.Hour), fr.Met, "met when the approved reply goes out")
			if pause {
				assert.Equal(t, sla.Met, fr.Phase)
				assert.Equal(t, 4*time.Hour, fr.Remaining, "the review's 4 hours do not count")
				assert.Empty(t, f.eventsOf(t, emailflow.EventSLABreached))
			} else {
				assert.Equal(t, sla.Breached, fr.Phase)
				assert.Len(t, f.eventsOf(t, emailflow.EventSLABreached), 1)
			}
		})
	}
}

// The policy follows the interaction: a route rule's and a priority's
// overrides come before the queue's rule, and raising the priority
// re-times the running deadline with the tighter policy.
func TestSLAPolicySelection(t *testing.T) {
	ctx := context.Background()
	cfg := sla.Config{
		Policies: []sla.Policy{
			{Name: "vip", FirstResponse: sla.Target{Within: time.Hour}},
			{Name: "urgent", FirstResponse: sla.Target{Within: 2 * time.Hour}},
			{Name: "standard", FirstResponse: sla.Target{Within: 8 * time.Hour,
				Escalations: []sla.Escalation{{On: sla.Breach, Action: sla.RaisePriority, Priority: 5}}}},
		},
		Rules: []sla.Rule{
			{Route: "key-accounts", Policy: "vip"},
			{Queue: "support-fr", MinPriority: 5, Policy: "urgent"},
			{Queue: "support-fr", Policy: "standard"},
		},
	}
	f := newFixture(t, &emailflow.Options{ServiceLevels: cfg, Routes: []emailflow.Route{
		{Name: "key-accounts", Pattern: "grands-comptes@boutique.example", Queue: "support-fr"},
		{Pattern: "urgent@boutique.example", Queue: "support-fr", Priority: 7},
		{Pattern: "other@boutique.example", Queue: "other"},
	}})
	tests := []struct {
		to, from, want string
		due            time.Duration
	}{
		{"grands-comptes@boutique.example", "ann@exemple.fr", "vip", time.Hour},
		{"urgent@boutique.example", "bob@exemple.fr", "urgent", 2 * time.Hour},
		{support, "carl@exemple.fr", "standard", 8 * time.Hour},
		{"other@boutique.example", "dan@exemple.fr", "", 0},
	}
	var standard string
	for i, tc := range tests {
		id := f.ingest(t, followUpFrom(fmt.Sprintf("sel-%d", i), tc.from, tc.to))
		if tc.want == "standard" {
			standard = id
		}
		it, err := f.ws.As(admin).Interaction(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, tc.want, it.SLA.Policy, tc.to)
		if tc.due == 0 {
			assert.True(t, it.SLA.Due.IsZero(), "no policy, no deadline")
			assert.True(t, it.SLA.Next.IsZero())
		} else {
			assert.Equal(t, f.clock.Now().Add(tc.due), it.SLA.Due, tc.to)
		}
	}

	f.clock.Advance(8 * time.Hour)
	f.tick(t)
	it, err := f.ws.As(admin).Interaction(ctx, standard)
	require.NoError(t, err)
	assert.Equal(t, 5, it.Priority, "raised at the breach")
	assert.Equal(t, "urgent", it.SLA.Policy, "the priority's override applies now")
	fr := f.deadline(t, standard, sla.FirstResponse)
	assert.Equal(t, -6*time.Hour, fr.Remaining, "re-timed: 8 hours used of the 2 now allowed")
	assert.Equal(t, sla.Breached, fr.Phase)
}

// Quarantined mail has no deadline while set aside; released, it counts
// from when it came in: the customer has been waiting all along.
func TestSLAQuarantinedMailCountsFromIntake(t *testing.T) {
	ctx := context.Background()
	quarantineAll := emailflow.FilterFunc(func(context.Context, *emailflow.Incoming) (emailflow.Verdict, error) {
		return emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "suspect"}, nil
	})
	f := newFixture(t, &emailflow.Options{ServiceLevels: standardSLA(), Filters: []emailflow.Filter{quarantineAll}})
	start := f.clock.Now()
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	it, err := f.ws.As(admin).Interaction(ctx, id)
	require.NoError(t, err)
	require.Equal(t, interaction.StateQuarantined, it.State)
	assert.True(t, it.SLA.Next.IsZero(), "no deadline while set aside")
	ds, err := f.ws.As(admin).Deadlines(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, ds)

	f.clock.Advance(5 * time.Hour)
	f.tick(t)
	assert.Empty(t, f.eventsOf(t, emailflow.EventSLABreached))
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: "sam", Queues: []string{"support-fr"}, Roles: []emailflow.Role{emailflow.RoleSupervisor}}))
	_, err = f.ws.As("sam").Release(ctx, id)
	require.NoError(t, err)
	fr := f.deadline(t, id, sla.FirstResponse)
	assert.Equal(t, start, fr.Started)
	assert.Equal(t, sla.Breached, fr.Phase, "4 hours were up before the release")
	f.tick(t)
	assert.Len(t, f.eventsOf(t, emailflow.EventSLABreached), 1, "reported once")
}
